"""Any answer shape from an OpenAI-compatible server gives the customer the extractive answer, never
an internal error or a hand-off (issue 33): each shape is served by a real HTTP server on loopback,
read whole and streamed, and the turn's reply is what a customer would see.
"""

from __future__ import annotations

import pytest

from engine.generation import LLMGenerator, stream_to
from engine.generation.openai_chat import OpenAIChatModel, completion_text, delta_text
from engine.types import Passage

from .faulty_server import FaultyServer, answer, events

REFUNDS = Passage("faq-refunds", "How long do refunds take?",
                  "Refunds reach your original payment method 5–7 business days after the return arrives.", "en", 0.8)
GOOD = "Refunds reach your original payment method 5–7 business days after the return arrives."
HTML = "<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


def _choice(message=None, delta=None) -> dict:
    key, value = ("message", message) if delta is None else ("delta", delta)
    return {"choices": [{"index": 0, key: value, "finish_reason": "stop"}]}


WHOLE = {
    "content is a number": answer(200, _choice({"role": "assistant", "content": 42})),
    "content is an object": answer(200, _choice({"role": "assistant", "content": {"text": GOOD}})),
    "content is a list of numbers": answer(200, _choice({"role": "assistant", "content": [1, 2]})),
    "message is a string": answer(200, _choice(GOOD)),
    "choice is a string": answer(200, {"choices": [GOOD]}),
    "choices is an object": answer(200, {"choices": {"0": GOOD}}),
    "no choices": answer(200, {"id": "x", "object": "chat.completion"}),
    "empty choices": answer(200, {"choices": []}),
    "top level is a list": answer(200, [GOOD]),
    "top level is null": answer(200, "null"),
    "usage is a string": answer(200, {**_choice({"content": "Refunds take 2 days."}), "usage": "lots"}),
    "invalid JSON": answer(200, '{"choices": [{"message": {"content": "Refu'),
    "HTML error page with 200": answer(200, HTML, "text/html"),
    "HTML error page with 502": answer(502, HTML, "text/html"),
    "empty body": answer(200, b""),
}
STREAMED = {
    "choice is not an object": events({"choices": ["Refunds"]}),
    "choice is null": events({"choices": [None]}),
    "delta is a string": events({"choices": [{"delta": "Refunds"}]}),
    "delta content is a number": events({"choices": [{"delta": {"content": 7}}]}),
    "no choices": events({"object": "chat.completion.chunk"}),
    "chunk is a list": events([1, 2, 3]),
    "invalid JSON chunk": events(b'{"choices": [{"delta": {"content": "Ref'),
    "stream without [DONE] and nothing in it": events(done=False),
    "HTML error page": answer(200, HTML, "text/html"),
    "HTML error page with 500": answer(500, HTML, "text/html"),
}


def _generator(base_url: str) -> LLMGenerator:
    model = OpenAIChatModel(base_url, "m", retries=0, sleep=lambda s: None)
    return LLMGenerator(model, backend="openai", deadline_s=3)


@pytest.mark.parametrize("shape", list(WHOLE), ids=list(WHOLE))
def test_a_whole_answer_of_any_shape_gives_the_extractive_answer(shape):
    with FaultyServer(WHOLE[shape]) as live:
        reply = _generator(live.base_url).generate("how long do refunds take?", [REFUNDS], [])
    assert reply.text == REFUNDS.answer and reply.backend == "extractive" and reply.grounded
    assert reply.refused  # says why the model's answer was not used


@pytest.mark.parametrize("shape", list(STREAMED), ids=list(STREAMED))
def test_a_streamed_answer_of_any_shape_gives_the_extractive_answer(shape):
    with FaultyServer(STREAMED[shape]) as live:
        shown: list[str] = []
        with stream_to(shown.append):
            reply = _generator(live.base_url).generate("how long do refunds take?", [REFUNDS], [])
    assert reply.text == REFUNDS.answer == "".join(shown) and reply.backend == "extractive"


def test_content_as_text_parts_is_read_whole_and_streamed():
    parts = [{"type": "text", "text": "Refunds reach your original payment method "},
             {"type": "text", "text": "5–7 business days after the return arrives."}]
    with FaultyServer(answer(200, _choice({"role": "assistant", "content": parts}))) as live:
        reply = _generator(live.base_url).generate("how long do refunds take?", [REFUNDS], [])
    assert reply.text == GOOD and reply.backend == "openai"
    with FaultyServer(events(_choice(delta={"role": "assistant"}), _choice(delta={"content": parts[:1]}),
                             _choice(delta={"content": parts[1:]}), _choice(delta=None))) as live:
        stream = _generator(live.base_url).stream("how long do refunds take?", [REFUNDS], [])
        assert "".join(stream) == GOOD and stream.answer.backend == "openai"


def test_the_readers_name_what_is_wrong():
    assert completion_text({"choices": [{"message": {"content": None}}], "usage": {"completion_tokens": 3}}) == ("", 3)
    assert completion_text({"choices": [{"message": {"content": "x"}}], "usage": {"completion_tokens": "9"}}) == ("x", None)
    with pytest.raises(ValueError, match="content is a int"):
        completion_text({"choices": [{"message": {"content": 1}}]})
    with pytest.raises(ValueError, match="a choice is a str"):
        delta_text({"choices": ["x"]})
    assert delta_text({"choices": [{"finish_reason": "stop"}]}) == ""
