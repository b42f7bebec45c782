"""A worked learning run through the CLI on a fresh demo store, with a running engine hot-reloading.

Feedback is recorded by ``shopassist chat`` (piped) → ``learn review`` → ``learn label`` →
``learn retrain`` (compare, promote or reject, report) → the engine that was running all along
classifies its next turn with the promoted version, as does the Rasa action server's path →
``learn rollback`` → the next turn is back on the previous version. Turns running on other threads
while versions change are all answered. Fast path: the hash embedder (the learning machinery is
what is under test, not the model).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from engine.cli import main
from engine.state.events import UserUttered

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROBE = "my parcel never came, this is a joke"
CHAT = [
    "hi",
    PROBE, "/bad",
    "yo gimme my cash back for the kettle", "/correct refund_status",
    "I want a person", "/handoff",
    "asdf qwer zxcv",
]


@pytest.fixture
def setup(tmp_path, demo_store, monkeypatch):
    env = {
        "SHOPASSIST_DATA_DIR": str(tmp_path / "data"),
        "SHOPASSIST_STORE__ROOT": str(demo_store.root),
        "SHOPASSIST_EMBEDDER__MODEL": "hash",
        "SHOPASSIST_NLU__EMBEDDER": "default",
        "SHOPASSIST_RETRIEVAL__ZH_EMBEDDER": "default",
        "SHOPASSIST_LEARN__RELOAD_INTERVAL_S": "0",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)  # the in-process `shopassist learn` commands and the engine
    from engine import Engine

    engine = Engine.from_config()
    engine.warm_up()
    return engine, env, tmp_path


def _chat(env: dict) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "chat", "--customer", "C001", "--session", "fb-1"],
                          input=("\n".join(CHAT) + "\n").encode(), capture_output=True, timeout=300,
                          env=dict(os.environ, HF_HUB_OFFLINE="1", **env))
    assert proc.returncode == 0, proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()
    return proc.stdout.decode().splitlines()


def _model_of_last_turn(engine, session: str) -> str:
    users = [e for e in engine.store.events(session) if isinstance(e, UserUttered)]
    return users[-1].model


def test_feedback_review_label_retrain_promote_hot_reload_rollback(setup, capsys):
    engine, env, tmp = setup
    before = engine.respond("probe", PROBE)
    assert before.trace["model_version"] == "base"

    # 1. capture: customer feedback via chat commands, hand-offs and low confidence automatically
    lines = _chat(env)
    assert lines.count("(feedback saved, thank you)") == 3
    records = engine.store.feedback("fb-1")
    kinds = {(r["kind"], r["reason"]) for r in records}
    assert ("user", "handoff_requested") in kinds and ("auto", "handoff") in kinds
    assert ("auto", "low_confidence") in kinds
    assert all(r["model_version"] == "base" and r["text"] for r in records)

    # 2. review: most informative first, as JSON for scripts
    capsys.readouterr()
    assert main(["learn", "review", "--json", "-"]) == 0
    items = json.loads(capsys.readouterr().out)
    texts = [i["text"] for i in items]
    assert PROBE in texts and "asdf qwer zxcv" in texts
    assert "negative_feedback" in items[0]["reasons"]
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    by_text = {i["text"]: i for i in items}

    # 3. label, with who
    assert main(["learn", "label", str(by_text[PROBE]["id"]), "track_order", "--by", "tester"]) == 0
    kettle = by_text["yo gimme my cash back for the kettle"]
    assert main(["learn", "label", str(kettle["id"]), "refund_status", "--by", "tester"]) == 0
    assert main(["learn", "label", str(kettle["id"]), "no_such_intent"]) == 1
    capsys.readouterr()
    assert main(["learn", "review", "--json", "-"]) == 0
    assert PROBE not in [i["text"] for i in json.loads(capsys.readouterr().out)]

    # 4. retrain: compare on the fixed held-out split, promote only if not worse, report
    decision_path = tmp / "decision.json"
    rc = main(["learn", "retrain", "--json", str(decision_path), "--by", "tester"])
    d = json.loads(decision_path.read_text())
    assert rc == (0 if d["promoted"] else 3)  # a retrain that does not promote exits non-zero
    cur, cand = d["current"], d["candidate"]
    assert cur["version"] == "base" and d["data"]["labels_used"] == 2
    assert d["data"]["trained_on"] == d["data"]["base"] + 2  # the promoted model learns from everything
    assert os.path.exists(d["report"]) and os.path.exists(d["chart"])
    if not d["promoted"]:  # rejected: nothing changed for the running engine; then force one
        assert engine.respond("probe", PROBE).trace["model_version"] == "base"
        assert main(["learn", "retrain", "--tolerance", "1", "--json", str(decision_path)]) == 0
        d = json.loads(decision_path.read_text())
        assert d["promoted"]
    promoted = d["candidate_version"]

    # 5. hot reload: the engine that ran all along answers its next turn with the new version
    after = engine.respond("probe", PROBE)
    assert after.trace["model_version"] == promoted
    # retrain trained the version's fast-stage head too, so it serves two-stage like base did
    assert after.trace["intent_stage"] in {"fast", "full"}
    assert "fast_stage" in json.loads((tmp / "data" / "learn" / "registry" / "versions" / promoted / "card.json")
                                      .read_text())
    assert _model_of_last_turn(engine, "probe") == promoted
    from engine import rasa_actions
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    rasa_actions.use_engine(engine)
    try:
        track = Tracker.from_dict({"sender_id": "rasa-1", "slots": {}, "events": [], "active_loop": {},
                                   "latest_message": {"text": PROBE, "intent": {}, "entities": [], "metadata": {}}})
        asyncio.run(rasa_actions.ActionShopassistRespond().run(CollectingDispatcher(), track, {}))
    finally:
        rasa_actions.use_engine(None)
    assert _model_of_last_turn(engine, "rasa-1") == promoted

    # 6. rollback: the next turn is back on the previous version
    assert main(["learn", "rollback", "--by", "tester"]) == 0
    assert engine.respond("probe", PROBE).trace["model_version"] == "base"
    assert main(["learn", "versions"]) == 0
    assert promoted in capsys.readouterr().out


def test_turns_in_flight_while_versions_change_are_all_answered(setup):
    engine, _, _ = setup
    from engine.learn.registry import ModelRegistry
    from engine.learn.retrain import retrain
    from engine.learn.review import group_turns, label_record
    from engine.nlu.intent import load_intent_examples
    from engine.settings import load_settings

    settings = load_settings()
    reg = ModelRegistry(settings.resolved_registry_dir)
    engine.respond("seed", PROBE)
    engine.feedback("seed", rating=-1)
    [item] = group_turns(engine.store.feedback("seed"))
    engine.store.add_feedback(label_record(item, "track_order", author="tester"))
    version = retrain(engine.nlu.classifier.embedder, load_intent_examples(), engine.store.feedback(), reg,
                      nlu=settings.nlu, tolerance=1.0, author="tester").candidate_version
    replies, stop = [], threading.Event()

    def talk(n: int) -> None:
        i = 0
        while not stop.is_set():
            replies.append(engine.respond(f"busy-{n}-{i}", "where is my order 100023?", customer_id="C001"))
            i += 1

    threads = [threading.Thread(target=talk, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for _ in range(5):
        time.sleep(0.05)
        reg.rollback()
        time.sleep(0.05)
        reg.promote(version)
    stop.set()
    for t in threads:
        t.join(60)
    assert replies and all("error" not in r.trace for r in replies)
    assert {r.trace["model_version"] for r in replies} <= {"base", version}
    assert all(r.route == "flow" and "100023" in r.text for r in replies)
