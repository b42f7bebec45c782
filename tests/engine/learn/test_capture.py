"""Capture through the real engine turn path: hand-offs and low-confidence turns are stored with
the turn's commit; customer feedback and chat commands name the turn and the model version."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from engine.cli import _command
from engine.engine import Engine
from engine.flows.base import Decision, Turn
from engine.responses.templates import Templates
from engine.settings import Settings
from engine.state.stores import SQLiteTrackerStore
from engine.types import Source
from tests.fakes import nlu

# text -> (intent, confidence, route, handoff reason)
SCRIPT = {
    "where is my order": ("track_order", 0.93, "flow", None),
    "hmm the thing": ("out_of_scope", 0.12, "fallback", None),
    "get me a human": ("human_agent", 0.91, "handoff", "customer asked"),
    "is it waterproof": ("product_question", 0.41, "retrieval", None),
}


class ScriptedNLU:
    def parse(self, text: str, trace: dict[str, Any] | None = None):
        intent, conf, _, _ = SCRIPT[text]
        result = nlu(text, intent, confidence=conf)
        return replace(result, intent=replace(result.intent, model="v0007"))


class ScriptedRouter:
    def route(self, turn: Turn) -> Decision:
        _, _, route, handoff = SCRIPT[turn.nlu.text]
        sources = [Source("faq-12", "faq", "Water resistance")] if route == "retrieval" else []
        return Decision(f"reply to {turn.nlu.text}", route, handoff_reason=handoff, sources=sources,
                        decided_by="test")

    def warm_up(self) -> None:
        pass


@pytest.fixture
def engine(tmp_path):
    store = SQLiteTrackerStore(tmp_path / "tracker.db")
    return Engine(Settings(), nlu=ScriptedNLU(), router=ScriptedRouter(), store=store,
                  templates=Templates(store="Test"))


def test_low_confidence_and_handoff_turns_are_captured_with_the_turn(engine):
    for text in SCRIPT:
        reply = engine.respond("s1", text)
        assert reply.trace["model_version"] == "v0007"
    records = engine.store.feedback("s1")
    assert [(r["turn"], r["kind"], r["reason"]) for r in records] == [
        (2, "auto", "low_confidence"), (3, "auto", "handoff"), (4, "auto", "low_confidence")]
    last = records[-1]
    assert (last["text"], last["intent"], last["confidence"], last["route"], last["sources"], last["model_version"]) \
        == ("is it waterproof", "product_question", 0.41, "retrieval", '["faq-12"]', "v0007")
    assert records[1]["comment"] == "customer asked"


def test_the_capture_threshold_and_handoff_switch_come_from_settings(tmp_path):
    settings = Settings(learn={"capture_below": 0.2, "capture_handoffs": False})
    eng = Engine(settings, nlu=ScriptedNLU(), router=ScriptedRouter(),
                 store=SQLiteTrackerStore(tmp_path / "t.db"), templates=Templates(store="Test"))
    for text in SCRIPT:
        eng.respond("s", text)
    assert [r["text"] for r in eng.store.feedback("s")] == ["hmm the thing"]


def test_customer_feedback_names_the_turn_and_the_model(engine):
    engine.respond("s2", "is it waterproof")
    rid = engine.feedback("s2", rating=-1, correction="product_question", comment="wrong answer")
    [record] = [r for r in engine.store.feedback("s2") if r["id"] == rid]
    assert (record["kind"], record["turn"], record["text"], record["intent"], record["confidence"],
            record["route"], record["sources"], record["model_version"], record["correction"]) == \
        ("user", 1, "is it waterproof", "product_question", 0.41, "retrieval", '["faq-12"]', "v0007",
         "product_question")


def test_chat_commands_store_feedback_including_handoff(engine):
    engine.respond("s3", "where is my order")
    state = {"debug": False}
    for line in ("/good", "/bad", "/correct refund_status", "/handoff I wanted a person"):
        assert _command(engine, "s3", line, state) == "(feedback saved, thank you)"
    records = engine.store.feedback("s3")
    assert [(r["rating"], r["correction"], r["reason"]) for r in records] == [
        (1, None, None), (-1, None, None), (-1, "refund_status", None), (-1, None, "handoff_requested")]
    assert records[-1]["comment"] == "I wanted a person" and {r["turn"] for r in records} == {1}
    with pytest.raises(ValueError):
        engine.feedback("s3")
