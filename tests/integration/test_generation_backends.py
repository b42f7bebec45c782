"""The engine with an LLM backend: answers come from a real OpenAI-compatible server on loopback,
pass the grounding check or give way to the extractive answer, and stream into the chat CLI."""

from __future__ import annotations

import io

import pytest

from engine.generation.chat_server import ChatCompletionsServer
from engine.generation.scripted import ScriptedChatModel

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GOOD = "Refunds go back to your original payment method 5–7 business days after your return arrives [1]."
INVENTED = "Refunds take 3 business days. Your order has shipped."


def _reply_for(messages):
    question = messages[-1].content.split("<customer>")[1]
    return INVENTED if "quick" in question else GOOD


@pytest.fixture(scope="module")
def llm_engine(demo_store, data_dir):
    from engine import Engine

    model = ScriptedChatModel(_reply_for)
    with ChatCompletionsServer(model) as server:
        eng = Engine.from_config(data_dir=data_dir, store={"root": demo_store.root},
                                 generation={"backend": "openai", "base_url": server.base_url, "model": "scripted",
                                             "retries": 0})
        eng.warm_up()
        yield eng, model


def test_a_grounded_llm_answer_reaches_the_customer_with_its_citation(llm_engine):
    eng, model = llm_engine
    # a general question: "my refund" from a signed-in customer is answered from their own returns
    reply = eng.respond("gen-1", "how long do refunds usually take?", customer_id="C001")
    assert reply.route == "retrieval"
    assert reply.text.startswith("Refunds go back to your original payment method 5–7 business days")
    assert "[1]" not in reply.text
    assert any(s.kind == "faq" and "refund" in s.id for s in reply.sources)
    assert "<customer>" in model.calls[-1][-1].content  # the prompt delimited the customer's text
    assert reply.trace["generation"]["backend"] == "openai" and not reply.trace["generation"].get("refused")


def test_an_invented_answer_is_replaced_by_the_faqs_own_words(llm_engine):
    eng, _ = llm_engine
    reply = eng.respond("gen-2", "how quick do refunds reach my card?", customer_id="C001")
    assert reply.route == "retrieval"
    assert "3 business days" not in reply.text and "has shipped" not in reply.text
    assert "5–7" in reply.text  # the extractive answer: the FAQ as written
    gen = reply.trace["generation"]
    assert gen["backend"] == "extractive" and gen["refused"]  # the trace says why the model's text was not used


def test_chat_cli_prints_the_streamed_answer_once(llm_engine):
    from rich.console import Console

    from engine.cli import _respond_streaming

    eng, _ = llm_engine
    out = io.StringIO()
    console = Console(file=out, width=400)
    reply, shown = _respond_streaming(eng, "gen-3", "how long do refunds usually take?", "C001", console)
    assert shown and reply.text.startswith(shown)
    assert out.getvalue() == shown  # printed as it came; the CLI prints only the rest afterwards
