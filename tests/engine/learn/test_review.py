"""Review ranking: the most informative turns first; labels with who and when."""

from __future__ import annotations

import time

import pytest

from engine.learn.capture import turn_record
from engine.learn.review import group_turns, label_record, rank_for_review, reviewed_labels
from engine.state.stores import InMemoryTrackerStore


def _rec(store, session, turn, text, *, kind="user", intent="track_order", confidence=0.9, **kw) -> int:
    return store.add_feedback(turn_record(session, turn, kind=kind, text=text, intent=intent,
                                          confidence=confidence, route="flow", model_version="base", **kw))


@pytest.fixture
def store():
    s = InMemoryTrackerStore()
    _rec(s, "happy", 1, "thanks, found it", intent="thanks", confidence=0.95, rating=1)
    _rec(s, "unsure", 1, "uh the thing", kind="auto", intent="out_of_scope", confidence=0.12, reason="low_confidence")
    _rec(s, "wrong", 2, "money back for the shoes", intent="track_order", confidence=0.7, rating=-1,
         correction="refund_status")
    _rec(s, "meh", 1, "ok i guess", intent="affirm", confidence=0.8, rating=-1)
    _rec(s, "human", 3, "let me talk to someone", kind="auto", intent="human_agent", confidence=0.9,
         reason="handoff")
    return s


def test_negative_feedback_and_disagreement_rank_first_then_low_confidence(store):
    items = rank_for_review(store.feedback(), limit=10)
    assert [i.session_id for i in items] == ["wrong", "meh", "unsure", "human", "happy"]
    wrong = items[0]
    assert set(wrong.reasons) >= {"negative_feedback", "disagreement"}
    assert wrong.corrections == ("refund_status",)
    assert "low_confidence" in items[2].reasons and "handoff" in items[3].reasons
    assert "positive_feedback" in items[-1].reasons
    assert [i.session_id for i in rank_for_review(store.feedback(), limit=2)] == ["wrong", "meh"]


def test_records_of_one_turn_become_one_item(store):
    first = _rec(store, "unsure", 1, "uh the thing", intent="out_of_scope", confidence=0.12, rating=-1,
                 correction="track_order")
    [item] = [i for i in group_turns(store.feedback()) if i.session_id == "unsure"]
    assert item.id < first and first in item.record_ids and len(item.record_ids) == 2
    assert {"negative_feedback", "disagreement", "low_confidence"} <= set(item.reasons)


def test_labelled_turns_leave_the_queue_and_the_latest_label_wins(store):
    wrong = rank_for_review(store.feedback(), limit=1)[0]
    store.add_feedback(label_record(wrong, "track_order", author="ana"))
    store.add_feedback(label_record(wrong, "refund_status", author="bo"))
    assert "wrong" not in [i.session_id for i in rank_for_review(store.feedback())]
    [again] = [i for i in rank_for_review(store.feedback(), include_labelled=True) if i.session_id == "wrong"]
    assert again.label.intent == "refund_status" and again.label.author == "bo"
    assert time.time() - again.label.at < 60
    assert reviewed_labels(store.feedback()) == [("money back for the shoes", again.label)]


def test_old_turns_fall_out_of_the_window(store):
    cutoff = time.time() + 1
    assert rank_for_review(store.feedback(), since=cutoff) == []


def test_a_label_needs_an_intent_and_an_author(store):
    item = rank_for_review(store.feedback(), limit=1)[0]
    with pytest.raises(ValueError):
        label_record(item, " ", author="ana")
    with pytest.raises(ValueError):
        label_record(item, "greet", author="")
