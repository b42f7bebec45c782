"""connectors/sql.py, base.py and auth.py against the real demo SQLite store.

Ownership is the point: a customer sees their own orders and nothing else, and cannot even
tell whether someone else's order exists.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime

import pytest

from connectors.auth import Actor
from connectors.base import (
    ConnectorError,
    ConnectorUnavailable,
    InvalidOrderId,
    Order,
    OrderNotFound,
    OrderService,
    validate_order_id,
)
from connectors.sql import SqlOrderService
from engine.errors import ShopAssistError
from knowledge.demo import (
    FIXTURE_CUSTOMER_ALICE as ALICE,
    FIXTURE_CUSTOMER_BOB as BOB,
    FIXTURE_ORDER_DELIVERED,
    FIXTURE_ORDER_PROCESSING,
    FIXTURE_ORDER_SHIPPED,
    FIXTURE_PRODUCT_X200,
)

MISSING = "999999"


@pytest.fixture(scope="module")
def svc(demo_store) -> SqlOrderService:
    return SqlOrderService(demo_store.db_url)


@pytest.fixture
def private_db(demo_store, tmp_path):
    """A copy of the demo database that a test may break."""
    path = tmp_path / "store.db"
    shutil.copy(demo_store.db_path, path)
    return path


def test_satisfies_the_protocol(svc):
    assert isinstance(svc, OrderService)


# -- the owner ------------------------------------------------------------------------------------


def test_owner_gets_the_order_with_items_and_shipment(svc, demo_store):
    order = svc.get_order(Actor.customer(ALICE), FIXTURE_ORDER_SHIPPED)
    assert isinstance(order, Order)
    assert order.order_id == FIXTURE_ORDER_SHIPPED and order.customer_id == ALICE
    assert order.status == "shipped"
    assert [i.product_id for i in order.items] == [FIXTURE_PRODUCT_X200]
    assert order.items[0].name == "Aurora X200 Wireless Earbuds" and order.items[0].quantity == 1
    with sqlite3.connect(demo_store.db_path) as conn:
        carrier, tracking = conn.execute(
            "SELECT carrier, tracking_number FROM shipments WHERE order_id = ?", (FIXTURE_ORDER_SHIPPED,)
        ).fetchone()
    assert (order.shipment.carrier, order.shipment.tracking_number) == (carrier, tracking)
    assert order.shipment.delivered_at is None and order.delivered_at is None
    assert isinstance(order.placed_at, datetime) and order.placed_at.tzinfo is not None


def test_delivered_order_has_its_delivery_time(svc, demo_store):
    order = svc.get_order(Actor.customer(ALICE), FIXTURE_ORDER_DELIVERED)
    assert order.status == "delivered"
    delivered = order.delivered_at
    assert delivered is not None
    assert 0 < (demo_store.built_on - delivered.date()).days <= 30  # inside the return window


@pytest.mark.parametrize("oid", [f"#{FIXTURE_ORDER_SHIPPED}", f" {FIXTURE_ORDER_SHIPPED} "])
def test_order_id_is_normalised(svc, oid):
    assert svc.get_order(Actor.customer(ALICE), oid).order_id == FIXTURE_ORDER_SHIPPED


# -- no existence leak -------------------------------------------------------------------------------


def _not_found(svc, actor, oid) -> OrderNotFound:
    with pytest.raises(OrderNotFound) as err:
        svc.get_order(actor, oid)
    return err.value


def _shape(err: OrderNotFound) -> str:
    return str(err).replace(err.order_id, "<id>")


@pytest.mark.parametrize(
    "actor, oid",
    [
        (Actor.customer(ALICE), FIXTURE_ORDER_PROCESSING),  # Bob's order
        (Actor.customer(BOB), FIXTURE_ORDER_SHIPPED),  # Alice's order
        (Actor.customer("C999"), FIXTURE_ORDER_SHIPPED),  # unknown customer
        (Actor.anonymous(), FIXTURE_ORDER_SHIPPED),  # nobody
    ],
)
def test_foreign_orders_read_exactly_like_missing_ones(svc, actor, oid):
    foreign = _not_found(svc, actor, oid)
    missing = _not_found(svc, actor if actor.role != "anonymous" else Actor.customer(ALICE), MISSING)
    assert type(foreign) is type(missing)
    assert _shape(foreign) == _shape(missing)
    assert foreign.order_id == oid
    assert "C00" not in str(foreign)  # never names the real owner


def test_an_agent_sees_any_order(svc):
    assert svc.get_order(Actor.agent(), FIXTURE_ORDER_PROCESSING).customer_id == BOB
    assert svc.get_order(Actor.agent(), FIXTURE_ORDER_SHIPPED).customer_id == ALICE
    with pytest.raises(OrderNotFound):
        svc.get_order(Actor.agent(), MISSING)


def test_actor_rules():
    assert Actor.customer("C001").may_see("C001")
    assert not Actor.customer("C001").may_see("C002")
    assert Actor.agent().may_see("C002")
    assert not Actor.anonymous().may_see("C001")
    assert not Actor(role="anonymous", customer_id="C001").may_see("C001")
    with pytest.raises(ValueError):
        Actor.customer("")


# -- invalid ids and injection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "oid",
    ["12AB", "1000231", "10002", "", "100023; DROP TABLE orders", "' OR 1=1 --", "100023' OR '1'='1",
     "1000 23", "x" * 10_000],
)
def test_invalid_ids_raise_invalid_order_id_and_touch_nothing(svc, demo_store, oid):
    with pytest.raises(InvalidOrderId):
        svc.get_order(Actor.customer(ALICE), oid)
    with pytest.raises(InvalidOrderId):
        svc.get_order(Actor.agent(), oid)
    with sqlite3.connect(demo_store.db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] > 100
    assert svc.get_order(Actor.customer(ALICE), FIXTURE_ORDER_SHIPPED).order_id == FIXTURE_ORDER_SHIPPED


def test_invalid_order_id_message_is_bounded():
    with pytest.raises(InvalidOrderId) as err:
        validate_order_id("9" * 5000)
    assert len(str(err.value)) < 100


@pytest.mark.parametrize("oid", ["١٠٠٠٢٣", "１０００２３"])
def test_non_ascii_digits_are_not_an_order_id(oid):
    """Order ids are six ASCII digits; ``\\d`` also matches Arabic-Indic or full-width digits."""
    with pytest.raises(InvalidOrderId):
        validate_order_id(oid)


def test_error_tree():
    assert issubclass(OrderNotFound, ConnectorError) and issubclass(InvalidOrderId, ConnectorError)
    assert issubclass(ConnectorUnavailable, ConnectorError) and issubclass(ConnectorError, ShopAssistError)


# -- list_orders ----------------------------------------------------------------------------------------


def test_list_orders_newest_first_and_only_the_actors(svc, demo_store):
    orders = svc.list_orders(Actor.customer(ALICE), limit=50)
    assert {FIXTURE_ORDER_SHIPPED, FIXTURE_ORDER_DELIVERED} <= {o.order_id for o in orders}
    assert all(o.customer_id == ALICE for o in orders)
    placed = [o.placed_at for o in orders]
    assert placed == sorted(placed, reverse=True)
    with sqlite3.connect(demo_store.db_path) as conn:
        count = conn.execute("SELECT COUNT(*) FROM orders WHERE customer_id = ?", (ALICE,)).fetchone()[0]
    assert len(orders) == count
    assert FIXTURE_ORDER_PROCESSING not in {o.order_id for o in orders}


def test_list_orders_limit(svc):
    assert len(svc.list_orders(Actor.customer(ALICE), limit=1)) == 1
    with pytest.raises(ValueError):
        svc.list_orders(Actor.customer(ALICE), limit=0)


def test_list_orders_for_nobody_is_empty(svc):
    assert svc.list_orders(Actor.anonymous()) == []
    assert svc.list_orders(Actor.customer("C999")) == []
    assert svc.list_orders(Actor.agent()) == []  # an agent looks orders up by id, never lists a stranger's


def test_get_customer_is_only_the_actors_own_profile(svc):
    me = svc.get_customer(Actor.customer(ALICE))
    assert me.customer_id == ALICE and me.name == "Alice Chen"
    assert svc.get_customer(Actor.customer("C999")) is None
    assert svc.get_customer(Actor.anonymous()) is None


# -- unavailable databases ----------------------------------------------------------------------------


def _all_calls(svc: SqlOrderService):
    actor = Actor.customer(ALICE)
    return [
        lambda: svc.get_order(actor, FIXTURE_ORDER_SHIPPED),
        lambda: svc.list_orders(actor),
        lambda: svc.get_customer(actor),
    ]


def test_url_pointing_at_a_directory_is_unavailable(tmp_path):
    svc = SqlOrderService(f"sqlite:///{tmp_path}", timeout_s=0.2)
    for call in _all_calls(svc):
        with pytest.raises(ConnectorUnavailable):
            call()


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path):
    path = tmp_path / "store.db"
    path.write_bytes(b"definitely not sqlite " * 200)
    svc = SqlOrderService(f"sqlite:///{path}", timeout_s=0.2)
    for call in _all_calls(svc):
        with pytest.raises(ConnectorUnavailable):
            call()


def test_a_database_without_the_tables_is_unavailable(tmp_path):
    svc = SqlOrderService(f"sqlite:///{tmp_path / 'empty.db'}", timeout_s=0.2)
    with pytest.raises(ConnectorUnavailable):
        svc.get_order(Actor.customer(ALICE), FIXTURE_ORDER_SHIPPED)


def test_a_locked_database_is_unavailable_after_the_timeout(private_db):
    svc = SqlOrderService(f"sqlite:///{private_db}", timeout_s=0.2)
    locker = sqlite3.connect(private_db, isolation_level=None)
    try:
        locker.execute("PRAGMA journal_mode=DELETE")
        locker.execute("BEGIN EXCLUSIVE")
        started = datetime.now()
        with pytest.raises(ConnectorUnavailable):
            svc.get_order(Actor.customer(ALICE), FIXTURE_ORDER_SHIPPED)
        assert (datetime.now() - started).total_seconds() < 5
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert svc.get_order(Actor.customer(ALICE), FIXTURE_ORDER_SHIPPED).status == "shipped"


def test_invalid_id_is_reported_even_when_the_database_is_down(tmp_path):
    svc = SqlOrderService(f"sqlite:///{tmp_path}", timeout_s=0.2)
    with pytest.raises(InvalidOrderId):
        svc.get_order(Actor.customer(ALICE), "12AB")


@pytest.mark.parametrize("kwargs", [{"url": ""}, {"url": "sqlite://", "timeout_s": 0}])
def test_constructor_validates(kwargs):
    with pytest.raises(ValueError):
        SqlOrderService(**kwargs)
