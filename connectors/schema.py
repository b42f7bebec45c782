"""SQL schema of the store's business data (customers, orders, items, shipments, returns).

Defined once with SQLAlchemy Core; the demo generator writes through it and
:mod:`connectors.sql` reads through it. Timestamps are ISO-8601 UTC strings so that the SQLite
file stays readable with any tool.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "SCHEMA_VERSION",
    "metadata",
    "meta",
    "customers",
    "orders",
    "order_items",
    "shipments",
    "returns",
]

SCHEMA_VERSION = 1

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
    Column("unit_price", Float, nullable=False),
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
