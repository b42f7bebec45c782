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
    assert schema.create_or_migrate(engine) == schema.SCHEMA_VERSION == 4
    assert set(inspect(engine).get_table_names()) == {t.name for t in schema.metadata.sorted_tables}
    with engine.connect() as conn:
        assert schema.schema_version(conn) == 4
    assert schema.create_or_migrate(engine) == 4  # idempotent


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
    assert backend.migrate() == 4 and backend.schema_version() == 4
    assert {"inventory", "audit", "idempotency", "replacements"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM customers")).scalar_one() == "A"


def test_migrate_a_version_2_database_adds_the_replacements_table(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'v2.db'}")
    schema.metadata.create_all(engine, tables=[t for t in schema.metadata.sorted_tables if t.name != "replacements"])
    with engine.begin() as conn:
        conn.execute(schema.meta.insert(), [{"key": "schema_version", "value": "2"}])
    backend = SqlBackend(f"sqlite:///{tmp_path / 'v2.db'}")
    assert backend.migrate() == 4 and "replacements" in inspect(engine).get_table_names()


def _version_3_database(path):
    """An order database as shopassist wrote it at schema version 3: no return_items table, no
    ``order_items.delivered_at``, one delivered order of two lines with a whole-order return."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for ddl in (
            "CREATE TABLE meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE customers (customer_id VARCHAR(16) PRIMARY KEY, name VARCHAR(120) NOT NULL, email "
            "VARCHAR(200) NOT NULL, phone VARCHAR(40) NOT NULL, address TEXT NOT NULL, language VARCHAR(8) NOT NULL, "
            "created_at VARCHAR(32) NOT NULL)",
            "CREATE TABLE orders (order_id VARCHAR(16) PRIMARY KEY, customer_id VARCHAR(16) NOT NULL, status "
            "VARCHAR(24) NOT NULL, placed_at VARCHAR(32) NOT NULL, total FLOAT NOT NULL, currency VARCHAR(8) NOT NULL, "
            "shipping_address TEXT NOT NULL)",
            "CREATE TABLE order_items (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id VARCHAR(16) NOT NULL, "
            "product_id VARCHAR(32) NOT NULL, name VARCHAR(200) NOT NULL, quantity INTEGER NOT NULL, "
            "unit_price FLOAT NOT NULL)",
            "CREATE TABLE shipments (order_id VARCHAR(16) PRIMARY KEY, carrier VARCHAR(40) NOT NULL, tracking_number "
            "VARCHAR(64) NOT NULL, status VARCHAR(24) NOT NULL, shipped_at VARCHAR(32), estimated_delivery "
            "VARCHAR(16), delivered_at VARCHAR(32))",
            "CREATE TABLE returns (return_id VARCHAR(16) PRIMARY KEY, order_id VARCHAR(16) NOT NULL, status "
            "VARCHAR(24) NOT NULL, reason TEXT NOT NULL, created_at VARCHAR(32) NOT NULL, refund_amount FLOAT, "
            "refunded_at VARCHAR(32))",
        ):
            conn.execute(text(ddl))
        conn.execute(text("INSERT INTO meta VALUES ('schema_version', '3')"))
        conn.execute(text("INSERT INTO customers VALUES ('C001', 'A', 'a@x.io', '1', 'x', 'en', '2025-01-01')"))
        conn.execute(text("INSERT INTO orders VALUES ('100001', 'C001', 'delivered', '2025-01-01T10:00:00+00:00', "
                          "60.0, 'USD', 'x')"))
        conn.execute(text("INSERT INTO order_items (order_id, product_id, name, quantity, unit_price) VALUES "
                          "('100001', 'P1001', 'Lamp', 1, 40.0), ('100001', 'P1002', 'Shade', 1, 20.0)"))
        conn.execute(text("INSERT INTO shipments VALUES ('100001', 'UPS', '1Z', 'delivered', "
                          "'2025-01-02T10:00:00+00:00', '2025-01-04', '2025-01-03T10:00:00+00:00')"))
        conn.execute(text("INSERT INTO returns VALUES ('R10001', '100001', 'requested', 'x', "
                          "'2025-01-05T10:00:00+00:00', NULL, NULL)"))
    return engine


def test_migrate_a_version_3_database_adds_item_lines_and_keeps_whole_order_returns(tmp_path):
    from datetime import datetime, timezone

    from connectors.auth import Actor

    engine = _version_3_database(tmp_path / "v3.db")
    backend = SqlBackend(f"sqlite:///{tmp_path / 'v3.db'}",
                         now=lambda: datetime(2025, 1, 10, tzinfo=timezone.utc))
    assert backend.migrate() == 4 and backend.schema_version() == 4
    assert "return_items" in inspect(engine).get_table_names()
    assert "delivered_at" in {c["name"] for c in inspect(engine).get_columns("order_items")}
    order = backend.get_order(Actor.customer("C001"), "100001")
    assert [i.name for i in order.items] == ["Lamp", "Shade"] and order.returns[0].items == ()
    # a return written before item lines took back the whole order: nothing is left to return
    assert backend.check_return(Actor.customer("C001"), "100001").reason == "return_exists"


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
