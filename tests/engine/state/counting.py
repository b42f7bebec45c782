"""A real :class:`engine.Engine` around a counting router, for concurrency tests.

Each turn reads the ``count`` slot from the state it loaded and sets it to one more, so a lost
update (two turns built on the same state) shows up as a count below the number of turns. The
NLU and router are stubs; the store, the locks and the engine's turn/commit path are the real
ones. :func:`worker` is the body of one worker process (importable, so ``spawn`` can run it).
"""

from __future__ import annotations

import time
from typing import Any

from engine.engine import Engine
from engine.flows.base import Decision, Turn
from engine.responses.templates import Templates
from engine.settings import DialogueSettings, Settings
from engine.state.events import SlotSet
from engine.state.locks import ConversationLocks
from engine.state.stores import TrackerStore
from tests.fakes import nlu


class StubNLU:
    def parse(self, text: str, trace: dict[str, Any] | None = None):
        return nlu(text, "greet")


class CountingRouter:
    """Sets ``count`` to the loaded value + 1; ``think_s`` widens the read-to-write window."""

    def __init__(self, think_s: float = 0.0) -> None:
        self.think_s = think_s

    def route(self, turn: Turn) -> Decision:
        n = int(turn.state.slots.get("count", 0)) + 1
        if self.think_s:
            time.sleep(self.think_s)
        return Decision(f"count {n}", "template", events=[SlotSet("count", n)], decided_by="test:count")

    def warm_up(self) -> None:
        pass


def counting_engine(store: TrackerStore, locks: ConversationLocks | None = None, think_s: float = 0.0) -> Engine:
    # no per-minute limit: these tests commit hundreds of turns of one session in seconds
    settings = Settings(dialogue=DialogueSettings(max_turns_per_minute=None))
    return Engine(settings, nlu=StubNLU(), router=CountingRouter(think_s), store=store,
                  templates=Templates(store="Test"), locks=locks)


def open_store(kind: str, where: str, prefix: str) -> TrackerStore:
    if kind == "sqlite":
        from engine.state.stores import SQLiteTrackerStore

        return SQLiteTrackerStore(where)
    if kind == "postgres":
        from engine.state.postgres import PostgresTrackerStore

        return PostgresTrackerStore(where)
    from engine.state.redis_store import RedisTrackerStore

    return RedisTrackerStore(where, key_prefix=prefix)


def worker(kind: str, where: str, prefix: str, lock_url: str | None, session: str, turns: int,
           think_s: float, start_at: float, out: Any) -> None:
    """One process: ``turns`` increments on ``session``; puts (ok, refused) on ``out``."""
    from engine.state.locks import SessionLocks

    store = open_store(kind, where, prefix)
    if lock_url:
        from engine.state.redis_locks import RedisSessionLocks

        locks: ConversationLocks = RedisSessionLocks(lock_url, key_prefix=prefix, lease_s=5.0)
    else:
        locks = SessionLocks()  # this process only: the processes race, the version check decides
    engine = counting_engine(store, locks, think_s)
    time.sleep(max(0.0, start_at - time.time()))  # all processes start their turns together
    ok = refused = 0
    for i in range(turns):
        reply = engine.respond(session, f"increment {i}")
        if reply.route == "handoff":
            refused += 1
        else:
            ok += 1
    out.put((ok, refused))
