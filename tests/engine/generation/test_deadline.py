"""One deadline per turn: a server that never answers, streams forever or keeps failing cannot hold a
turn past ``generation.deadline_s``; the customer gets the extractive answer (issue 33).

Every test runs the generator built from the shipped configs/openai-compatible.yaml (only
``base_url`` and the deadline changed) against a real HTTP server on loopback.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.generation import LLMGenerator, stream_to
from engine.generation.deadline import Deadline, call_within, stream_within
from engine.generation.factory import build_generator
from engine.generation.scripted import ScriptedChatModel
from engine.errors import GeneratorUnavailable
from engine.settings import load_settings
from engine.types import Passage

from .faulty_server import FaultyServer, never_answers, slow_then, streams_forever, trickles

SHIPPED = Path(__file__).resolve().parents[3] / "configs" / "openai-compatible.yaml"
REFUNDS = Passage("faq-refunds", "How long do refunds take?",
                  "Refunds reach your original payment method 5–7 business days after the return arrives.", "en", 0.8)
QUESTION = "how long do refunds take?"
DEADLINE = 1.5
SLACK = 0.6  # thread hand-over and the grounding check


def _shipped_generator(base_url: str, tmp_path: Path, deadline_s: float | None = DEADLINE) -> LLMGenerator:
    settings = load_settings(SHIPPED).generation
    update = {"base_url": base_url} | ({"deadline_s": deadline_s} if deadline_s is not None else {})
    gen = build_generator(settings.model_copy(update=update), data_dir=tmp_path)
    assert isinstance(gen, LLMGenerator)
    return gen


@pytest.mark.parametrize("fault", [never_answers, streams_forever(), trickles()],
                         ids=["never answers", "streams forever", "trickles bytes"])
def test_a_stuck_server_costs_one_deadline_and_gives_the_extractive_answer(fault, tmp_path):
    with FaultyServer(fault) as live:
        gen = _shipped_generator(live.base_url, tmp_path)
        for mode in ("whole", "streamed"):
            started = time.monotonic()
            if mode == "whole":
                answer = gen.generate(QUESTION, [REFUNDS], [])
            else:
                shown: list[str] = []
                with stream_to(shown.append):
                    answer = gen.generate(QUESTION, [REFUNDS], [])
                assert "".join(shown) == answer.text  # what was shown is the reply
            took = time.monotonic() - started
            assert took < DEADLINE + SLACK, f"{mode}: {took:.2f} s"
            assert answer.text == REFUNDS.answer and answer.backend == "extractive"
            assert answer.refused and answer.refused[0].startswith("deadline")


def test_the_shipped_config_does_not_spend_three_timeouts_on_a_slow_server(tmp_path):
    """configs/openai-compatible.yaml as shipped (its own deadline): a server that answers 503 after
    a long wait costs one deadline, not retries x timeout."""
    shipped = load_settings(SHIPPED).generation
    assert shipped.deadline_s <= 10
    with FaultyServer(slow_then(503, delay_s=30)) as live:
        gen = _shipped_generator(live.base_url, tmp_path, deadline_s=None)
        started = time.monotonic()
        answer = gen.generate(QUESTION, [REFUNDS], [])
        took = time.monotonic() - started
    assert took < shipped.deadline_s + SLACK
    assert answer.text == REFUNDS.answer and answer.refused[0].startswith("deadline")


def test_retries_happen_only_while_time_remains(tmp_path):
    with FaultyServer(slow_then(503, delay_s=0.4)) as live:
        gen = _shipped_generator(live.base_url, tmp_path, deadline_s=1.0)
        started = time.monotonic()
        answer = gen.generate(QUESTION, [REFUNDS], [])
        took = time.monotonic() - started
        requests = live.requests
    assert took < 1.0 + SLACK
    assert answer.text == REFUNDS.answer
    assert 1 <= requests <= 3  # the shipped retries (2), cut short by the deadline


def test_a_model_without_the_deadline_argument_is_still_bounded():
    """A plug-in ChatModel that knows nothing of deadlines (here: one that sleeps) cannot hold the turn."""
    gen = LLMGenerator(ScriptedChatModel(["Refunds take 5–7 business days."], delay_s=5), backend="scripted",
                       deadline_s=0.5)
    started = time.monotonic()
    answer = gen.generate(QUESTION, [REFUNDS], [])
    assert time.monotonic() - started < 0.5 + SLACK
    assert answer.text == REFUNDS.answer and answer.refused[0].startswith("deadline")
    started = time.monotonic()
    stream = gen.stream(QUESTION, [REFUNDS], [])
    assert "".join(stream) == REFUNDS.answer
    assert time.monotonic() - started < 0.5 + SLACK


def test_sentences_shown_before_the_deadline_stay_the_answer():
    """A stream that showed checked sentences and then stalls ends with exactly what was shown."""

    class Stalls:
        name = "stalls"

        def complete(self, messages, *, max_new_tokens, temperature):  # pragma: no cover - not used
            raise AssertionError

        def stream(self, messages, *, max_new_tokens, temperature):
            yield "Refunds reach your original payment method 5–7 business days after the return arrives. "
            time.sleep(5)
            yield "More."

    gen = LLMGenerator(Stalls(), backend="stalls", deadline_s=0.8)
    shown: list[str] = []
    with stream_to(shown.append):
        answer = gen.generate(QUESTION, [REFUNDS], [])
    assert "".join(shown) == answer.text == REFUNDS.answer
    assert answer.backend == "stalls" and answer.refused[0].startswith("deadline")


def test_deadline_helpers():
    with pytest.raises(ValueError, match="seconds must be > 0"):
        Deadline(0)
    assert call_within(lambda: 3, Deadline(1)) == 3
    with pytest.raises(GeneratorUnavailable, match="ZeroDivisionError"):
        call_within(lambda: 1 / 0, Deadline(1))
    with pytest.raises(GeneratorUnavailable, match="deadline"):
        call_within(lambda: time.sleep(2), Deadline(0.2))
    assert list(stream_within(lambda: iter(["a", "b"]), Deadline(1))) == ["a", "b"]
    with pytest.raises(GeneratorUnavailable, match="not text"):
        list(stream_within(lambda: iter([{"x": 1}]), Deadline(1)))
