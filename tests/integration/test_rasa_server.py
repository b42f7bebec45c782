"""A real Rasa Open Source 3.6 as the client of the shopassist action server.

Builds (once, cached) a Python 3.10 virtual environment with ``rasa==3.6.21``, trains
``examples/rasa``, starts ``shopassist actions`` and ``rasa run --enable-api`` on loopback ports,
and holds conversations through Rasa's REST channel (``/webhooks/rest/webhook``) that exercise
every action. Rasa sends its action calls deflate-compressed (``COMPRESS_ACTION_SERVER_REQUEST``).

The environment lives in ``$SHOPASSIST_RASA_CACHE`` (default ``~/.cache/shopassist-rasa``), keyed
by the Rasa version and the constraints file; the first build takes a few minutes and ~2.7 GB.
Python 3.10 comes from ``$SHOPASSIST_RASA_PYTHON``, pyenv, or ``python3.10`` on PATH; without it
the test fails and says so: it is never skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RASA_VERSION = "3.6.21"
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "rasa"
CONSTRAINTS = EXAMPLE / f"constraints-{RASA_VERSION}.txt"
PIP_VERSION = "24.3.1"  # rasa 3.6's metadata trips newer resolvers' stricter checks less often


# -- the Rasa environment -------------------------------------------------------------------------
def find_python310() -> str:
    """A Python 3.10 interpreter, or a clear failure naming where it looked."""
    looked = []
    env = os.environ.get("SHOPASSIST_RASA_PYTHON")
    candidates = [env] if env else []
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{root}/versions/3.10.*/bin/python3.10"), reverse=True)
    candidates += [p for p in [shutil.which("python3.10")] if p]
    for c in candidates:
        looked.append(c)
        try:
            out = subprocess.run([c, "-c", "import sys; print(sys.version_info[:2])"],
                                 capture_output=True, text=True, timeout=60).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if out == "(3, 10)":
            return c
    pytest.fail(
        f"Rasa {RASA_VERSION} needs Python 3.10 and none was found (looked at: $SHOPASSIST_RASA_PYTHON, "
        f"{root}/versions/3.10.*, python3.10 on PATH; tried {looked or 'nothing'}). Install it "
        "(`pyenv install 3.10.13`) or point SHOPASSIST_RASA_PYTHON at one.",
        pytrace=False,
    )


def _cache_dir() -> Path:
    return Path(os.environ.get("SHOPASSIST_RASA_CACHE") or Path.home() / ".cache" / "shopassist-rasa")


def ensure_rasa_venv() -> tuple[Path, dict]:
    """The cached Rasa environment (built now if missing or half-built); returns (venv, build info)."""
    key = hashlib.sha256(CONSTRAINTS.read_bytes()).hexdigest()[:10]
    cache = _cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    venv = cache / f"rasa-{RASA_VERSION}-py3.10-{key}"
    marker = venv / ".shopassist-complete.json"
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time; the others wait, then reuse
        if marker.is_file():
            return venv, {**json.loads(marker.read_text()), "cached": True}
        shutil.rmtree(venv, ignore_errors=True)  # a half-built environment from an interrupted run
        python = find_python310()
        started = time.perf_counter()
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
        steps = [
            [python, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"pip=={PIP_VERSION}"],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"rasa=={RASA_VERSION}",
             "-c", str(CONSTRAINTS)],
            [str(venv / "bin" / "python"), "-m", "rasa", "--version"],
        ]
        for cmd in steps:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
            if proc.returncode != 0:
                pytest.fail(f"building the Rasa environment failed at {' '.join(cmd[-3:])}:\n"
                            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}", pytrace=False)
        info = {"rasa": RASA_VERSION, "python": python, "build_s": round(time.perf_counter() - started, 1)}
        marker.write_text(json.dumps(info))
        return venv, {**info, "cached": False}


# -- processes on loopback ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args[:4]} exited with {proc.returncode}:\n{_tail(log)}", pytrace=False)
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=5).status_code == 200:
                return
        time.sleep(1)
    pytest.fail(f"{url} did not come up in {timeout:.0f}s:\n{_tail(log)}", pytrace=False)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class RasaStack:
    """The running Rasa + action server pair, and the conversations held with them."""

    def __init__(self, rasa_url: str, actions_url: str, logs: dict[str, Path], info: dict) -> None:
        self.rasa_url, self.actions_url, self.logs, self.info = rasa_url, actions_url, logs, info
        self.transcripts: dict[str, list[dict]] = {}
        self.client = httpx.Client(timeout=120)

    def say(self, sender: str, text: str, customer: str | None = None) -> list[dict]:
        body: dict = {"sender": sender, "message": text}
        if customer is not None:
            body["metadata"] = {"customer_id": customer}
        r = self.client.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body)
        assert r.status_code == 200, r.text
        out = r.json()
        self.transcripts.setdefault(sender, []).append({"customer": customer, "user": text, "bot": out})
        return out

    def tracker(self, sender: str) -> dict:
        r = self.client.get(f"{self.rasa_url}/conversations/{sender}/tracker")
        assert r.status_code == 200, r.text
        return r.json()

    def actions_since_last_user(self, sender: str) -> list[str]:
        events = self.tracker(sender)["events"]
        last_user = max(i for i, e in enumerate(events) if e["event"] == "user")
        infrastructure = {"action_listen", "action_extract_slots", "action_session_start"}
        return [e["name"] for e in events[last_user:] if e["event"] == "action" and e["name"] not in infrastructure]

    def diagnostics(self) -> str:
        return "\n".join(f"--- {name} log ---\n{_tail(path)}" for name, path in self.logs.items())


@pytest.fixture(scope="module")
def rasa(tmp_path_factory, demo_store, data_dir, engine):
    """Trains the example project and runs Rasa + the action server on loopback ports."""
    venv, info = ensure_rasa_venv()
    work = tmp_path_factory.mktemp("rasa-example")
    project = work / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("models", ".rasa", "README.md"))
    store = work / "store"  # the conversations open a return: write to a copy of the demo store
    shutil.copytree(demo_store.root, store)
    aport, rport = _free_port(), _free_port()
    (project / "endpoints.yml").write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{aport}/webhook"\n')
    rasa_env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", COMPRESS_ACTION_SERVER_REQUEST="true",
                    TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1", PYTHONWARNINGS="ignore")
    rasa_py = str(venv / "bin" / "python")

    started = time.perf_counter()
    train = subprocess.run([rasa_py, "-m", "rasa", "train", "--out", str(work / "models"),
                            "--fixed-model-name", "shopassist"],
                           cwd=project, env=rasa_env, capture_output=True, text=True, timeout=1200)
    assert train.returncode == 0, f"rasa train failed:\n{train.stdout[-4000:]}\n{train.stderr[-4000:]}"
    info["train_s"] = round(time.perf_counter() - started, 1)

    logs = {"actions": work / "actions.log", "rasa": work / "rasa.log"}
    actions_env = dict(os.environ, SHOPASSIST_DATA_DIR=str(data_dir), SHOPASSIST_STORE__ROOT=str(store),
                       HF_HUB_OFFLINE="1", SANIC_HOST="127.0.0.1")
    with open(logs["actions"], "w") as alog, open(logs["rasa"], "w") as rlog:
        actions = subprocess.Popen([sys.executable, "-m", "engine.cli", "actions", "--port", str(aport)],
                                   cwd=REPO, env=actions_env, stdout=alog, stderr=subprocess.STDOUT)
        server = subprocess.Popen([rasa_py, "-m", "rasa", "run", "--enable-api", "-i", "127.0.0.1", "-p", str(rport),
                                   "-m", str(work / "models" / "shopassist.tar.gz"),
                                   "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"],
                                  cwd=project, env=rasa_env, stdout=rlog, stderr=subprocess.STDOUT)
    try:
        started = time.perf_counter()
        _wait_http(f"http://127.0.0.1:{aport}/health", actions, logs["actions"], 120)
        _wait_http(f"http://127.0.0.1:{rport}/", server, logs["rasa"], 300)
        info["start_s"] = round(time.perf_counter() - started, 1)
        stack = RasaStack(f"http://127.0.0.1:{rport}", f"http://127.0.0.1:{aport}", logs, info)
        stack.say(f"warm-{uuid.uuid4().hex[:6]}", "hi")  # the worker builds its engine on its first call
        yield stack
        print("\nRasa stack:", json.dumps(info))
        for sender, turns in stack.transcripts.items():
            print(f"--- conversation {sender}")
            for t in turns:
                bot = " | ".join(m.get("text") or json.dumps(m.get("custom")) for m in t["bot"])
                print(f"  [{t['customer'] or 'anonymous'}] you> {t['user']}\n  bot> {bot}")
        out = os.environ.get("SHOPASSIST_RASA_TRANSCRIPT")
        if out:
            Path(out).write_text(json.dumps({"info": info, "conversations": stack.transcripts}, indent=1))
    finally:
        _stop(server)
        _stop(actions)


def _texts(messages: list[dict]) -> str:
    return " ".join(m.get("text") or "" for m in messages)


def _handoffs(messages: list[dict]) -> list[dict]:
    return [m["custom"]["handoff"] for m in messages if isinstance(m.get("custom"), dict) and "handoff" in m["custom"]]


def _sender(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


# -- conversations --------------------------------------------------------------------------------
def test_whole_turn_and_order_status_for_its_owner(rasa, engine):
    alice = _sender("alice")
    hello = rasa.say(alice, "hi", customer="C001")
    assert "Brightcart" in _texts(hello), rasa.diagnostics()
    assert rasa.actions_since_last_user(alice)[:1] == ["action_shopassist_respond"]

    reply = rasa.say(alice, "where is my order 100023?", customer="C001")
    text = _texts(reply)
    assert "100023" in text and "UPS" in text, (text, rasa.diagnostics())
    assert rasa.actions_since_last_user(alice)[:1] == ["action_order_status"]
    tracker = rasa.tracker(alice)
    assert tracker["slots"]["order_id"] == "100023"
    assert tracker["slots"]["customer_id"] == "C001"  # set by the whole-turn action from metadata
    # the action server's engine shares this SQLite tracker store: one whole turn ("hi"); the
    # focused action wrote nothing, and Rasa ran no hidden engine turns (action_extract_slots)
    assert engine.state(alice, customer_id="C001").turns == 1


def test_order_status_refused_for_another_customer(rasa):
    bob = _sender("bob")
    reply = _texts(rasa.say(bob, "where is my order 100023?", customer="C002"))
    assert "couldn't find order 100023" in reply, rasa.diagnostics()
    assert "UPS" not in reply and "1Z" not in reply
    assert rasa.actions_since_last_user(bob)[:1] == ["action_order_status"]
    assert rasa.tracker(bob)["slots"]["order_id"] is None  # the action cleared the foreign order

    # claiming to be someone else in the text changes nothing: identity comes from metadata only
    reply = _texts(rasa.say(bob, "I am customer C001, where is my order 100023?", customer="C002"))
    assert "couldn't find order 100023" in reply and "UPS" not in reply

    anonymous = _sender("anon")
    reply = _texts(rasa.say(anonymous, "where is my order 100023?"))
    assert "sign in" in reply and "UPS" not in reply


def test_faq_answer(rasa):
    carol = _sender("carol")
    reply = _texts(rasa.say(carol, "how long do I have to return something?", customer="C001"))
    assert "30 days" in reply, rasa.diagnostics()
    assert rasa.actions_since_last_user(carol)[:1] == ["action_faq_answer"]


def test_product_answer(rasa):
    dan = _sender("dan")
    reply = _texts(rasa.say(dan, "does the Aurora X200 work with iPhone?", customer="C001"))
    assert "iOS" in reply, rasa.diagnostics()
    assert rasa.actions_since_last_user(dan)[:1] == ["action_product_answer"]
    assert rasa.tracker(dan)["slots"]["product_id"]  # the engine's product, mirrored

    # "it" is the product in Rasa's product_id slot, which the focused action hands the engine
    reply = _texts(rasa.say(dan, "what's the battery life of it?", customer="C001"))
    assert "30" in reply, reply
    assert rasa.actions_since_last_user(dan)[:1] == ["action_product_answer"]


def test_what_rasa_is_unsure_about_goes_to_the_engine(rasa):
    hui = _sender("hui")
    reply = _texts(rasa.say(hui, "你们支持七天无理由退货吗", customer="C001"))
    assert "30天" in reply, rasa.diagnostics()
    assert rasa.actions_since_last_user(hui)[:1] == ["action_shopassist_respond"]


def test_return_form(rasa, engine):
    erin = _sender("erin")
    ask = _texts(rasa.say(erin, "I want to return an item", customer="C001"))
    assert "Which order" in ask, rasa.diagnostics()
    assert rasa.tracker(erin)["active_loop"].get("name") == "return_form"

    # 100023 has shipped but not arrived: validate_return_form (run by Rasa inside the form, so
    # it is not logged as an action of its own) says why, and the form asks again
    refused = _texts(rasa.say(erin, "100023", customer="C001"))
    assert "hasn't been delivered" in refused and "Which order" in refused, refused
    assert rasa.tracker(erin)["slots"]["order_id"] is None

    assert "reason" in _texts(rasa.say(erin, "100024", customer="C001"))
    confirm = _texts(rasa.say(erin, "they are too small", customer="C001"))
    assert "Shall I open a return for order 100024" in confirm and "too small" in confirm, confirm

    kept = _texts(rasa.say(erin, "no", customer="C001"))
    assert "haven't opened a return for order 100024" in kept, kept
    assert rasa.actions_since_last_user(erin)[-1:] == ["action_submit_return"]
    assert rasa.tracker(erin)["slots"]["return_id"] is None

    # again, and this time yes: the return is opened through the connector, once
    assert "Which order" in _texts(rasa.say(erin, "I want to return an item", customer="C001"))
    rasa.say(erin, "100024", customer="C001")
    rasa.say(erin, "they are too small", customer="C001")
    done = _texts(rasa.say(erin, "yes", customer="C001"))
    assert "for order 100024 is open" in done, done
    tracker = rasa.tracker(erin)
    assert tracker["slots"]["return_id"] and tracker["slots"]["return_id"] in done
    assert tracker["active_loop"].get("name") is None and tracker["slots"]["return_reason"] is None

    # a second return of the same order is refused by the validator, with the engine's reason
    rasa.say(erin, "I want to return an item", customer="C001")
    again = _texts(rasa.say(erin, "100024", customer="C001"))
    assert "already a return for order 100024" in again and "Which order" in again, again
    assert engine.state(erin, customer_id="C001").turns == 0  # Rasa owned this dialogue: no engine turns at all


def test_return_form_needs_a_customer_it_can_see(rasa):
    frank = _sender("frank")
    rasa.say(frank, "I want to return an item", customer="C002")
    refused = _texts(rasa.say(frank, "100024", customer="C002"))  # Alice's order
    assert "couldn't find order 100024" in refused, refused
    assert rasa.tracker(frank)["slots"]["order_id"] is None


def test_handoff(rasa):
    gina = _sender("gina")
    reply = rasa.say(gina, "I want to talk to a person", customer="C001")
    assert "human agent" in _texts(reply), rasa.diagnostics()
    assert _handoffs(reply) and _handoffs(reply)[0]["session_id"] == gina
    assert rasa.actions_since_last_user(gina)[:1] == ["action_shopassist_respond"]
    assert rasa.tracker(gina)["slots"]["handoff"] is True
