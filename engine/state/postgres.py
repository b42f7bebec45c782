"""PostgreSQL tracker store (SQLAlchemy 2 Core over psycopg 3), for several engine processes.

Three tables, created when missing: ``tracker_events`` (one row per event, keyed by session and
seq), ``tracker_snapshots`` (the latest state, its version and the retention checkpoint) and
``tracker_feedback``. A commit is one transaction: a *conditional* write of the snapshot (``UPDATE
... WHERE version = :expected``, or ``INSERT ... ON CONFLICT DO UPDATE ... WHERE version = 0`` for
a new session) — the row lock it takes serialises rival writers, and a rival that finds the version
moved matches no row and is refused — then the events, then retention pruning. Either all of it
commits or none of it does. Connect, statement and lock waits are bounded by ``timeout_s`` so a
database that is down or stuck surfaces as :class:`engine.errors.StoreError` quickly.

Example:
    >>> store = PostgresTrackerStore("postgresql+psycopg://u:pw@127.0.0.1/shop")  # doctest: +SKIP
    >>> state = store.commit(store.load("s1"), [UserUttered("hi")])              # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, ProgrammingError, SQLAlchemyError

from engine.errors import ConfigError, StoreError

from .events import Event
from .retention import Retention, rebuild_state
from .sealing import SealedTurn, Sealer, process_sealer
from .stores import (
    FEEDBACK_ADDED,
    FEEDBACK_FIELDS,
    check_common,
    conflict,
    decode_events,
    dump_json,
    parse_checkpoint,
    parse_state,
)
from .tracker import DialogueState

__all__ = ["PostgresTrackerStore", "metadata"]

metadata = MetaData()

events_table = Table(
    "tracker_events",
    metadata,
    Column("session_id", String(200), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(40), nullable=False),
    Column("data", Text, nullable=False),
    Column("ts", Float, nullable=False),
    Index("tracker_events_session_ts", "session_id", "ts"),
)

snapshots_table = Table(
    "tracker_snapshots",
    metadata,
    Column("session_id", String(200), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("checkpoint", Text),
    Column("checkpoint_version", BigInteger),
    Column("updated_at", Float, nullable=False),
)

feedback_table = Table(
    "tracker_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(200), nullable=False, index=True),
    Column("turn", Integer),
    Column("rating", Integer),
    Column("correction", Text),
    Column("comment", Text),
    Column("text", Text),
    Column("intent", Text),
    Column("confidence", Float),
    Column("route", Text),
    Column("sources", Text),
    Column("model_version", Text),
    Column("kind", Text),
    Column("reason", Text),
    Column("ref", Integer),
    Column("author", Text),
    Column("created_at", Float, nullable=False),
)


def _brief(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _require_driver() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "the postgres tracker store needs psycopg 3: pip install 'shopassist[postgres]'"
        ) from exc


class PostgresTrackerStore:
    """Durable store in PostgreSQL, shared by any number of processes.

    Args:
        url: an SQLAlchemy URL, ``postgresql+psycopg://user:password@host:5432/db``.
        window: turns of history a state keeps.
        retention: how much of each event log to keep (default: all of it).
        timeout_s: bound on connecting, on each statement and on waiting for a row lock.
        pool_size: connections kept open per process.
        sealer: masks and encrypts what is written (default: :func:`process_sealer`).

    Example:
        >>> store = PostgresTrackerStore(url, retention=Retention(max_events=500))  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        window: int = 10,
        retention: Retention | None = None,
        timeout_s: float = 2.0,
        pool_size: int = 5,
        sealer: Sealer | None = None,
    ) -> None:
        check_common(window)
        self._sealer = sealer or process_sealer()
        if not url or not url.startswith("postgresql"):
            raise ValueError(f"url must be a postgresql:// SQLAlchemy URL, got {url!r:.40}")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if pool_size <= 0:
            raise ValueError(f"pool_size must be > 0, got {pool_size}")
        _require_driver()
        self._window = window
        self._retention = retention or Retention()
        ms = int(timeout_s * 1000)
        try:
            self._engine = create_engine(
                url,
                connect_args={"connect_timeout": max(1, round(timeout_s)),
                              "options": f"-c statement_timeout={ms} -c lock_timeout={ms}"},
                pool_size=pool_size,
                pool_pre_ping=True,  # a server restart costs one failed ping, not a failed turn
                pool_timeout=timeout_s,
            )
            try:
                metadata.create_all(self._engine, checkfirst=True)
            except (IntegrityError, ProgrammingError):  # another process created them meanwhile
                metadata.create_all(self._engine, checkfirst=True)
            self._add_feedback_columns()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the postgres tracker store: {_brief(exc)}") from exc

    def _add_feedback_columns(self) -> None:
        """Give a feedback table from before the learning columns those columns."""
        have = {c["name"] for c in inspect(self._engine).get_columns(feedback_table.name)}
        missing = [name for name in FEEDBACK_ADDED if name not in have]
        if missing:
            with self._engine.begin() as conn:
                for name in missing:
                    kind = "INTEGER" if name == "ref" else "TEXT"
                    conn.execute(text(f"ALTER TABLE {feedback_table.name} ADD COLUMN IF NOT EXISTS {name} {kind}"))

    def __repr__(self) -> str:
        return f"PostgresTrackerStore({self._engine.url.render_as_string(hide_password=True)!r})"

    @staticmethod
    def _unavailable(exc: SQLAlchemyError) -> StoreError:
        return StoreError(f"tracker store unavailable: {_brief(exc)}")

    def load(self, session_id: str) -> DialogueState:
        snap = snapshots_table.c
        try:
            with self._engine.connect() as conn:
                row = conn.execute(select(snap.state).where(snap.session_id == session_id)).first()
                if row is None:
                    return DialogueState(session_id, window=self._window)
                return parse_state(row[0], self._sealer) or self._replay(conn, session_id)
        except SQLAlchemyError as exc:
            raise self._unavailable(exc) from exc

    def _replay(self, conn: Connection, session_id: str) -> DialogueState:
        """Rebuild a state from the checkpoint and the events after it (snapshot unreadable)."""
        snap, ev = snapshots_table.c, events_table.c
        checkpoint = conn.execute(select(snap.checkpoint).where(snap.session_id == session_id)).scalar()
        rows = conn.execute(select(ev.seq, ev.data).where(ev.session_id == session_id).order_by(ev.seq)).all()
        events = decode_events(session_id, [r[1] for r in rows], self._sealer)
        return rebuild_state(session_id, self._window, parse_checkpoint(checkpoint, self._sealer),
                             [(r[0], e) for r, e in zip(rows, events)])

    def commit(self, state: DialogueState, events: list[Event], *,
               feedback: Sequence[dict[str, Any]] = ()) -> DialogueState:
        new = state.apply_all(events)
        sealed = self._sealer.seal_turn(state, events, new, feedback)
        sid, v = state.session_id, state.version
        snap = snapshots_table.c
        try:
            with self._engine.begin() as conn:
                if not events:
                    stored = conn.execute(select(snap.version).where(snap.session_id == sid)).scalar()
                    if (stored or 0) != v:
                        raise conflict(sid)
                    return state
                if not self._write_snapshot(conn, state, new, sealed):
                    raise conflict(sid)
                conn.execute(insert(events_table), [
                    {"session_id": sid, "seq": v + i + 1, "type": e.type, "data": dump_json(d), "ts": e.ts}
                    for i, (e, d) in enumerate(zip(events, sealed.events))
                ])
                if sealed.feedback:
                    now = time.time()
                    conn.execute(insert(feedback_table), [
                        {**{c: r.get(c) for c in FEEDBACK_FIELDS}, "created_at": now} for r in sealed.feedback
                    ])
                self._prune(conn, sid, v, new.version)
        except IntegrityError as exc:  # an event seq already taken: someone else got there first
            raise conflict(sid) from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"tracker store could not commit: {_brief(exc)}") from exc
        return new

    def _write_snapshot(self, conn: Connection, state: DialogueState, new: DialogueState,
                        sealed: SealedTurn) -> bool:
        """The conditional snapshot write; False when the stored version is not ``state.version``."""
        snap = snapshots_table.c
        values: dict[str, Any] = {"version": new.version, "state": dump_json(sealed.state),
                                  "updated_at": time.time()}
        if self._retention.enabled:
            values.update(checkpoint=dump_json(sealed.checkpoint), checkpoint_version=state.version)
        if state.version == 0:
            stmt = pg_insert(snapshots_table).values(session_id=state.session_id, **values)
            stmt = stmt.on_conflict_do_update(
                index_elements=[snap.session_id], set_=values, where=snap.version == 0
            ).returning(snap.version)
            return conn.execute(stmt).first() is not None
        result = conn.execute(
            update(snapshots_table)
            .where(snap.session_id == state.session_id, snap.version == state.version)
            .values(**values)
        )
        return result.rowcount == 1

    def _prune(self, conn: Connection, sid: str, v: int, n: int) -> None:
        if not self._retention.enabled:
            return
        ev = events_table.c
        cut = self._retention.prune_through(n, v)
        if cut:
            conn.execute(delete(events_table).where(ev.session_id == sid, ev.seq <= cut))
        cutoff = self._retention.cutoff_ts()
        if cutoff is not None:
            conn.execute(delete(events_table).where(ev.session_id == sid, ev.seq <= v, ev.ts < cutoff))

    def events(self, session_id: str, *, last: int | None = None) -> list[Event]:
        check_common(self._window, last)
        ev = events_table.c
        stmt = select(ev.seq, ev.data).where(ev.session_id == session_id)
        if last is not None:
            stmt = stmt.order_by(ev.seq.desc()).limit(last)
        else:
            stmt = stmt.order_by(ev.seq)
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(stmt).all()
        except SQLAlchemyError as exc:
            raise self._unavailable(exc) from exc
        if last is not None:
            rows.reverse()
        return decode_events(session_id, [r[1] for r in rows], self._sealer)

    def add_feedback(self, record: dict[str, Any]) -> int:
        record = self._sealer.seal_feedback(record)
        values = {c: record.get(c) for c in FEEDBACK_FIELDS}
        try:
            with self._engine.begin() as conn:
                return int(conn.execute(
                    insert(feedback_table).values(**values, created_at=time.time()).returning(feedback_table.c.id)
                ).scalar_one())
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store feedback: {_brief(exc)}") from exc

    def feedback(self, session_id: str | None = None) -> list[dict[str, Any]]:
        fb = feedback_table.c
        stmt = select(feedback_table).order_by(fb.id)
        if session_id is not None:
            stmt = stmt.where(fb.session_id == session_id)
        try:
            with self._engine.connect() as conn:
                return [dict(r) for r in conn.execute(stmt).mappings()]
        except SQLAlchemyError as exc:
            raise self._unavailable(exc) from exc

    def close(self) -> None:
        self._engine.dispose()
