"""Store policies every layer applies the same way: the return window, per order and per item,
and what a return refunds.

The business system refuses a return it should not open, the engine's return and replacement
flows explain why before asking anything, and the Rasa return form turns an ineligible order
away: all three ask this module, so the rule cannot drift between them. The rule is per line of
the order: a line may be returned when it was delivered (its own delivery, else the order's
shipment), at most ``window_days`` after that delivery (the last day included), its category is
not one the store marks non-returnable, and some of its units are not already in an open (not
rejected) return. A return without item lines (written before returns carried them) takes back
the whole order. An order may be returned when at least one line may.

Money: a line refunds what was paid for it (``unit_price`` times the units, with an order-level
discount shared out when the order's total is below the sum of its lines); shipping is not
refunded unless the store says so. It reads orders by duck typing (``status``, ``delivered_at``,
``items``, ``total``, ``returns`` with ``status`` and ``items`` each), since the kernel imports
nothing of the connectors.

Example:
    >>> from datetime import date, datetime
    >>> return_deadline(datetime(2025, 3, 21, 15, 0), 30)
    datetime.date(2025, 4, 20)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import timedelta
from typing import Any, Literal

__all__ = ["ReturnVerdict", "ItemVerdict", "return_deadline", "return_verdict", "item_verdicts",
           "returned_quantities", "line_refund", "order_lines_total", "shipping_paid"]

ReturnReason = Literal["eligible", "not_delivered", "window_expired", "return_exists", "non_returnable", "opened"]
_OPEN_DELIVERED = ("delivered", "returned")  # order statuses whose shipment delivered every line


@dataclass(frozen=True)
class ReturnVerdict:
    """Whether an order may be returned (or an item of it replaced) today, and why not.

    Attributes:
        eligible: True when a return may be opened now (for at least one line).
        reason: ``eligible``, ``not_delivered``, ``window_expired``, ``return_exists``, ``non_returnable``
            or ``opened`` (a line the customer opened or used, which the store takes back only sealed).
        deadline: the last day a return is accepted (None before delivery); the latest of the
            eligible lines' when some are.
        days_left: whole days until the deadline (0 on the last day and after it).
        open_return: the open return that blocks a new one (``return_exists``), else None.
        items: the verdict of each line (empty for an order without lines).
    """

    eligible: bool
    reason: ReturnReason
    deadline: date | None = None
    days_left: int | None = None
    open_return: Any = None
    items: tuple["ItemVerdict", ...] = ()


@dataclass(frozen=True)
class ItemVerdict:
    """Whether one line of an order may be returned today.

    Attributes:
        product_id, name: the line's product.
        ordered: units ordered; ``returnable``: units not already in an open return.
        eligible, reason: as :class:`ReturnVerdict`, for this line.
        deadline, days_left: counted from this line's delivery.
    """

    product_id: str
    name: str
    ordered: int
    returnable: int
    eligible: bool
    reason: ReturnReason
    deadline: date | None = None
    days_left: int | None = None


def return_deadline(delivered_at: date | datetime, window_days: int) -> date:
    """The last day a return is accepted: ``window_days`` after the delivery day."""
    if window_days <= 0:
        raise ValueError(f"window_days must be > 0, got {window_days}")
    day = delivered_at.date() if isinstance(delivered_at, datetime) else delivered_at
    return day + timedelta(days=window_days)


def returned_quantities(order: Any, *, statuses: tuple[str, ...] | None = None) -> dict[str, int] | None:
    """Units per product in the order's returns that are not rejected (or whose status is in
    ``statuses``); None when one of them takes back the whole order (it has no item lines)."""
    taken: dict[str, int] = {}
    for r in getattr(order, "returns", ()) or ():
        if (r.status == "rejected") if statuses is None else (r.status not in statuses):
            continue
        lines = getattr(r, "items", ()) or ()
        if not lines:
            return None
        for line in lines:
            taken[line.product_id] = taken.get(line.product_id, 0) + int(line.quantity)
    return taken


def _line_delivery(order: Any, item: Any) -> datetime | date | None:
    own = getattr(item, "delivered_at", None)
    if own is not None:
        return own
    return order.delivered_at if order.status in _OPEN_DELIVERED else None


def item_verdicts(order: Any, today: date, window_days: int,
                  non_returnable: Callable[[str], bool] | None = None,
                  opened: Callable[[str], bool] | None = None) -> tuple[ItemVerdict, ...]:
    """The return rule for each line of ``order`` (see the module docstring).

    Args:
        order: anything with ``status``, ``delivered_at``, ``items`` and ``returns``.
        today: the day to judge on (the store's clock).
        window_days: days after delivery a return is accepted.
        non_returnable: product id -> True when the store does not take it back (its category
            or the catalog's ``returnable`` flag); None: every product may be returned.
        opened: product id -> True when the customer says it was opened or used and the store
            takes it back only unopened (``sealed_only_categories``); None: nothing of that.
    """
    taken = returned_quantities(order)
    out = []
    for item in getattr(order, "items", ()) or ():
        ordered = int(item.quantity)
        left = 0 if taken is None else max(0, ordered - taken.get(item.product_id, 0))
        delivered = _line_delivery(order, item)
        deadline = return_deadline(delivered, window_days) if delivered is not None else None
        days_left = max(0, (deadline - today).days) if deadline is not None else None
        if left == 0:
            reason: ReturnReason = "return_exists"
        elif delivered is None:
            reason = "not_delivered"
        elif (deadline - today).days < 0:  # type: ignore[operator]
            reason = "window_expired"
        elif non_returnable is not None and non_returnable(item.product_id):
            reason = "non_returnable"
        elif opened is not None and opened(item.product_id):
            reason = "opened"
        else:
            reason = "eligible"
        out.append(ItemVerdict(item.product_id, item.name, ordered, left, reason == "eligible", reason,
                               deadline, days_left))
    return tuple(out)


def return_verdict(order: Any, today: date, window_days: int,
                   non_returnable: Callable[[str], bool] | None = None) -> ReturnVerdict:
    """The return rule for the whole order: eligible when at least one line is.

    Without eligible lines the reason is ``return_exists`` when open returns hold every line's
    units (the latest open return given), else the first other line's reason (an order without
    lines: delivered, no open return, inside the window).

    Args:
        order: anything with ``status``, ``delivered_at`` and ``returns`` (connectors.base.Order).
        today: the day to judge on (the store's clock).
        window_days: days after delivery a return is accepted.
        non_returnable: as :func:`item_verdicts`.
    """
    open_returns = [r for r in getattr(order, "returns", ()) or () if r.status != "rejected"]
    items = item_verdicts(order, today, window_days, non_returnable)
    if not items:
        return _whole_order(order, today, window_days, open_returns)
    eligible = [v for v in items if v.eligible]
    if eligible:
        last = max(eligible, key=lambda v: v.deadline or date.min)
        return ReturnVerdict(True, "eligible", last.deadline, last.days_left, items=items)
    if open_returns and all(v.reason == "return_exists" for v in items):
        # (every line is in a return already; a line outside one says its own reason: "returned the
        # charger, the sneakers are past the window" is about the window, not the charger's return)
        return ReturnVerdict(False, "return_exists", open_return=open_returns[-1], items=items)
    first = next((v for v in items if v.reason != "return_exists"), items[0])
    latest = max((v.deadline for v in items if v.deadline is not None), default=None)
    days_left = None if latest is None else max(0, (latest - today).days)
    return ReturnVerdict(False, first.reason, latest, days_left, items=items)


def _whole_order(order: Any, today: date, window_days: int, open_returns: list) -> ReturnVerdict:
    if open_returns:
        return ReturnVerdict(False, "return_exists", open_return=open_returns[-1])
    delivered = order.delivered_at
    if order.status != "delivered" or delivered is None:
        return ReturnVerdict(False, "not_delivered")
    deadline = return_deadline(delivered, window_days)
    days_left = (deadline - today).days
    if days_left < 0:
        return ReturnVerdict(False, "window_expired", deadline, 0)
    return ReturnVerdict(True, "eligible", deadline, days_left)


def order_lines_total(order: Any) -> float:
    """The sum of the order's lines (unit price times units)."""
    return round(sum(float(i.unit_price) * int(i.quantity) for i in getattr(order, "items", ()) or ()), 2)


def shipping_paid(order: Any) -> float:
    """What the order paid on top of its lines (shipping, fees): 0 when the total holds nothing more."""
    return max(0.0, round(float(order.total) - order_lines_total(order), 2))


def line_refund(order: Any, product_id: str, quantity: int) -> float:
    """What returning ``quantity`` units of the line ``product_id`` refunds: what was paid for them,
    with an order-level discount (a total below the sum of the lines) shared out by value.

    Raises:
        KeyError: the order has no such line.
    """
    item = next((i for i in getattr(order, "items", ()) or () if i.product_id == product_id), None)
    if item is None:
        raise KeyError(product_id)
    paid = float(item.unit_price) * int(quantity)
    lines = order_lines_total(order)
    if lines > 0 and float(order.total) < lines:
        paid *= float(order.total) / lines
    return round(paid, 2)
