"""Store policies every layer applies the same way; today: the return window.

The business system refuses a return it should not open, the engine's return and replacement
flows explain why before asking anything, and the Rasa return form turns an ineligible order
away: all three ask this module, so the rule (delivered, no open return, at most ``window_days``
after delivery, the last day included) cannot drift between them. It reads orders by duck typing
(``status``, ``delivered_at``, ``returns`` with a ``status`` each), since the kernel imports
nothing of the connectors.

Example:
    >>> from datetime import date, datetime
    >>> return_deadline(datetime(2025, 3, 21, 15, 0), 30)
    datetime.date(2025, 4, 20)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from datetime import timedelta
from typing import Any, Literal

__all__ = ["ReturnVerdict", "return_deadline", "return_verdict"]

ReturnReason = Literal["eligible", "not_delivered", "window_expired", "return_exists"]


@dataclass(frozen=True)
class ReturnVerdict:
    """Whether an order may be returned (or an item of it replaced) today, and why not.

    Attributes:
        eligible: True when a return may be opened now.
        reason: ``eligible``, ``not_delivered``, ``window_expired`` or ``return_exists``.
        deadline: the last day a return is accepted (None before delivery).
        days_left: whole days until the deadline (0 on the last day and after it).
        open_return: the open return that blocks a new one (``return_exists``), else None.
    """

    eligible: bool
    reason: ReturnReason
    deadline: date | None = None
    days_left: int | None = None
    open_return: Any = None


def return_deadline(delivered_at: date | datetime, window_days: int) -> date:
    """The last day a return is accepted: ``window_days`` after the delivery day."""
    if window_days <= 0:
        raise ValueError(f"window_days must be > 0, got {window_days}")
    day = delivered_at.date() if isinstance(delivered_at, datetime) else delivered_at
    return day + timedelta(days=window_days)


def return_verdict(order: Any, today: date, window_days: int) -> ReturnVerdict:
    """The return rule: delivered, no open (not rejected) return, inside the window.

    Args:
        order: anything with ``status``, ``delivered_at`` and ``returns`` (connectors.base.Order).
        today: the day to judge on (the store's clock).
        window_days: days after delivery a return is accepted.
    """
    open_returns = [r for r in order.returns if r.status != "rejected"]
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
