"""The connector contract at the item level, over SQLite, PostgreSQL and REST (see conftest).

A shopper sends back some of an order's items, maybe only some units of a line, and may come back
later for the rest: every backend must open such returns once per idempotency key (the key covers
the lines), refuse lines that are not the order's, already in an open return, or more units than
are left, say what each line will refund from what was paid, and judge each line from its own
delivery.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from connectors.auth import Actor
from connectors.base import ActionRefused, IdempotencyConflict, InvalidField, ReturnLine
from tests.connectors.test_contract import _bad

_SOON = (datetime.now(timezone.utc) - timedelta(days=25)).isoformat()


def _order(backend, where: str) -> tuple[str, Actor, list[dict]]:
    """A demo order matching ``where`` (SQL over ``o``), its owner, and its lines."""
    rows = backend.rows(f"SELECT o.order_id, o.customer_id FROM orders o WHERE {where} ORDER BY o.order_id LIMIT 1")
    assert rows, where
    oid = rows[0]["order_id"]
    lines = backend.rows("SELECT product_id, name, quantity, unit_price FROM order_items WHERE order_id = :o "
                         "ORDER BY id", o=oid)
    return oid, Actor.customer(rows[0]["customer_id"]), lines


_RECENT_MULTI = (f"o.status = 'delivered' AND (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.order_id) >= 2 "
                 f"AND o.order_id IN (SELECT order_id FROM shipments WHERE delivered_at > '{_SOON}')")


def test_return_one_item_now_and_another_later(backend):
    oid, owner, lines = _order(backend, _RECENT_MULTI + " AND NOT EXISTS (SELECT 1 FROM returns r WHERE "
                                                          "r.order_id = o.order_id)")
    first, second = lines[0], lines[1]
    record = backend.svc.create_return(owner, oid, "too big", idempotency_key="item-ret-0001",
                                       items=[(first["product_id"], 1)])
    assert record.items == (ReturnLine(first["product_id"], 1, pytest.approx(first["unit_price"])),)
    assert backend.rows("SELECT product_id, quantity FROM return_items WHERE return_id = :r", r=record.return_id) == [
        {"product_id": first["product_id"], "quantity": 1}]
    check = backend.svc.check_return(owner, oid)
    by_product = {i.product_id: i for i in check.items}
    assert check.eligible and by_product[second["product_id"]].eligible
    if first["quantity"] == 1:
        assert by_product[first["product_id"]].reason == "return_exists"
    # later, the other item: a second return of the same order
    later = backend.svc.create_return(owner, oid, "not needed", idempotency_key="item-ret-0002",
                                      items=[ReturnLine(second["product_id"], 1)])
    order = backend.svc.get_order(owner, oid)
    assert [r.return_id for r in order.returns] == [record.return_id, later.return_id]
    assert order.returns[1].items[0].product_id == second["product_id"]
    assert backend.svc.get_return(owner, later.return_id).items == later.items
    if first["quantity"] == 1:
        err = _bad(backend, ActionRefused, lambda: backend.svc.create_return(
            owner, oid, "again", idempotency_key="item-ret-0003", items=[(first["product_id"], 1)]))
        assert err.reason == "return_exists"
    assert backend.count("audit", "action = 'create_return' AND target = :o", o=oid) == 2


def test_the_idempotency_key_covers_the_items(backend):
    oid, owner, lines = _order(backend, _RECENT_MULTI + " AND NOT EXISTS (SELECT 1 FROM returns r WHERE "
                                                          "r.order_id = o.order_id)")
    one = [(lines[0]["product_id"], 1)]
    record = backend.svc.create_return(owner, oid, "broken", idempotency_key="item-key-0001", items=one)
    assert backend.svc.create_return(owner, oid, "broken", idempotency_key="item-key-0001", items=one) == record
    _bad(backend, IdempotencyConflict, lambda: backend.svc.create_return(
        owner, oid, "broken", idempotency_key="item-key-0001", items=[(lines[1]["product_id"], 1)]))
    assert backend.count("return_items", "return_id = :r", r=record.return_id) == 1
    outcome = backend.svc.write_outcome(owner, "item-key-0001")
    assert outcome.action == "create_return" and outcome.result["items"][0]["product_id"] == lines[0]["product_id"]


def test_no_items_means_every_line_that_may_still_go_back(backend):
    oid, owner, lines = _order(backend, _RECENT_MULTI + " AND NOT EXISTS (SELECT 1 FROM returns r WHERE "
                                                          "r.order_id = o.order_id)")
    record = backend.svc.create_return(owner, oid, "all of it", idempotency_key="item-all-0001")
    assert sorted((i.product_id, i.quantity) for i in record.items) == sorted(
        (line["product_id"], line["quantity"]) for line in lines)
    assert backend.svc.check_return(owner, oid).reason == "return_exists"


def test_more_units_than_left_and_strangers_lines_are_refused(backend):
    oid, owner, lines = _order(backend, _RECENT_MULTI + " AND NOT EXISTS (SELECT 1 FROM returns r WHERE "
                                                          "r.order_id = o.order_id)")
    line = lines[0]
    err = _bad(backend, ActionRefused, lambda: backend.svc.create_return(
        owner, oid, "x", idempotency_key="item-qty-0001", items=[(line["product_id"], line["quantity"] + 1)]))
    assert err.reason == "quantity_exceeds"
    others = backend.rows("SELECT product_id FROM order_items WHERE order_id <> :o AND product_id NOT IN "
                          "(SELECT product_id FROM order_items WHERE order_id = :o) LIMIT 1", o=oid)
    _bad(backend, InvalidField, lambda: backend.svc.create_return(
        owner, oid, "x", idempotency_key="item-qty-0002", items=[(others[0]["product_id"], 1)]))


@pytest.mark.parametrize("items", [[], [("P1001", 0)], [("P1001", -2)], [("P1001", 1.5)], [("", 1)], "P1001",
                                   [("x" * 40, 1)], [{"product_id": None}], [("P1001\x00", 1)], 7])
def test_malformed_item_lines_are_rejected_before_anything_is_written(backend, items):
    oid, owner, _ = _order(backend, _RECENT_MULTI)
    _bad(backend, InvalidField, lambda: backend.svc.create_return(owner, oid, "x", idempotency_key="item-bad-0001",
                                                                  items=items))


def test_a_refund_shares_out_an_order_discount(backend):
    """A line refunds what was paid for it: with a discount on the order, its share of the total."""
    oid, owner, lines = _order(backend, _RECENT_MULTI + " AND NOT EXISTS (SELECT 1 FROM returns r WHERE "
                                                          "r.order_id = o.order_id)")
    full = sum(line["unit_price"] * line["quantity"] for line in lines)
    with backend.db.begin() as conn:  # the shop gave 10% off the whole order
        conn.execute(text("UPDATE orders SET total = :t WHERE order_id = :o"), {"t": round(full * 0.9, 2), "o": oid})
    line = lines[0]
    record = backend.svc.create_return(owner, oid, "x", idempotency_key="item-disc-0001",
                                       items=[(line["product_id"], 1)])
    assert record.items[0].amount == pytest.approx(line["unit_price"] * 0.9, abs=0.01)
    assert record.items[0].amount < line["unit_price"]


def test_each_line_counts_its_window_from_its_own_delivery(backend):
    (row,) = backend.rows("SELECT i.order_id, i.product_id, i.delivered_at, o.customer_id FROM order_items i "
                          "JOIN orders o ON o.order_id = i.order_id WHERE i.delivered_at IS NOT NULL "
                          "ORDER BY i.order_id LIMIT 1")
    check = backend.svc.check_return(Actor.customer(row["customer_id"]), row["order_id"])
    line = next(i for i in check.items if i.product_id == row["product_id"])
    assert line.deadline == datetime.fromisoformat(row["delivered_at"]).date() + timedelta(days=30)
    others = [i for i in check.items if i.product_id != row["product_id"] and i.deadline is not None]
    assert others and all(o.deadline < line.deadline for o in others)
    assert line.days_left == (line.deadline - date.today()).days
