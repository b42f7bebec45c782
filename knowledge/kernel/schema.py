"""SQL schema of the store's business data, its version, and create/migrate.

Tables: customers, orders, order_items (each line with its own delivery day when it came apart
from the order's shipment), shipments, returns, return_items (which lines and how many units each
return takes back, with the amount refunded for them), replacements (requests for a new unit
of a damaged or defective item), inventory (stock per product variant),
audit (append-only: who did what, when, with which idempotency key) and idempotency (the stored
result of every applied write, per acting party and key). Defined once with SQLAlchemy Core; the
demo generator writes through it and :mod:`connectors.sql` reads and writes through it. Timestamps
are ISO-8601 UTC strings so that the SQLite file stays readable with any tool. The ``meta`` table
holds ``schema_version``; :func:`create_or_migrate` brings any older database up to
:data:`SCHEMA_VERSION` and refuses a newer one. The audit table is append-only in the database
itself (a trigger rejects UPDATE and DELETE on SQLite and PostgreSQL).

History:
    1. customers, orders, order_items, shipments, returns.
    2. inventory, audit, idempotency.
    3. replacements.
    4. return_items; ``order_items.delivered_at`` (a line delivered apart from its order's shipment).
       A return without item rows (written before version 4) takes back the whole order.

Example:
    >>> from sqlalchemy import create_engine
    >>> create_or_migrate(create_engine("sqlite://"))
    4
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, Engine

__all__ = [
    "SCHEMA_VERSION",
    "metadata",
    "meta",
    "customers",
    "orders",
    "order_items",
    "shipments",
    "returns",
    "return_items",
    "replacements",
    "inventory",
    "audit",
    "idempotency",
    "SchemaTooNew",
    "create_or_migrate",
    "schema_version",
    "copy_rows",
]

SCHEMA_VERSION = 4

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(16), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("email", String(200), nullable=False),
    Column("phone", String(40), nullable=False),
    Column("address", Text, nullable=False),
    Column("language", String(8), nullable=False, default="en"),
    Column("created_at", String(32), nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(16), primary_key=True),
    Column("customer_id", String(16), ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("status", String(24), nullable=False),  # processing|shipped|delivered|cancelled|returned
    Column("placed_at", String(32), nullable=False),
    Column("total", Float, nullable=False),
    Column("currency", String(8), nullable=False),
    Column("shipping_address", Text, nullable=False),
)

order_items = Table(
    "order_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(16), ForeignKey("orders.order_id"), nullable=False, index=True),
    Column("product_id", String(32), nullable=False),
    Column("name", String(200), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Float, nullable=False),  # what was paid for one unit, discounts taken off
    Column("delivered_at", String(32)),  # None: delivered with the order's shipment (schema 4)
)

shipments = Table(
    "shipments",
    metadata,
    Column("order_id", String(16), ForeignKey("orders.order_id"), primary_key=True),
    Column("carrier", String(40), nullable=False),
    Column("tracking_number", String(64), nullable=False),
    Column("status", String(24), nullable=False),  # label_created|in_transit|out_for_delivery|delivered
    Column("shipped_at", String(32)),
    Column("estimated_delivery", String(16)),
    Column("delivered_at", String(32)),
)

returns = Table(
    "returns",
    metadata,
    Column("return_id", String(16), primary_key=True),
    Column("order_id", String(16), ForeignKey("orders.order_id"), nullable=False, index=True),
    Column("status", String(24), nullable=False),  # requested|approved|received|refunded|rejected
    Column("reason", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("refund_amount", Float),
    Column("refunded_at", String(32)),
)

return_items = Table(
    "return_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("return_id", String(16), ForeignKey("returns.return_id"), nullable=False, index=True),
    Column("product_id", String(32), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("amount", Float),  # what is (or will be) refunded for these units, in the order's currency
)

replacements = Table(
    "replacements",
    metadata,
    Column("replacement_id", String(16), primary_key=True),
    Column("order_id", String(16), ForeignKey("orders.order_id"), nullable=False, index=True),
    Column("status", String(24), nullable=False),  # requested|approved|shipped|rejected
    Column("reason", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

inventory = Table(
    "inventory",
    metadata,
    Column("product_id", String(32), nullable=False),
    Column("variant_id", String(32), nullable=False),  # "default" for products without variants
    Column("available", Integer, nullable=False),
    Column("updated_at", String(32), nullable=False),
    PrimaryKeyConstraint("product_id", "variant_id"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("actor_id", String(16)),
    Column("action", String(32), nullable=False),  # cancel_order | create_return | change_address | ...
    Column("target", String(32), nullable=False),  # order id, or customer id for a profile change
    Column("idempotency_key", String(128), nullable=False),
    Column("detail", Text, nullable=False),  # JSON: the request and the result
)

idempotency = Table(
    "idempotency",
    metadata,
    Column("scope", String(40), nullable=False),  # "customer:C001" | "agent:"
    Column("key", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # sha256 of the request
    Column("result", Text),  # JSON of the first result
    Column("created_at", String(32), nullable=False),
    PrimaryKeyConstraint("scope", "key"),
)

_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER IF NOT EXISTS audit_no_{op} BEFORE {OP} ON audit "
    "BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END"
)
_PG_APPEND_ONLY = [
    "CREATE OR REPLACE FUNCTION shopassist_audit_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit is append-only'; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS audit_append_only ON audit",
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION shopassist_audit_append_only()",
]
for _op in ("update", "delete"):
    event.listen(audit, "after_create",
                 DDL(_SQLITE_APPEND_ONLY.format(op=_op, OP=_op.upper())).execute_if(dialect="sqlite"))
for _stmt in _PG_APPEND_ONLY:
    event.listen(audit, "after_create", DDL(_stmt).execute_if(dialect="postgresql"))


class SchemaTooNew(RuntimeError):
    """The database was written by a newer shopassist (its schema version is higher than ours)."""


def schema_version(conn: Connection) -> int:
    """The database's schema version: 0 when it has no ``meta`` table (an empty database)."""
    if not inspect(conn).has_table("meta"):
        return 0
    value = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
    return int(value) if value is not None else 0


def create_or_migrate(engine: Engine) -> int:
    """Create every missing table and record :data:`SCHEMA_VERSION`; returns the version.

    ``create_all`` (which skips existing tables) adds the tables of every step; version 4 also adds
    ``order_items.delivered_at`` to an older database (``ALTER TABLE``, the same on SQLite and
    PostgreSQL). Runs in one transaction.

    Raises:
        SchemaTooNew: the database is newer than this code.
    """
    with engine.begin() as conn:
        found = schema_version(conn)
        if found > SCHEMA_VERSION:
            raise SchemaTooNew(f"database schema version {found} is newer than {SCHEMA_VERSION}")
        if found == SCHEMA_VERSION:
            return found
        metadata.create_all(conn)
        if 0 < found < 4:
            columns = {c["name"] for c in inspect(conn).get_columns("order_items")}
            if "delivered_at" not in columns:
                conn.exec_driver_sql("ALTER TABLE order_items ADD COLUMN delivered_at VARCHAR(32)")
        if found == 0:
            conn.execute(meta.insert(), [{"key": "schema_version", "value": str(SCHEMA_VERSION)}])
        else:
            conn.execute(meta.update().where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))
    return SCHEMA_VERSION


def copy_rows(source: Engine, target: Engine) -> dict[str, int]:
    """Copy every business row from ``source`` into an empty, migrated ``target`` (e.g. SQLite
    demo store into PostgreSQL); ``meta`` is not copied. Returns rows copied per table."""
    counts: dict[str, int] = {}
    with source.connect() as src, target.begin() as dst:
        for table in (customers, orders, order_items, shipments, returns, return_items, replacements, inventory,
                      audit, idempotency):
            rows = [dict(r) for r in src.execute(select(table)).mappings()]
            if rows:
                dst.execute(table.insert(), rows)
            counts[table.name] = len(rows)
        if target.dialect.name == "postgresql":  # keep serial columns ahead of the copied ids
            for table in (order_items, return_items, audit):
                dst.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                )
    return counts
