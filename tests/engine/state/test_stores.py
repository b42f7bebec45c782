"""engine/state/stores.py: one behavioural suite run against both tracker stores, then SQLite's
durability and recovery."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from engine.errors import StoreError
from engine.state.events import BotUttered, FlowStarted, SlotSet, UserUttered
from engine.state.stores import (
    InMemoryTrackerStore,
    SQLiteTrackerStore,
    TrackerStore,
    build_tracker_store,
)
from engine.state.tracker import DialogueState

TURN_1 = [UserUttered("where is my order?", intent="track_order"), FlowStarted("track_order"),
          BotUttered("Which order?", route="flow")]
TURN_2 = [UserUttered("100023", intent="out_of_scope"), SlotSet("order_id", "100023"),
          BotUttered("It shipped.", route="flow", sources=("100023",))]


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path) -> TrackerStore:
    if request.param == "memory":
        return InMemoryTrackerStore(window=5)
    return SQLiteTrackerStore(tmp_path / "tracker.db", window=5)


def test_satisfies_the_protocol(store):
    assert isinstance(store, TrackerStore)


def test_a_new_session_loads_empty(store):
    s = store.load("new")
    assert s == DialogueState("new", window=5)
    assert store.events("new") == []


def test_commit_then_load(store):
    s1 = store.commit(store.load("s"), TURN_1)
    assert s1.version == 3 and s1.active_flow == "track_order"
    assert store.load("s") == s1
    s2 = store.commit(store.load("s"), TURN_2)
    assert store.load("s") == s2
    assert s2.slots == {"order_id": "100023"} and s2.turns == 2 and s2.version == 6


def test_events_are_kept_in_order(store):
    store.commit(store.load("s"), TURN_1)
    store.commit(store.load("s"), TURN_2)
    assert store.events("s") == TURN_1 + TURN_2
    assert isinstance(store.events("s")[-1].sources, tuple)


def test_replaying_the_events_equals_the_snapshot(store):
    store.commit(store.load("s"), TURN_1)
    store.commit(store.load("s"), TURN_2)
    replayed = DialogueState("s", window=5).apply_all(store.events("s"))
    assert replayed == store.load("s")


def test_sessions_are_isolated(store):
    store.commit(store.load("a"), TURN_1)
    assert store.load("b") == DialogueState("b", window=5)
    assert store.events("b") == []


def test_stale_version_is_a_conflict_and_stores_nothing(store):
    base = store.load("s")
    store.commit(base, TURN_1)
    with pytest.raises(StoreError):
        store.commit(base, TURN_2)  # built on version 0, store is at 3
    assert store.events("s") == TURN_1
    assert store.load("s").version == 3 and "order_id" not in store.load("s").slots


def test_committing_no_events_keeps_the_state(store):
    s1 = store.commit(store.load("s"), TURN_1)
    assert store.commit(s1, []) == s1
    assert store.load("s") == s1


def test_feedback_add_and_list(store):
    first = store.add_feedback({"session_id": "a", "rating": -1, "correction": "track_order", "turn": 2})
    second = store.add_feedback({"session_id": "b", "rating": 1, "comment": "great"})
    assert first != second
    all_records = store.feedback()
    assert [r["session_id"] for r in all_records] == ["a", "b"]
    only_a = store.feedback("a")
    assert len(only_a) == 1
    assert only_a[0]["rating"] == -1 and only_a[0]["correction"] == "track_order" and only_a[0]["turn"] == 2
    assert store.feedback("nobody") == []


def test_concurrent_commits_on_one_version_let_exactly_one_win(store):
    base = store.load("s")
    results: list[str] = []

    def commit(i: int) -> None:
        try:
            store.commit(base, [UserUttered(f"writer {i}")])
            results.append("ok")
        except StoreError:
            results.append("conflict")

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 3 + ["ok"]
    assert len(store.events("s")) == 1 and store.load("s").version == 1


def test_window_is_validated(tmp_path):
    with pytest.raises(ValueError):
        InMemoryTrackerStore(window=0)
    with pytest.raises(ValueError):
        SQLiteTrackerStore(tmp_path / "t.db", window=0)


# -- SQLite only ---------------------------------------------------------------------------------


def test_sqlite_store_survives_reopening(tmp_path):
    path = tmp_path / "tracker.db"
    first = SQLiteTrackerStore(path, window=5)
    s = first.commit(first.load("s"), TURN_1)
    first.add_feedback({"session_id": "s", "rating": 1})
    reopened = SQLiteTrackerStore(path, window=5)
    assert reopened.load("s") == s
    assert reopened.events("s") == TURN_1
    assert [r["rating"] for r in reopened.feedback("s")] == [1]
    reopened.commit(reopened.load("s"), TURN_2)  # and carries on from the stored version
    assert len(SQLiteTrackerStore(path).events("s")) == 6


@pytest.mark.parametrize("garbage", ["{not json", "null", "{}", "[1, 2]"])
def test_sqlite_rebuilds_the_state_from_events_when_the_snapshot_is_corrupted(tmp_path, garbage):
    path = tmp_path / "tracker.db"
    store = SQLiteTrackerStore(path, window=5)
    store.commit(store.load("s"), TURN_1)
    expected = store.commit(store.load("s"), TURN_2)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE snapshots SET state = ? WHERE session_id = 's'", (garbage,))
    recovered = SQLiteTrackerStore(path, window=5).load("s")
    assert recovered == expected
    # and the next turn still commits on top of it
    SQLiteTrackerStore(path, window=5).commit(recovered, [UserUttered("thanks")])


def test_sqlite_commit_is_atomic_when_an_event_cannot_be_stored(tmp_path):
    store = SQLiteTrackerStore(tmp_path / "tracker.db")
    store.commit(store.load("s"), TURN_1)
    with sqlite3.connect(tmp_path / "tracker.db") as conn:  # make the 5th event's seq collide
        conn.execute("INSERT INTO events (session_id, seq, type, data, ts) VALUES ('s', 5, 'x', '{}', 0)")
    with pytest.raises(StoreError):
        store.commit(store.load("s"), TURN_2)
    assert store.load("s").version == 3  # the snapshot did not move


def test_sqlite_unopenable_path_is_a_store_error(tmp_path):
    (tmp_path / "adir").mkdir()
    with pytest.raises(StoreError):
        SQLiteTrackerStore(tmp_path / "adir")


def test_sqlite_file_that_is_not_a_database_is_a_store_error(tmp_path):
    bad = tmp_path / "tracker.db"
    bad.write_bytes(b"this is not a database" * 200)
    with pytest.raises(StoreError):
        SQLiteTrackerStore(bad)


def test_build_tracker_store(tmp_path):
    assert isinstance(build_tracker_store("memory", None, window=3), InMemoryTrackerStore)
    assert isinstance(build_tracker_store("sqlite", tmp_path / "t.db", window=3), SQLiteTrackerStore)
    with pytest.raises(ValueError):
        build_tracker_store("sqlite", None, window=3)
    with pytest.raises(ValueError):
        build_tracker_store("redis", None, window=3)


def test_sqlite_unreadable_event_log_is_a_store_error(tmp_path):
    """A damaged event row must surface as StoreError (which the engine maps to a reply), not
    as a raw JSONDecodeError escaping Engine.respond / Engine.feedback."""
    path = tmp_path / "tracker.db"
    store = SQLiteTrackerStore(path)
    store.commit(store.load("s"), TURN_1)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET data = '{truncated' WHERE session_id = 's' AND seq = 2")
        conn.execute("UPDATE snapshots SET state = 'garbage' WHERE session_id = 's'")
    with pytest.raises(StoreError):
        store.events("s")
    with pytest.raises(StoreError):
        store.load("s")
