"""Protocols and typed models for business systems (orders, shipments, returns, customers).

Every call carries the acting customer (:class:`connectors.auth.Actor`). An order that does not
exist and an order that belongs to someone else raise the *same* :class:`OrderNotFound`, so a
customer cannot learn whether another customer's order exists.

Example:
    >>> from connectors.sql import SqlOrderService
    >>> svc = SqlOrderService("sqlite:///store.db")          # doctest: +SKIP
    >>> svc.get_order(Actor.customer("C001"), "100023").status  # doctest: +SKIP
    'shipped'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from engine.errors import ShopAssistError

from .auth import Actor

__all__ = [
    "ConnectorError",
    "ConnectorUnavailable",
    "OrderNotFound",
    "InvalidOrderId",
    "OrderItem",
    "Shipment",
    "ReturnRecord",
    "Order",
    "Customer",
    "OrderService",
    "ORDER_ID_RE",
    "validate_order_id",
]

ORDER_ID_RE = re.compile(r"^\d{6}$")


class ConnectorError(ShopAssistError):
    """A business system could not answer."""


class ConnectorUnavailable(ConnectorError):
    """The system is down, timing out or locked; the turn should hand off."""


class OrderNotFound(ConnectorError):
    """No such order for this customer (missing or owned by someone else: same error)."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} not found for this customer")
        self.order_id = order_id


class InvalidOrderId(ConnectorError):
    """The order id does not have the store's shape (six digits)."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order id {order_id[:40]!r} is not six digits")
        self.order_id = order_id


def validate_order_id(order_id: str) -> str:
    """Return the order id stripped of ``#`` and spaces, or raise :class:`InvalidOrderId`."""
    cleaned = str(order_id).strip().lstrip("#").strip()
    if not ORDER_ID_RE.match(cleaned):
        raise InvalidOrderId(str(order_id))
    return cleaned


@dataclass(frozen=True)
class OrderItem:
    product_id: str
    name: str
    quantity: int
    unit_price: float


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str
    status: str  # label_created | in_transit | out_for_delivery | delivered
    shipped_at: datetime | None = None
    estimated_delivery: date | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class ReturnRecord:
    return_id: str
    order_id: str
    status: str  # requested | approved | received | refunded | rejected
    reason: str
    created_at: datetime
    refund_amount: float | None = None
    refunded_at: datetime | None = None


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    status: str  # processing | shipped | delivered | cancelled | returned
    placed_at: datetime
    total: float
    currency: str
    items: tuple[OrderItem, ...] = ()
    shipment: Shipment | None = None
    returns: tuple[ReturnRecord, ...] = field(default_factory=tuple)

    @property
    def delivered_at(self) -> datetime | None:
        return self.shipment.delivered_at if self.shipment else None


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    email: str
    phone: str
    address: str


@runtime_checkable
class OrderService(Protocol):
    """Read access to orders for the acting customer."""

    def get_order(self, actor: Actor, order_id: str) -> Order:
        """Return the order, or raise OrderNotFound / InvalidOrderId / ConnectorUnavailable."""
        ...

    def list_orders(self, actor: Actor, limit: int = 5) -> list[Order]:
        """The actor's most recent orders, newest first."""
        ...

    def get_customer(self, actor: Actor) -> Customer | None:
        """The actor's own profile, or None for an unknown customer."""
        ...
