"""Write flows through the router with a writable fake backend: confirm before any write,
cancellation, digressions, re-asks, idempotency keys and refusals."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import pytest

from connectors.auth import Actor
from connectors.base import ActionRefused, Cancellation, ConnectorUnavailable, ReturnRecord
from engine.flows import OrderFlows, Turn
from engine.flows.specs import extract_address, extract_reason
from engine.generation import ExtractiveGenerator
from engine.responses.templates import Templates
from engine.router import Router
from engine.settings import DialogueSettings, RetrievalSettings
from engine.state.events import SlotSet
from engine.state.tracker import DialogueState
from knowledge.graph.catalog import Catalog
from knowledge.graph.query import ProductQA
from tests.fakes import TODAY, FakeOrderService, FakeRetriever, make_order, nlu, passage, shipment, write_catalog

ALICE = Actor.customer("C001")
BOB = Actor.customer("C002")


@dataclass
class WritableService(FakeOrderService):
    """Adds the write API with real ownership and idempotency-key semantics."""

    writes: list[tuple[str, str, str]] = field(default_factory=list)  # (action, order_id, key)
    results: dict[str, object] = field(default_factory=dict)
    fail_writes: bool = False
    return_items: dict[str, object] = field(default_factory=dict)  # key -> the item lines asked

    def _write(self, action: str, actor: Actor, order_id: str, key: str, make):
        if self.fail_writes:
            raise ConnectorUnavailable("down")
        order = self.get_order(actor, order_id)
        if key in self.results:  # a retried request: the same answer, no second write
            return self.results[key]
        result = make(order)
        self.writes.append((action, order_id, key))
        self.results[key] = result
        return result

    def cancel_order(self, actor, order_id, *, idempotency_key):
        def make(order):
            if order.status != "processing":
                raise ActionRefused("cancel_order", f"already_{order.status}")
            self.orders[order_id] = replace(order, status="cancelled")
            return Cancellation(order_id, "cancelled", datetime.now(timezone.utc))
        return self._write("cancel", actor, order_id, idempotency_key, make)

    def create_return(self, actor, order_id, reason, *, idempotency_key, items=None):
        def make(order):
            self.return_items[idempotency_key] = items
            return ReturnRecord(f"R{len(self.writes) + 1:05d}", order_id, "requested", reason,
                                datetime.now(timezone.utc))
        return self._write("return", actor, order_id, idempotency_key, make)

    def change_address(self, actor, address, *, idempotency_key, order_id=None):
        def make(order):
            return address
        return self._write(f"address:{address}", actor, order_id, idempotency_key, make)


@pytest.fixture
def service() -> WritableService:
    return WritableService({o.order_id: o for o in [
        make_order("100030", "processing", items=(("P9", "Kitchara Toaster"),), placed_days_ago=1),
        make_order("100024", "delivered", shipment=shipment("delivered", delivered_days_ago=10)),
        make_order("100023", "shipped", shipment=shipment("in_transit")),
        make_order("100031", "processing", customer_id="C002"),
    ]})


@pytest.fixture
def router(service, tmp_path) -> Router:
    templates = Templates(store="Brightcart")
    return Router(
        templates=templates,
        orders=OrderFlows(service, templates, today=lambda: TODAY, max_reasks=3),
        retriever=FakeRetriever([passage(0.95, "en-returns")]),
        generator=ExtractiveGenerator(),
        products=ProductQA(Catalog.from_file(write_catalog(tmp_path))),
        dialogue=DialogueSettings(fallbacks_before_handoff=2, negative_handoff_score=-0.6),
        retrieval=RetrievalSettings(top_k=3, min_score=0.5, language_min_score={}),
    )


class Chat:
    """Drives the router turn by turn, applying each decision's events like the engine does."""

    def __init__(self, router: Router, actor: Actor = ALICE) -> None:
        self.router, self.actor, self.state = router, actor, DialogueState("chat-1")

    def say(self, text: str, intent: str, **kw):
        decision = self.router.route(Turn(nlu=nlu(text, intent, **kw), state=self.state, actor=self.actor))
        self.state = self.state.apply_all(decision.events)
        return decision


def test_cancel_asks_for_confirmation_before_writing(router, service):
    chat = Chat(router)
    d = chat.say("cancel order 100030", "cancel_order", order_ids=("100030",))
    assert "(yes / no)" in d.text and "Kitchara Toaster" in d.text
    assert service.writes == [] and chat.state.active_flow == "cancel_order"
    d = chat.say("yes please", "affirm")
    assert "is cancelled" in d.text
    assert [w[:2] for w in service.writes] == [("cancel", "100030")]
    assert chat.state.active_flow is None and "flow_step" not in chat.state.slots


def test_no_at_the_confirmation_writes_nothing(router, service):
    chat = Chat(router)
    chat.say("cancel order 100030", "cancel_order", order_ids=("100030",))
    d = chat.say("no", "deny")
    assert "haven't cancelled" in d.text
    assert service.writes == [] and chat.state.active_flow is None


def test_a_retried_confirmation_turn_uses_the_same_key_and_writes_once(router, service):
    chat = Chat(router)
    chat.say("cancel order 100030", "cancel_order", order_ids=("100030",))
    before = chat.state
    first = router.route(Turn(nlu=nlu("yes", "affirm"), state=before, actor=ALICE))
    # the commit of that turn was lost: the same turn is replayed on the same state
    again = router.route(Turn(nlu=nlu("yes", "affirm"), state=before, actor=ALICE))
    assert first.text == again.text
    assert len(service.writes) == 1


def test_another_customers_order_cannot_be_cancelled(router, service):
    chat = Chat(router)
    d = chat.say("cancel order 100031", "cancel_order", order_ids=("100031",))
    assert "couldn't find order 100031" in d.text
    assert service.writes == [] and service.orders["100031"].status == "processing"


def test_shipped_order_is_refused_without_a_question(router, service):
    d = Chat(router).say("cancel order 100023", "cancel_order", order_ids=("100023",))
    assert "can't be cancelled" in d.text and service.writes == []


def test_return_with_reason_in_the_first_message_goes_straight_to_confirmation(router, service):
    chat = Chat(router)
    d = chat.say("return the earbuds from 100024, they are too small", "return_item", order_ids=("100024",))
    assert "20 days left" in d.text and "(yes / no)" in d.text
    assert chat.state.slots["return_reason"].endswith("too small")
    d = chat.say("yes", "affirm")
    assert "return R" in d.text and "5–7 business days" in d.text
    assert [w[:2] for w in service.writes] == [("return", "100024")]


def test_return_asks_for_a_reason_and_answers_a_digression_then_resumes(router, service):
    chat = Chat(router)
    d = chat.say("I want to return order 100024", "return_item", order_ids=("100024",))
    assert "reason" in d.text and chat.state.slots["flow_step"] == "reason"
    d = chat.say("how long do I have to return things?", "policy_question")
    assert "30 days" in d.text and "Back to your request" in d.text
    assert chat.state.active_flow == "return_item" and chat.state.slots["flow_step"] == "reason"
    d = chat.say("the left one crackles", "out_of_scope")
    assert "the left one crackles" in d.text and chat.state.slots["flow_step"] == "confirm"
    chat.say("yes", "affirm")
    assert [w[:2] for w in service.writes] == [("return", "100024")]


def test_never_mind_cancels_the_flow(router, service):
    chat = Chat(router)
    chat.say("I want to return order 100024", "return_item", order_ids=("100024",))
    d = chat.say("never mind", "out_of_scope")
    assert "nothing was changed" in d.text
    assert chat.state.active_flow is None and service.writes == []


def test_address_change_validates_then_confirms(router, service):
    chat = Chat(router)
    d = chat.say("change the address of order 100030", "change_address", order_ids=("100030",))
    assert chat.state.slots["flow_step"] == "address"
    d = chat.say("somewhere nice", "out_of_scope")
    assert "full address" in d.text and chat.state.slots["reasks"] == 1
    d = chat.say("12 Oak Street, Seattle, WA 98101", "out_of_scope")
    assert "12 Oak Street" in d.text and "(yes / no)" in d.text
    chat.say("yes", "affirm")
    assert service.writes[0][0] == "address:12 Oak Street, Seattle, WA 98101"


def test_unanswered_confirmation_hands_off_after_the_limit(router, service):
    chat = Chat(router)
    chat.say("cancel order 100030", "cancel_order", order_ids=("100030",))
    first = chat.say("banana", "out_of_scope")
    assert "yes or no" in first.text
    chat.say("purple", "out_of_scope")
    last = chat.say("banana again", "out_of_scope")
    assert last.route == "handoff" and "stuck" in last.handoff_reason
    assert chat.state.active_flow is None and service.writes == []


def test_backend_down_during_the_write_hands_off_and_keeps_nothing_half_done(router, service):
    chat = Chat(router)
    chat.say("cancel order 100030", "cancel_order", order_ids=("100030",))
    service.fail_writes = True
    d = chat.say("yes", "affirm")
    assert d.route == "handoff" and service.writes == []
    assert service.orders["100030"].status == "processing"


def test_cancel_my_order_with_one_order_that_can_be_cancelled_asks_about_that_one(router, service):
    chat = Chat(router)
    d = chat.say("I want to cancel my order", "cancel_order")
    assert "100030" in d.text and "(yes / no)" in d.text and "100023" not in d.text
    assert service.writes == []  # asked, never written without a yes


def test_the_second_one_picks_from_the_listed_orders(router, service):
    service.orders["100029"] = make_order("100029", "processing", placed_days_ago=3)
    chat = Chat(router)
    d = chat.say("I want to cancel an order", "cancel_order")
    assert "100030" in d.text and chat.state.slots["listed_orders"][0] == "100030"
    assert "100023" not in d.text  # only the orders that can still be cancelled are offered
    turn_nlu = nlu("the first one", "out_of_scope")
    turn_nlu = replace(turn_nlu, entities=replace(turn_nlu.entities, ordinal=1))
    decision = router.route(Turn(nlu=turn_nlu, state=chat.state, actor=ALICE))
    assert "100030" in decision.text and "(yes / no)" in decision.text


def test_extractors():
    assert extract_reason("they're too small") is not None
    assert extract_reason("I want to return it") is None
    assert extract_reason("质量有问题，坏了") is not None
    assert extract_address("please change the address to 12 Oak Street, Seattle 98101") == "12 Oak Street, Seattle 98101"
    assert extract_address("change the address please") is None
    assert extract_address("地址改成上海市南京西路100号") == "上海市南京西路100号"


def test_a_new_flow_is_only_a_definition(monkeypatch):
    """A flow with two slots, declared as a FlowSpec, runs through the generic steps."""
    from engine.flows import specs, writes
    from engine.flows.specs import FlowSpec, SlotSpec

    calls = []

    class Backend:
        def add_gift_note(self, actor, order_id, *, note, sender, idempotency_key):
            calls.append((order_id, note, sender, idempotency_key))

    def act(backend, actor, order_id, values, key):
        backend.add_gift_note(actor, order_id, note=values["gift_note"], sender=values["gift_sender"],
                              idempotency_key=key)
        return {}

    spec = FlowSpec("gift_note", "add_gift_note", (
        SlotSpec("note", "gift_note", "ask_note", "ask_note", lambda t: None, lambda t: t.strip() or None),
        SlotSpec("sender", "gift_sender", "ask_sender", "ask_sender", lambda t: None,
                 lambda t: t.strip() if t.strip().isalpha() else None, invalid="bad_sender"),
    ), act)
    monkeypatch.setitem(specs.FLOWS, "gift_note", spec)
    monkeypatch.setattr(writes, "FLOW_SLOTS", (*writes.FLOW_SLOTS, "gift_note", "gift_sender"))
    templates = Templates(overrides={
        "ask_note": {"en": "What should the note say?"}, "ask_sender": {"en": "Who is it from?"},
        "bad_sender": {"en": "Just a first name, please."},
        "gift_note_confirm": {"en": "Add the note to order {order_id}? (yes / no)"},
        "gift_note_done": {"en": "Note added to {order_id}."}, "gift_note_kept": {"en": "No note added."},
    })
    steps = writes.WriteSteps(Backend(), templates)
    assert steps.supports("gift_note")
    state = DialogueState("g").apply(SlotSet("order_id", "100030"))

    def say(text, intent="out_of_scope"):
        nonlocal state
        d = steps.advance("gift_note", Turn(nlu=nlu(text, intent), state=state, actor=ALICE)) if state.slots.get(
            "flow_step") else steps.start("gift_note", Turn(nlu=nlu(text, intent), state=state, actor=ALICE),
                                          "100030", "Kitchara Toaster")
        state = state.apply_all(d.events)
        return d

    assert say("add a gift note", "affirm").text == "What should the note say?"
    assert say("Happy birthday!").text == "Who is it from?"
    assert say("Bob 42").text == "Just a first name, please."
    assert "(yes / no)" in say("Bob").text and calls == []
    assert say("yes", "affirm").text == "Note added to 100030."
    assert calls[0][:3] == ("100030", "Happy birthday!", "Bob")


def test_a_corrected_postcode_at_the_confirmation_is_asked_again_and_written_only_after_yes(router, service):
    chat = Chat(router)
    chat.say("change the address of order 100030 to 12 Oak Street, Seattle, WA 98101", "change_address",
             order_ids=("100030",))
    d = chat.say("wait, the zip is 98109", "out_of_scope")
    assert "12 Oak Street, Seattle, WA 98109" in d.text and "(yes / no)" in d.text and service.writes == []
    chat.say("yes", "affirm")
    assert [w[0] for w in service.writes] == ["address:12 Oak Street, Seattle, WA 98109"]


@pytest.mark.parametrize("text, address", [
    ("can u ship my toaster order to 500 Market St, San Francisco, CA 94105", "500 Market St, San Francisco, CA 94105"),
    ("显示器那单改寄到我公司：1200 Main St, Suite 300, Houston, TX 77002", "1200 Main St, Suite 300, Houston, TX 77002"),
    ("新地址是 15 Orchard Road, #12-03, Singapore 238841", "15 Orchard Road, #12-03, Singapore 238841"),
    ("deliver it to my office at 12 Oak Street, Seattle, WA 98101", "12 Oak Street, Seattle, WA 98101"),
    ("change the address to Apt 5, 12 Oak Street, Seattle 98101", "Apt 5, 12 Oak Street, Seattle 98101"),
])
def test_the_new_address_is_read_wherever_the_message_leads_into_it(text, address):
    assert extract_address(text) == address


@pytest.mark.parametrize("text, address", [
    ("ship it to 12 Oak St, Apt 3, Boston, MA 02110 please", "12 Oak St, Apt 3, Boston, MA 02110"),
    ("please send it to 901 Pine St, Seattle WA 98101 instead", "901 Pine St, Seattle WA 98101"),
    ("can you change it to 350 Mass Ave Cambridge MA 02139? thanks", "350 Mass Ave Cambridge MA 02139"),
    ("address: 5 Main St. Springfield, IL 62701. thanks!", "5 Main St. Springfield, IL 62701"),
    ("ship it to 350 Mass Ave.\nCambridge MA 02139", "350 Mass Ave. Cambridge MA 02139"),
    ("改到 上海市浦东新区世纪大道100号 谢谢", "上海市浦东新区世纪大道100号"),
])
def test_courtesy_words_after_an_address_are_no_part_of_it(text, address):
    """What is stored (and confirmed) is the address alone, whole, on one line."""
    assert extract_address(text) == address


def test_the_rest_of_an_address_given_at_the_confirmation_completes_it():
    """"42 Elm Street", then "Springfield, NJ 07081" at the yes/no question: the whole address is
    asked about again (never a yes, never a write of the half)."""
    from engine.flows.specs import amend_address

    assert amend_address({"new_address": "42 Elm Street"}, "Springfield, NJ 07081") == {
        "new_address": "42 Elm Street, Springfield, NJ 07081"}
    assert amend_address({"new_address": "南京西路100号"}, "上海市静安区") == {"new_address": "上海市静安区南京西路100号"}
    assert amend_address({"new_address": "42 Elm Street"}, "yes") is None
    assert amend_address({"new_address": "42 Elm Street"}, "what?") is None
    assert amend_address({"new_address": "42 Elm Street, Springfield, NJ 07081"}, "Boston") is None
    # the street again: the city and postcode stay; a whole address after "make it": that one
    pending = {"new_address": "77 Lake Rd, Austin TX 78701"}
    assert amend_address(pending, "wait, make that 79 Lake Rd") == {"new_address": "79 Lake Rd, Austin TX 78701"}
    assert amend_address(pending, "make it 9 Elm St, Boston MA 02108") == {"new_address": "9 Elm St, Boston MA 02108"}
    assert amend_address(pending, "no") is None


def test_a_correction_is_no_address():
    assert extract_address("等下，邮编写错了，是77010") is None
