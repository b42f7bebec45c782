"""connectors/schema.py: versioned create/migrate and the append-only audit table, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DatabaseError

from connectors import schema
from connectors.sql import SqlBackend

V1_TABLES = (schema.meta, schema.customers, schema.orders, schema.order_items, schema.shipments, schema.returns)


def test_create_on_an_empty_database(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert schema.create_or_migrate(engine) == schema.SCHEMA_VERSION == 3
    assert set(inspect(engine).get_table_names()) == {t.name for t in schema.metadata.sorted_tables}
    with engine.connect() as conn:
        assert schema.schema_version(conn) == 3
    assert schema.create_or_migrate(engine) == 3  # idempotent


def test_migrate_a_version_1_database_keeps_its_rows(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'v1.db'}")
    schema.metadata.create_all(engine, tables=list(V1_TABLES))
    with engine.begin() as conn:
        conn.execute(schema.meta.insert(), [{"key": "schema_version", "value": "1"}])
        conn.execute(schema.customers.insert(), [{"customer_id": "C001", "name": "A", "email": "a@x.io", "phone": "1",
                                                  "address": "x", "language": "en", "created_at": "2025-01-01"}])
    assert "audit" not in inspect(engine).get_table_names()
    backend = SqlBackend(f"sqlite:///{tmp_path / 'v1.db'}")
    assert backend.schema_version() == 1
    assert backend.migrate() == 3 and backend.schema_version() == 3
    assert {"inventory", "audit", "idempotency", "replacements"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM customers")).scalar_one() == "A"


def test_migrate_a_version_2_database_adds_the_replacements_table(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'v2.db'}")
    schema.metadata.create_all(engine, tables=[t for t in schema.metadata.sorted_tables if t.name != "replacements"])
    with engine.begin() as conn:
        conn.execute(schema.meta.insert(), [{"key": "schema_version", "value": "2"}])
    backend = SqlBackend(f"sqlite:///{tmp_path / 'v2.db'}")
    assert backend.migrate() == 3 and "replacements" in inspect(engine).get_table_names()


def test_a_newer_database_is_refused(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'v9.db'}")
    schema.create_or_migrate(engine)
    with engine.begin() as conn:
        conn.execute(schema.meta.update().values(value="9"))
    with pytest.raises(schema.SchemaTooNew):
        schema.create_or_migrate(engine)


def test_the_demo_store_is_at_the_current_version(demo_store):
    assert SqlBackend(demo_store.db_url).schema_version() == schema.SCHEMA_VERSION


def _audit_is_append_only(engine):
    with engine.begin() as conn:
        conn.execute(schema.audit.insert().values(at="2025-01-01T00:00:00+00:00", actor_role="agent", action="x",
                                                  target="100023", idempotency_key="k" * 8, detail="{}"))
    for sql in ("UPDATE audit SET action = 'y'", "DELETE FROM audit"):
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(sql))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit")).scalars().all() == ["x"]


def test_audit_is_append_only_on_sqlite(demo_store, tmp_path):
    shutil.copy(demo_store.db_path, tmp_path / "s.db")
    _audit_is_append_only(create_engine(f"sqlite:///{tmp_path / 's.db'}"))


def test_audit_is_append_only_on_postgres(pg_engine):
    with pg_engine.begin() as conn:
        conn.execute(text("TRUNCATE audit"))
    _audit_is_append_only(pg_engine)
    with pg_engine.begin() as conn:
        conn.execute(text("TRUNCATE audit"))


def test_postgres_is_at_the_current_version(pg_engine):
    with pg_engine.connect() as conn:
        assert schema.schema_version(conn) == schema.SCHEMA_VERSION
