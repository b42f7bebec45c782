"""Backends for the connector contract suite: SQL on SQLite, SQL on PostgreSQL, REST on loopback.

Every ``backend`` gets a fresh copy of the demo store's business data, so writes never leak from
one test into another. PostgreSQL runs when ``SHOPASSIST_TEST_POSTGRES_URL`` is set (``.ci/run``
starts a server and sets it) and is skipped with the reason otherwise. The REST backend talks to
the real demo service (FastAPI + uvicorn in a thread on 127.0.0.1) through a fault injector.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine as SAEngine

from connectors import schema
from connectors.base import BusinessBackend
from connectors.demo_service import ServerThread, create_app
from knowledge.kernel.resilience import CircuitBreaker
from connectors.rest import RestBackend
from connectors.sql import SqlBackend
from tests.connectors.faults import FaultInjector

TOKEN = "contract-suite-token"
BACKENDS = ["sqlite", "postgres", "rest"]


@dataclass
class Harness:
    """A backend under test and the database behind it (to check what really happened)."""

    kind: str
    svc: BusinessBackend
    db: SAEngine
    faults: FaultInjector | None = None

    def count(self, table: str, where: str = "1=1", **params: Any) -> int:
        with self.db.connect() as conn:
            return conn.execute(text(f"SELECT COUNT(*) FROM {table} WHERE {where}"), params).scalar_one()

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            return [dict(r) for r in conn.execute(text(sql), params).mappings()]

    def counts(self) -> dict[str, int]:
        return {t.name: self.count(t.name) for t in schema.metadata.sorted_tables}


@pytest.fixture(scope="session")
def pg_engine(pg_url):
    engine = create_engine(pg_url)
    schema.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS meta"))
    assert schema.create_or_migrate(engine) == schema.SCHEMA_VERSION
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_engine(demo_store):
    engine = create_engine(demo_store.db_url)
    yield engine
    engine.dispose()


def _fresh_sqlite(demo_store, tmp_path) -> str:
    path = tmp_path / "store.db"
    shutil.copy(demo_store.db_path, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def rest_server():
    holder: dict[str, Any] = {}
    app = create_app(_Unset(), api_token=TOKEN)
    faults = FaultInjector(app)
    with ServerThread(faults) as server:
        holder.update(app=app, faults=faults, url=server.url)
        yield holder


class _Unset:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("no backend installed behind the demo service")


def make_rest(rest_server, demo_store, tmp_path, **kwargs: Any) -> Harness:
    """A fresh SQLite copy installed behind the running service, and a client for it."""
    url = _fresh_sqlite(demo_store, tmp_path)
    rest_server["app"].state.backend = SqlBackend(url)
    faults: FaultInjector = rest_server["faults"]
    faults.reset()
    options = dict(timeout_s=2.0, connect_timeout_s=1.0, retries=2, backoff_base_s=0.01, backoff_cap_s=0.05,
                   breaker=CircuitBreaker(5, 30.0))
    options.update(kwargs)
    client = RestBackend(rest_server["url"], TOKEN, **options)
    return Harness("rest", client, create_engine(url), faults)


@pytest.fixture(params=BACKENDS)
def backend(request, demo_store, demo_engine, tmp_path):
    kind = request.param
    if kind == "sqlite":
        url = _fresh_sqlite(demo_store, tmp_path)
        harness = Harness(kind, SqlBackend(url), create_engine(url))
    elif kind == "postgres":
        pg = request.getfixturevalue("pg_engine")
        names = ", ".join(t.name for t in schema.metadata.sorted_tables if t.name != "meta")
        with pg.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        schema.copy_rows(demo_engine, pg)
        harness = Harness(kind, SqlBackend(pg.url.render_as_string(hide_password=False)), pg)
    else:
        harness = make_rest(request.getfixturevalue("rest_server"), demo_store, tmp_path)
    yield harness
    harness.svc.close()
    if kind != "postgres":
        harness.db.dispose()
