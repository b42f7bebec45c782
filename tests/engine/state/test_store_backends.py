"""One behavioural suite over every tracker store: memory, SQLite, PostgreSQL and Redis.

Commit/load/events/replay, version conflicts that store nothing, feedback, retention (by count and
by age) with the snapshot keeping the state, durability across reopening, loading a 10,000-event
session without reading its log, concurrent turns (threads; processes sharing the Redis lock), and
a store that goes down (a TCP proxy cut in front of the real server).
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import threading
import time
import uuid
from contextlib import contextmanager

import pytest

from engine.errors import ConfigError, StoreError
from engine.state.events import BotUttered, FlowStarted, SlotSet, UserUttered
from engine.state.retention import Retention
from engine.state.stores import InMemoryTrackerStore, TrackerStore, build_tracker_store
from engine.state.tracker import DialogueState
from tests.engine.state.conftest import TcpProxy, closed_port, host_port, make_harness, proxied_url
from tests.engine.state.counting import counting_engine, worker

TURN_1 = [UserUttered("where is my order?", intent="track_order"), FlowStarted("track_order"),
          BotUttered("Which order?", route="flow")]
TURN_2 = [UserUttered("100023", intent="out_of_scope"), SlotSet("order_id", "100023"),
          BotUttered("It shipped.", route="flow", sources=("100023",))]


def turn(i: int, **ts) -> list:
    return [UserUttered(f"message {i}", **ts), SlotSet("n", i, **ts), BotUttered(f"reply {i}", **ts)]


def durable_only(backend) -> None:
    if not backend.durable:
        pytest.skip("the in-memory store has nothing to reopen or damage")


# -- the contract ----------------------------------------------------------------------------------


def test_satisfies_the_protocol(backend):
    assert isinstance(backend.make(), TrackerStore)


def test_a_new_session_loads_empty(backend):
    store = backend.make()
    assert store.load("new") == DialogueState("new", window=5)
    assert store.events("new") == []
    assert store.events("new", last=3) == []


def test_commit_then_load_and_events_in_order(backend):
    store = backend.make()
    s1 = store.commit(store.load("s"), TURN_1)
    assert s1.version == 3 and s1.active_flow == "track_order"
    assert store.load("s") == s1
    s2 = store.commit(store.load("s"), TURN_2)
    assert store.load("s") == s2
    assert s2.slots == {"order_id": "100023"} and s2.turns == 2 and s2.version == 6
    assert store.events("s") == TURN_1 + TURN_2
    assert isinstance(store.events("s")[-1].sources, tuple)
    assert store.events("s", last=2) == TURN_2[1:]
    assert store.events("s", last=100) == TURN_1 + TURN_2
    with pytest.raises(ValueError):
        store.events("s", last=0)


def test_replaying_the_events_equals_the_snapshot(backend):
    store = backend.make()
    for i in range(4):
        store.commit(store.load("s"), turn(i))
    assert DialogueState("s", window=5).apply_all(store.events("s")) == store.load("s")


def test_sessions_are_isolated(backend):
    store = backend.make()
    store.commit(store.load("a"), TURN_1)
    store.commit(store.load("a{b}"), TURN_2)  # braces: Redis hash tags must not mix sessions
    assert store.load("b") == DialogueState("b", window=5)
    assert store.events("b") == []
    assert store.events("a") == TURN_1 and store.events("a{b}") == TURN_2


def test_stale_version_is_a_conflict_and_stores_nothing(backend):
    store = backend.make()
    base = store.load("s")
    store.commit(base, TURN_1)
    with pytest.raises(StoreError, match="concurrently"):
        store.commit(base, TURN_2)  # built on version 0, the store is at 3
    assert store.events("s") == TURN_1
    assert store.load("s").version == 3 and "order_id" not in store.load("s").slots
    ahead = DialogueState("s", window=5, version=7)  # a version the store never had
    with pytest.raises(StoreError):
        store.commit(ahead, TURN_2)
    assert store.events("s") == TURN_1


def test_committing_no_events_keeps_the_state_and_still_checks_the_version(backend):
    store = backend.make()
    s1 = store.commit(store.load("s"), TURN_1)
    assert store.commit(s1, []) == s1
    assert store.load("s") == s1
    with pytest.raises(StoreError):
        store.commit(DialogueState("s", window=5), [])


def test_concurrent_commits_on_one_version_let_exactly_one_win(backend):
    store = backend.make()
    store.commit(store.load("s"), TURN_1)
    for base in (store.load("fresh"), store.load("s")):  # a new session and an existing one
        results: list[str] = []

        def commit(i: int, base=base) -> None:
            try:
                store.commit(base, [UserUttered(f"writer {i}")])
                results.append("ok")
            except StoreError:
                results.append("conflict")

        threads = [threading.Thread(target=commit, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["conflict"] * 5 + ["ok"]
        assert store.load(base.session_id).version == base.version + 1
        assert len(store.events(base.session_id)) == base.version + 1


def test_feedback_add_list_and_keep_across_reopening(backend):
    store = backend.make()
    first = store.add_feedback({"session_id": "a", "rating": -1, "correction": "track_order", "turn": 2,
                                "text": "wo ist 订单", "confidence": 0.25})
    second = store.add_feedback({"session_id": "b", "rating": 1, "comment": "great"})
    assert second > first
    records = store.feedback()
    assert [r["session_id"] for r in records] == ["a", "b"]
    a = store.feedback("a")
    assert len(a) == 1 and a[0]["id"] == first
    assert (a[0]["rating"], a[0]["correction"], a[0]["turn"], a[0]["text"], a[0]["confidence"]) == \
        (-1, "track_order", 2, "wo ist 订单", 0.25)
    assert a[0]["created_at"] > 0
    assert store.feedback("nobody") == []
    if backend.durable:
        assert backend.make().feedback() == records


def test_durable_across_reopening(backend):
    durable_only(backend)
    first = backend.make()
    s = first.commit(first.load("s"), TURN_1)
    reopened = backend.make()
    assert reopened.load("s") == s
    assert reopened.events("s") == TURN_1
    reopened.commit(reopened.load("s"), TURN_2)  # and carries on from the stored version
    assert backend.make().events("s") == TURN_1 + TURN_2
    with pytest.raises(StoreError):
        first.commit(s, [UserUttered("stale")])  # the first handle's state is now stale


@pytest.mark.parametrize("garbage", ["{not json", "null", "{}", "[1, 2]"])
def test_an_unreadable_snapshot_is_rebuilt_from_the_log(backend, garbage):
    durable_only(backend)
    store = backend.make()
    store.commit(store.load("s"), TURN_1)
    expected = store.commit(store.load("s"), TURN_2)
    backend.set_snapshot_field("s", "state", garbage)
    recovered = backend.make().load("s")
    assert recovered == expected
    backend.make().commit(recovered, [UserUttered("thanks")])  # the next turn still commits on it
    assert backend.make().load("s").version == 7


# -- retention ---------------------------------------------------------------------------------------


def _reference(turns: list[list]) -> DialogueState:
    ref = InMemoryTrackerStore(window=5)
    for events in turns:
        ref.commit(ref.load("s"), events)
    return ref.load("s")


def test_retention_by_count_keeps_the_newest_events_and_the_whole_state(backend):
    store = backend.make(retention=Retention(max_events=6))
    turns = [turn(i) for i in range(10)]
    store.commit(store.load("s"), [SlotSet("customer", "C001")])  # set once, long pruned later
    for events in turns:
        store.commit(store.load("s"), events)
    everything = [[SlotSet("customer", "C001")]] + turns
    assert store.events("s") == turns[-2] + turns[-1]  # exactly the newest 6 events
    state = store.load("s")
    assert state == _reference(everything)
    assert state.slots == {"customer": "C001", "n": 9} and state.version == 31 and state.turns == 10
    if backend.durable:  # the snapshot is unreadable: checkpoint + the events after it rebuild it
        backend.set_snapshot_field("s", "state", "{broken")
        assert backend.make(retention=Retention(max_events=6)).load("s") == state


def test_retention_never_prunes_the_latest_turn(backend):
    store = backend.make(retention=Retention(max_events=1))
    store.commit(store.load("s"), turn(0))
    store.commit(store.load("s"), turn(1))
    assert store.events("s") == turn(1)  # 3 events kept although the limit says 1
    assert store.load("s").slots == {"n": 1}


def test_retention_by_age_drops_old_events_when_the_session_commits(backend):
    day = 86_400
    store = backend.make(retention=Retention(max_age_days=30))
    old, older, new = turn(0, ts=time.time() - 40 * day), turn(1, ts=time.time() - 35 * day), turn(2)
    for events in (old, older, new):
        store.commit(store.load("s"), events)
    assert store.events("s") == new
    assert store.load("s") == _reference([old, older, new])
    assert store.load("s").slots == {"n": 2}


def test_without_retention_the_full_log_is_kept(backend):
    store = backend.make()
    for i in range(30):
        store.commit(store.load("s"), turn(i))
    assert len(store.events("s")) == 90


def test_snapshot_and_checkpoint_both_unreadable_after_pruning_is_a_best_effort_rebuild(backend):
    durable_only(backend)
    store = backend.make(retention=Retention(max_events=4))
    for i in range(5):
        store.commit(store.load("s"), turn(i))
    backend.set_snapshot_field("s", "state", "garbage")
    backend.set_snapshot_field("s", "checkpoint", "garbage")
    rebuilt = backend.make(retention=Retention(max_events=4)).load("s")
    assert rebuilt.slots == {"n": 4} and rebuilt.version == 15  # recent slots survive, numbering fits
    nxt = backend.make(retention=Retention(max_events=4)).commit(rebuilt, turn(5))
    assert nxt.version == 18


def test_engine_feedback_is_stored_with_the_latest_turn(backend):
    store = backend.make(retention=Retention(max_events=50))
    engine = counting_engine(store)
    for i in range(40):  # 120 events: the latest turn is found from the log's tail
        engine.respond("fb", f"turn {i}")
    record_id = engine.feedback("fb", rating=-1, correction="track_order")
    reread = backend.make() if backend.durable else store
    [record] = [r for r in reread.feedback("fb") if r["id"] == record_id]
    assert (record["turn"], record["text"], record["route"], record["rating"], record["correction"]) == \
        (40, "turn 39", "template", -1, "track_order")


# -- the fast path -----------------------------------------------------------------------------------


def _median_ms(fn, n: int = 40) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def test_a_10k_event_session_loads_from_its_snapshot_as_fast_as_a_short_one(backend):
    store = backend.make()
    long_state = store.load("long")
    for b in range(100):  # 10,000 events in 100 commits of 100
        long_state = store.commit(long_state, [SlotSet("n", b * 100 + i) for i in range(99)]
                                  + [UserUttered(f"turn {b}")])
    short = store.commit(store.load("short"), turn(0))
    with backend.log_reads(store) as reads:
        assert store.load("long") == long_state
        assert store.load("short") == short
    assert reads == [], f"load read the event log: {reads}"
    assert long_state.version == 10_000 and len(store.events("long", last=10)) == 10
    short_ms = _median_ms(lambda: store.load("short"))
    long_ms = _median_ms(lambda: store.load("long"))
    print(f"\n[{backend.kind}] load p50: short session {short_ms:.3f} ms, 10,000-event session {long_ms:.3f} ms")
    assert long_ms < 3 * short_ms + 2.0  # same snapshot size: no growth with the log


# -- concurrent turns through the engine -----------------------------------------------------------


class NoLocks:
    """No lock at all: only the store's version check stands between two turns."""

    @contextmanager
    def hold(self, session_id: str, timeout_s: float = 30.0):
        yield


def _threads(engine, session: str, n_threads: int, turns: int) -> tuple[int, int]:
    results: list[str] = []
    guard = threading.Lock()
    barrier = threading.Barrier(n_threads)

    def run() -> None:
        barrier.wait()
        for i in range(turns):
            reply = engine.respond(session, f"increment {i}")
            with guard:
                results.append(reply.route)
    threads = [threading.Thread(target=run) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ok = sum(r != "handoff" for r in results)
    return ok, len(results) - ok


def test_concurrent_turns_in_threads_are_never_lost(backend):
    store = backend.make()
    engine = counting_engine(store, think_s=0.001)  # the engine's default, in-process locks
    ok, refused = _threads(engine, "busy", 4, 25)
    state = store.load("busy")
    print(f"\n[{backend.kind}] 4 threads x 25 turns, session lock: {ok} answered, {refused} refused, "
          f"count={state.slots.get('count')}, turns={state.turns}")
    assert (ok, refused) == (100, 0)
    assert state.slots["count"] == 100 and state.turns == 100
    assert len(store.events("busy")) == 300


def test_without_a_lock_the_version_check_still_loses_no_turn(backend):
    store = backend.make()
    engine = counting_engine(store, NoLocks(), think_s=0.002)
    ok, refused = _threads(engine, "racy", 4, 25)
    state = store.load("racy")
    print(f"\n[{backend.kind}] 4 threads x 25 turns, no lock: {ok} committed, {refused} refused "
          f"(conflict reply), count={state.slots.get('count')}")
    assert ok + refused == 100
    assert state.slots["count"] == ok == state.turns  # every committed turn counted, none merged over
    assert len(store.events("racy")) == 3 * ok


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "redis"])
@pytest.mark.parametrize("shared_lock", [True, False], ids=["redis-lock", "no-shared-lock"])
def test_concurrent_turns_in_processes(request, tmp_path, kind, shared_lock):
    """4 worker processes x 25 turns on one conversation; with the Redis lock all 100 land."""
    redis_url = request.getfixturevalue("redis_url") if shared_lock else None
    harness = make_harness(request, kind, tmp_path)
    harness.make()  # creates the schema once, before the workers race to
    where = {"sqlite": str(harness.path), "postgres": harness.url, "redis": harness.url}[kind]
    prefix = harness.prefix or f"test-{uuid.uuid4().hex[:12]}:"
    session = f"proc-{uuid.uuid4().hex[:8]}"
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 3.0
    procs = [ctx.Process(target=worker, args=(kind, where, prefix, redis_url, session, 25, 0.002,
                                              start_at, out))
             for _ in range(4)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    try:
        results = [out.get(timeout=120) for _ in procs]
    finally:
        for p in procs:
            p.join(30)
    elapsed = time.perf_counter() - started
    ok = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    state = harness.make().load(session)
    print(f"\n[{kind}] 4 processes x 25 turns, {'Redis lock' if shared_lock else 'no shared lock'}: "
          f"{ok} answered, {refused} refused, count={state.slots.get('count')}, turns={state.turns} "
          f"({elapsed:.1f} s with start-up)")
    for store in harness.opened:
        getattr(store, "close", lambda: None)()
    if kind == "redis":
        from tests.engine.state.conftest import _delete_redis_prefix

        _delete_redis_prefix(harness.url, harness.prefix)
    assert all(p.exitcode == 0 for p in procs)
    assert state.slots["count"] == ok == state.turns  # never a lost turn
    if shared_lock:
        assert (ok, refused) == (100, 0)


# -- a store that is down ----------------------------------------------------------------------------


@pytest.fixture(params=["postgres", "redis"])
def proxied(request, tmp_path):
    """A networked backend reached through a proxy that the test can cut."""
    harness = make_harness(request, request.param, tmp_path)
    proxy = TcpProxy(*host_port(harness.url))
    yield harness, proxy, proxied_url(harness.url, proxy.port)
    proxy.down()
    for store in harness.opened:
        getattr(store, "close", lambda: None)()
    if request.param == "redis":
        from tests.engine.state.conftest import _delete_redis_prefix

        _delete_redis_prefix(harness.url, harness.prefix)


def _quick_store_error(fn) -> float:
    t = time.perf_counter()
    with pytest.raises(StoreError):
        fn()
    return time.perf_counter() - t


def test_a_store_that_goes_down_raises_store_error_quickly_and_comes_back(proxied):
    harness, proxy, url = proxied
    store = harness.make(url=url, timeout_s=1.0)
    s = store.commit(store.load("s"), TURN_1)
    proxy.down()
    for fn in (lambda: store.load("s"), lambda: store.commit(s, TURN_2), lambda: store.events("s"),
               lambda: store.add_feedback({"session_id": "s", "rating": 1}), lambda: store.feedback()):
        assert _quick_store_error(fn) < 3.0
    proxy.up()
    assert store.load("s") == s  # reconnects; the refused commit left nothing behind
    assert store.events("s") == TURN_1
    store.commit(s, TURN_2)
    assert store.load("s").version == 6


def test_a_closed_port_is_a_quick_store_error(proxied):
    harness, _, url = proxied
    dead = proxied_url(harness.url, closed_port())
    assert _quick_store_error(lambda: harness.make(url=dead, timeout_s=1.0)) < 3.0


def test_the_engine_answers_clearly_when_the_store_is_down(proxied):
    harness, proxy, url = proxied
    store = harness.make(url=url, timeout_s=1.0)
    engine = counting_engine(store)
    assert engine.respond("s", "one").text == "count 1"
    proxy.down()
    t = time.perf_counter()
    reply = engine.respond("s", "two")
    assert time.perf_counter() - t < 3.0
    assert reply.route == "handoff" and reply.handoff and reply.trace["error"] == "store_unavailable"
    assert "human agent" in reply.text
    proxy.up()
    assert engine.respond("s", "three").text == "count 2"  # the failed turn was not half-written
    assert store.load("s").turns == 2 and len(store.events("s")) == 6


def test_the_engine_answers_clearly_when_the_redis_lock_is_down(redis_url):
    from engine.state.redis_locks import RedisSessionLocks

    proxy = TcpProxy(*host_port(redis_url))
    try:
        locks = RedisSessionLocks(proxied_url(redis_url, proxy.port), timeout_s=1.0,
                                  key_prefix=f"test-{uuid.uuid4().hex[:12]}:")
        store = InMemoryTrackerStore()
        engine = counting_engine(store, locks)
        assert engine.respond("s", "one").text == "count 1"
        proxy.down()
        reply = engine.respond("s", "two")
        assert reply.route == "handoff" and reply.trace["error"] == "store_unavailable"
        assert store.load("s").turns == 1  # nothing was read or written without the lock
        proxy.up()
        assert engine.respond("s", "three").text == "count 2"
    finally:
        proxy.down()


# -- building and optional dependencies --------------------------------------------------------------


def test_build_tracker_store_makes_every_kind(backend, tmp_path):
    kwargs = {"memory": {}, "sqlite": {}, "postgres": {"url": backend.url}, "redis": {"url": backend.url}}
    store = build_tracker_store(backend.kind, tmp_path / "t.db", window=3, retention=Retention(max_events=9),
                                key_prefix=backend.prefix or "x:", **kwargs[backend.kind])
    backend.opened.append(store)
    expected = {"memory": "InMemoryTrackerStore", "sqlite": "SQLiteTrackerStore",
                "postgres": "PostgresTrackerStore", "redis": "RedisTrackerStore"}[backend.kind]
    assert type(store).__name__ == expected
    assert store.load("z") == DialogueState("z", window=3)
    if backend.kind in ("postgres", "redis"):
        with pytest.raises(ValueError, match="url"):
            build_tracker_store(backend.kind, None, window=3)


@pytest.mark.parametrize("module, extra", [("redis", "redis"), ("psycopg", "postgres")])
def test_a_missing_client_library_names_the_extra(monkeypatch, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # import now fails as if not installed
    with pytest.raises(ConfigError, match=rf"pip install 'shopassist\[{extra}\]'"):
        if module == "redis":
            build_tracker_store("redis", None, window=3, url="redis://127.0.0.1:1/0")
        else:
            build_tracker_store("postgres", None, window=3, url="postgresql+psycopg://u@127.0.0.1:1/x")


def test_settings_choose_the_store_retention_and_lock(backend, tmp_path, monkeypatch):
    """``tracker`` settings (here from the environment, as a deployment sets them) become objects."""
    from engine.settings import load_settings
    from engine.state.factory import build_tracker

    for name in [n for n in __import__("os").environ if n.startswith("SHOPASSIST_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SHOPASSIST_TRACKER__KIND", backend.kind)
    monkeypatch.setenv("SHOPASSIST_TRACKER__RETENTION_EVENTS", "3")
    if backend.url:
        monkeypatch.setenv("SHOPASSIST_TRACKER__URL", backend.url)
    if backend.kind == "redis":
        monkeypatch.setenv("SHOPASSIST_TRACKER__KEY_PREFIX", backend.prefix)
        monkeypatch.setenv("SHOPASSIST_TRACKER__LOCK", "redis")
    settings = load_settings(None)
    store, locks = build_tracker(settings.tracker, tmp_path)
    backend.opened += [store, locks]
    if backend.kind == "sqlite":
        assert store.path == tmp_path / "tracker.db"
    assert type(locks).__name__ == ("RedisSessionLocks" if backend.kind == "redis" else "SessionLocks")
    for i in range(3):
        with locks.hold("s", timeout_s=2):
            store.commit(store.load("s"), turn(i))
    assert store.events("s") == turn(2)  # retention_events=3 reached the store
    assert store.load("s").slots == {"n": 2}


def test_the_multi_worker_example_config_is_valid(monkeypatch):
    from pathlib import Path

    from engine.settings import load_settings

    for name in [n for n in __import__("os").environ if n.startswith("SHOPASSIST_")]:
        monkeypatch.delenv(name)
    path = Path(__file__).resolve().parents[3] / "configs" / "multi-worker.yaml"
    tracker = load_settings(path).tracker
    assert (tracker.kind, tracker.lock, tracker.resolved_lock_url) == ("postgres", "redis", "redis://127.0.0.1:6379/0")
    assert (tracker.retention_events, tracker.retention_days) == (1000, 365)


def test_sqlite_file_from_before_retention_is_upgraded_in_place(tmp_path):
    import sqlite3

    from engine.state.stores import SQLiteTrackerStore, dump_json

    path = tmp_path / "old.db"
    old = DialogueState("s", window=5).apply_all(TURN_1)
    with sqlite3.connect(path) as conn:  # the schema before checkpoints existed
        conn.executescript("""
            CREATE TABLE events (session_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,
                data TEXT NOT NULL, ts REAL NOT NULL, PRIMARY KEY (session_id, seq));
            CREATE TABLE snapshots (session_id TEXT PRIMARY KEY, version INTEGER NOT NULL,
                state TEXT NOT NULL, updated_at REAL NOT NULL);""")
        conn.executemany("INSERT INTO events VALUES ('s', ?, ?, ?, ?)",
                         [(i + 1, e.type, dump_json(e.to_dict()), e.ts) for i, e in enumerate(TURN_1)])
        conn.execute("INSERT INTO snapshots VALUES ('s', 3, ?, 0)", (dump_json(old.to_dict()),))
    store = SQLiteTrackerStore(path, window=5, retention=Retention(max_events=3))
    assert store.load("s") == old
    new = store.commit(old, TURN_2)
    assert store.events("s") == TURN_2 and store.load("s") == new
