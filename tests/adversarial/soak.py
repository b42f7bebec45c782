"""A multi-process soak over the Redis tracker store and the Redis session lock, with ``kill -9``.

Worker processes share a set of conversations and send turns to all of them at once, so turns of
one conversation race across processes. Each worker runs the real :class:`engine.Engine` turn and
commit path (Redis store, Redis locks) around the counting router of
:mod:`tests.engine.state.counting`, which sets ``count`` to the loaded value + 1: a lost update
shows as a count below the number of turns. Every turn's text is unique (``w<worker>:<session>:<i>``)
and a worker appends it to its own log file after the engine confirmed it (a reply that is not an
error hand-off), the way a client knows what was committed. :func:`check` then compares, for every
conversation, the event log, the snapshot, its replay and what the clients saw.

The per-minute turn limit is off here: each conversation takes dozens of turns a second on purpose.

Used by ``benchmarks/soak.py`` (the full 4 x 50 x 20) and ``tests/adversarial/test_soak.py``.

Example:
    >>> result = run_soak(url, workers=4, sessions=50, turns=20, kill_after_turns=100)   # doctest: +SKIP
    >>> result["lost"], result["duplicated"], result["inconsistent"]                     # doctest: +SKIP
    (0, 0, 0)
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import time
import uuid
from pathlib import Path
from typing import Any

__all__ = ["run_soak", "check", "soak_worker"]

WINDOW = 10


def _engine(url: str, prefix: str, lease_s: float, think_s: float):
    from engine.engine import Engine
    from engine.responses.templates import Templates
    from engine.settings import DialogueSettings, Settings
    from engine.state.redis_locks import RedisSessionLocks
    from engine.state.redis_store import RedisTrackerStore
    from tests.engine.state.counting import CountingRouter, StubNLU

    store = RedisTrackerStore(url, window=WINDOW, key_prefix=prefix)
    locks = RedisSessionLocks(url, key_prefix=prefix, lease_s=lease_s)
    settings = Settings(dialogue=DialogueSettings(max_turns_per_minute=None))
    return Engine(settings, nlu=StubNLU(), router=CountingRouter(think_s), store=store,
                  templates=Templates(store="Soak"), locks=locks)


def soak_worker(url: str, prefix: str, worker: int, sessions: list[str], turns: int, log_path: str,
                start_at: float, think_s: float, lease_s: float) -> None:
    """One worker process: ``turns`` rounds over every session (in its own order)."""
    engine = _engine(url, prefix, lease_s, think_s)
    rng = random.Random(worker)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    time.sleep(max(0.0, start_at - time.time()))
    for i in range(turns):
        order = list(sessions)
        rng.shuffle(order)
        for session in order:
            text = f"w{worker}:{session}:{i}"
            os.write(fd, f"S\t{session}\t{text}\n".encode())  # started (a kill may land after this)
            t = time.perf_counter()
            reply = engine.respond(session, text)
            ms = (time.perf_counter() - t) * 1000
            ok = "error" not in reply.trace and reply.route != "handoff"
            os.write(fd, f"{'C' if ok else 'R'}\t{session}\t{text}\t{ms:.3f}\n".encode())
    os.close(fd)


def _read_log(path: Path) -> tuple[dict[str, str], dict[str, str], set[str], list[float]]:
    """(confirmed text -> session, refused text -> session, started texts, turn ms)."""
    confirmed, refused, started, ms = {}, {}, set(), []
    if not path.exists():
        return confirmed, refused, started, ms
    for line in path.read_text("utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if parts[0] == "S" and len(parts) == 3:
            started.add(parts[2])
        elif parts[0] in ("C", "R") and len(parts) == 4:  # a torn last line is neither
            (confirmed if parts[0] == "C" else refused)[parts[2]] = parts[1]
            ms.append(float(parts[3]))
    return confirmed, refused, started, ms


def check(url: str, prefix: str, sessions: list[str], log_paths: list[Path]) -> dict[str, Any]:
    """Compare every conversation's event log, snapshot and replay with what the clients saw."""
    from engine.state.events import UserUttered
    from engine.state.redis_store import RedisTrackerStore
    from engine.state.tracker import DialogueState

    confirmed: dict[str, str] = {}
    refused: dict[str, str] = {}
    started: set[str] = set()
    turn_ms: list[float] = []
    for path in log_paths:
        c, r, s, ms = _read_log(path)
        confirmed.update(c)
        refused.update(r)
        started |= s
        turn_ms += ms
    in_flight = started - set(confirmed) - set(refused)  # begun, never answered: a killed worker's
    store = RedisTrackerStore(url, window=WINDOW, key_prefix=prefix)
    problems: list[str] = []
    lost = duplicated = inconsistent = unexplained = committed = 0
    for session in sessions:
        events = store.events(session)
        users = [e.text for e in events if isinstance(e, UserUttered)]
        committed += len(users)
        snapshot = store.load(session)
        replay = DialogueState(session, window=WINDOW).apply_all(events)
        if snapshot.to_dict() != replay.to_dict():
            inconsistent += 1
            problems.append(f"{session}: snapshot != replay of its {len(events)} events")
        if not (snapshot.turns == len(users) == int(snapshot.slots.get("count", 0))):
            inconsistent += 1
            problems.append(f"{session}: turns {snapshot.turns}, user events {len(users)}, "
                            f"count {snapshot.slots.get('count')}")
        dup = len(users) - len(set(users))
        duplicated += dup
        if dup:
            problems.append(f"{session}: {dup} duplicated turns")
        mine = {t for t, s in confirmed.items() if s == session}
        missing = mine - set(users)
        lost += len(missing)
        if missing:
            problems.append(f"{session}: confirmed but not stored: {sorted(missing)[:3]}")
        extra = set(users) - mine
        if extra - in_flight:
            unexplained += len(extra - in_flight)
            problems.append(f"{session}: stored but refused or never sent: {sorted(extra - in_flight)[:3]}")
    store.close()
    return {"conversations": len(sessions), "confirmed": len(confirmed), "refused": len(refused),
            "in_flight_at_kill": len(in_flight), "committed": committed, "lost": lost,
            "duplicated": duplicated, "inconsistent": inconsistent, "unexplained": unexplained,
            "problems": problems[:20], "turn_ms": turn_ms}


def run_soak(url: str, *, workers: int = 4, sessions: int = 50, turns: int = 20, kill: int | None = 0,
             kill_after_turns: int = 100, think_s: float = 0.002, lease_s: float = 2.0,
             folder: Path | None = None, timeout_s: float = 600.0) -> dict[str, Any]:
    """Run the soak; ``kill``: the worker to ``kill -9`` once it has answered ``kill_after_turns``
    (None: no kill). Returns :func:`check`'s figures plus timings; deletes its Redis keys."""
    import tempfile

    prefix = f"soak-{uuid.uuid4().hex[:10]}:"
    names = [f"conv-{i:03d}" for i in range(sessions)]
    folder = Path(folder or tempfile.mkdtemp(prefix="shopassist-soak-"))
    logs = [folder / f"worker-{w}.log" for w in range(workers)]
    ctx = mp.get_context("spawn")
    start_at = time.time() + 3.0 + 0.5 * workers  # every worker imports and connects first
    procs = [ctx.Process(target=soak_worker, args=(url, prefix, w, names, turns, str(logs[w]), start_at,
                                                   think_s, lease_s), daemon=True) for w in range(workers)]
    t0 = time.time()
    for p in procs:
        p.start()
    killed_at = None
    deadline = time.time() + timeout_s
    try:
        if kill is not None:
            while time.time() < deadline and procs[kill].is_alive():
                c, r, _, _ = _read_log(logs[kill])
                if len(c) + len(r) >= kill_after_turns:
                    os.kill(procs[kill].pid, signal.SIGKILL)
                    killed_at = len(c) + len(r)
                    break
                time.sleep(0.005)
        for p in procs:
            p.join(max(1.0, deadline - time.time()))
        hung = [i for i, p in enumerate(procs) if p.is_alive()]
        for i in hung:
            procs[i].kill()
        wall = time.time() - t0 - max(0.0, start_at - t0)
        result = check(url, prefix, names, logs)
    finally:
        _delete_prefix(url, prefix)
    ms = result.pop("turn_ms")
    exit_codes = [p.exitcode for p in procs]
    return {**result, "workers": workers, "turns_per_worker_per_conversation": turns,
            "killed_worker": kill if killed_at is not None else None, "killed_after_turns": killed_at,
            "exit_codes": exit_codes, "hung_workers": hung, "wall_s": round(wall, 2), "turn_ms": ms}


def _delete_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
