"""The WebSocket stream as the widget uses it: hello, turns, replay after a reconnect, refusals."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed

from tests.web.conftest import Socket, new_session

pytestmark = pytest.mark.slow


def _bot(frame):
    return frame.get("type") == "message" and frame.get("from") == "bot"


def test_a_turn_over_the_socket_and_its_replay_after_reconnecting(web):
    sid = new_session()
    with Socket(web, sid, token=web.token("C001")) as ws:
        ready = ws.recv()
        assert ready["type"] == "ready" and ready["customer"] is True and ready["status"] == "bot"
        ws.send({"type": "message", "text": "where is my order 100023?", "id": "c1"})
        echo = ws.until(lambda f: f.get("type") == "message")
        assert echo["from"] == "user" and echo["client_id"] == "c1"
        assert ws.until(lambda f: f.get("type") == "typing")["from"] == "bot"
        reply = ws.until(_bot)
        assert "100023" in reply["text"] and reply["reply"]["route"] == "flow"
        assert "trace" not in reply["reply"] and "slots" not in reply["reply"]
    # the widget comes back having seen only the echo: the bot's reply is replayed, once
    with Socket(web, sid, token=web.token("C001"), after=echo["seq"]) as ws:
        assert ws.recv()["type"] == "ready"
        replayed = ws.recv()
        assert replayed["seq"] == reply["seq"] and replayed["text"] == reply["text"]
        ws.send({"type": "ping"})
        assert ws.recv() == {"type": "pong"}


def test_the_token_may_come_as_a_query_parameter(web):
    with Socket(web, new_session(), token=web.token("C002"), query_token=True) as ws:
        assert ws.recv()["customer"] is True


def test_quick_replies_when_the_bot_asks_for_a_confirmation(web):
    with Socket(web, new_session(), token=web.token("C002")) as ws:
        ws.recv()
        ws.send({"type": "message", "text": "please cancel my order 100031"})
        reply = ws.until(_bot)
        assert reply["reply"]["quick_replies"] == ["yes", "no"], reply["text"]


def _closed_with(ws: Socket) -> tuple[list[dict], int | None]:
    frames = []
    try:
        while True:
            frames.append(ws.recv(timeout=30))
    except ConnectionClosed as exc:
        return frames, exc.rcvd.code if exc.rcvd else None


@pytest.mark.parametrize("token", ["forged.token", "x" * 3000])
def test_a_bad_token_closes_with_4401(web, token):
    ws = Socket(web, new_session(), token=token)
    frames, code = _closed_with(ws)
    assert code == 4401 and frames[-1]["code"] == "unauthorized"


def test_an_expired_token_closes_with_4401(web):
    ws = Socket(web, new_session(), token=web.state.auth.signer.issue("C001", ttl_s=1, now=1_000_000))
    assert _closed_with(ws)[1] == 4401


def test_someone_elses_conversation_is_refused_and_not_replayed(web):
    sid = new_session()
    with Socket(web, sid, token=web.token("C001")) as ws:
        ws.recv()
        ws.send({"type": "message", "text": "where is my order 100023?"})
        ws.until(_bot)
    for token in (web.token("C002"), None):
        frames, code = _closed_with(Socket(web, sid, token=token))
        assert code == 4403
        assert not any("100023" in json.dumps(f) for f in frames)


def test_an_oversized_frame_is_refused_with_1009(web):
    ws = Socket(web, new_session())
    ws.recv()
    ws.send({"type": "message", "text": "x" * (web.state.max_frame + 10)})
    frames, code = _closed_with(ws)
    assert code == 1009 and frames[-1]["code"] == "too_large"


def test_an_oversized_hello_is_refused(web):
    from websockets.sync.client import connect

    ws = connect(f"{web.ws_url}/v1/sessions/{new_session()}/stream", max_size=None)
    ws.send(json.dumps({"type": "hello", "pad": "y" * (web.state.max_frame + 1)}))
    with pytest.raises(ConnectionClosed) as info:
        while True:
            ws.recv(timeout=30)
    assert info.value.rcvd.code == 1009


def test_malformed_frames_get_an_error_and_the_socket_stays(web):
    with Socket(web, new_session()) as ws:
        ws.recv()
        for bad in ("{nope", "[1,2]", json.dumps({"type": "message", "text": 7}), json.dumps({"type": "launch"})):
            ws.send(bad)
            assert ws.recv()["type"] == "error"
        too_long = "z" * (web.state.max_chars + 1)
        ws.send({"type": "message", "text": too_long})
        assert ws.recv()["code"] == "too_large"
        ws.send({"type": "message", "text": "hello"})
        assert ws.until(_bot)["text"]


def test_the_first_frame_must_be_hello(web):
    from websockets.sync.client import connect

    ws = connect(f"{web.ws_url}/v1/sessions/{new_session()}/stream")
    ws.send(json.dumps({"type": "message", "text": "hi"}))
    with pytest.raises(ConnectionClosed) as info:
        while True:
            ws.recv(timeout=30)
    assert info.value.rcvd.code == 1008


def test_a_flood_of_frames_gets_rate_limited(engine, tmp_path, agent_hashes):
    from tests.web.conftest import start_server, web_settings

    srv = start_server(web_settings(tmp_path, agent_hashes, max_messages_per_minute=2), engine)
    try:
        with Socket(srv, new_session()) as ws:
            ws.recv()
            for _ in range(2):
                ws.send({"type": "message", "text": "hi"})
                ws.until(_bot)
            ws.send({"type": "message", "text": "hi"})
            assert ws.until(lambda f: f["type"] == "error")["code"] == "rate_limited"
    finally:
        srv.stop()
