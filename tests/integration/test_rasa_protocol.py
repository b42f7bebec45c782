"""The action server's HTTP protocol, edge cases included, on a real loopback port.

rasa-sdk's own Sanic app (what ``shopassist actions`` and ``python -m rasa_sdk --actions
engine.rasa_actions`` serve) runs in this process, in a background thread, over
``engine.rasa_actions``. Most tests use a deterministic fake engine (no models: the normal suite);
the ones marked ``slow`` use the real engine and the demo store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from engine import rasa_actions
from engine.action_server import ActionServerError, check_action_call, create_action_app, is_loopback, run_action_server
from engine.http_limits import BodyLimit
from engine.responses.templates import Templates
from engine.types import Reply

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:Your versions of rasa and rasa_sdk:UserWarning")]

ACTIONS = {"action_shopassist_respond", "action_shopassist_fallback", "action_order_status", "action_faq_answer",
           "action_product_answer", "action_recommend", "action_cancel_order", "action_change_address",
           "action_ask_order_id", "action_ask_return_reason", "action_ask_return_confirmed",
           "action_submit_return", "validate_return_form"}
TOKEN = "s3cret-shared-with-rasa"
DOMAIN = {
    "slots": {
        "customer_id": {"type": "text", "mappings": [{"type": "custom"}]},
        "order_id": {"type": "text", "mappings": [{"type": "from_entity", "entity": "order_id"}]},
        "handoff": {"type": "bool", "mappings": [{"type": "custom"}]},
    },
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_actions(*, token: str | None = None, plain: bool = False,
                  limit: BodyLimit | None = None) -> Iterator[str]:
    """The action server's app over ``engine.rasa_actions`` (``shopassist actions``'s, or with
    ``plain`` rasa-sdk's own) on a loopback port, in a background thread."""
    executor = ActionExecutor()
    executor.register_package("engine.rasa_actions")
    previous, Sanic.test_mode = Sanic.test_mode, True  # lets each test module build its own app
    if plain:
        app = create_app(executor)
    else:
        app = create_action_app(executor, limit=limit or BodyLimit(), token=token, endpoints="")
        app.config.MOTD = False
    port = _free_port()
    loop = asyncio.new_event_loop()
    ready, failed = threading.Event(), []

    async def main() -> None:
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        await server.before_start()
        await server.after_start()
        ready.set()
        try:
            await server.serve_forever()
        finally:
            await server.before_stop()
            server.close()
            await server.wait_closed()
            await server.after_stop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        task = loop.create_task(main())
        try:
            loop.run_until_complete(task)
        except BaseException as exc:  # noqa: BLE001 - cancelled on shutdown; anything else fails the test
            if not isinstance(exc, asyncio.CancelledError):
                failed.append(exc)
                ready.set()

    thread = threading.Thread(target=run, name="rasa-actions-test-server", daemon=True)
    thread.start()
    assert ready.wait(30) and not failed, f"the action server did not start: {failed}"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for task in asyncio.all_tasks(loop):
            loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
        Sanic.test_mode = previous


class FakeEngine:
    """Echoes the text it gets and records (session, text, customer) per turn, the intent a
    focused action handed it (``hints``) and the context Rasa's slots brought (``written``)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []
        self.hints: list[str | None] = []
        self.written: list[tuple[str, object]] = []
        self.templates = Templates(store="Testshop")
        self.handoff = False
        self.orders = None
        self.store = SimpleNamespace(commit=self._commit)

    def _commit(self, state: SimpleNamespace, events: list) -> SimpleNamespace:
        self.written += [(e.name, e.value) for e in events]
        return state

    def state(self, session_id: str, *, customer_id: str | None = None) -> SimpleNamespace:
        return SimpleNamespace(slots={}, customer_id=customer_id, active_flow=None)

    def respond(self, session_id: str, text: str, *, customer_id: str | None = None) -> Reply:
        self.calls.append((session_id, text, customer_id))
        self.hints.append(rasa_actions._HINT.get())
        return Reply(text=f"echo: {text}", intent="greet", confidence=0.9, route="template",
                     slots={"order_id": "100023"}, session_id=session_id, handoff=self.handoff,
                     trace={"decided_by": "fake"})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve_actions() as url:
        yield url


@pytest.fixture
def fake():
    engine = FakeEngine()
    rasa_actions.use_engine(engine)
    yield engine
    rasa_actions.use_engine(None)


def tracker(sender: str, text: str | None = "hello", *, customer: object = None, events: list | None = None,
            slots: dict | None = None) -> dict:
    latest: dict = {"intent": {"name": "greet", "confidence": 0.9}, "entities": [], "text": text,
                    "message_id": uuid.uuid4().hex, "metadata": {}}
    if customer is not None:
        latest["metadata"] = {"customer_id": customer}
    return {"sender_id": sender, "slots": slots or {}, "latest_message": latest, "events": events or [],
            "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}


def call(action: str, track: dict, *, domain: dict | None = DOMAIN) -> dict:
    body = {"next_action": action, "sender_id": track["sender_id"], "tracker": track, "version": "3.6.21"}
    if domain is not None:
        body["domain"] = domain
    return body


def post(url: str, body: dict | bytes, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{url}/webhook", content=content, timeout=60,
                      headers={"Content-Type": "application/json", **headers})


def long_history(n: int) -> list[dict]:
    """``n`` events shaped like Rasa 3.6's: user, action, bot, action_listen, repeated."""
    events: list[dict] = []
    ts = time.time() - n
    while len(events) < n:
        i = len(events)
        events += [
            {"event": "user", "timestamp": ts + i, "text": f"old message {i}: where is order 1000{i % 90 + 10}?",
             "parse_data": {"intent": {"name": "order_status", "confidence": 0.8}, "entities": [],
                            "text": f"old message {i}", "message_id": uuid.uuid4().hex, "metadata": {}},
             "input_channel": "rest", "message_id": uuid.uuid4().hex, "metadata": {}},
            {"event": "action", "timestamp": ts + i + 0.1, "name": "action_shopassist_respond", "policy": "RulePolicy",
             "confidence": 1.0},
            {"event": "bot", "timestamp": ts + i + 0.2, "text": f"old answer {i}", "data": {}, "metadata": {}},
            {"event": "action", "timestamp": ts + i + 0.3, "name": "action_listen", "policy": "RulePolicy",
             "confidence": 1.0},
        ]
    return events[:n]


# -- the protocol ---------------------------------------------------------------------------------
def test_health_and_action_list(server):
    assert httpx.get(f"{server}/health").json() == {"status": "ok"}
    names = {a["name"] for a in httpx.get(f"{server}/actions").json()}
    assert ACTIONS <= names


def test_whole_turn(server, fake):
    r = post(server, call("action_shopassist_respond", tracker("p-1", "hi there", customer="C001")))
    assert r.status_code == 200
    body = r.json()
    assert [m["text"] for m in body["responses"]] == ["echo: hi there"]
    assert {"event": "slot", "timestamp": None, "name": "order_id", "value": "100023"} in body["events"]
    assert fake.calls == [("p-1", "hi there", "C001")]


def test_unknown_action_is_404(server, fake):
    r = post(server, call("action_does_not_exist", tracker("p-2")))
    assert r.status_code == 404
    assert r.json()["action_name"] == "action_does_not_exist"
    assert fake.calls == []


def test_rejections_are_400(server, fake):
    no_message = post(server, call("action_shopassist_respond", tracker("p-3", None)))
    assert no_message.status_code == 400
    assert no_message.json() == {"error": "the tracker has no user message to answer",
                                 "action_name": "action_shopassist_respond"}
    bad_customer = post(server, call("action_order_status", tracker("p-3", "where is 100023", customer=12345)))
    assert bad_customer.status_code == 400
    assert "metadata.customer_id" in bad_customer.json()["error"]
    assert fake.calls == []


def test_deflate_compressed_body(server, fake):
    body = zlib.compress(json.dumps(call("action_shopassist_respond", tracker("p-4", "compressed?"))).encode())
    r = post(server, body, **{"Content-Encoding": "deflate"})
    assert r.status_code == 200
    assert r.json()["responses"][0]["text"] == "echo: compressed?"


def test_missing_domain_is_449(server, fake):
    r = post(server, call("action_shopassist_respond", tracker("p-5"), domain=None))
    assert r.status_code == 449
    assert r.json()["action_name"] == "action_shopassist_respond"
    assert fake.calls == []


def test_malformed_bodies_are_refused_and_the_server_keeps_serving(server, fake):
    good = json.dumps(call("action_shopassist_respond", tracker("p-6", "after the junk"))).encode()
    assert post(server, good[: len(good) // 2]).status_code == 400  # truncated JSON
    assert post(server, b"\xff\xfe not json at all").status_code == 400
    assert post(server, b"").status_code == 400
    assert post(server, b"not deflate", **{"Content-Encoding": "deflate"}).status_code == 400
    assert post(server, zlib.compress(b"{\"next_action\": "), **{"Content-Encoding": "deflate"}).status_code == 400
    # valid JSON that is not an action call: rasa-sdk answers with an error status, not a reply
    assert post(server, b"[1, 2, 3]").status_code >= 400
    assert fake.calls == []
    r = post(server, good)
    assert r.status_code == 200 and r.json()["responses"][0]["text"] == "echo: after the junk"


def test_ten_thousand_events_answered_in_bounded_time(server, fake):
    small = call("action_shopassist_respond", tracker("p-7", "the latest question", customer="C001",
                                                       events=long_history(10)))
    big = call("action_shopassist_respond", tracker("p-8", "the latest question", customer="C001",
                                                     events=long_history(10_000)))
    assert len(big["tracker"]["events"]) == 10_000
    timings = {}
    for name, body in (("small", small), ("big", big)):
        started = time.perf_counter()
        r = post(server, body)
        timings[name] = time.perf_counter() - started
        assert r.status_code == 200 and r.json()["responses"][0]["text"] == "echo: the latest question"
    # only the latest message reaches the engine, whatever the history holds
    assert fake.calls == [("p-7", "the latest question", "C001"), ("p-8", "the latest question", "C001")]
    assert timings["big"] < 5.0, timings  # parsing ~4 MB of JSON; the engine's work does not grow


def test_handoff_signal_over_http(server, fake):
    fake.handoff = True
    body = post(server, call("action_shopassist_respond", tracker("p-9", "a human please"))).json()
    assert body["responses"][1]["custom"] == {"handoff": {"session_id": "p-9", "intent": "greet", "decided_by": "fake"}}
    assert {"event": "slot", "timestamp": None, "name": "handoff", "value": True} in body["events"]


def test_python_m_rasa_sdk_serves_the_actions_without_building_an_engine(tmp_path):
    """``python -m rasa_sdk --actions engine.rasa_actions``: the module imports in the main process
    and the worker without building an engine (that waits for the first action call)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPASSIST_")}
    env.update(SHOPASSIST_CONFIG=str(tmp_path / "missing.yaml"), SANIC_HOST="127.0.0.1")
    proc = subprocess.Popen([sys.executable, "-m", "rasa_sdk", "--actions", "engine.rasa_actions", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        names: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not names:
            with contextlib.suppress(httpx.HTTPError):
                names = {a["name"] for a in httpx.get(f"http://127.0.0.1:{port}/actions", timeout=5).json()}
            time.sleep(0.5)
        assert ACTIONS <= names
        # the config file does not exist: the engine cannot be built, and the customer is told so
        r = httpx.post(f"http://127.0.0.1:{port}/webhook", timeout=60,
                       json=call("action_shopassist_respond", tracker("p-10", "hi", customer="C001")))
        assert r.status_code == 200
        texts = [m["text"] for m in r.json()["responses"]]
        assert texts[0] == Templates().render("service_unavailable", "en")
        assert r.json()["responses"][1]["custom"]["handoff"]["reason"] == "engine unavailable"
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in out, out[-3000:]


@pytest.mark.slow
def test_shopassist_actions_answers_health_only_with_its_engine_built(demo_store, data_dir, engine):
    """Warm start: /health is green only once the engine is built, so the first turn is quick."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPASSIST_")}
    env.update(SHOPASSIST_DATA_DIR=str(data_dir), SHOPASSIST_STORE__ROOT=str(demo_store.root), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "actions", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        healthy = False
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not healthy and proc.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                healthy = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
            time.sleep(0.2)
        assert healthy
        names = {a["name"] for a in httpx.get(f"http://127.0.0.1:{port}/actions", timeout=5).json()}
        assert ACTIONS <= names
        started = time.perf_counter()
        r = httpx.post(f"http://127.0.0.1:{port}/webhook", timeout=60,
                       json=call("action_shopassist_respond", tracker(f"w-{uuid.uuid4().hex[:6]}", "hi")))
        first_turn = time.perf_counter() - started
        assert r.status_code == 200 and "Brightcart" in r.json()["responses"][0]["text"]
        assert first_turn < 10, first_turn  # the engine was built before /health (a cold build takes ~30 s+)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in out, out[-3000:]


def test_shopassist_actions_refuses_an_invalid_config_at_start():
    env = dict(os.environ, SHOPASSIST_NLU__CONFIDENCE_THRESHOLD="7")
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "actions", "--port", str(_free_port())],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "nlu.confidence_threshold" in proc.stderr and "Traceback" not in proc.stderr


# -- the same edge over the real engine -----------------------------------------------------------
@pytest.mark.slow
def test_ten_thousand_events_over_the_real_engine(server, engine):
    rasa_actions.use_engine(engine)
    try:
        sender = f"p-real-{uuid.uuid4().hex[:6]}"
        body = call("action_shopassist_respond", tracker(sender, "where is my order 100023?", customer="C001",
                                                         events=long_history(10_000)))
        started = time.perf_counter()
        r = post(server, body)
        elapsed = time.perf_counter() - started
    finally:
        rasa_actions.use_engine(None)
    assert r.status_code == 200
    assert "UPS" in r.json()["responses"][0]["text"]
    assert elapsed < 10.0, elapsed
    assert engine.state(sender, customer_id="C001").turns == 1  # one turn: the history was never replayed into the engine


# -- what a caller that is not Rasa can do ------------------------------------------------------------
@pytest.fixture(scope="module")
def guarded() -> Iterator[str]:
    with serve_actions(token=TOKEN) as url:
        yield url


def test_a_token_is_required_when_set(guarded, fake):
    body = call("action_shopassist_respond", tracker("t-1", "where is my order 100023?", customer="C001"))
    for url in (f"{guarded}/webhook", f"{guarded}/webhook?token=wrong", f"{guarded}/webhook?token="):
        r = httpx.post(url, json=body, timeout=30)
        assert r.status_code == 401, (url, r.text)
        assert "100023" not in r.text and "C001" not in r.text
    assert httpx.get(f"{guarded}/actions").status_code == 401
    assert fake.calls == []  # nobody acted as C001
    assert httpx.get(f"{guarded}/health").json() == {"status": "ok"}  # health stays open
    ok = httpx.post(f"{guarded}/webhook", params={"token": TOKEN}, json=body, timeout=30)
    assert ok.status_code == 200 and ok.json()["responses"][0]["text"].startswith("echo:")
    assert fake.calls == [("t-1", "where is my order 100023?", "C001")]


@pytest.mark.parametrize("mangle", [
    lambda b: b.update(domain="a domain as a string"),
    lambda b: b["tracker"].update(latest_message=["not", "an", "object"]),
    lambda b: b["tracker"].update(slots="slots"),
    lambda b: b["tracker"].update(events={"not": "a list"}),
    lambda b: b.update(tracker="a tracker as a string"),
    lambda b: b.update(next_action=12),
])
def test_malformed_action_calls_are_400_and_never_echoed(server, fake, mangle):
    body = call("action_shopassist_respond", tracker("m-1", "PRIVATE-TEXT-4711", customer="C001"))
    mangle(body)
    r = post(server, body)
    assert r.status_code == 400, r.text
    assert "PRIVATE-TEXT-4711" not in r.text and "request_body" not in r.text
    assert fake.calls == []


def test_an_internal_error_answers_without_the_request(server, fake):
    # the turn fails, and so does the apology: the server's last-resort answer quotes nothing
    def broken(*_args, **_kwargs):
        raise RuntimeError("PRIVATE-TEXT-4712 in an error message")

    fake.respond, fake.templates = broken, None
    r = post(server, call("action_shopassist_respond", tracker("m-2", "PRIVATE-TEXT-4712", customer="C001")))
    assert r.status_code == 500
    assert r.json() == {"error": "internal error"}


def test_a_deflate_bomb_is_refused_in_bounded_time(fake):
    with serve_actions(limit=BodyLimit(max_bytes=1 << 20, max_inflated_bytes=2 << 20)) as url:
        bomb = zlib.compress(b"[" + b"0," * (8 << 20) + b"0]", 9)  # ~16 MB of JSON in ~16 KB
        assert len(bomb) < 100_000
        started = time.perf_counter()
        r = post(url, bomb, **{"Content-Encoding": "deflate"})
        assert r.status_code == 413 and time.perf_counter() - started < 5
        assert post(url, b"x" * (2 << 20)).status_code == 413  # too large on the wire
    assert fake.calls == []


def test_the_action_call_shape_check():
    good = call("action_shopassist_respond", tracker("s-1"))
    assert check_action_call(json.dumps(good).encode(), None) is None
    assert check_action_call(zlib.compress(json.dumps(good).encode()), "deflate") is None
    assert check_action_call(b"{", None) == "the body is not a JSON action call"
    assert check_action_call(b"[1]", None) == "the action call must be a JSON object"
    assert check_action_call(b"[" * 100_000, None) == "the body is not a JSON action call"  # too deep


def test_listening_beyond_loopback_needs_a_token():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("127.3.2.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5") and not is_loopback("example.com")
    with pytest.raises(ActionServerError, match="SHOPASSIST_ACTIONS__TOKEN"):
        run_action_server(_free_port(), limit=BodyLimit(), host="0.0.0.0")
    env = {k: v for k, v in os.environ.items() if k != "SHOPASSIST_ACTIONS__TOKEN"}
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "actions", "--host", "0.0.0.0", "--port",
                           str(_free_port())], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "refusing to listen on 0.0.0.0" in proc.stderr and "Traceback" not in proc.stderr


# -- one conversation: what Rasa knows reaches the engine ---------------------------------------------
def test_focused_actions_hand_the_engine_rasas_intent(server, fake):
    for action, intent in (("action_order_status", "track_order"), ("action_faq_answer", "policy_question"),
                           ("action_product_answer", "product_question"), ("action_recommend", "recommend"),
                           ("action_cancel_order", "cancel_order"), ("action_change_address", "change_address"),
                           ("action_shopassist_respond", None), ("action_shopassist_fallback", None)):
        r = post(server, call(action, tracker("f-1", "something", customer="C001")))
        assert r.status_code == 200 and r.json()["responses"][0]["text"] == "echo: something"
        assert fake.hints[-1] == intent, action
    assert rasa_actions._HINT.get() is None  # nothing stays behind for the next call


def test_rasas_order_and_product_reach_the_engine(server, fake):
    post(server, call("action_faq_answer", tracker("f-2", "has it shipped?", customer="C001",
                                                   slots={"order_id": "100023", "product_id": "P-1",
                                                          "return_reason": "not context"})))
    assert sorted(fake.written) == [("order_id", "100023"), ("product_id", "P-1")]
    fake.written.clear()
    # filled for another customer on this sender id, or not an order number: nothing is handed over
    post(server, call("action_faq_answer", tracker("f-3", "hm", customer="C002",
                                                   slots={"customer_id": "C001", "order_id": "100023"})))
    post(server, call("action_faq_answer", tracker("f-4", "hm", customer="C001", slots={"order_id": "DROP TABLE"})))
    assert fake.written == []


def test_the_fallback_resumes_an_active_form(server, fake):
    track = tracker("f-5", "blah", customer="C001", slots={"requested_slot": "order_id"})
    track["active_loop"] = {"name": "return_form"}
    body = post(server, call("action_shopassist_fallback", track)).json()
    assert {"event": "followup", "timestamp": None, "name": "return_form"} in body["events"]
    # the answer carries the form's question, in one message
    assert body["responses"][0]["text"] == "echo: blah\n" + Templates(store="Testshop").render("ask_order_id", "en")


def test_the_form_asks_once_in_the_customers_language(server, fake):
    templates = Templates(store="Testshop")
    user = {"event": "user", "text": "我要退货"}
    asked = post(server, call("action_ask_order_id", tracker("q-1", "我要退货", events=[user]))).json()
    assert [m["text"] for m in asked["responses"]] == [templates.render("ask_order_id", "zh")]
    # a bare order number shows no language: the conversation's latest one that does counts
    later = [user, {"event": "bot", "text": "?"}, {"event": "user", "text": "100024"}]
    track = tracker("q-2", "100024", events=later, slots={"order_id": "100024", "requested_slot": "return_reason"})
    asked = post(server, call("action_ask_return_reason", track)).json()
    assert [m["text"] for m in asked["responses"]] == [
        templates.render("return_ask_reason_short", "zh", order_id="100024")]
    # this turn already said something (a validation's reason, a digression's answer): silent
    said = later + [{"event": "bot", "text": "订单100024已有退货申请"}]
    assert post(server, call("action_ask_order_id", tracker("q-3", "100024", events=said))).json()["responses"] == []
