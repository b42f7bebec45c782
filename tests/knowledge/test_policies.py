"""knowledge/kernel/policies.py: the return-window rule, written once and used by every layer."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from connectors.base import ReturnRecord
from connectors.sql import check_return_eligibility
from engine.flows.specs import FLOWS
from knowledge.kernel.policies import return_deadline, return_verdict
from tests.fakes import TODAY, make_order, shipment


def test_the_deadline_counts_whole_days_from_the_delivery_day():
    assert return_deadline(datetime(2025, 3, 21, 23, 59, tzinfo=timezone.utc), 30) == date(2025, 4, 20)
    assert return_deadline(date(2025, 3, 21), 1) == date(2025, 3, 22)
    with pytest.raises(ValueError):
        return_deadline(date(2025, 3, 21), 0)


@pytest.mark.parametrize("days_ago, eligible, days_left", [(0, True, 30), (10, True, 20), (30, True, 0),
                                                           (31, False, 0), (90, False, 0)])
def test_the_window_includes_its_last_day(days_ago, eligible, days_left):
    order = make_order("100024", "delivered", shipment=shipment("delivered", delivered_days_ago=days_ago))
    verdict = return_verdict(order, TODAY, 30)
    assert (verdict.eligible, verdict.days_left) == (eligible, days_left)
    assert verdict.reason == ("eligible" if eligible else "window_expired")


def test_an_undelivered_order_and_an_open_return_are_refused():
    assert return_verdict(make_order("100023", "shipped", shipment=shipment()), TODAY, 30).reason == "not_delivered"
    def with_return(status: str):
        record = ReturnRecord("R10001", "100028", status, "too small", datetime(2025, 2, 27, tzinfo=timezone.utc))
        return make_order("100028", "delivered", shipment=shipment("delivered", delivered_days_ago=3),
                          returns=(record,))

    verdict = return_verdict(with_return("received"), TODAY, 30)
    assert verdict.reason == "return_exists" and verdict.open_return.return_id == "R10001"
    assert return_verdict(with_return("rejected"), TODAY, 30).eligible  # a rejected return is no open return


def test_a_line_outside_any_return_says_its_own_reason():
    """One line returned, the other past the window: the order is refused for the window (the
    answer about the line still owned), not as "already returned"."""
    from connectors.base import ReturnLine

    record = ReturnRecord("R10004", "100037", "refunded", "quality", datetime(2025, 1, 20, tzinfo=timezone.utc),
                          items=(ReturnLine("P-CHARGER", 1, 35.99),))
    order = make_order("100037", "delivered", items=(("P-CHARGER", "Wall Charger"), ("P-SNEAKER", "Court 5 Sneakers")),
                       shipment=shipment("delivered", delivered_days_ago=60), returns=(record,))
    verdict = return_verdict(order, TODAY, 30)
    assert verdict.reason == "window_expired" and not verdict.eligible
    both = ReturnRecord("R10005", "100037", "received", "quality", datetime(2025, 2, 20, tzinfo=timezone.utc),
                        items=(ReturnLine("P-SNEAKER", 1, 129.99),))
    assert return_verdict(make_order("100037", "delivered", items=(("P-CHARGER", "Wall Charger"),
                                                                   ("P-SNEAKER", "Court 5 Sneakers")),
                                     shipment=shipment("delivered", delivered_days_ago=60), returns=(record, both)),
                          TODAY, 30).reason == "return_exists"


@pytest.mark.parametrize("days_ago", range(25, 36))
def test_every_layer_applies_the_same_rule(days_ago):
    """The business system (SQL connector), the engine's return and replacement flows and the
    Rasa form (through Engine.return_verdict, the kernel function) agree on every day."""
    order = make_order("100024", "delivered", shipment=shipment("delivered", delivered_days_ago=days_ago))
    kernel = return_verdict(order, TODAY, 30)
    assert check_return_eligibility(order, TODAY, 30).eligible == kernel.eligible
    for name in ("return_item", "request_replacement"):
        assert FLOWS[name].eligible(order, TODAY, 30).ok == kernel.eligible
    assert kernel.eligible == (TODAY - timedelta(days=days_ago) + timedelta(days=30) >= TODAY)
