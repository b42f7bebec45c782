"""`shopassist learn` commands that need no model: review (listing, JSON, interactive), label,
rollback and versions, against a real SQLite tracker store and registry folder."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from engine.learn.capture import turn_record
from engine.state.stores import SQLiteTrackerStore


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPASSIST_DATA_DIR", str(tmp_path))
    s = SQLiteTrackerStore(tmp_path / "tracker.db")
    s.add_feedback(turn_record("a", 1, kind="user", text="money back for the shoes", intent="track_order",
                               confidence=0.7, route="flow", rating=-1, correction="refund_status"))
    s.add_feedback(turn_record("b", 1, kind="auto", text="uh the thing", intent="out_of_scope",
                               confidence=0.1, route="fallback", reason="low_confidence"))
    s.add_feedback(turn_record("c", 2, kind="auto", text="a person please", intent="human_agent",
                               confidence=0.9, route="handoff", reason="handoff"))
    return s


def test_review_lists_the_queue_and_writes_json(store, tmp_path, capsys):
    assert main(["learn", "review", "--json", str(tmp_path / "q.json")]) == 0
    out = capsys.readouterr().out
    assert out.index("money back") < out.index("uh the thing") < out.index("a person please")
    assert "3 turn(s) to review" in out
    items = json.loads((tmp_path / "q.json").read_text())
    assert [i["session_id"] for i in items] == ["a", "b", "c"]


def test_interactive_review_stores_labels_with_the_reviewer(store, monkeypatch, capsys):
    answers = iter(["=", "not_an_intent", "q"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    assert main(["learn", "review", "--interactive", "--by", "ana"]) == 0
    out = capsys.readouterr().out
    assert "not saved: unknown intent 'not_an_intent'" in out and "1 label(s) saved" in out
    [label] = [r for r in store.feedback() if r["kind"] == "label"]
    assert (label["correction"], label["author"], label["session_id"], label["ref"]) == ("refund_status", "ana", "a", 1)
    assert label["created_at"] > 0


def test_label_checks_the_turn_and_the_intent(store, capsys):
    assert main(["learn", "label", "2", "track_order", "--by", "bo"]) == 0
    assert "labelled track_order by bo" in capsys.readouterr().out
    assert main(["learn", "label", "99", "track_order"]) == 1
    assert "no reviewable turn" in capsys.readouterr().err
    assert main(["learn", "label", "1", "teleport"]) == 1
    assert "unknown intent" in capsys.readouterr().err
    assert main(["learn", "review", "--json", "-"]) == 0
    assert "uh the thing" not in capsys.readouterr().out  # labelled turns leave the queue


def test_rollback_without_a_promotion_fails_clearly_and_versions_lists_none(store, capsys):
    assert main(["learn", "rollback"]) == 1
    assert "nothing to roll back" in capsys.readouterr().err
    assert main(["learn", "versions"]) == 0
    assert "serving: base" in capsys.readouterr().out
