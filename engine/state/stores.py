"""Tracker stores: where conversations' events, state snapshots and feedback live durably.

A turn's events are committed in one transaction together with the new state snapshot, guarded
by the snapshot's version (optimistic concurrency on top of the per-session lock), so a turn is
stored whole or not at all. The SQLite store uses WAL so readers never block the writer.

Example:
    >>> store = SQLiteTrackerStore("tracker.db")                     # doctest: +SKIP
    >>> state = store.load("s1")                                      # doctest: +SKIP
    >>> state = store.commit(state, [UserUttered("hi")])              # doctest: +SKIP
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from engine.errors import StoreError

from .events import Event, event_from_dict
from .tracker import DialogueState

__all__ = ["TrackerStore", "InMemoryTrackerStore", "SQLiteTrackerStore", "build_tracker_store"]


@runtime_checkable
class TrackerStore(Protocol):
    def load(self, session_id: str) -> DialogueState: ...

    def commit(self, state: DialogueState, events: list[Event]) -> DialogueState:
        """Apply ``events`` to ``state`` and store them atomically; returns the new state."""
        ...

    def events(self, session_id: str) -> list[Event]: ...

    def add_feedback(self, record: dict[str, Any]) -> int: ...

    def feedback(self, session_id: str | None = None) -> list[dict[str, Any]]: ...


class InMemoryTrackerStore:
    """Process-local store for tests and one-off scripts."""

    def __init__(self, *, window: int = 10) -> None:
        if window <= 0:
            raise ValueError(f"window must be > 0, got {window}")
        self._window = window
        self._states: dict[str, DialogueState] = {}
        self._events: dict[str, list[Event]] = {}
        self._feedback: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def load(self, session_id: str) -> DialogueState:
        with self._lock:
            return self._states.get(session_id) or DialogueState(session_id, window=self._window)

    def commit(self, state: DialogueState, events: list[Event]) -> DialogueState:
        new = state.apply_all(events)
        with self._lock:
            current = self._states.get(state.session_id)
            if (current.version if current else 0) != state.version:
                raise StoreError(f"session {state.session_id!r} changed concurrently")
            self._states[state.session_id] = new
            self._events.setdefault(state.session_id, []).extend(events)
        return new

    def events(self, session_id: str) -> list[Event]:
        with self._lock:
            return list(self._events.get(session_id, []))

    def add_feedback(self, record: dict[str, Any]) -> int:
        with self._lock:
            self._feedback.append(dict(record, id=len(self._feedback) + 1))
            return len(self._feedback)

    def feedback(self, session_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [f for f in self._feedback if session_id in (None, f.get("session_id"))]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    session_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,
    data TEXT NOT NULL, ts REAL NOT NULL, PRIMARY KEY (session_id, seq));
CREATE TABLE IF NOT EXISTS snapshots (
    session_id TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL,
    updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, turn INTEGER,
    rating INTEGER, correction TEXT, comment TEXT, text TEXT, intent TEXT,
    confidence REAL, route TEXT, created_at REAL NOT NULL);
"""


class SQLiteTrackerStore:
    """Durable store in one SQLite file (WAL). Safe for threads; one connection per thread."""

    def __init__(self, path: str | Path, *, window: int = 10, timeout_s: float = 5.0) -> None:
        if window <= 0:
            raise ValueError(f"window must be > 0, got {window}")
        self.path = Path(path)
        self._window = window
        self._timeout = timeout_s
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open tracker store {self.path}: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def load(self, session_id: str) -> DialogueState:
        try:
            row = self._conn().execute(
                "SELECT state FROM snapshots WHERE session_id = ?", (session_id,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"tracker store unavailable: {exc}") from exc
        if row is None:
            return DialogueState(session_id, window=self._window)
        try:
            return DialogueState.from_dict(json.loads(row[0]))
        except (ValueError, KeyError, TypeError):
            return self._replay(session_id)

    def _replay(self, session_id: str) -> DialogueState:
        """Rebuild a state from its events (used when a snapshot is unreadable)."""
        return DialogueState(session_id, window=self._window).apply_all(self.events(session_id))

    def commit(self, state: DialogueState, events: list[Event]) -> DialogueState:
        new = state.apply_all(events)
        conn = self._conn()
        now = time.time()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT version FROM snapshots WHERE session_id = ?", (state.session_id,)
                ).fetchone()
                if (row[0] if row else 0) != state.version:
                    raise StoreError(f"session {state.session_id!r} changed concurrently")
                conn.executemany(
                    "INSERT INTO events (session_id, seq, type, data, ts) VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            state.session_id,
                            state.version + i + 1,
                            e.type,
                            json.dumps(e.to_dict(), ensure_ascii=False, default=str),
                            e.ts,
                        )
                        for i, e in enumerate(events)
                    ],
                )
                conn.execute(
                    "INSERT INTO snapshots (session_id, version, state, updated_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE SET "
                    "version = excluded.version, state = excluded.state, "
                    "updated_at = excluded.updated_at",
                    (
                        state.session_id,
                        new.version,
                        json.dumps(new.to_dict(), ensure_ascii=False, default=str),
                        now,
                    ),
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"tracker store could not commit: {exc}") from exc
        return new

    def events(self, session_id: str) -> list[Event]:
        try:
            rows = self._conn().execute(
                "SELECT data FROM events WHERE session_id = ? ORDER BY seq", (session_id,)
            ).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"tracker store unavailable: {exc}") from exc
        try:
            return [event_from_dict(json.loads(r[0])) for r in rows]
        except (ValueError, TypeError, KeyError) as exc:
            raise StoreError(f"event log of session {session_id!r} is damaged: {exc}") from exc

    def add_feedback(self, record: dict[str, Any]) -> int:
        cols = ("session_id", "turn", "rating", "correction", "comment", "text", "intent", "confidence", "route")
        values = [record.get(c) for c in cols]
        try:
            cur = self._conn().execute(
                f"INSERT INTO feedback ({', '.join(cols)}, created_at) "
                f"VALUES ({', '.join('?' * len(cols))}, ?)",
                (*values, time.time()),
            )
        except sqlite3.Error as exc:
            raise StoreError(f"could not store feedback: {exc}") from exc
        return int(cur.lastrowid)

    def feedback(self, session_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM feedback"
        args: tuple = ()
        if session_id is not None:
            sql += " WHERE session_id = ?"
            args = (session_id,)
        try:
            cur = self._conn().execute(sql + " ORDER BY id", args)
        except sqlite3.Error as exc:
            raise StoreError(f"tracker store unavailable: {exc}") from exc
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def build_tracker_store(kind: str, path: Path | None, *, window: int) -> TrackerStore:
    if kind == "memory":
        return InMemoryTrackerStore(window=window)
    if kind == "sqlite":
        if path is None:
            raise ValueError("the sqlite tracker store needs a path")
        return SQLiteTrackerStore(path, window=window)
    raise ValueError(f"unknown tracker store kind {kind!r}")
