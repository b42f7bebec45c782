"""Streamed replies: with an LLM backend that streams (a real OpenAI-compatible server on loopback),
the widget receives the answer in ``delta`` frames before the whole ``message``."""

from __future__ import annotations

import pytest

from tests.web.conftest import Socket, new_session, start_server, web_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ANSWER = "Refunds go back to your original payment method 5–7 business days after your return arrives [1]."


@pytest.fixture(scope="module")
def llm_web(demo_store, data_dir, agent_hashes, tmp_path_factory):
    from engine import Engine
    from engine.generation.chat_server import ChatCompletionsServer
    from engine.generation.scripted import ScriptedChatModel

    with ChatCompletionsServer(ScriptedChatModel([ANSWER])) as llm:
        eng = Engine.from_config(data_dir=data_dir, store={"root": demo_store.root},
                                 generation={"backend": "openai", "base_url": llm.base_url, "model": "scripted",
                                             "retries": 0, "stream": True})
        eng.warm_up()
        srv = start_server(web_settings(tmp_path_factory.mktemp("llm-web"), agent_hashes), eng)
        yield srv
        srv.stop()


def test_a_generated_answer_arrives_in_pieces_then_whole(llm_web):
    with Socket(llm_web, new_session(), token=llm_web.token("C001")) as ws:
        ws.recv()
        ws.send({"type": "message", "text": "how long do refunds usually take?"})
        deltas = []
        while True:
            frame = ws.recv()
            if frame["type"] == "delta":
                deltas.append(frame["text"])
            elif frame["type"] == "message" and frame["from"] == "bot":
                break
        assert deltas, "no delta frames before the reply"
        streamed = "".join(deltas)
        assert frame["text"].startswith(streamed.strip()[:20]) and "5–7" in streamed
        assert frame["reply"]["route"] == "retrieval"
