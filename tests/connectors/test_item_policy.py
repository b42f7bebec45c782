"""The return rule per item (knowledge/kernel/policies.py), as every backend and flow applies it:
each line's window from its own delivery, units already in an open return, categories the store
does not take back, and what a line refunds from what was paid."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from connectors.base import Order, OrderItem, ReturnLine, ReturnRecord, Shipment
from knowledge.kernel.policies import item_verdicts, line_refund, return_verdict, shipping_paid

TODAY = date(2025, 3, 1)


def _at(days_ago: int) -> datetime:
    return datetime(2025, 3, 1, 12, tzinfo=timezone.utc) - timedelta(days=days_ago)


def _order(*lines: OrderItem, delivered: int | None = 10, status: str = "delivered", returns=(), total=None) -> Order:
    ship = Shipment("UPS", "1Z", "delivered" if delivered is not None else "in_transit", _at(12),
                    None, _at(delivered) if delivered is not None else None)
    paid = sum(i.unit_price * i.quantity for i in lines) if total is None else total
    return Order("100001", "C001", status, _at(14), paid, "USD", tuple(lines), ship, tuple(returns))


def _ret(status: str, *lines: ReturnLine) -> ReturnRecord:
    return ReturnRecord("R1", "100001", status, "x", _at(3), items=tuple(lines))


LAMP, SHADE, CARD = (OrderItem("P1", "Lamp", 1, 40.0), OrderItem("P2", "Shade", 2, 10.0),
                     OrderItem("P3", "Gift Card", 1, 25.0))


def test_a_partly_returned_order_may_still_send_back_the_rest():
    order = _order(LAMP, SHADE, returns=[_ret("refunded", ReturnLine("P1", 1, 40.0))], status="returned")
    by_id = {v.product_id: v for v in item_verdicts(order, TODAY, 30)}
    assert by_id["P1"].reason == "return_exists" and by_id["P2"].eligible and by_id["P2"].returnable == 2
    assert return_verdict(order, TODAY, 30).eligible


def test_units_in_an_open_return_are_not_offered_twice_but_a_rejected_return_frees_them():
    half = _order(SHADE, returns=[_ret("requested", ReturnLine("P2", 1))])
    assert item_verdicts(half, TODAY, 30)[0].returnable == 1
    refused = _order(SHADE, returns=[_ret("rejected", ReturnLine("P2", 2))])
    assert item_verdicts(refused, TODAY, 30)[0].returnable == 2


def test_a_return_without_lines_takes_back_the_whole_order():
    order = _order(LAMP, SHADE, returns=[_ret("requested")])
    assert return_verdict(order, TODAY, 30).reason == "return_exists"


def test_each_line_counts_from_its_own_delivery():
    late = OrderItem("P1", "Lamp", 1, 40.0, delivered_at=_at(2))
    order = _order(late, SHADE, delivered=40)
    lamp, shade = item_verdicts(order, TODAY, 30)
    assert lamp.eligible and lamp.deadline == (_at(2) + timedelta(days=30)).date()
    assert shade.reason == "window_expired"


def test_an_item_opened_where_the_store_takes_it_back_only_sealed():
    order = _order(LAMP, CARD)
    verdicts = item_verdicts(order, TODAY, 30, opened=lambda pid: pid == "P3")
    assert [v.reason for v in verdicts] == ["eligible", "opened"]


def test_non_returnable_products_and_a_shipped_order():
    order = _order(LAMP, CARD)
    verdicts = item_verdicts(order, TODAY, 30, non_returnable=lambda pid: pid == "P3")
    assert [v.reason for v in verdicts] == ["eligible", "non_returnable"]
    only_card = _order(CARD)
    assert return_verdict(only_card, TODAY, 30, non_returnable=lambda pid: True).reason == "non_returnable"
    assert return_verdict(_order(LAMP, delivered=None, status="shipped"), TODAY, 30).reason == "not_delivered"


def test_a_line_refunds_what_was_paid_for_it():
    assert line_refund(_order(LAMP, SHADE), "P2", 1) == 10.0
    discounted = _order(LAMP, SHADE, total=54.0)  # 10% off the order
    assert line_refund(discounted, "P1", 1) == pytest.approx(36.0)
    with_shipping = _order(LAMP, total=45.99)
    assert line_refund(with_shipping, "P1", 1) == 40.0 and shipping_paid(with_shipping) == pytest.approx(5.99)
    with pytest.raises(KeyError):
        line_refund(discounted, "P9", 1)
