"""Hostile input through every front door: the Python API, ``shopassist chat`` piped, the action server.

Each input is one turn of its own conversation as C001, C002 or a guest; the reply a customer
would see must be a clear text with no traceback or exception in it, and the engine must keep
serving. Turn times are measured by ``benchmarks/adversarial.py`` (all 10,000), not asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import rasa_actions
from tests.adversarial.conftest import assert_safe_reply, assert_safe_text
from tests.adversarial.corpus import CORPUS, as_line, hostile_inputs
from tests.integration.test_rasa_protocol import DOMAIN, call, post, serve_actions, tracker

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:Your versions of rasa and rasa_sdk:UserWarning")]

CUSTOMERS = ["C001", "C002", None]


def test_the_corpus_covers_every_category_of_the_issue():
    assert {"empty", "huge", "binary", "control", "mixed_scripts", "emoji", "sql", "html", "template",
            "long_tokens"} <= set(CORPUS)
    assert sum(len(v) for v in CORPUS.values()) >= 100
    first = list(hostile_inputs(5000, seed=3))
    assert first == list(hostile_inputs(5000, seed=3))  # deterministic for a seed
    assert len({repr(t) for _, t in first}) > 4500


def test_generated_inputs_through_the_python_api(engine, adversarial_n):
    run = uuid.uuid4().hex[:6]
    for i, (category, text) in enumerate(hostile_inputs(adversarial_n, seed=11)):
        reply = engine.respond(f"adv-{run}-{i}", text, customer_id=CUSTOMERS[i % 3])
        assert_safe_reply(reply, text)
    # and the engine still answers a normal question afterwards
    assert "UPS" in engine.respond(f"adv-{run}-after", "where is my order 100023?", customer_id="C001").text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=2500), st.binary(max_size=2500),
                      st.text(alphabet=st.characters(codec=None, categories=("Cc", "Cf", "Cs", "Co", "Zs", "So")),
                              max_size=300)),
       customer=st.sampled_from(CUSTOMERS))
def test_any_text_or_bytes_through_the_python_api(engine, text, customer):
    reply = engine.respond(f"adv-hyp-{uuid.uuid4().hex[:10]}", text, customer_id=customer)
    assert_safe_reply(reply, text)


def test_a_conversation_survives_a_barrage_and_keeps_its_state(engine):
    """One conversation: an order in context, 25 hostile turns, and the context is still there."""
    session = f"adv-conv-{uuid.uuid4().hex[:6]}"
    assert "UPS" in engine.respond(session, "where is my order 100023?", customer_id="C001").text
    for _, text in hostile_inputs(25, seed=5):
        assert_safe_reply(engine.respond(session, text, customer_id="C001"), text)
    assert engine.state(session, customer_id="C001").turns == 26
    assert engine.state(session, customer_id="C001").slots.get("order_id") in ("100023", "100024", None)
    follow_up = engine.respond(session, "where is my order 100023?", customer_id="C001")
    assert "UPS" in follow_up.text and engine.state(session, customer_id="C001").turns == 27


# -- the CLI -----------------------------------------------------------------------------------------
def test_generated_inputs_piped_through_shopassist_chat(demo_store, data_dir, engine, tmp_path):
    inputs = [(c, t) for c, t in hostile_inputs(300, seed=21) if not as_line(t).lstrip().startswith(b"/")]
    config = tmp_path / "cli.yaml"
    config.write_text("dialogue:\n  max_turns_per_minute: null  # one session, 300 turns in a minute\n")
    env = dict(os.environ, SHOPASSIST_DATA_DIR=str(data_dir), SHOPASSIST_STORE__ROOT=str(demo_store.root),
               HF_HUB_OFFLINE="1")
    stdin = b"".join(as_line(t) for _, t in inputs)
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "chat", "--debug", "--customer", "C001",
                           "--config", str(config), "--session", f"adv-cli-{uuid.uuid4().hex[:6]}"],
                          input=stdin, capture_output=True, env=env, timeout=900)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err
    replies = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert len(replies) == len(inputs)
    for (_, sent), reply in zip(inputs, replies):
        assert_safe_text(reply["text"], sent, "cli")
        assert reply["route"] in {"template", "flow", "retrieval", "handoff", "fallback"}


# -- the action server -------------------------------------------------------------------------------
HOSTILE_CUSTOMERS = ["C001", "C002", None, "C001' OR '1'='1", "", "   ", "C002\x00", "../../etc/passwd", 12345,
                     {"$ne": None}, ["C001"], "C" * 500, "<script>", "C001\nC002"]
HOSTILE_SENDERS = ["", " ", None, 7, "s" * 5000, "\u202esender", "用户-😀", "a/../b", "x\x00y"]


@pytest.fixture(scope="module")
def action_server():
    with serve_actions() as url:
        yield url


def test_generated_inputs_through_the_action_server(action_server, engine):
    rasa_actions.use_engine(engine)
    answered = rejected = 0
    try:
        with httpx.Client(timeout=60) as client:
            for i, (_, text) in enumerate(hostile_inputs(300, seed=31)):
                sent = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
                customer = HOSTILE_CUSTOMERS[(i // 4) % len(HOSTILE_CUSTOMERS)] if i % 4 == 0 else CUSTOMERS[i % 3]
                sender = HOSTILE_SENDERS[i % len(HOSTILE_SENDERS)] if i % 5 == 0 else f"adv-rasa-{i}-{uuid.uuid4().hex[:6]}"
                body = call("action_shopassist_respond", tracker(sender, sent, customer=customer))
                raw = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
                r = client.post(f"{action_server}/webhook", content=raw, headers={"Content-Type": "application/json"})
                assert "Traceback" not in r.text and 'File "/' not in r.text, r.text[:500]
                if r.status_code == 400:  # a malformed sender or customer id is refused, never answered
                    rejected += 1
                    assert r.json().get("error"), r.text[:300]
                    continue
                assert r.status_code == 200, (r.status_code, r.text[:300])
                texts = [m["text"] for m in r.json()["responses"] if m.get("text")]
                assert texts, r.text[:300]
                for t in texts:
                    assert_safe_text(t, sent, "action server")
                answered += 1
        # the server still serves a normal turn
        r = post(action_server, call("action_shopassist_respond",
                                     tracker(f"adv-rasa-after-{uuid.uuid4().hex[:6]}", "where is my order 100023?",
                                             customer="C001"), domain=DOMAIN))
        assert r.status_code == 200 and "UPS" in r.json()["responses"][0]["text"]
    finally:
        rasa_actions.use_engine(None)
    assert answered > 200 and rejected > 0
