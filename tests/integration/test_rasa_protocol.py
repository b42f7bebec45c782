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
from engine.responses.templates import Templates
from engine.types import Reply

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:Your versions of rasa and rasa_sdk:UserWarning")]

ACTIONS = {"action_shopassist_respond", "action_order_status", "action_faq_answer", "action_product_answer",
           "action_submit_return", "validate_return_form"}
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
def serve_actions() -> Iterator[str]:
    """rasa-sdk's app over ``engine.rasa_actions`` on a loopback port, in a background thread."""
    executor = ActionExecutor()
    executor.register_package("engine.rasa_actions")
    previous, Sanic.test_mode = Sanic.test_mode, True  # lets each test module build its own app
    app = create_app(executor)
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
    """Echoes the text it gets and records (session, text, customer) per turn."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []
        self.templates = Templates(store="Testshop")
        self.handoff = False

    def state(self, session_id: str, *, customer_id: str | None = None) -> SimpleNamespace:
        return SimpleNamespace(slots={})

    def respond(self, session_id: str, text: str, *, customer_id: str | None = None) -> Reply:
        self.calls.append((session_id, text, customer_id))
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


def test_shopassist_actions_serves_the_actions(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPASSIST_")}
    env.update(SHOPASSIST_DATA_DIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "actions", "--port", str(port), "--host", "127.0.0.1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        names: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not names and proc.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                names = {a["name"] for a in httpx.get(f"http://127.0.0.1:{port}/actions", timeout=5).json()}
            time.sleep(0.5)
        assert ACTIONS <= names
        assert list(tmp_path.iterdir()) == []  # nothing built yet: the engine waits for the first call
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
