"""Protocols, typed models and the error tree for business systems.

One protocol per role: :class:`OrderService` (read orders), :class:`OrderCanceller`,
:class:`ShippingService`, :class:`ReturnService`, :class:`ReplacementService`, :class:`RefundService`,
:class:`InventoryService` and :class:`CustomerService`. :mod:`connectors.sql` and
:mod:`connectors.rest` implement all of them in one class each.

Every call carries the acting party (:class:`connectors.auth.Actor`). An order that does not exist
and an order that belongs to someone else raise the *same* :class:`OrderNotFound`, so a customer
cannot learn whether another customer's order exists. Writes take an ``idempotency_key``: a
retried write with the same key is applied once and returns the first result; the same key with a
different request raises :class:`IdempotencyConflict`. Errors::

    ConnectorError (engine.errors.ShopAssistError)
     ├── ConnectorUnavailable   down, timing out, locked, 5xx, malformed answer, circuit open
     ├── NotFound               missing *or* not the actor's (never tells which)
     │    ├── OrderNotFound
     │    ├── ReturnNotFound
     │    ├── ProductNotFound
     │    └── CustomerNotFound
     ├── InvalidRequest         a value of the wrong shape (caught before any query)
     │    ├── InvalidOrderId
     │    └── InvalidField      return/product/variant id, idempotency key, address, reason, limit
     ├── ActionRefused          a business rule says no (too late to cancel, outside the window)
     └── IdempotencyConflict    a key reused for a different request

Example:
    >>> from connectors.sql import SqlBackend
    >>> svc = SqlBackend("sqlite:///store.db")                        # doctest: +SKIP
    >>> svc.get_order(Actor.customer("C001"), "100023").status         # doctest: +SKIP
    'shipped'
    >>> svc.cancel_order(Actor.customer("C002"), "100031", idempotency_key="k-100031-1")  # doctest: +SKIP
    Cancellation(order_id='100031', status='cancelled', ...)
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from knowledge.kernel.errors import ShopAssistError

from .auth import Actor

__all__ = [
    # errors
    "ConnectorError",
    "ConnectorUnavailable",
    "NotFound",
    "OrderNotFound",
    "ReturnNotFound",
    "ProductNotFound",
    "CustomerNotFound",
    "InvalidRequest",
    "InvalidOrderId",
    "InvalidField",
    "ActionRefused",
    "IdempotencyConflict",
    # models
    "OrderItem",
    "ReturnLine",
    "ItemEligibility",
    "Shipment",
    "ReturnRecord",
    "Order",
    "Customer",
    "Cancellation",
    "ReturnEligibility",
    "RefundStatus",
    "StockLevel",
    "AddressChange",
    "ReplacementRequest",
    # protocols
    "OrderService",
    "OrderCanceller",
    "ShippingService",
    "ReturnService",
    "ReplacementService",
    "RefundService",
    "InventoryService",
    "CustomerService",
    "BusinessBackend",
    "WriteOutcome",
    "WriteLedger",
    # validation
    "ORDER_ID_RE",
    "DEFAULT_ORDER_ID_PATTERN",
    "order_id_regex",
    "validate_order_id",
    "validate_return_id",
    "validate_product_id",
    "validate_variant_id",
    "validate_idempotency_key",
    "validate_text",
    "validate_limit",
    "validate_return_lines",
]

DEFAULT_ORDER_ID_PATTERN = "[0-9]{6}"
ORDER_ID_RE = re.compile(r"^[0-9]{6}$")
_MAX_ORDER_ID = 40  # longer text is never an order id, whatever a store's pattern (bounds the match)
_RETURN_ID_RE = re.compile(r"^R[0-9]{4,10}$")
_PRODUCT_ID_RE = re.compile(r"^P[0-9]{3,8}$")
_VARIANT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_LIMIT = 100


# -- errors ---------------------------------------------------------------------------------------


class ConnectorError(ShopAssistError):
    """A business system could not answer."""


class ConnectorUnavailable(ConnectorError):
    """The system is down, timing out, locked or answering nonsense; the turn should hand off."""


class NotFound(ConnectorError):
    """Nothing of that id for this actor (missing or someone else's: the same error)."""


class OrderNotFound(NotFound):
    """No such order for this customer (missing or owned by someone else: same error)."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} not found for this customer")
        self.order_id = order_id


class ReturnNotFound(NotFound):
    """No such return for this customer (missing or someone else's)."""

    def __init__(self, return_id: str) -> None:
        super().__init__(f"return {return_id!r} not found for this customer")
        self.return_id = return_id


class ProductNotFound(NotFound):
    """No such product (or variant) in the inventory."""

    def __init__(self, product_id: str) -> None:
        super().__init__(f"product {product_id!r} not found")
        self.product_id = product_id


class CustomerNotFound(NotFound):
    """The acting party has no customer profile (anonymous, or unknown id)."""

    def __init__(self) -> None:
        super().__init__("no customer profile for this actor")


class InvalidRequest(ConnectorError):
    """A value has the wrong shape; nothing was queried."""


class InvalidOrderId(InvalidRequest):
    """The order id does not have the store's shape (six digits unless the store says otherwise)."""

    def __init__(self, order_id: str, shape: str = "six digits") -> None:
        super().__init__(f"order id {str(order_id)[:40]!r} is not {shape[:60]}")
        self.order_id = order_id


class InvalidField(InvalidRequest):
    """A field other than the order id has the wrong shape (the message is bounded)."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem[:80]}")
        self.field = field_name


class ActionRefused(ConnectorError):
    """A business rule refuses the write; ``reason`` is a stable code, e.g. ``already_shipped``."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(f"{action} refused: {reason}")
        self.action = action
        self.reason = reason


class IdempotencyConflict(ConnectorError):
    """The idempotency key was already used by this actor for a different request."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key[:40]!r} was used for a different request")
        self.key = key


# -- validation -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def order_id_regex(pattern: str | None = None) -> re.Pattern[str]:
    """The whole-id regex of a store's ``order_id_pattern`` (None: six digits), ASCII-only.

    ``\\d`` and ``\\w`` then match ASCII alone, so full-width or Arabic-Indic digits are never an id.

    Raises:
        ValueError: ``pattern`` is not a regular expression.
    """
    if pattern is None or pattern == DEFAULT_ORDER_ID_PATTERN:
        return ORDER_ID_RE
    try:
        return re.compile(f"^(?:{pattern})$", re.ASCII)
    except re.error as exc:
        raise ValueError(f"order_id_pattern {pattern!r} is not a regular expression: {exc}") from exc


def validate_order_id(order_id: str, pattern: str | None = None) -> str:
    """Return the order id stripped of spaces and a leading ``#`` (kept when the store's ``pattern``
    needs it, as Shopify's ``#1001`` may), or raise :class:`InvalidOrderId`.

    Args:
        order_id: the id as given.
        pattern: the store's ``order_id_pattern`` (a regex for the whole id; None: six digits).
    """
    raw = str(order_id).strip()
    if len(raw) <= _MAX_ORDER_ID:
        rx = order_id_regex(pattern)
        bare = raw.lstrip("#").strip()
        for candidate in (bare, raw):
            if rx.match(candidate):
                return candidate
    raise InvalidOrderId(str(order_id), "six digits" if pattern in (None, DEFAULT_ORDER_ID_PATTERN)
                         else f"in the store's order-id form ({pattern})")


def _match(rx: re.Pattern[str], value: object, name: str, shape: str) -> str:
    text = str(value).strip() if isinstance(value, str) else ""
    if not rx.match(text):
        raise InvalidField(name, f"{str(value)[:30]!r} is not {shape}")
    return text


def validate_return_id(return_id: str) -> str:
    """``R`` and 4–10 digits, or :class:`InvalidField`."""
    return _match(_RETURN_ID_RE, return_id, "return_id", "a return id (R + digits)")


def validate_product_id(product_id: str) -> str:
    """``P`` and 3–8 digits, or :class:`InvalidField`."""
    return _match(_PRODUCT_ID_RE, product_id, "product_id", "a product id (P + digits)")


def validate_variant_id(variant_id: str) -> str:
    """1–32 letters, digits, ``.``, ``_`` or ``-``, or :class:`InvalidField`."""
    return _match(_VARIANT_ID_RE, variant_id, "variant_id", "a variant id")


def validate_idempotency_key(key: str) -> str:
    """8–128 characters from ``A-Za-z0-9_.:-``, or :class:`InvalidField`."""
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY_RE.match(key):
        raise InvalidField("idempotency_key", "must be 8-128 characters of A-Z a-z 0-9 _ . : -")
    return key


def validate_text(name: str, value: object, *, max_chars: int = 500) -> str:
    """Free text (an address, a reason): non-empty, at most ``max_chars``, no control characters."""
    if not isinstance(value, str):
        raise InvalidField(name, "must be text")
    text = " ".join(value.split())
    if not text:
        raise InvalidField(name, "must not be empty")
    if len(text) > max_chars:
        raise InvalidField(name, f"longer than {max_chars} characters")
    if _CONTROL_RE.search(value):
        raise InvalidField(name, "contains control characters")
    return text


def validate_limit(limit: int) -> int:
    """1..100 (a ``ValueError`` too, so callers that expect one still get it)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
        raise _InvalidLimit(limit)
    return limit


_MAX_RETURN_LINES = 100
_MAX_QUANTITY = 9999


def validate_return_lines(items: object) -> tuple[ReturnLine, ...] | None:
    """The item lines of a return request (None: the whole order), or :class:`InvalidField`.

    Accepts :class:`ReturnLine` values, ``(product_id, quantity)`` pairs or ``{"product_id",
    "quantity"}`` mappings; the same product twice is one line with the quantities added.
    """
    if items is None:
        return None
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise InvalidField("items", "must be a list of {product_id, quantity}")
    merged: dict[str, int] = {}
    for raw in items:  # type: ignore[attr-defined]
        if isinstance(raw, ReturnLine):
            pid, qty = raw.product_id, raw.quantity
        elif isinstance(raw, dict):
            pid, qty = raw.get("product_id"), raw.get("quantity", 1)
        elif isinstance(raw, (tuple, list)) and len(raw) == 2:
            pid, qty = raw
        else:
            raise InvalidField("items", "each item must be {product_id, quantity}")
        if not isinstance(pid, str) or not pid.strip() or len(pid.strip()) > 32 or _CONTROL_RE.search(pid):
            raise InvalidField("items", f"{str(pid)[:30]!r} is not a product id")
        if isinstance(qty, bool) or not isinstance(qty, int) or not 0 < qty <= _MAX_QUANTITY:
            raise InvalidField("items", f"quantity must be a whole number 1..{_MAX_QUANTITY}, got {str(qty)[:12]}")
        merged[pid.strip()] = merged.get(pid.strip(), 0) + qty
        if len(merged) > _MAX_RETURN_LINES:
            raise InvalidField("items", f"more than {_MAX_RETURN_LINES} lines")
    if not merged:
        raise InvalidField("items", "must not be empty (leave it out to return the whole order)")
    return tuple(ReturnLine(pid, qty) for pid, qty in merged.items())


class _InvalidLimit(InvalidField, ValueError):
    def __init__(self, limit: object) -> None:
        super().__init__("limit", f"must be 1..{MAX_LIMIT}, got {str(limit)[:20]}")


# -- models ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderItem:
    """One line of an order: ``unit_price`` is what was paid for one unit (discounts taken off);
    ``delivered_at`` is set when the line was delivered apart from the order's shipment."""

    product_id: str
    name: str
    quantity: int
    unit_price: float
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class ReturnLine:
    """Units of one order line a return takes back; ``amount`` is what is (or will be) refunded
    for them in the order's currency (None when the request does not say, as in a request)."""

    product_id: str
    quantity: int = 1
    amount: float | None = None


@dataclass(frozen=True)
class ItemEligibility:
    """Whether one line of an order may be returned now (see :func:`knowledge.kernel.policies.item_verdicts`).

    ``reason``: ``eligible``, ``not_delivered``, ``window_expired``, ``return_exists`` (every unit is
    in an open return) or ``non_returnable``; ``quantity``: units that may still be returned.
    """

    product_id: str
    name: str
    quantity: int
    eligible: bool
    reason: str
    deadline: date | None = None
    days_left: int | None = None


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
    items: tuple[ReturnLine, ...] = ()  # empty: a return of the whole order (written before item lines)


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


@dataclass(frozen=True)
class Cancellation:
    """The result of :meth:`OrderCanceller.cancel_order`."""

    order_id: str
    status: Literal["cancelled"]
    cancelled_at: datetime


@dataclass(frozen=True)
class ReturnEligibility:
    """Whether an order may be returned now: eligible when at least one of its lines is.

    ``reason`` is one of ``eligible``, ``not_delivered``, ``window_expired``, ``return_exists``,
    ``non_returnable``; ``items`` holds the verdict of each line.
    """

    order_id: str
    eligible: bool
    reason: str
    deadline: date | None = None
    days_left: int | None = None
    items: tuple[ItemEligibility, ...] = ()


@dataclass(frozen=True)
class RefundStatus:
    """Where the refund of an order stands: ``none``, ``pending``, ``refunded`` or ``rejected``."""

    order_id: str
    state: Literal["none", "pending", "refunded", "rejected"]
    return_id: str | None = None
    amount: float | None = None
    currency: str | None = None
    refunded_at: datetime | None = None


@dataclass(frozen=True)
class StockLevel:
    """Units available of one variant (``default`` for products without variants)."""

    product_id: str
    variant_id: str
    available: int

    @property
    def in_stock(self) -> bool:
        return self.available > 0


@dataclass(frozen=True)
class AddressChange:
    """The result of :meth:`CustomerService.change_address` (``order_id`` None: the profile)."""

    customer_id: str
    address: str
    changed_at: datetime
    order_id: str | None = None


@dataclass(frozen=True)
class ReplacementRequest:
    """The result of :meth:`ReplacementService.request_replacement`: a request to send a new unit
    of a delivered item that arrived damaged or defective (status ``requested`` until the store
    acts on it)."""

    replacement_id: str
    order_id: str
    status: str  # requested | approved | shipped | rejected
    reason: str
    created_at: datetime


# -- protocols ------------------------------------------------------------------------------------


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


@runtime_checkable
class OrderCanceller(Protocol):
    """Cancels orders that have not shipped yet."""

    def cancel_order(self, actor: Actor, order_id: str, *, idempotency_key: str) -> Cancellation:
        """Cancel a ``processing`` order, or raise ActionRefused (``already_<status>``)."""
        ...


@runtime_checkable
class ShippingService(Protocol):
    def track_shipment(self, actor: Actor, order_id: str) -> Shipment | None:
        """The order's shipment (None before it ships), or OrderNotFound."""
        ...


@runtime_checkable
class ReturnService(Protocol):
    def check_return(self, actor: Actor, order_id: str) -> ReturnEligibility:
        """Whether the order may be returned today."""
        ...

    def create_return(self, actor: Actor, order_id: str, reason: str, *, idempotency_key: str,
                      items: Sequence[ReturnLine] | None = None) -> ReturnRecord:
        """Open a return (status ``requested``) of ``items`` (None: every line that may still be
        returned), or raise ActionRefused with the eligibility reason (of the first line that may
        not be, or ``quantity_exceeds`` when more units are asked than may still be returned).
        The record's lines carry the amount each will refund. One order may have several returns
        over time; the idempotency key covers the lines."""
        ...

    def get_return(self, actor: Actor, return_id: str) -> ReturnRecord:
        """One of the actor's returns, or ReturnNotFound."""
        ...


@runtime_checkable
class ReplacementService(Protocol):
    def request_replacement(self, actor: Actor, order_id: str, reason: str, *,
                            idempotency_key: str) -> ReplacementRequest:
        """Record a replacement request for a delivered order inside the return window, or raise
        ActionRefused (``not_delivered``, ``window_expired``, ``return_exists``, ``replacement_exists``)."""
        ...


@runtime_checkable
class RefundService(Protocol):
    def get_refund(self, actor: Actor, order_id: str) -> RefundStatus:
        """Where the order's refund stands."""
        ...


@runtime_checkable
class InventoryService(Protocol):
    def get_stock(self, actor: Actor, product_id: str, variant_id: str | None = None) -> list[StockLevel]:
        """Stock per variant of a product (one variant when given), or ProductNotFound."""
        ...


@runtime_checkable
class CustomerService(Protocol):
    def get_customer(self, actor: Actor) -> Customer | None:
        """The actor's own profile, or None."""
        ...

    def change_address(
        self, actor: Actor, address: str, *, idempotency_key: str, order_id: str | None = None
    ) -> AddressChange:
        """Change the profile address, or one ``processing`` order's shipping address."""
        ...


@dataclass(frozen=True)
class WriteOutcome:
    """What a write with one idempotency key did, as the business system recorded it.

    ``action``: ``cancel_order`` | ``create_return`` | ``change_address`` | ``request_replacement``;
    ``result``: the write's result as the wire carries it (the :class:`Cancellation`,
    :class:`ReturnRecord`, :class:`AddressChange` or :class:`ReplacementRequest` fields).
    """

    action: str
    result: dict[str, Any]


@runtime_checkable
class WriteLedger(Protocol):
    def write_outcome(self, actor: Actor, idempotency_key: str) -> WriteOutcome | None:
        """The outcome of the actor's write with this key, or None when no such write happened.

        A conversation asks this when it cannot know whether its last write went through (the
        turn that wrote was not recorded): the business system's record is the truth.
        """
        ...


@runtime_checkable
class BusinessBackend(
    OrderService, OrderCanceller, ShippingService, ReturnService, ReplacementService, RefundService,
    InventoryService, CustomerService, Protocol,
):
    """Everything at once: what :mod:`connectors.sql` and :mod:`connectors.rest` implement."""

    def close(self) -> None:
        """Release connections (idempotent)."""
        ...
