"""Tracker-store latency per backend: read + write per turn, and loading a 10,000-event session.

Usage: python benchmarks/tracker_stores.py [--turns 500] [--postgres-url URL] [--redis-url URL]

Backends: memory, SQLite (a temporary file, WAL), PostgreSQL (``--postgres-url`` or
``$SHOPASSIST_TEST_POSTGRES_URL``) and Redis (``--redis-url`` or ``$SHOPASSIST_TEST_REDIS_URL``);
those without a URL are skipped. Per backend:

- ``turn``: what the engine does per turn — ``load`` the session, then ``commit`` a typical turn
  (user utterance, two slots, bot utterance) — over ``--turns`` turns spread across 50 sessions;
  read, write and read+write are reported separately.
- ``turn_with_retention``: the same with ``Retention(max_events=100)`` on sessions past the limit,
  so every commit also writes the checkpoint and prunes.
- ``long_session``: a session of 10,000 events; ``load`` p50 against a 4-event session's, and, for
  contrast, reading its whole log (what a store without snapshots would do every turn).
- ``redis_lock``: acquiring and releasing the Redis session lock (with Redis only).

Benchmark data goes into the given databases under unique session ids / a unique key prefix and is
deleted afterwards. Prints a table and writes results/tracker_stores.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import summary_ms, write  # noqa: E402

from engine.state.events import BotUttered, SlotSet, UserUttered  # noqa: E402
from engine.state.retention import Retention  # noqa: E402
from engine.state.stores import InMemoryTrackerStore, SQLiteTrackerStore  # noqa: E402

SESSIONS = 50


def _turn(i: int) -> list:
    return [UserUttered(f"where is my order 1000{i % 90 + 10}?", intent="track_order", confidence=0.91),
            SlotSet("order_id", f"1000{i % 90 + 10}"), SlotSet("last_intent", "track_order"),
            BotUttered(f"Order 1000{i % 90 + 10} has shipped with UPS.", route="flow", intent="track_order",
                       sources=(f"1000{i % 90 + 10}",))]


def _ms(t: float) -> float:
    return (time.perf_counter() - t) * 1000


def _turns(store, tag: str, n: int, warm: int = 0) -> dict[str, dict[str, float]]:
    """``n`` load+commit turns round-robin over SESSIONS sessions (after ``warm`` untimed turns each)."""
    for s in range(SESSIONS):
        for i in range(warm):
            store.commit(store.load(f"{tag}-{s}"), _turn(i))
    reads, writes, both = [], [], []
    for i in range(n):
        sid = f"{tag}-{i % SESSIONS}"
        t = time.perf_counter()
        state = store.load(sid)
        r = _ms(t)
        t = time.perf_counter()
        store.commit(state, _turn(i))
        w = _ms(t)
        reads.append(r)
        writes.append(w)
        both.append(r + w)
    return {"read": summary_ms(reads), "write": summary_ms(writes), "read_write": summary_ms(both)}


def _long_session(store, tag: str) -> dict:
    long_id, short_id = f"{tag}-long", f"{tag}-short"
    state = store.load(long_id)
    t = time.perf_counter()
    for b in range(100):
        state = store.commit(state, [SlotSet("n", b * 100 + i) for i in range(99)] + [UserUttered(f"turn {b}")])
    build_s = time.perf_counter() - t
    store.commit(store.load(short_id), _turn(0))
    short, long_ = [], []
    for _ in range(200):  # interleaved, so drift hits both alike
        t = time.perf_counter()
        store.load(short_id)
        short.append(_ms(t))
        t = time.perf_counter()
        store.load(long_id)
        long_.append(_ms(t))
    full_log = []
    for _ in range(5):
        t = time.perf_counter()
        events = store.events(long_id)
        full_log.append(_ms(t))
    assert len(events) == 10_000 and store.load(long_id).version == 10_000
    return {"events": 10_000, "build_s": round(build_s, 2), "load_short": summary_ms(short),
            "load_10k": summary_ms(long_), "read_whole_log_10k": summary_ms(full_log)}


def _redis_lock(url: str, prefix: str, n: int) -> dict[str, float]:
    from engine.state.redis_locks import RedisSessionLocks

    locks = RedisSessionLocks(url, key_prefix=prefix)
    times = []
    for i in range(n):
        t = time.perf_counter()
        with locks.hold(f"lock-{i % SESSIONS}"):
            pass
        times.append(_ms(t))
    locks.close()
    return summary_ms(times)


def _cleanup_postgres(url: str, tag: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        for table in ("tracker_events", "tracker_snapshots"):
            conn.execute(text(f"DELETE FROM {table} WHERE session_id LIKE :p"), {"p": f"{tag}%"})
    engine.dispose()


def _cleanup_redis(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    for i in range(0, len(keys), 1000):
        client.delete(*keys[i: i + 1000])
    client.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--turns", type=int, default=500)
    ap.add_argument("--postgres-url", default=os.environ.get("SHOPASSIST_TEST_POSTGRES_URL"))
    ap.add_argument("--redis-url", default=os.environ.get("SHOPASSIST_TEST_REDIS_URL"))
    args = ap.parse_args()

    tag = f"bench-{uuid.uuid4().hex[:8]}"
    prefix = f"{tag}:"
    tmp = Path(tempfile.mkdtemp(prefix="shopassist-bench-"))
    factories = {
        "memory": lambda r=None: InMemoryTrackerStore(retention=r),
        "sqlite": lambda r=None: SQLiteTrackerStore(tmp / "tracker.db", retention=r),
    }
    skipped = {}
    if args.postgres_url:
        from engine.state.postgres import PostgresTrackerStore

        factories["postgres"] = lambda r=None: PostgresTrackerStore(args.postgres_url, retention=r)
    else:
        skipped["postgres"] = "no --postgres-url / SHOPASSIST_TEST_POSTGRES_URL"
    if args.redis_url:
        from engine.state.redis_store import RedisTrackerStore

        factories["redis"] = lambda r=None: RedisTrackerStore(args.redis_url, retention=r, key_prefix=prefix)
    else:
        skipped["redis"] = "no --redis-url / SHOPASSIST_TEST_REDIS_URL"

    results: dict[str, dict] = {}
    try:
        for kind, make in factories.items():
            print(f"{kind}...", flush=True)
            store = make()
            entry = {"turn": _turns(store, f"{tag}-turn", args.turns, warm=2)}
            kept = make(Retention(max_events=100))
            entry["turn_with_retention"] = _turns(kept, f"{tag}-ret", args.turns, warm=30)
            entry["long_session"] = _long_session(store, f"{tag}-10k")
            results[kind] = entry
            for s in (store, kept):
                getattr(s, "close", lambda: None)()
        if args.redis_url:
            results.setdefault("redis", {})["redis_lock"] = _redis_lock(args.redis_url, prefix, args.turns)
    finally:
        if args.postgres_url:
            _cleanup_postgres(args.postgres_url, tag)
        if args.redis_url:
            _cleanup_redis(args.redis_url, prefix)

    print(f"\n{'backend':9} {'read p50/p95':>15} {'write p50/p95':>15} {'read+write p50/p95':>20} "
          f"{'+retention r+w p50':>19} {'load 4-ev / 10k-ev p50':>24} {'whole 10k log':>14}")
    for kind, e in results.items():
        if "turn" not in e:
            continue
        t, ret, ls = e["turn"], e["turn_with_retention"], e["long_session"]
        print(f"{kind:9} {t['read']['p50_ms']:>7.3f}/{t['read']['p95_ms']:<7.3f} "
              f"{t['write']['p50_ms']:>7.3f}/{t['write']['p95_ms']:<7.3f} "
              f"{t['read_write']['p50_ms']:>10.3f}/{t['read_write']['p95_ms']:<9.3f} "
              f"{ret['read_write']['p50_ms']:>19.3f} "
              f"{ls['load_short']['p50_ms']:>11.3f} / {ls['load_10k']['p50_ms']:<10.3f} "
              f"{ls['read_whole_log_10k']['p50_ms']:>12.1f}ms")
    if "redis_lock" in results.get("redis", {}):
        lk = results["redis"]["redis_lock"]
        print(f"redis lock acquire+release: p50 {lk['p50_ms']:.3f} ms, p95 {lk['p95_ms']:.3f} ms")
    for kind, why in skipped.items():
        print(f"{kind}: skipped ({why})")
    write("tracker_stores", {"turns": args.turns, "sessions": SESSIONS, "results": results, "skipped": skipped,
                             "note": "ms per call; read = load(), write = commit() of a 4-event turn"})


if __name__ == "__main__":
    main()
