"""engine/state/events.py and tracker.py: events round-trip, and what applying them means."""

from __future__ import annotations

import json

import pytest

from engine.state.events import (
    BotUttered,
    ConversationReset,
    Event,
    FlowCompleted,
    FlowStarted,
    HandoffRequested,
    SlotSet,
    UserUttered,
    event_from_dict,
)
from engine.state.tracker import DialogueState

ALL_EVENTS = [
    UserUttered("where is 100023?", intent="track_order", confidence=0.91, language="en", sentiment=-0.2),
    BotUttered("It shipped.", route="flow", intent="track_order", sources=("100023", "faq-1")),
    SlotSet("order_id", "100023"),
    SlotSet("prefs", {"size": 9, "colors": ["red"]}),
    SlotSet("order_id", None),
    FlowStarted("track_order"),
    FlowCompleted("track_order", outcome="cancelled"),
    HandoffRequested("customer asked for a human agent", summary="intent=human_agent"),
    ConversationReset(),
]


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: e.type)
def test_event_round_trips_through_dict_and_json(event):
    data = event.to_dict()
    assert data["type"] == event.type
    assert event_from_dict(data) == event
    again = event_from_dict(json.loads(json.dumps(data)))  # as a store keeps it
    assert again == event and type(again) is type(event)
    assert again.ts == event.ts


def test_event_types_are_distinct():
    types = [type(e).type for e in ALL_EVENTS]
    assert len(set(types)) == len({type(e) for e in ALL_EVENTS})


def test_unknown_event_type_is_rejected():
    with pytest.raises(ValueError):
        event_from_dict({"type": "teleport"})
    with pytest.raises(ValueError):
        event_from_dict({})


def test_unknown_fields_are_ignored_for_forward_compatibility():
    e = event_from_dict({"type": "slot", "name": "x", "value": 1, "added_later": True})
    assert e == SlotSet("x", 1)


def test_events_are_frozen():
    with pytest.raises(Exception):
        SlotSet("a", 1).value = 2  # type: ignore[misc]
    assert isinstance(SlotSet("a", 1), Event)


# -- DialogueState.apply -------------------------------------------------------------------------


def test_slots_are_set_overwritten_and_cleared_by_none():
    s = DialogueState("s").apply_all([SlotSet("order_id", "100023"), SlotSet("product_id", "P1")])
    assert s.slots == {"order_id": "100023", "product_id": "P1"}
    s = s.apply(SlotSet("order_id", "100024"))
    assert s.slots["order_id"] == "100024"
    s = s.apply(SlotSet("order_id", None))
    assert s.slots == {"product_id": "P1"}


def test_apply_returns_a_new_state_and_leaves_the_old_one_alone():
    s0 = DialogueState("s")
    s1 = s0.apply(SlotSet("order_id", "100023"))
    assert s0.slots == {} and s0.version == 0
    assert s1.slots == {"order_id": "100023"} and s1.version == 1


def test_flows_start_and_complete():
    s = DialogueState("s").apply(FlowStarted("return_item"))
    assert s.active_flow == "return_item"
    s = s.apply(FlowStarted("track_order"))
    assert s.active_flow == "track_order"
    s = s.apply(FlowCompleted("track_order", outcome="done"))
    assert s.active_flow is None


def test_handoff_ends_the_flow_and_resets_fallbacks():
    s = DialogueState("s").apply_all([FlowStarted("cancel_order"), BotUttered("?", route="fallback")])
    assert s.consecutive_fallbacks == 1
    s = s.apply(HandoffRequested("stuck"))
    assert s.handed_off is True and s.active_flow is None and s.consecutive_fallbacks == 0


def test_reset_clears_everything_but_keeps_counting_versions():
    s = DialogueState("s", window=3).apply_all([
        UserUttered("hi"), SlotSet("order_id", "100023"), FlowStarted("track_order"), HandoffRequested("x"),
    ])
    r = s.apply(ConversationReset())
    assert r == DialogueState("s", window=3, version=s.version + 1)


def test_turns_count_user_utterances_and_history_keeps_both_speakers():
    s = DialogueState("s").apply_all([UserUttered("hi"), BotUttered("hello"), UserUttered("where is it")])
    assert s.turns == 2
    assert s.history == (("user", "hi"), ("bot", "hello"), ("user", "where is it"))


def test_history_is_bounded_by_the_window():
    s = DialogueState("s", window=2)
    for i in range(10):
        s = s.apply_all([UserUttered(f"u{i}"), BotUttered(f"b{i}")])
    assert s.history == (("user", "u8"), ("bot", "b8"), ("user", "u9"), ("bot", "b9"))
    assert s.turns == 10 and s.version == 20


def test_history_truncates_very_long_texts():
    s = DialogueState("s").apply(UserUttered("x" * 5000))
    assert len(s.history[0][1]) == 500


def test_consecutive_fallbacks_count_and_reset_on_any_other_reply():
    s = DialogueState("s")
    s = s.apply_all([UserUttered("?"), BotUttered("sorry", route="fallback")])
    s = s.apply_all([UserUttered("??"), BotUttered("sorry", route="fallback")])
    assert s.consecutive_fallbacks == 2
    s = s.apply_all([UserUttered("hi"), BotUttered("hello", route="template")])
    assert s.consecutive_fallbacks == 0


def test_user_turns_do_not_reset_the_fallback_count():
    s = DialogueState("s").apply_all([BotUttered("sorry", route="fallback"), UserUttered("hmm"),
                                      SlotSet("x", 1)])
    assert s.consecutive_fallbacks == 1


def test_state_round_trips_through_dict_and_json():
    s = DialogueState("s", window=4).apply_all([
        UserUttered("hi"), BotUttered("hello", route="fallback"), SlotSet("order_id", "100023"),
        FlowStarted("track_order"), HandoffRequested("x"), FlowStarted("return_item"),
    ])
    assert DialogueState.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_replaying_the_event_log_rebuilds_the_state():
    events = ALL_EVENTS[:-1] + [UserUttered("again"), SlotSet("product_id", "P1")]
    s = DialogueState("s").apply_all(events)
    replayed = DialogueState("s").apply_all([event_from_dict(e.to_dict()) for e in events])
    assert replayed == s and s.version == len(events)
