"""engine/flows/orders.py with a fake order service: every status, every question, every failure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from connectors.auth import Actor
from connectors.base import ReturnRecord
from engine.flows import Decision, OrderFlows, Turn
from engine.responses.templates import Templates
from engine.state.events import FlowCompleted, FlowStarted, SlotSet
from engine.state.tracker import DialogueState
from tests.fakes import TODAY, FakeOrderService, at, make_order, nlu, shipment

ALICE, BOB = Actor.customer("C001"), Actor.customer("C002")
TRACKING = "1Z999AA10123456784"


def return_record(status: str, *, refunded_days_ago: int | None = None, amount: float | None = 129.99):
    return ReturnRecord(
        return_id="R1", order_id="100024", status=status, reason="too small", created_at=at(6),
        refund_amount=amount, refunded_at=at(refunded_days_ago) if refunded_days_ago is not None else None,
    )


def orders() -> dict:
    return {o.order_id: o for o in [
        make_order("100023", "shipped", shipment=shipment("in_transit")),
        make_order("100024", "delivered", shipment=shipment("delivered", delivered_days_ago=10),
                   items=(("P5", "Trailrunner 5 Running Shoes"),), placed_days_ago=15),
        make_order("100025", "delivered", shipment=shipment("delivered", delivered_days_ago=45),
                   placed_days_ago=50),
        make_order("100026", "delivered", shipment=shipment("delivered", delivered_days_ago=30),
                   placed_days_ago=35),
        make_order("100027", "returned", shipment=shipment("delivered", delivered_days_ago=20),
                   returns=(return_record("refunded", refunded_days_ago=2, amount=49.5),), placed_days_ago=25),
        make_order("100028", "delivered", shipment=shipment("delivered", delivered_days_ago=12),
                   returns=(return_record("received"),), placed_days_ago=16),
        make_order("100029", "cancelled", placed_days_ago=8),
        make_order("100030", "processing", placed_days_ago=1,
                   items=(("P1", "Aurora X200 Wireless Earbuds"), ("P2", "Aurora X200 Charging Case"),
                          ("P6", "Volt 20W USB-C Charger"))),
        make_order("100031", "processing", customer_id="C002", placed_days_ago=1),
    ]}


@pytest.fixture
def service() -> FakeOrderService:
    return FakeOrderService(orders())


@pytest.fixture
def flows(service) -> OrderFlows:
    return OrderFlows(service, Templates(store="Brightcart"), today=lambda: TODAY)


def turn(text="", *, order_ids=(), malformed=(), lang="en", actor=ALICE, state=None, intent="track_order"):
    return Turn(nlu=nlu(text, intent, lang=lang, order_ids=order_ids, malformed=malformed),
                state=state or DialogueState("s"), actor=actor)


def ask(flows, intent, oid, **kw) -> Decision:
    return flows.handle(intent, turn(f"order {oid}", order_ids=(oid,), intent=intent, **kw))


def slots_of(decision: Decision) -> dict:
    return DialogueState("s").apply_all(decision.events).slots


# -- track_order --------------------------------------------------------------------------------


def test_shipped_order_states_carrier_tracking_and_eta(flows):
    d = ask(flows, "track_order", "100023")
    assert d.route == "flow"
    for fact in ("100023", "Aurora X200 Wireless Earbuds", "UPS", TRACKING, "in transit", "Mar 4, 2025"):
        assert fact in d.text
    assert d.sources[0].id == "100023" and d.sources[0].kind == "order"
    assert slots_of(d) == {"order_id": "100023", "product_id": "P1"}
    assert d.decided_by == "track_order:shipped"


def test_delivered_order_states_the_delivery_date(flows):
    d = ask(flows, "track_order", "100024")
    assert "delivered" in d.text and "Feb 19, 2025" in d.text and TRACKING in d.text


def test_processing_order_says_not_shipped_and_lists_items(flows):
    d = ask(flows, "track_order", "100030")
    assert "hasn't shipped" in d.text
    assert "Aurora X200 Wireless Earbuds, Aurora X200 Charging Case and 1 more" in d.text
    assert "Feb 28, 2025" in d.text  # placed


@pytest.mark.parametrize("oid, word", [("100029", "cancelled"), ("100027", "returned")])
def test_cancelled_and_returned_orders(flows, oid, word):
    d = ask(flows, "track_order", oid)
    assert word in d.text and TRACKING not in d.text


def test_track_order_in_chinese(flows):
    d = ask(flows, "track_order", "100023", lang="zh")
    assert "已由UPS发出" in d.text and "运输中" in d.text and "2025年3月4日" in d.text


def test_status_is_only_stated_from_the_connector(flows, service):
    ask(flows, "track_order", "100023")
    assert ("get_order", ALICE, "100023") in service.calls


# -- asking for the order, and the flow ---------------------------------------------------------------


def test_no_order_id_asks_for_it_listing_recent_orders_and_starts_the_flow(flows):
    d = flows.handle("track_order", turn("where is my order?"))
    assert d.route == "flow"
    # the flow starts and remembers the listing, so "the second one" can refer to it
    assert d.events == [FlowStarted("track_order"), SlotSet("listed_orders", ["100030", "100023", "100029"])]
    # Alice's three newest, newest first
    assert d.text.index("100030") < d.text.index("100023") < d.text.index("100029")
    assert "100031" not in d.text  # Bob's
    assert "processing" in d.text


def test_no_recent_orders_asks_plainly(flows):
    d = flows.handle("track_order", turn("where is my order?", actor=Actor.customer("C777")))
    assert "six digits" in d.text and d.events == [FlowStarted("track_order")]


def test_ask_while_the_flow_is_active_does_not_restart_it(flows):
    state = DialogueState("s").apply(FlowStarted("track_order"))
    d = flows.handle("track_order", turn("hmm", state=state))
    assert not any(isinstance(e, FlowStarted) for e in d.events)


def test_listing_failure_still_asks(flows, service):
    service.unavailable = True
    d = flows.handle("track_order", turn("where is my order?"))
    assert "six digits" in d.text and d.route == "flow"


def test_the_next_turn_giving_just_the_id_completes_the_flow(flows):
    state = DialogueState("s").apply(FlowStarted("track_order"))
    d = flows.handle("track_order", turn("100023", order_ids=("100023",), state=state, intent="out_of_scope"))
    assert FlowCompleted("track_order") in d.events
    after = state.apply_all(d.events)
    assert after.active_flow is None and after.slots["order_id"] == "100023"
    assert TRACKING in d.text


def test_the_order_id_slot_is_reused(flows):
    state = DialogueState("s").apply(SlotSet("order_id", "100024"))
    d = flows.handle("return_item", turn("can I return it?", state=state, intent="return_item"))
    assert "100024" in d.text and "Feb 19, 2025" in d.text


def test_malformed_id_says_what_an_order_number_looks_like(flows, service):
    d = flows.handle("track_order", turn("order 12345", malformed=("12345",)))
    assert '"12345"' in d.text and "six digits" in d.text
    assert d.events == [FlowStarted("track_order")]
    assert not any(c[0] == "get_order" for c in service.calls)


def test_malformed_id_reply_is_bounded(flows):
    d = flows.handle("track_order", turn("order x", malformed=("A" * 500,)))
    assert len(d.text) < 300


# -- who may see what ---------------------------------------------------------------------------------


def test_anonymous_actor_is_asked_to_sign_in_and_sees_no_order_data(flows, service):
    d = ask(flows, "track_order", "100023", actor=Actor.anonymous())
    assert "sign in" in d.text
    for secret in ("UPS", TRACKING, "Aurora", "shipped"):
        assert secret not in d.text
    assert d.sources == [] and slots_of(d) == {}
    assert service.calls == []


def test_anonymous_without_an_id_is_not_shown_a_listing(flows, service):
    d = flows.handle("track_order", turn("where is my order?", actor=Actor.anonymous()))
    assert "sign in" in d.text and service.calls == []


def test_someone_elses_order_is_not_found_like_a_missing_one(flows):
    foreign = ask(flows, "track_order", "100031")  # Bob's, asked by Alice
    missing = ask(flows, "track_order", "999999")
    assert foreign.text.replace("100031", "X") == missing.text.replace("999999", "X")
    assert "couldn't find" in foreign.text
    assert foreign.route == "flow" and foreign.sources == []
    assert SlotSet("order_id", None) in foreign.events


def test_not_found_inside_the_flow_ends_it_as_failed(flows):
    state = DialogueState("s").apply_all([FlowStarted("track_order"), SlotSet("order_id", "100023")])
    d = flows.handle("track_order", turn("999999", order_ids=("999999",), state=state))
    assert FlowCompleted("track_order", outcome="failed") in d.events
    assert "order_id" not in state.apply_all(d.events).slots


def test_connector_unavailable_hands_off(flows, service):
    service.unavailable = True
    d = ask(flows, "track_order", "100023")
    assert d.route == "handoff" and d.handoff_reason
    assert TRACKING not in d.text


# -- returns --------------------------------------------------------------------------------------------


def test_return_inside_the_window(flows):
    d = ask(flows, "return_item", "100024")  # delivered 10 days ago
    assert d.route == "handoff" and "100024" in d.handoff_reason
    assert "Mar 21, 2025" in d.text and "20 days left" in d.text


def test_return_on_the_last_day_is_still_eligible(flows):
    d = ask(flows, "return_item", "100026")  # delivered exactly 30 days ago
    assert d.route == "handoff" and "0 days left" in d.text


def test_return_outside_the_window(flows):
    d = ask(flows, "return_item", "100025")  # delivered 45 days ago
    assert d.route == "flow" and d.handoff_reason is None
    assert "30-day return window" in d.text and "Jan 15, 2025" in d.text


def test_return_window_is_configurable(service):
    flows = OrderFlows(service, Templates(store="B"), return_window_days=7, today=lambda: TODAY)
    d = ask(flows, "return_item", "100024")
    assert "7-day return window" in d.text and d.route == "flow"


def test_return_of_an_undelivered_order(flows):
    d = ask(flows, "return_item", "100023")  # shipped: on its way, neither cancel nor return yet
    assert "on its way" in d.text and "30 days" in d.text and d.route == "flow"
    assert "cancel it instead" not in d.text
    d = ask(flows, "return_item", "100030")  # not shipped yet: cancelling is the way out
    assert "hasn't been delivered" in d.text and "cancel" in d.text


def test_return_already_exists(flows):
    d = ask(flows, "return_item", "100028")
    assert "already a return" in d.text and "received" in d.text


def test_return_in_chinese(flows):
    d = ask(flows, "return_item", "100024", lang="zh")
    assert "2025年3月21日" in d.text and "还剩20天" in d.text


# -- refunds -------------------------------------------------------------------------------------------


def test_refund_done(flows):
    d = ask(flows, "refund_status", "100027")
    assert "$49.50" in d.text and "Feb 27, 2025" in d.text and d.route == "flow"


def test_refund_pending(flows):
    d = ask(flows, "refund_status", "100028")
    assert "received" in d.text and "5–7 business days" in d.text


def test_refund_none(flows):
    d = ask(flows, "refund_status", "100023")
    assert "don't see a return or refund" in d.text and "shipped" in d.text


def test_refund_currency_symbol_is_configurable(service):
    flows = OrderFlows(service, Templates(store="B"), today=lambda: TODAY, currency_symbol="€")
    assert "€49.50" in ask(flows, "refund_status", "100027").text


# -- cancel and change address ------------------------------------------------------------------------------


def test_cancel_processing_order_hands_off_to_an_agent(flows):
    d = ask(flows, "cancel_order", "100030")
    assert d.route == "handoff" and "cancel order 100030" == d.handoff_reason
    assert "can still be cancelled" in d.text


def test_cancel_shipped_order_is_too_late(flows):
    d = ask(flows, "cancel_order", "100023")
    assert d.route == "flow" and d.handoff_reason is None
    assert "already shipped" in d.text and "can't be cancelled" in d.text


@pytest.mark.parametrize("oid", ["100024", "100029", "100027"])
def test_cancel_refusal_for_an_order_that_will_not_arrive_does_not_promise_it(flows, oid):
    """Delivered, cancelled and returned orders are not on their way: "Once it arrives you can
    return it" is wrong for them."""
    d = ask(flows, "cancel_order", oid)
    assert "can't be cancelled" in d.text
    assert "Once it arrives" not in d.text


def test_cancel_too_late_quotes_the_configured_return_window(service):
    flows = OrderFlows(service, Templates(store="B"), return_window_days=14, today=lambda: TODAY)
    d = ask(flows, "cancel_order", "100023")
    assert "30 days" not in d.text
    assert "14 days" in d.text


def test_change_address_processing_hands_off(flows):
    d = ask(flows, "change_address", "100030")
    assert d.route == "handoff" and "change address" in d.handoff_reason


def test_change_address_shipped_points_to_the_carrier(flows):
    d = ask(flows, "change_address", "100023")
    assert d.route == "flow" and "UPS" in d.text and TRACKING in d.text


def test_change_address_of_a_cancelled_order_talks_about_the_address(flows):
    """A cancelled order has no shipment; the reply must not be the *cancellation* refusal."""
    d = ask(flows, "change_address", "100029")
    assert d.route == "flow"
    assert "address" in d.text
    assert "can't be cancelled" not in d.text


def test_return_window_must_be_positive(service):
    with pytest.raises(ValueError):
        OrderFlows(service, Templates(), return_window_days=0)


def test_default_clock_is_utc_today(service):
    flows = OrderFlows(service, Templates(store="B"))
    order = make_order("200001", "delivered", shipment=shipment("delivered", delivered_days_ago=0))
    just_now = replace(order.shipment, delivered_at=datetime.now(timezone.utc))
    service.orders["200001"] = replace(order, shipment=just_now)
    d = ask(flows, "return_item", "200001")
    assert "30 days left" in d.text
