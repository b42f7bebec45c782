"""Input limits: a size per turn and a number of turns per conversation per minute.

A turn over ``dialogue.max_turns_per_minute`` gets a clear "please slow down" reply and is neither
stored nor counted (the decision documented in ``configs/default.yaml``): a flood cannot grow the
event log, push real turns out of the history window or trigger the "stuck" hand-off. The turn
times live in the conversation's state, so every worker sharing a store enforces one limit.
These tests use the real engine turn path with stub NLU and router (no models).
"""

from __future__ import annotations

import time

import pytest

from engine.engine import Engine
from engine.errors import ConfigError
from engine.responses.templates import Templates
from engine.settings import DialogueSettings, Settings, load_settings
from engine.state.stores import InMemoryTrackerStore, SQLiteTrackerStore
from engine.state.tracker import DialogueState
from tests.engine.state.counting import CountingRouter, StubNLU


def limited_engine(store, per_minute: int | None = 3, max_chars: int = 2000) -> Engine:
    settings = Settings(dialogue=DialogueSettings(max_turns_per_minute=per_minute, max_message_chars=max_chars))
    return Engine(settings, nlu=StubNLU(), router=CountingRouter(), store=store, templates=Templates(store="Test"))


def test_turns_over_the_limit_get_a_clear_reply_and_are_not_stored():
    store = InMemoryTrackerStore()
    eng = limited_engine(store, per_minute=3)
    assert [eng.respond("s", f"hi {i}").text for i in range(3)] == ["count 1", "count 2", "count 3"]
    for i in range(50):  # a flood
        reply = eng.respond("s", f"flood {i}")
        assert reply.route == "fallback" and not reply.handoff
        assert "3 a minute" in reply.text and reply.trace["rate_limited"] is True
        assert reply.slots == {"count": 3}
    state = store.load("s")
    assert state.turns == 3 and state.slots["count"] == 3 and state.consecutive_fallbacks == 0
    assert len(store.events("s")) == 3 * 3  # user, slot, bot per committed turn; nothing of the flood


def test_the_limit_is_per_conversation_and_slides_with_the_clock(monkeypatch):
    store = InMemoryTrackerStore()
    eng = limited_engine(store, per_minute=2)
    eng.respond("a", "1")
    eng.respond("a", "2")
    assert eng.respond("a", "3").trace.get("rate_limited")
    assert eng.respond("b", "1").text == "count 1"  # another conversation is not affected
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert eng.respond("a", "4").text == "count 3"


def test_a_reset_does_not_reset_the_limit():
    store = InMemoryTrackerStore()
    eng = limited_engine(store, per_minute=2)
    eng.respond("s", "1")
    eng.respond("s", "2")
    eng.reset("s")
    assert eng.respond("s", "3").trace.get("rate_limited")


def test_workers_sharing_a_store_share_the_limit(tmp_path):
    """Two engines (as two worker processes would) on one SQLite store enforce one limit."""
    a = limited_engine(SQLiteTrackerStore(tmp_path / "t.db"), per_minute=4)
    b = limited_engine(SQLiteTrackerStore(tmp_path / "t.db"), per_minute=4)
    for i in range(4):
        (a if i % 2 else b).respond("s", str(i))
    assert a.respond("s", "x").trace.get("rate_limited") and b.respond("s", "y").trace.get("rate_limited")


def test_the_reply_speaks_the_customers_language():
    eng = limited_engine(InMemoryTrackerStore(), per_minute=1)
    eng.respond("s", "你好")
    assert "每分钟最多1条" in eng.respond("s", "我的订单在哪里").text


def test_no_limit_when_set_to_none():
    eng = limited_engine(InMemoryTrackerStore(), per_minute=None)
    assert [eng.respond("s", str(i)).text for i in range(40)][-1] == "count 40"


def test_the_state_remembers_only_the_last_minute():
    from engine.state.events import UserUttered

    now = time.time()
    s = DialogueState("s").apply_all([UserUttered("old", ts=now - 120), UserUttered("new", ts=now)])
    assert s.recent_turns == (now,) and s.turns_within(60, now) == 1
    assert DialogueState.from_dict(s.to_dict()).recent_turns == (now,)


def test_size_limit_still_applies_and_too_long_turns_count():
    store = InMemoryTrackerStore()
    eng = limited_engine(store, per_minute=2, max_chars=10)
    reply = eng.respond("s", "x" * 11)
    assert "limit is 10" in reply.text and reply.route == "fallback"
    eng.respond("s", "ok")
    assert eng.respond("s", "ok again").trace.get("rate_limited")


@pytest.mark.parametrize("value", ["0", "-1", "241", "lots"])
def test_invalid_limit_is_a_config_error_naming_the_field(tmp_path, value):
    path = tmp_path / "c.yaml"
    path.write_text(f"dialogue:\n  max_turns_per_minute: {value}\n")
    with pytest.raises(ConfigError, match="dialogue.max_turns_per_minute"):
        load_settings(path)


def test_null_in_yaml_turns_the_limit_off(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("dialogue:\n  max_turns_per_minute: null\n")
    assert load_settings(path).dialogue.max_turns_per_minute is None
    assert load_settings().dialogue.max_turns_per_minute == 30
