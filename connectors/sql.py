"""Order, shipment and return reads over SQL (SQLAlchemy 2 Core): SQLite for the demo store.

Every query is parametrised and scoped to the acting customer in SQL itself, so another
customer's order is never even read; a missing and a foreign order raise the same
:class:`OrderNotFound`. Database failures become :class:`ConnectorUnavailable`.

Example:
    >>> svc = SqlOrderService("sqlite:///store.db")                       # doctest: +SKIP
    >>> svc.get_order(Actor.customer("C001"), "100023").shipment.carrier   # doctest: +SKIP
    'UPS'
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.exc import SQLAlchemyError

from .auth import Actor
from .base import (
    ConnectorUnavailable,
    Customer,
    Order,
    OrderItem,
    OrderNotFound,
    ReturnRecord,
    Shipment,
    validate_order_id,
)
from .schema import customers, order_items, orders, returns, shipments

__all__ = ["SqlOrderService"]


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


class SqlOrderService:
    """:class:`connectors.base.OrderService` over a SQL database.

    Args:
        url: an SQLAlchemy URL (``sqlite:///path/store.db``, ``postgresql+psycopg://...``).
        timeout_s: how long to wait for a locked database before giving up.
    """

    def __init__(self, url: str, *, timeout_s: float = 2.0) -> None:
        if not url:
            raise ValueError("url must be a database URL")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.url = url
        connect_args = {"timeout": timeout_s, "check_same_thread": False} if url.startswith("sqlite") else {}
        self._engine: SAEngine = create_engine(url, connect_args=connect_args)
        if url.startswith("sqlite"):

            @event.listens_for(self._engine, "connect")
            def _pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
                dbapi_conn.execute("PRAGMA foreign_keys=ON")

    def _check(self, actor: Actor) -> str | None:
        """The customer id to filter on (None for an agent), or raise OrderNotFound later."""
        if actor.role == "agent":
            return None
        return actor.customer_id

    def get_order(self, actor: Actor, order_id: str) -> Order:
        oid = validate_order_id(order_id)
        if actor.role == "anonymous":
            raise OrderNotFound(oid)
        owner = self._check(actor)
        stmt = select(orders).where(orders.c.order_id == oid)
        if owner is not None:
            stmt = stmt.where(orders.c.customer_id == owner)
        try:
            with self._engine.connect() as conn:
                row = conn.execute(stmt).mappings().first()
                if row is None:
                    raise OrderNotFound(oid)
                return self._load(conn, row)
        except SQLAlchemyError as exc:
            raise ConnectorUnavailable(f"order database unavailable: {type(exc).__name__}") from exc

    def list_orders(self, actor: Actor, limit: int = 5) -> list[Order]:
        if limit <= 0:
            raise ValueError(f"limit must be > 0, got {limit}")
        if actor.role != "customer":
            return []
        stmt = (
            select(orders)
            .where(orders.c.customer_id == actor.customer_id)
            .order_by(orders.c.placed_at.desc(), orders.c.order_id.desc())
            .limit(limit)
        )
        try:
            with self._engine.connect() as conn:
                return [self._load(conn, row) for row in conn.execute(stmt).mappings().all()]
        except SQLAlchemyError as exc:
            raise ConnectorUnavailable(f"order database unavailable: {type(exc).__name__}") from exc

    def get_customer(self, actor: Actor) -> Customer | None:
        if actor.role != "customer":
            return None
        stmt = select(customers).where(customers.c.customer_id == actor.customer_id)
        try:
            with self._engine.connect() as conn:
                row = conn.execute(stmt).mappings().first()
        except SQLAlchemyError as exc:
            raise ConnectorUnavailable(f"customer database unavailable: {type(exc).__name__}") from exc
        if row is None:
            return None
        return Customer(
            customer_id=row["customer_id"],
            name=row["name"],
            email=row["email"],
            phone=row["phone"],
            address=row["address"],
        )

    def _load(self, conn, row) -> Order:
        oid = row["order_id"]
        items = tuple(
            OrderItem(r["product_id"], r["name"], int(r["quantity"]), float(r["unit_price"]))
            for r in conn.execute(
                select(order_items).where(order_items.c.order_id == oid).order_by(order_items.c.id)
            ).mappings()
        )
        ship_row = conn.execute(select(shipments).where(shipments.c.order_id == oid)).mappings().first()
        shipment = (
            Shipment(
                carrier=ship_row["carrier"],
                tracking_number=ship_row["tracking_number"],
                status=ship_row["status"],
                shipped_at=_dt(ship_row["shipped_at"]),
                estimated_delivery=_d(ship_row["estimated_delivery"]),
                delivered_at=_dt(ship_row["delivered_at"]),
            )
            if ship_row
            else None
        )
        rets = tuple(
            ReturnRecord(
                return_id=r["return_id"],
                order_id=oid,
                status=r["status"],
                reason=r["reason"],
                created_at=_dt(r["created_at"]),
                refund_amount=r["refund_amount"],
                refunded_at=_dt(r["refunded_at"]),
            )
            for r in conn.execute(
                select(returns).where(returns.c.order_id == oid).order_by(returns.c.created_at)
            ).mappings()
        )
        return Order(
            order_id=oid,
            customer_id=row["customer_id"],
            status=row["status"],
            placed_at=_dt(row["placed_at"]),
            total=float(row["total"]),
            currency=row["currency"],
            items=items,
            shipment=shipment,
            returns=rets,
        )
