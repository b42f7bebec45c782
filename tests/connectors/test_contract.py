"""The connector contract: one suite, run over SQL on SQLite, SQL on PostgreSQL and REST on loopback.

Each test gets a fresh copy of the demo store (see conftest). What every backend must do:
ownership before anything is returned or changed (a foreign order reads exactly like a missing
one), typed answers, writes that are idempotent and audited, and hostile input that never
reaches the database as anything but a parameter.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from connectors.auth import Actor
from connectors.base import (
    ActionRefused,
    AddressChange,
    BusinessBackend,
    Cancellation,
    ConnectorError,
    CustomerNotFound,
    IdempotencyConflict,
    InvalidField,
    InvalidOrderId,
    InvalidRequest,
    NotFound,
    Order,
    OrderNotFound,
    ProductNotFound,
    ReplacementRequest,
    ReturnNotFound,
    StockLevel,
)
from knowledge.demo import (
    FIXTURE_CUSTOMER_ALICE as ALICE_ID,
    FIXTURE_CUSTOMER_BOB as BOB_ID,
    FIXTURE_ORDER_DELIVERED as DELIVERED,
    FIXTURE_ORDER_PROCESSING as PROCESSING,
    FIXTURE_ORDER_SHIPPED as SHIPPED,
    FIXTURE_PRODUCT_X200,
)

ALICE, BOB, STRANGER = Actor.customer(ALICE_ID), Actor.customer(BOB_ID), Actor.customer("C999")
MISSING = "999999"
INJECTIONS = ["' OR '1'='1", "1; DROP TABLE orders; --", "\" OR \"\"=\"", "100023' --", "%' OR 1=1 --",
              "Robert'); DELETE FROM customers;--", "1 UNION SELECT * FROM customers"]
BAD_ORDER_IDS = ["12AB", "1000231", "10002", "", "   ", "１０００２３", "١٠٠٠٢٣", "100 023", "x" * 10_000,
                 "100\n023", "../100023", "100023/cancel", "%31%30%30%30%32%33", None, *INJECTIONS]


def _key(tag: str) -> str:
    return f"test-{tag}-0001"


def _bad(harness, exc_type, call):
    """``call`` raises ``exc_type`` and changes nothing in the database."""
    before = harness.counts()
    with pytest.raises(exc_type) as err:
        call()
    assert harness.counts() == before
    return err.value


# -- protocol and reads ---------------------------------------------------------------------------


def test_backend_plays_every_role(backend):
    assert isinstance(backend.svc, BusinessBackend)


def test_owner_gets_the_order_as_stored(backend):
    order = backend.svc.get_order(ALICE, SHIPPED)
    assert isinstance(order, Order) and order.customer_id == ALICE_ID and order.status == "shipped"
    (ship,) = backend.rows("SELECT carrier, tracking_number FROM shipments WHERE order_id = :o", o=SHIPPED)
    assert (order.shipment.carrier, order.shipment.tracking_number) == (ship["carrier"], ship["tracking_number"])
    assert [i.product_id for i in order.items] == [FIXTURE_PRODUCT_X200]
    assert order.placed_at.tzinfo is not None and order.placed_at.utcoffset() == timedelta(0)
    assert order.shipment.delivered_at is None


def _per_order_calls(svc):
    return {
        "get_order": lambda a, o: svc.get_order(a, o),
        "track_shipment": lambda a, o: svc.track_shipment(a, o),
        "check_return": lambda a, o: svc.check_return(a, o),
        "get_refund": lambda a, o: svc.get_refund(a, o),
        "cancel_order": lambda a, o: svc.cancel_order(a, o, idempotency_key=_key("leak")),
        "create_return": lambda a, o: svc.create_return(a, o, "broken", idempotency_key=_key("leak")),
        "change_order_address": lambda a, o: svc.change_address(a, "1 Elm Street", idempotency_key=_key("leak"),
                                                                order_id=o),
    }


@pytest.mark.parametrize("call", list(_per_order_calls(None)))
@pytest.mark.parametrize("actor, foreign", [(ALICE, PROCESSING), (BOB, SHIPPED), (BOB, DELIVERED),
                                            (STRANGER, SHIPPED)])
def test_a_foreign_order_reads_exactly_like_a_missing_one(backend, call, actor, foreign):
    fn = _per_order_calls(backend.svc)[call]
    before = backend.counts()
    with pytest.raises(ConnectorError) as foreign_err:
        fn(actor, foreign)
    with pytest.raises(ConnectorError) as missing_err:
        fn(actor, MISSING)
    f, m = foreign_err.value, missing_err.value
    if call == "change_order_address" and actor is STRANGER:  # no profile at all: same for both
        assert type(f) is type(m) is CustomerNotFound
    else:
        assert type(f) is type(m) is OrderNotFound
        assert str(f).replace(foreign, "<id>") == str(m).replace(MISSING, "<id>")
    assert "C00" not in str(f)
    assert backend.counts() == before
    if backend.kind == "postgres" or backend.kind == "sqlite":
        assert backend.rows("SELECT status FROM orders WHERE order_id = :o", o=foreign)[0]["status"] in (
            "processing", "shipped", "delivered")


def test_anonymous_sees_no_order(backend):
    with pytest.raises(OrderNotFound):
        backend.svc.get_order(Actor.anonymous(), SHIPPED)
    assert backend.svc.list_orders(Actor.anonymous()) == []
    assert backend.svc.get_customer(Actor.anonymous()) is None


def test_an_agent_sees_any_order_but_lists_nobodys(backend):
    assert backend.svc.get_order(Actor.agent(), PROCESSING).customer_id == BOB_ID
    assert backend.svc.track_shipment(Actor.agent(), SHIPPED).carrier == "UPS"
    assert backend.svc.list_orders(Actor.agent()) == []
    with pytest.raises(OrderNotFound):
        backend.svc.get_order(Actor.agent(), MISSING)


def test_list_orders_is_the_actors_newest_first(backend):
    orders = backend.svc.list_orders(ALICE, limit=50)
    assert len(orders) == backend.count("orders", "customer_id = :c", c=ALICE_ID)
    assert all(o.customer_id == ALICE_ID for o in orders)
    assert [o.placed_at for o in orders] == sorted((o.placed_at for o in orders), reverse=True)
    assert len(backend.svc.list_orders(ALICE, limit=1)) == 1
    assert backend.svc.list_orders(STRANGER) == []


def test_listed_orders_are_whole_each_with_its_own_items_shipment_and_returns(backend):
    """A list loads items, shipments and returns for all its orders at once: each order must get
    exactly what fetching it alone gives."""
    _, owner_id = _an_order(backend, "EXISTS (SELECT 1 FROM returns r WHERE r.order_id = o.order_id) AND "
                                     "(SELECT COUNT(*) FROM orders o2 WHERE o2.customer_id = o.customer_id) > 2")
    for actor in (ALICE, Actor.customer(owner_id)):
        listed = backend.svc.list_orders(actor, limit=50)
        assert len(listed) > 1
        assert listed == [backend.svc.get_order(actor, o.order_id) for o in listed]
        assert any(o.shipment is not None for o in listed) and any(len(o.items) for o in listed)
    assert any(o.returns for o in listed) and any(not o.returns for o in listed)


@pytest.mark.parametrize("limit", [0, -1, 101, 10**9])
def test_list_orders_rejects_a_bad_limit(backend, limit):
    with pytest.raises(InvalidField):
        backend.svc.list_orders(ALICE, limit=limit)


def test_get_customer_is_only_the_actors_own(backend):
    me = backend.svc.get_customer(ALICE)
    assert me.customer_id == ALICE_ID and me.name == "Alice Chen"
    assert backend.svc.get_customer(BOB).name == "Bob Li"
    assert backend.svc.get_customer(STRANGER) is None
    assert backend.svc.get_customer(Actor.agent()) is None


def test_track_shipment(backend):
    assert backend.svc.track_shipment(ALICE, SHIPPED).status == "in_transit"
    assert backend.svc.track_shipment(ALICE, DELIVERED).delivered_at is not None
    assert backend.svc.track_shipment(BOB, PROCESSING) is None


def _an_order(backend, where: str) -> tuple[str, str]:
    rows = backend.rows(f"SELECT o.order_id, o.customer_id FROM orders o WHERE {where} ORDER BY o.order_id LIMIT 1")
    assert rows, where
    return rows[0]["order_id"], rows[0]["customer_id"]


def test_return_eligibility_follows_the_rule(backend, demo_store):
    ok = backend.svc.check_return(ALICE, DELIVERED)
    assert ok.eligible and ok.reason == "eligible" and 0 < ok.days_left <= 30
    assert ok.deadline == backend.svc.get_order(ALICE, DELIVERED).delivered_at.date() + timedelta(days=30)
    assert backend.svc.check_return(ALICE, SHIPPED).reason == "not_delivered"
    assert backend.svc.check_return(BOB, PROCESSING).reason == "not_delivered"
    cutoff = (datetime.now(timezone.utc) - timedelta(days=40)).isoformat()
    old, owner = _an_order(backend, "o.status = 'delivered' AND NOT EXISTS (SELECT 1 FROM returns r WHERE "
                                    "r.order_id = o.order_id) AND o.order_id IN (SELECT order_id FROM shipments "
                                    f"WHERE delivered_at < '{cutoff}')")
    expired = backend.svc.check_return(Actor.customer(owner), old)
    assert not expired.eligible and expired.reason == "window_expired" and expired.deadline < date.today()
    returned, owner = _an_order(backend, "EXISTS (SELECT 1 FROM returns r WHERE r.order_id = o.order_id "
                                         "AND r.status <> 'rejected')")
    assert backend.svc.check_return(Actor.customer(owner), returned).reason == "return_exists"


def test_refund_status_follows_the_returns(backend):
    assert backend.svc.get_refund(ALICE, SHIPPED).state == "none"
    oid, owner = _an_order(backend, "EXISTS (SELECT 1 FROM returns r WHERE r.order_id = o.order_id "
                                    "AND r.status = 'refunded')")
    refund = backend.svc.get_refund(Actor.customer(owner), oid)
    (row,) = backend.rows("SELECT return_id, refund_amount FROM returns WHERE order_id = :o", o=oid)
    assert refund.state == "refunded" and refund.return_id == row["return_id"]
    assert refund.amount == pytest.approx(row["refund_amount"]) and refund.refunded_at is not None


def test_get_return_is_owner_only(backend):
    (row,) = backend.rows("SELECT r.return_id, o.customer_id FROM returns r JOIN orders o ON o.order_id = r.order_id "
                          "ORDER BY r.return_id LIMIT 1")
    owner = Actor.customer(row["customer_id"])
    assert backend.svc.get_return(owner, row["return_id"]).return_id == row["return_id"]
    assert backend.svc.get_return(Actor.agent(), row["return_id"]).return_id == row["return_id"]
    other = ALICE if row["customer_id"] != ALICE_ID else BOB
    with pytest.raises(ReturnNotFound) as foreign:
        backend.svc.get_return(other, row["return_id"])
    with pytest.raises(ReturnNotFound) as missing:
        backend.svc.get_return(other, "R99999")
    assert str(foreign.value).replace(row["return_id"], "<id>") == str(missing.value).replace("R99999", "<id>")


def test_stock_by_product_and_variant(backend, demo_store):
    x200 = backend.svc.get_stock(Actor.anonymous(), FIXTURE_PRODUCT_X200)
    (row,) = backend.rows("SELECT available FROM inventory WHERE product_id = :p", p=FIXTURE_PRODUCT_X200)
    assert x200 == [StockLevel(FIXTURE_PRODUCT_X200, "default", row["available"])]
    (sized,) = backend.rows("SELECT product_id FROM inventory WHERE variant_id LIKE 'size-%' "
                            "GROUP BY product_id ORDER BY product_id LIMIT 1")
    levels = backend.svc.get_stock(ALICE, sized["product_id"])
    assert len(levels) > 3 and all(lv.variant_id.startswith("size-") for lv in levels)
    one = backend.svc.get_stock(ALICE, sized["product_id"], levels[1].variant_id)
    assert one == [levels[1]]
    with pytest.raises(ProductNotFound):
        backend.svc.get_stock(ALICE, "P99999")
    with pytest.raises(ProductNotFound):
        backend.svc.get_stock(ALICE, sized["product_id"], "size-99")


# -- writes: idempotent, audited, ownership-checked --------------------------------------------------


def test_cancel_is_applied_once_audited_and_replayed(backend):
    key = _key("cancel")
    first = backend.svc.cancel_order(BOB, PROCESSING, idempotency_key=key)
    assert isinstance(first, Cancellation) and first.order_id == PROCESSING and first.status == "cancelled"
    assert backend.svc.get_order(BOB, PROCESSING).status == "cancelled"
    again = backend.svc.cancel_order(BOB, PROCESSING, idempotency_key=key)  # a retry: same answer
    assert again == first
    (audit,) = backend.rows("SELECT * FROM audit")
    assert (audit["actor_role"], audit["actor_id"], audit["action"], audit["target"], audit["idempotency_key"]) == (
        "customer", BOB_ID, "cancel_order", PROCESSING, key)
    assert abs(datetime.fromisoformat(audit["at"]) - datetime.now(timezone.utc)) < timedelta(minutes=5)
    with pytest.raises(ActionRefused) as refused:  # a new request: the rule applies again
        backend.svc.cancel_order(BOB, PROCESSING, idempotency_key=_key("cancel2"))
    assert refused.value.reason == "already_cancelled"
    assert backend.count("audit") == 1


def test_a_key_reused_for_another_request_conflicts(backend):
    backend.svc.cancel_order(BOB, PROCESSING, idempotency_key=_key("reuse"))
    other = _an_order(backend, f"o.customer_id = '{BOB_ID}' AND o.order_id <> '{PROCESSING}'")[0]
    before = backend.counts()
    with pytest.raises(IdempotencyConflict):
        backend.svc.cancel_order(BOB, other, idempotency_key=_key("reuse"))
    assert backend.counts() == before


def test_keys_are_scoped_to_the_actor(backend):
    key = _key("scoped")
    backend.svc.cancel_order(BOB, PROCESSING, idempotency_key=key)
    with pytest.raises(ActionRefused):  # Alice's use of the same key is her own request, not Bob's replay
        backend.svc.cancel_order(ALICE, SHIPPED, idempotency_key=key)
    assert backend.svc.get_order(ALICE, SHIPPED).status == "shipped"


@pytest.mark.parametrize("oid, reason", [(SHIPPED, "already_shipped"), (DELIVERED, "already_delivered")])
def test_too_late_to_cancel_changes_nothing(backend, oid, reason):
    err = _bad(backend, ActionRefused, lambda: backend.svc.cancel_order(ALICE, oid, idempotency_key=_key("late")))
    assert err.reason == reason and err.action == "cancel_order"


def test_create_return_once(backend):
    key = _key("return")
    before = backend.count("returns")
    record = backend.svc.create_return(ALICE, DELIVERED, "Doesn't fit", idempotency_key=key)
    assert record.status == "requested" and record.order_id == DELIVERED and record.reason == "Doesn't fit"
    assert backend.svc.create_return(ALICE, DELIVERED, "Doesn't fit", idempotency_key=key) == record
    assert backend.count("returns") == before + 1
    assert backend.svc.get_return(ALICE, record.return_id) == record
    assert backend.svc.check_return(ALICE, DELIVERED).reason == "return_exists"
    assert backend.svc.get_refund(ALICE, DELIVERED).state == "pending"
    with pytest.raises(ActionRefused) as err:
        backend.svc.create_return(ALICE, DELIVERED, "Doesn't fit", idempotency_key=_key("return2"))
    assert err.value.reason == "return_exists"
    assert backend.count("audit", "action = 'create_return' AND idempotency_key = :k", k=key) == 1


def test_a_return_outside_the_rule_is_refused(backend):
    err = _bad(backend, ActionRefused,
               lambda: backend.svc.create_return(ALICE, SHIPPED, "changed my mind", idempotency_key=_key("nr")))
    assert err.reason == "not_delivered"


def test_request_replacement_once(backend):
    key = _key("replace")
    record = backend.svc.request_replacement(ALICE, DELIVERED, "arrived with a cracked case", idempotency_key=key)
    assert isinstance(record, ReplacementRequest)
    assert (record.order_id, record.status, record.reason) == (DELIVERED, "requested", "arrived with a cracked case")
    assert backend.svc.request_replacement(ALICE, DELIVERED, "arrived with a cracked case", idempotency_key=key) == record
    (row,) = backend.rows("SELECT * FROM replacements WHERE order_id = :o", o=DELIVERED)
    assert (row["replacement_id"], row["status"]) == (record.replacement_id, "requested")
    assert backend.count("audit", "action = 'request_replacement' AND idempotency_key = :k", k=key) == 1
    outcome = backend.svc.write_outcome(ALICE, key)  # reconciliation reads the recorded result
    assert outcome.action == "request_replacement" and outcome.result["replacement_id"] == record.replacement_id
    err = _bad(backend, ActionRefused, lambda: backend.svc.request_replacement(
        ALICE, DELIVERED, "arrived with a cracked case", idempotency_key=_key("replace2")))
    assert err.reason == "replacement_exists" and err.action == "request_replacement"


def test_a_replacement_follows_the_return_rule_and_ownership(backend):
    err = _bad(backend, ActionRefused, lambda: backend.svc.request_replacement(
        ALICE, SHIPPED, "broken", idempotency_key=_key("rnd")))
    assert err.reason == "not_delivered"
    _bad(backend, OrderNotFound, lambda: backend.svc.request_replacement(
        BOB, DELIVERED, "broken", idempotency_key=_key("rforeign")))
    _bad(backend, OrderNotFound, lambda: backend.svc.request_replacement(
        Actor.anonymous(), DELIVERED, "broken", idempotency_key=_key("ranon")))
    _bad(backend, InvalidField, lambda: backend.svc.request_replacement(
        ALICE, DELIVERED, "   ", idempotency_key=_key("rempty")))


def test_change_profile_address(backend):
    new = "500 Pine Street, Apt 2, Seattle, WA 98101"
    change = backend.svc.change_address(ALICE, new, idempotency_key=_key("addr"))
    assert isinstance(change, AddressChange) and change.order_id is None and change.address == new
    assert backend.svc.get_customer(ALICE).address == new
    assert backend.svc.change_address(ALICE, new, idempotency_key=_key("addr")) == change
    assert backend.count("audit", "action = 'change_address'") == 1
    assert backend.svc.get_customer(BOB).address != new


def test_change_an_orders_address_only_while_processing(backend):
    new = "9 Harbor Street, San Francisco, CA 94107"
    change = backend.svc.change_address(BOB, new, idempotency_key=_key("oaddr"), order_id=PROCESSING)
    assert change.order_id == PROCESSING
    (row,) = backend.rows("SELECT shipping_address FROM orders WHERE order_id = :o", o=PROCESSING)
    assert row["shipping_address"] == new
    assert backend.svc.get_customer(BOB).address != new  # the profile is untouched
    err = _bad(backend, ActionRefused, lambda: backend.svc.change_address(
        ALICE, new, idempotency_key=_key("oaddr2"), order_id=SHIPPED))
    assert err.reason == "already_shipped"


def test_writes_need_a_customer(backend):
    with pytest.raises(CustomerNotFound):
        backend.svc.change_address(Actor.anonymous(), "1 Elm Street", idempotency_key=_key("anon"))
    with pytest.raises(CustomerNotFound):
        backend.svc.change_address(STRANGER, "1 Elm Street", idempotency_key=_key("anon"))
    with pytest.raises(OrderNotFound):
        backend.svc.cancel_order(Actor.anonymous(), PROCESSING, idempotency_key=_key("anon"))
    assert backend.count("audit") == 0


def test_an_agent_write_is_audited_as_the_agent(backend):
    backend.svc.cancel_order(Actor.agent(), PROCESSING, idempotency_key=_key("agent"))
    (row,) = backend.rows("SELECT actor_role, actor_id FROM audit")
    assert row == {"actor_role": "agent", "actor_id": None}


# -- bad input: wrong shapes and SQL injection in every field -----------------------------------------


@pytest.mark.parametrize("oid", BAD_ORDER_IDS, ids=lambda v: repr(v)[:24])
def test_wrong_shape_order_ids_are_rejected_before_any_query(backend, oid):
    for name, call in _per_order_calls(backend.svc).items():
        if oid is None and name == "change_order_address":
            continue  # order_id=None there means "the profile address"
        for actor in (ALICE, Actor.agent()):
            _bad(backend, InvalidOrderId, lambda: call(actor, oid))


@pytest.mark.parametrize("payload", INJECTIONS)
def test_sql_injection_in_every_other_field(backend, payload):
    svc = backend.svc
    for call in (lambda: svc.get_return(ALICE, payload), lambda: svc.get_stock(ALICE, payload),
                 lambda: svc.get_stock(ALICE, FIXTURE_PRODUCT_X200, payload),
                 lambda: svc.cancel_order(BOB, PROCESSING, idempotency_key=payload)):
        _bad(backend, InvalidRequest, call)
    hostile = Actor.customer(payload)  # a hostile customer id is just an unknown customer
    assert svc.list_orders(hostile) == [] and svc.get_customer(hostile) is None
    _bad(backend, OrderNotFound, lambda: svc.get_order(hostile, SHIPPED))
    _bad(backend, CustomerNotFound, lambda: svc.change_address(hostile, "x Street", idempotency_key=_key("inj")))
    # free text is stored verbatim, as a parameter
    before = backend.counts()
    change = svc.change_address(ALICE, payload, idempotency_key=_key("inj-addr"))
    assert svc.get_customer(ALICE).address == " ".join(payload.split()) == change.address
    record = svc.create_return(ALICE, DELIVERED, payload, idempotency_key=_key("inj-ret"))
    assert svc.get_return(ALICE, record.return_id).reason == " ".join(payload.split())
    after = backend.counts()
    assert after["returns"] == before["returns"] + 1 and after["customers"] == before["customers"]
    assert after["orders"] == before["orders"] and after["audit"] == before["audit"] + 2


@pytest.mark.parametrize("key", ["short", "", "x" * 129, "has space here", "ключ-ключ-ключ", None, 12345678])
def test_bad_idempotency_keys_are_rejected(backend, key):
    _bad(backend, InvalidField, lambda: backend.svc.cancel_order(BOB, PROCESSING, idempotency_key=key))


@pytest.mark.parametrize("text", ["", "   ", "a" * 501, "line\x00break", None])
def test_bad_free_text_is_rejected(backend, text):
    _bad(backend, InvalidField, lambda: backend.svc.create_return(ALICE, DELIVERED, text, idempotency_key=_key("t")))


def test_every_not_found_is_one_family(backend):
    for call in (lambda: backend.svc.get_order(ALICE, MISSING), lambda: backend.svc.get_return(ALICE, "R99999"),
                 lambda: backend.svc.get_stock(ALICE, "P99999")):
        with pytest.raises(NotFound):
            call()
