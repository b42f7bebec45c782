"""Tracker-store backends for the parametrised suite, and a TCP proxy that can play an outage.

``backend`` yields a :class:`Harness` per kind: memory, sqlite (a fresh file), postgres (the
server at ``SHOPASSIST_TEST_POSTGRES_URL``, tracker tables truncated first) and redis (the server at
``SHOPASSIST_TEST_REDIS_URL``, a key prefix of its own, deleted afterwards). PostgreSQL and Redis are
skipped with the reason when their variable is unset; ``.ci/run`` starts both and sets them.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.state.retention import Retention
from engine.state.stores import InMemoryTrackerStore, SQLiteTrackerStore, TrackerStore

KINDS = ["memory", "sqlite", "postgres", "redis"]  # redis_url: tests/conftest.py


@dataclass
class Harness:
    """One backend under test: ``make`` opens a store (again) on the same data."""

    kind: str
    make: Callable[..., TrackerStore]
    url: str | None = None  # postgres / redis: where the data lives
    prefix: str = ""  # redis: this test's key prefix
    path: Path | None = None  # sqlite
    opened: list[Any] = field(default_factory=list)

    @property
    def durable(self) -> bool:
        return self.kind != "memory"

    # -- reaching behind the store, to damage data or watch what it reads ----------------------
    def set_snapshot_field(self, session_id: str, name: str, text: str) -> None:
        """Overwrite the stored ``state`` or ``checkpoint`` of a session with ``text``."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as conn:
                conn.execute(f"UPDATE snapshots SET {name} = ? WHERE session_id = ?", (text, session_id))
        elif self.kind == "postgres":
            from sqlalchemy import create_engine, text as sql

            engine = create_engine(self.url)
            with engine.begin() as conn:
                conn.execute(sql(f"UPDATE tracker_snapshots SET {name} = :t WHERE session_id = :s"),
                             {"t": text, "s": session_id})
            engine.dispose()
        elif self.kind == "redis":
            import redis

            client = redis.Redis.from_url(self.url)
            client.hset(f"{self.prefix}tracker:{{{session_id}}}:snap", name, text)
            client.close()
        else:
            raise NotImplementedError("the in-memory store keeps objects, not text")

    @contextmanager
    def log_reads(self, store: TrackerStore) -> Iterator[list[str]]:
        """Record every statement / command of ``store`` that touches the event log."""
        seen: list[str] = []
        if self.kind == "sqlite":
            conn = store._conn()
            conn.set_trace_callback(lambda s: seen.append(s) if "events" in s else None)
            try:
                yield seen
            finally:
                conn.set_trace_callback(None)
        elif self.kind == "postgres":
            from sqlalchemy import event

            def spy(conn, cursor, statement, *args):
                if "tracker_events" in statement:
                    seen.append(statement)

            event.listen(store._engine, "before_cursor_execute", spy)
            try:
                yield seen
            finally:
                event.remove(store._engine, "before_cursor_execute", spy)
        elif self.kind == "redis":
            client = store._client
            original = client.execute_command

            def spy(*args, **kwargs):
                if any(isinstance(a, (str, bytes)) and ":events" in str(a) for a in args):
                    seen.append(" ".join(map(str, args[:2])))
                return original(*args, **kwargs)

            client.execute_command = spy
            try:
                yield seen
            finally:
                del client.execute_command
        else:
            yield seen  # nothing to watch: it is a dict


def _truncate_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    from engine.state.postgres import metadata

    engine = create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE tracker_events, tracker_snapshots, tracker_feedback RESTART IDENTITY"))
    engine.dispose()


def _delete_redis_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=KINDS)
def backend(request, tmp_path) -> Iterator[Harness]:
    kind = request.param
    harness = make_harness(request, kind, tmp_path)
    yield harness
    for store in harness.opened:
        close = getattr(store, "close", None)
        if close is not None:
            close()
    if kind == "redis":
        _delete_redis_prefix(harness.url, harness.prefix)


def make_harness(request, kind: str, tmp_path: Path) -> Harness:
    if kind == "memory":
        def make(window: int = 5, retention: Retention | None = None, **_: Any) -> TrackerStore:
            # one process, one dict: "reopening" returns a new object only in the durable stores
            return InMemoryTrackerStore(window=window, retention=retention)

        return Harness(kind, make)
    if kind == "sqlite":
        path = tmp_path / "tracker.db"
        harness = Harness(kind, lambda **kw: None, path=path)

        def make(window: int = 5, retention: Retention | None = None, **kw: Any) -> TrackerStore:
            store = SQLiteTrackerStore(path, window=window, retention=retention)
            harness.opened.append(store)
            return store

        harness.make = make
        return harness
    if kind == "postgres":
        from engine.state.postgres import PostgresTrackerStore

        url = request.getfixturevalue("pg_url")
        _truncate_pg(url)
        harness = Harness(kind, lambda **kw: None, url=url)

        def make(window: int = 5, retention: Retention | None = None, url: str = url,
                 timeout_s: float = 2.0) -> TrackerStore:
            store = PostgresTrackerStore(url, window=window, retention=retention, timeout_s=timeout_s)
            harness.opened.append(store)
            return store

        harness.make = make
        return harness
    from engine.state.redis_store import RedisTrackerStore

    url = request.getfixturevalue("redis_url")
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    harness = Harness(kind, lambda **kw: None, url=url, prefix=prefix)

    def make(window: int = 5, retention: Retention | None = None, url: str = url,
             timeout_s: float = 2.0) -> TrackerStore:
        store = RedisTrackerStore(url, window=window, retention=retention, timeout_s=timeout_s,
                                  key_prefix=prefix)
        harness.opened.append(store)
        return store

    harness.make = make
    return harness


# -- an outage on demand ---------------------------------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a real server; ``down()`` closes the port and cuts every open
    connection (as a crashed server would), ``up()`` listens on the same port again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._conns: list[socket.socket] = []
        self._guard = threading.Lock()
        self._listener: socket.socket | None = None
        self.up()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._guard:
            for c in self._conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self._conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target, timeout=2)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._guard:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def proxied_url(url: str, proxy_port: int) -> str:
    """``url`` with its host:port replaced by the proxy's."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{proxy_port}"))


def host_port(url: str) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or (5432 if url.startswith("postgres") else 6379)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
