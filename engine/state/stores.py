"""Tracker stores: where conversations' events, state snapshots and feedback live durably.

A turn's events are committed in one transaction together with the new state snapshot, guarded
by the snapshot's version (optimistic concurrency on top of the per-session lock), so a turn is
stored whole or not at all. ``load`` reads the snapshot only — never the event log — and falls
back to replaying the log (from the retention checkpoint, see :mod:`engine.state.retention`)
when the snapshot is unreadable. This module holds the protocol, the in-memory and SQLite (WAL)
stores and :func:`build_tracker_store`; PostgreSQL and Redis live in :mod:`engine.state.postgres`
and :mod:`engine.state.redis_store`, imported only when asked for. Every store writes what
:class:`engine.state.sealing.Sealer` makes of a turn (masked texts, encrypted slot values) and
opens what it reads with the same sealer: nothing a customer typed is kept in clear.

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from engine.errors import StoreError

from .events import Event
from .retention import Retention, rebuild_state
from .sealing import SealedTurn, Sealer, process_sealer
from .tracker import DialogueState

__all__ = [
    "TrackerStore",
    "InMemoryTrackerStore",
    "SQLiteTrackerStore",
    "FEEDBACK_FIELDS",
    "build_tracker_store",
]

#: The columns of a feedback record besides ``id`` and ``created_at`` (every store keeps these).
#: ``kind``: user (a rating or correction) | auto (captured with the turn: hand-off, low confidence)
#: | label (a reviewer's label of record ``ref``, by ``author``); ``sources`` is a JSON list of
#: ``kind:id``; ``model_version`` names the intent model that classified the turn.
FEEDBACK_FIELDS = ("session_id", "turn", "rating", "correction", "comment", "text", "intent",
                   "confidence", "route", "sources", "model_version", "kind", "reason", "ref", "author")
#: The feedback columns added after the first release (older tables get them on open).
FEEDBACK_ADDED = ("sources", "model_version", "kind", "reason", "ref", "author")


@runtime_checkable
class TrackerStore(Protocol):
    def load(self, session_id: str) -> DialogueState:
        """The session's latest state (a fresh one for a new session); reads the snapshot only."""
        ...

    def commit(self, state: DialogueState, events: list[Event], *,
               feedback: Sequence[dict[str, Any]] = ()) -> DialogueState:
        """Apply ``events`` to ``state`` and store them atomically; returns the new state.

        ``feedback`` records (turns captured for review) are stored with the turn: in the same
        transaction (memory, SQLite, PostgreSQL) or right after it (Redis), never without it.

        Raises:
            StoreError: the store is unavailable, or the session moved past ``state.version``
                (then nothing is stored).
        """
        ...

    def events(self, session_id: str, *, last: int | None = None) -> list[Event]:
        """The retained event log, oldest first; ``last``: only the newest ``last`` events."""
        ...

    def add_feedback(self, record: dict[str, Any]) -> int: ...

    def feedback(self, session_id: str | None = None) -> list[dict[str, Any]]: ...


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def conflict(session_id: str) -> StoreError:
    return StoreError(f"session {session_id!r} changed concurrently; nothing was stored")


def check_common(window: int, last: int | None = None) -> None:
    if window <= 0:
        raise ValueError(f"window must be > 0, got {window}")
    if last is not None and last <= 0:
        raise ValueError(f"last must be > 0 or None, got {last}")


def decode_events(session_id: str, rows: list[Any], sealer: Sealer) -> list[Event]:
    """Stored JSON texts opened as events; a damaged row is a :class:`StoreError`."""
    try:
        return [sealer.open_event(json.loads(r)) for r in rows]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise StoreError(f"event log of session {session_id!r} is damaged: {exc}") from exc


def parse_state(text: str | bytes | None, sealer: Sealer) -> DialogueState | None:
    """A snapshot's state (sealed slots opened), or None when it is unreadable."""
    if text is None:
        return None
    try:
        return sealer.open_state(json.loads(text))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def parse_checkpoint(text: str | bytes | None, sealer: Sealer) -> dict[str, Any] | None:
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    return sealer.open_state_dict(data) if isinstance(data, dict) else None


class InMemoryTrackerStore:
    """Process-local store for tests and one-off scripts (same semantics as the durable ones).

    It keeps what the durable stores write (sealed dicts), not the objects it is given.
    """

    def __init__(self, *, window: int = 10, retention: Retention | None = None,
                 sealer: Sealer | None = None) -> None:
        check_common(window)
        self._window = window
        self._retention = retention or Retention()
        self._sealer = sealer or process_sealer()
        self._states: dict[str, dict[str, Any]] = {}
        self._checkpoints: dict[str, dict[str, Any]] = {}
        self._events: dict[str, list[tuple[int, float, dict[str, Any]]]] = {}
        self._feedback: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def load(self, session_id: str) -> DialogueState:
        with self._lock:
            data = self._states.get(session_id)
        return DialogueState(session_id, window=self._window) if data is None else self._sealer.open_state(data)

    def commit(self, state: DialogueState, events: list[Event], *,
               feedback: Sequence[dict[str, Any]] = ()) -> DialogueState:
        new = state.apply_all(events)
        sealed = self._sealer.seal_turn(state, events, new, feedback)
        with self._lock:
            current = self._states.get(state.session_id)
            if (current["version"] if current else 0) != state.version:
                raise conflict(state.session_id)
            if not events:
                return state
            self._states[state.session_id] = sealed.state
            for record in sealed.feedback:
                self._add_feedback(record)
            log = self._events.setdefault(state.session_id, [])
            log.extend((state.version + i + 1, e.ts, d) for i, (e, d) in enumerate(zip(events, sealed.events)))
            if self._retention.enabled:
                self._checkpoints[state.session_id] = sealed.checkpoint
                cut = self._retention.prune_through(new.version, state.version)
                cutoff = self._retention.cutoff_ts()
                log[:] = [(seq, ts, d) for seq, ts, d in log
                          if seq > cut and not (cutoff is not None and seq <= state.version and ts < cutoff)]
        return new

    def events(self, session_id: str, *, last: int | None = None) -> list[Event]:
        check_common(self._window, last)
        with self._lock:
            log = list(self._events.get(session_id, []))
        return [self._sealer.open_event(d) for _, _, d in (log[-last:] if last else log)]

    def add_feedback(self, record: dict[str, Any]) -> int:
        record = self._sealer.seal_feedback(record)
        with self._lock:
            return self._add_feedback(record)

    def _add_feedback(self, record: dict[str, Any]) -> int:
        self._feedback.append(dict({k: record.get(k) for k in FEEDBACK_FIELDS},
                                   id=len(self._feedback) + 1, created_at=time.time()))
        return len(self._feedback)

    def feedback(self, session_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(f) for f in self._feedback if session_id in (None, f.get("session_id"))]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    session_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,
    data TEXT NOT NULL, ts REAL NOT NULL, PRIMARY KEY (session_id, seq));
CREATE TABLE IF NOT EXISTS snapshots (
    session_id TEXT PRIMARY KEY, version INTEGER NOT NULL, state TEXT NOT NULL,
    updated_at REAL NOT NULL, checkpoint TEXT, checkpoint_version INTEGER);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, turn INTEGER,
    rating INTEGER, correction TEXT, comment TEXT, text TEXT, intent TEXT,
    confidence REAL, route TEXT, sources TEXT, model_version TEXT, kind TEXT, reason TEXT,
    ref INTEGER, author TEXT, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS events_session_ts ON events (session_id, ts);
"""


class SQLiteTrackerStore:
    """Durable store in one SQLite file (WAL). Safe for threads; one connection per thread.

    Args:
        path: the database file (created with its folder when missing).
        window: turns of history a state keeps.
        timeout_s: how long a writer waits for another writer's lock.
        retention: how much of each event log to keep (default: all of it).
        sealer: masks and encrypts what is written (default: :func:`process_sealer`).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        window: int = 10,
        timeout_s: float = 5.0,
        retention: Retention | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        check_common(window)
        self._sealer = sealer or process_sealer()
        self.path = Path(path)
        self._window = window
        self._timeout = timeout_s
        self._retention = retention or Retention()
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = self._conn()
            conn.execute("PRAGMA journal_mode=WAL")
            self._migrate(conn)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open tracker store {self.path}: {exc}") from exc

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        """Create the tables; add the retention checkpoint columns to files from before them."""
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'snapshots'").fetchone()
        if exists:
            cols = {r[1] for r in conn.execute("PRAGMA table_info(snapshots)")}
            if "checkpoint" not in cols:
                conn.execute("ALTER TABLE snapshots ADD COLUMN checkpoint TEXT")
                conn.execute("ALTER TABLE snapshots ADD COLUMN checkpoint_version INTEGER")
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'feedback'").fetchone():
            cols = {r[1] for r in conn.execute("PRAGMA table_info(feedback)")}
            for name in FEEDBACK_ADDED:
                if name not in cols:
                    conn.execute(f"ALTER TABLE feedback ADD COLUMN {name} {'INTEGER' if name == 'ref' else 'TEXT'}")
        conn.executescript(_SCHEMA)

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
        return parse_state(row[0], self._sealer) or self._replay(session_id)

    def _replay(self, session_id: str) -> DialogueState:
        """Rebuild a state from the checkpoint and the events after it (snapshot unreadable)."""
        try:
            conn = self._conn()
            row = conn.execute(
                "SELECT checkpoint FROM snapshots WHERE session_id = ?", (session_id,)
            ).fetchone()
            rows = conn.execute(
                "SELECT seq, data FROM events WHERE session_id = ? ORDER BY seq", (session_id,)
            ).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"tracker store unavailable: {exc}") from exc
        events = decode_events(session_id, [r[1] for r in rows], self._sealer)
        checkpoint = parse_checkpoint(row[0], self._sealer) if row else None
        return rebuild_state(session_id, self._window, checkpoint, [(r[0], e) for r, e in zip(rows, events)])

    def commit(self, state: DialogueState, events: list[Event], *,
               feedback: Sequence[dict[str, Any]] = ()) -> DialogueState:
        new = state.apply_all(events)
        sealed = self._sealer.seal_turn(state, events, new, feedback)
        conn = self._conn()
        sid = state.session_id
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT version FROM snapshots WHERE session_id = ?", (sid,)).fetchone()
                if (row[0] if row else 0) != state.version:
                    raise conflict(sid)
                if events:
                    self._write(conn, state, new, events, sealed)
                    for record in sealed.feedback:
                        self._insert_feedback(conn, record)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"tracker store could not commit: {exc}") from exc
        return new

    def _write(self, conn: sqlite3.Connection, state: DialogueState, new: DialogueState,
               events: list[Event], sealed: SealedTurn) -> None:
        sid, v = state.session_id, state.version
        conn.executemany(
            "INSERT INTO events (session_id, seq, type, data, ts) VALUES (?, ?, ?, ?, ?)",
            [(sid, v + i + 1, e.type, dump_json(d), e.ts) for i, (e, d) in enumerate(zip(events, sealed.events))],
        )
        keep = self._retention.enabled
        conn.execute(
            "INSERT INTO snapshots (session_id, version, state, updated_at, checkpoint, checkpoint_version) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE SET "
            "version = excluded.version, state = excluded.state, updated_at = excluded.updated_at, "
            "checkpoint = coalesce(excluded.checkpoint, snapshots.checkpoint), "
            "checkpoint_version = coalesce(excluded.checkpoint_version, snapshots.checkpoint_version)",
            (sid, new.version, dump_json(sealed.state), time.time(),
             dump_json(sealed.checkpoint) if keep else None, v if keep else None),
        )
        if not keep:
            return
        cut = self._retention.prune_through(new.version, v)
        if cut:
            conn.execute("DELETE FROM events WHERE session_id = ? AND seq <= ?", (sid, cut))
        cutoff = self._retention.cutoff_ts()
        if cutoff is not None:
            conn.execute("DELETE FROM events WHERE session_id = ? AND seq <= ? AND ts < ?", (sid, v, cutoff))

    def events(self, session_id: str, *, last: int | None = None) -> list[Event]:
        check_common(self._window, last)
        if last is None:
            sql, args = "SELECT data FROM events WHERE session_id = ? ORDER BY seq", (session_id,)
        else:
            sql = ("SELECT data FROM (SELECT seq, data FROM events WHERE session_id = ? "
                   "ORDER BY seq DESC LIMIT ?) ORDER BY seq")
            args = (session_id, last)
        try:
            rows = self._conn().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"tracker store unavailable: {exc}") from exc
        return decode_events(session_id, [r[0] for r in rows], self._sealer)

    def add_feedback(self, record: dict[str, Any]) -> int:
        try:
            return self._insert_feedback(self._conn(), self._sealer.seal_feedback(record))
        except sqlite3.Error as exc:
            raise StoreError(f"could not store feedback: {exc}") from exc

    @staticmethod
    def _insert_feedback(conn: sqlite3.Connection, record: dict[str, Any]) -> int:
        values = [record.get(c) for c in FEEDBACK_FIELDS]
        cur = conn.execute(
            f"INSERT INTO feedback ({', '.join(FEEDBACK_FIELDS)}, created_at) "
            f"VALUES ({', '.join('?' * len(FEEDBACK_FIELDS))}, ?)",
            (*values, time.time()),
        )
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

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def build_tracker_store(
    kind: str,
    path: Path | None,
    *,
    window: int,
    url: str | None = None,
    retention: Retention | None = None,
    timeout_s: float = 2.0,
    key_prefix: str = "shopassist:",
    sealer: Sealer | None = None,
) -> TrackerStore:
    """The store for ``kind`` (memory | sqlite | postgres | redis), writing through ``sealer``
    (default: :func:`process_sealer`; :func:`engine.state.factory.build_tracker` passes the
    configured one).

    Raises:
        ValueError: an unknown kind, or a kind without the path / URL it needs.
        ConfigError: the kind's client library is not installed (the message names the extra).
        StoreError: the store cannot be reached or opened.
    """
    if kind == "memory":
        return InMemoryTrackerStore(window=window, retention=retention, sealer=sealer)
    if kind == "sqlite":
        if path is None:
            raise ValueError("the sqlite tracker store needs a path")
        return SQLiteTrackerStore(path, window=window, retention=retention, sealer=sealer)
    if kind in ("postgres", "redis") and not url:
        raise ValueError(f"the {kind} tracker store needs a url (tracker.url)")
    if kind == "postgres":
        from .postgres import PostgresTrackerStore

        return PostgresTrackerStore(url, window=window, retention=retention, timeout_s=timeout_s, sealer=sealer)
    if kind == "redis":
        from .redis_store import RedisTrackerStore

        return RedisTrackerStore(url, window=window, retention=retention, timeout_s=timeout_s,
                                 key_prefix=key_prefix, sealer=sealer)
    raise ValueError(f"unknown tracker store kind {kind!r}")
