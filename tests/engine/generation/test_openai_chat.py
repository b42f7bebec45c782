"""engine/generation/openai_chat.py against a real OpenAI-compatible HTTP server on loopback.

The server is engine/generation/chat_server.py (stdlib http.server) over a scripted model:
llama-cpp-python's server has no prebuilt wheel for this platform, and a C++ build does not fit CI.
The slow suite (test_transformers.py) also serves the real packaged SmolLM2 through it.
"""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from engine.errors import GeneratorUnavailable
from engine.generation import ChatMessage, LLMGenerator
from engine.generation.chat_server import ChatCompletionsServer
from engine.generation.openai_chat import OpenAIChatModel
from engine.generation.scripted import ScriptedChatModel
from engine.types import Passage

HELLO = [ChatMessage("system", "Be brief."), ChatMessage("user", "hi")]
REFUNDS = Passage("faq-refunds", "How long do refunds take?",
                  "Refunds reach your original payment method 5–7 business days after the return arrives.", "en", 0.8)
NO_WAIT = {"sleep": lambda s: None}


@pytest.fixture
def serve():
    servers = []

    def start(script, **kw) -> tuple[ChatCompletionsServer, ScriptedChatModel]:
        model = script if isinstance(script, ScriptedChatModel) else ScriptedChatModel(script)
        server = ChatCompletionsServer(model, **kw).start()
        servers.append(server)
        return server, model

    yield start
    for s in servers:
        s.stop()


def test_complete_sends_the_messages_and_reads_text_and_usage(serve):
    server, model = serve(["Hello there, how can I help?"])
    client = OpenAIChatModel(server.base_url, "scripted", **NO_WAIT)
    completion = client.complete(HELLO, max_new_tokens=3, temperature=0.0)
    assert completion.text == "Hello there, how"  # the server honoured max_tokens
    assert completion.tokens == 3
    assert model.calls == [HELLO]


def test_stream_reads_server_sent_events_in_order(serve):
    server, _ = serve(["Refunds take 5–7 business days."])
    client = OpenAIChatModel(server.base_url, "scripted", **NO_WAIT)
    pieces = list(client.stream(HELLO, max_new_tokens=64, temperature=0.0))
    assert pieces == ["Refunds", " take", " 5–7", " business", " days."]


def test_closing_a_stream_early_closes_the_response(serve):
    server, _ = serve(ScriptedChatModel(["one two three four five six"], delay_s=0.05))
    client = OpenAIChatModel(server.base_url, "scripted", **NO_WAIT)
    stream = client.stream(HELLO, max_new_tokens=64, temperature=0.0)
    assert next(stream) == "one"
    stream.close()
    # the connection pool is usable again at once
    assert client.complete(HELLO, max_new_tokens=1, temperature=0.0).text == "one"


def test_api_key_is_sent_and_a_wrong_one_is_not_retried(serve):
    server, model = serve(["ok"], api_key="sk-test")
    assert OpenAIChatModel(server.base_url, "m", api_key="sk-test", **NO_WAIT).complete(
        HELLO, max_new_tokens=4, temperature=0).text == "ok"
    with pytest.raises(GeneratorUnavailable, match="401"):
        OpenAIChatModel(server.base_url, "m", api_key="wrong", retries=3, **NO_WAIT).complete(
            HELLO, max_new_tokens=4, temperature=0)
    assert len(model.calls) == 1  # the 401 never reached the model, and was not retried


def test_a_503_is_retried_with_backoff_then_succeeds(serve):
    server, model = serve([GeneratorUnavailable("warming up"), "ready now"])
    waits: list[float] = []
    client = OpenAIChatModel(server.base_url, "m", retries=2, backoff_base_s=0.1, sleep=waits.append)
    assert client.complete(HELLO, max_new_tokens=8, temperature=0).text == "ready now"
    assert len(model.calls) == 2 and len(waits) == 1 and 0 <= waits[0] <= 0.1
    server2, model2 = serve([GeneratorUnavailable("still warming"), "streamed"])
    assert list(OpenAIChatModel(server2.base_url, "m", **NO_WAIT).stream(HELLO, max_new_tokens=8,
                                                                         temperature=0)) == ["streamed"]
    assert len(model2.calls) == 2


def test_a_slow_server_times_out_after_the_retries(serve):
    server, model = serve(ScriptedChatModel(["late"], delay_s=1.0))
    client = OpenAIChatModel(server.base_url, "m", timeout_s=0.2, retries=1, **NO_WAIT)
    started = time.perf_counter()
    with pytest.raises(GeneratorUnavailable, match="Timeout"):
        client.complete(HELLO, max_new_tokens=8, temperature=0)
    assert time.perf_counter() - started < 0.9  # two attempts of 0.2 s, not the server's 1 s each
    assert len(model.calls) == 2


def test_a_dead_server_opens_the_circuit():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    client = OpenAIChatModel(f"http://127.0.0.1:{port}/v1", "m", retries=0, breaker_failures=2, **NO_WAIT)
    for _ in range(2):
        with pytest.raises(GeneratorUnavailable, match="Connect"):
            client.complete(HELLO, max_new_tokens=8, temperature=0)
    with pytest.raises(GeneratorUnavailable, match="circuit open"):
        client.complete(HELLO, max_new_tokens=8, temperature=0)


def test_a_malformed_answer_is_an_unavailable_generator(serve):
    server, _ = serve(["x"])
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"choices": []}))
    client = OpenAIChatModel(server.base_url, "m", client=httpx.Client(transport=transport), **NO_WAIT)
    with pytest.raises(GeneratorUnavailable, match="malformed"):
        client.complete(HELLO, max_new_tokens=8, temperature=0)


def test_the_server_rejects_bad_requests_and_lists_its_model(serve):
    server, _ = serve(["x"])
    root = server.base_url
    assert httpx.get(f"{root}/models").json()["data"][0]["id"] == "scripted"
    assert httpx.post(f"{root}/chat/completions", json={"messages": []}).status_code == 400
    assert httpx.post(f"{root}/chat/completions", json={"messages": [{"role": "x", "content": 1}]}).status_code == 400
    assert httpx.post(f"{root}/nope", json={}).status_code == 404


def test_grounded_generation_over_http_streams_and_falls_back(serve):
    good = "Refunds reach your original payment method 5–7 business days after the return arrives."
    server, _ = serve([good, "Refunds take 2 days.", GeneratorUnavailable("overloaded")])
    gen = LLMGenerator(OpenAIChatModel(server.base_url, "m", retries=0, **NO_WAIT), backend="openai")
    stream = gen.stream("how long do refunds take?", [REFUNDS], [])
    assert "".join(stream) == good and stream.answer.backend == "openai"
    refused = gen.generate("how long do refunds take?", [REFUNDS], [])
    assert refused.text == REFUNDS.answer and "number 2" in refused.refused
    down = gen.generate("how long do refunds take?", [REFUNDS], [])
    assert down.text == REFUNDS.answer and down.refused[0].startswith("unavailable")
