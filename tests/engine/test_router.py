"""engine/router.py with fakes: precedence, flows, products, retrieval, fallback and hand-off."""

from __future__ import annotations

import pytest

from connectors.auth import Actor
from engine.flows import OrderFlows, Turn
from engine.generation import ExtractiveGenerator
from engine.responses.templates import Templates
from engine.router import Router
from engine.settings import DialogueSettings, RetrievalSettings
from engine.state.events import BotUttered, FlowCompleted, FlowStarted, SlotSet, UserUttered
from engine.state.tracker import DialogueState
from knowledge.graph.catalog import Catalog
from knowledge.graph.query import ProductQA
from tests.fakes import (
    NIMBUS, TODAY, X200, FakeOrderService, FakeRetriever, make_order, nlu, passage, shipment, write_catalog,
)

ALICE = Actor.customer("C001")
TRACKING = "1Z999AA10123456784"
MIN_SCORE = 0.5
STRONG, WEAK = 0.95, 0.1


@pytest.fixture(scope="module")
def qa(tmp_path_factory) -> ProductQA:
    return ProductQA(Catalog.from_file(write_catalog(tmp_path_factory.mktemp("catalog"))))


@pytest.fixture
def service() -> FakeOrderService:
    return FakeOrderService({o.order_id: o for o in [
        make_order("100023", "shipped", shipment=shipment("in_transit")),
        make_order("100031", "processing", customer_id="C002"),
    ]})


@pytest.fixture
def retriever() -> FakeRetriever:
    return FakeRetriever([passage(WEAK)])


@pytest.fixture
def router(service, retriever, qa) -> Router:
    templates = Templates(store="Brightcart")
    return Router(
        templates=templates,
        orders=OrderFlows(service, templates, today=lambda: TODAY),
        retriever=retriever,
        generator=ExtractiveGenerator(),
        products=qa,
        dialogue=DialogueSettings(fallbacks_before_handoff=2, negative_handoff_score=-0.6),
        retrieval=RetrievalSettings(top_k=3, min_score=MIN_SCORE, language_min_score={}),
    )


def turn(text="hello", intent="greet", *, state=None, actor=ALICE, **kw) -> Turn:
    return Turn(nlu=nlu(text, intent, **kw), state=state or DialogueState("s"), actor=actor)


def after_fallbacks(n: int) -> DialogueState:
    s = DialogueState("s")
    for _ in range(n):
        s = s.apply_all([UserUttered("??"), BotUttered("sorry", route="fallback")])
    return s


# -- 1. hand-off comes first ----------------------------------------------------------------------


def test_asking_for_a_human_hands_off_even_with_an_order_id(router, service):
    d = router.route(turn("let me talk to a person about 100023", "human_agent", order_ids=("100023",)))
    assert d.route == "handoff" and d.handoff_reason
    assert "human agent" in d.text
    assert service.calls == []


def test_strongly_negative_complaint_hands_off(router):
    d = router.route(turn("this is the worst service ever", "complaint", sentiment=-0.9))
    assert d.route == "handoff" and "sorry" in d.text.lower()


def test_mildly_negative_complaint_gets_the_complaint_template(router):
    d = router.route(turn("the box was a bit dented", "complaint", sentiment=-0.3))
    assert d.route == "template" and d.handoff_reason is None
    assert "what went wrong" in d.text


def test_upset_after_a_fallback_hands_off(router):
    d = router.route(turn("you are useless", "out_of_scope", sentiment=-0.8, state=after_fallbacks(1)))
    assert d.route == "handoff"


def test_negative_but_not_complaining_nor_stuck_is_answered(router, retriever):
    retriever.passages = [passage(STRONG)]
    d = router.route(turn("ugh, how long do I have to return this", "policy_question", sentiment=-0.8))
    assert d.route == "retrieval"


# -- 2. templates -----------------------------------------------------------------------------------


@pytest.mark.parametrize("intent", ["greet", "thanks", "goodbye", "affirm", "deny"])
def test_small_talk_is_a_template(router, retriever, intent):
    d = router.route(turn("hi", intent))
    assert d.route == "template" and d.text
    assert retriever.queries == []


def test_greeting_names_the_store_and_speaks_chinese(router):
    assert "Brightcart" in router.route(turn("hi", "greet")).text
    zh = router.route(turn("你好", "greet", lang="zh"))
    assert "Brightcart" in zh.text and "您好" in zh.text


# -- 3. orders and the active flow ------------------------------------------------------------------------


def test_order_question_with_an_id_goes_to_the_flow(router):
    d = router.route(turn("where is 100023", "track_order", order_ids=("100023",)))
    assert d.route == "flow" and TRACKING in d.text
    assert d.sources[0].kind == "order"


def test_where_is_my_order_asks_for_it_and_starts_the_flow(router, retriever):
    retriever.passages = [passage(STRONG)]  # a signed-in "where is my order?" is never an FAQ
    d = router.route(turn("where is my order?", "track_order"))
    assert d.route == "flow" and FlowStarted("track_order") in d.events
    assert "100023" in d.text


def test_anonymous_order_question_asks_to_sign_in(router, service):
    d = router.route(turn("where is 100023", "track_order", order_ids=("100023",), actor=Actor.anonymous()))
    assert "sign in" in d.text and TRACKING not in d.text
    assert service.calls == []


def test_the_id_alone_continues_the_active_flow(router):
    state = DialogueState("s").apply(FlowStarted("track_order"))
    d = router.route(turn("100023", "out_of_scope", order_ids=("100023",), state=state))
    assert d.route == "flow" and TRACKING in d.text
    assert FlowCompleted("track_order") in d.events


def test_no_cancels_the_active_flow(router, service):
    state = DialogueState("s").apply(FlowStarted("cancel_order"))
    d = router.route(turn("no", "deny", state=state))
    assert d.events[-1] == FlowCompleted("cancel_order", outcome="cancelled")
    after = state.apply_all(d.events)
    assert after.active_flow is None and "flow_step" not in after.slots
    assert service.calls == []


def test_a_malformed_reply_in_the_flow_explains_the_format(router):
    state = DialogueState("s").apply(FlowStarted("track_order"))
    d = router.route(turn("12345", "out_of_scope", malformed=("12345",), state=state))
    assert '"12345"' in d.text and "six digits" in d.text
    assert d.events == []  # the flow goes on


def test_a_different_order_request_during_a_flow_is_not_answered_as_the_old_flow(router, service):
    """Mid-flow the customer changes their mind: "actually, cancel order 100023". The reply must
    be about cancelling, not the tracking answer of the flow that happened to be active."""
    state = DialogueState("s").apply(FlowStarted("track_order"))
    d = router.route(turn("actually, cancel order 100023", "cancel_order", order_ids=("100023",), state=state))
    assert "can't be cancelled" in d.text  # 100023 has shipped


def test_small_talk_during_a_flow_does_not_run_the_flow(router, service):
    state = DialogueState("s").apply(FlowStarted("track_order"))
    d = router.route(turn("thanks", "thanks", state=state))
    assert d.route == "template" and service.calls == []


def test_an_order_id_without_an_intent_is_tracked(router):
    d = router.route(turn("100023", "out_of_scope", order_ids=("100023",)))
    assert d.route == "flow" and TRACKING in d.text


def test_someone_elses_order_is_not_found(router):
    d = router.route(turn("where is 100031", "track_order", order_ids=("100031",)))
    assert "couldn't find" in d.text and "processing" not in d.text


def test_order_system_down_hands_off(router, service):
    service.unavailable = True
    d = router.route(turn("where is 100023", "track_order", order_ids=("100023",)))
    assert d.route == "handoff" and d.handoff_reason


def test_general_return_question_is_answered_from_faqs_and_starts_the_flow(router, retriever):
    retriever.passages = [passage(STRONG)]
    d = router.route(turn("how long do I have to return something?", "return_item"))
    assert d.route == "retrieval" and "30 days" in d.text
    assert d.sources[0].kind == "faq"
    assert FlowStarted("return_item") in d.events
    assert "order number" in d.text  # invites the order id for the next turn


def test_general_return_question_from_an_anonymous_customer_starts_no_flow(router, retriever, service):
    retriever.passages = [passage(STRONG)]
    d = router.route(turn("how do returns work?", "return_item", actor=Actor.anonymous()))
    assert d.route == "retrieval" and d.events == [] and "sign in" in d.text
    assert service.calls == []


def test_return_question_with_a_weak_faq_match_asks_for_the_order(router):
    d = router.route(turn("I want to return something", "return_item"))
    assert d.route == "flow" and FlowStarted("return_item") in d.events


# -- 4. products -----------------------------------------------------------------------------------


def test_product_question_is_answered_from_the_catalog_and_remembered(router):
    d = router.route(turn("does the X200 work with iPhone?", "product_question", products=(X200,)))
    assert d.route == "retrieval" and d.text.startswith("Yes")
    assert [s.id for s in d.sources] == [X200]
    assert SlotSet("product_id", X200) in d.events


def test_a_follow_up_about_it_uses_the_remembered_product(router):
    state = DialogueState("s").apply(SlotSet("product_id", X200))
    d = router.route(turn("how much is it?", "product_question", anaphora=True, state=state))
    assert "$129.99" in d.text


def test_compare_with_the_remembered_product(router):
    state = DialogueState("s").apply(SlotSet("product_id", X200))
    d = router.route(turn("how does it compare to the Nimbus S5?", "product_compare", products=(NIMBUS,),
                          state=state))
    assert {s.id for s in d.sources} == {X200, NIMBUS}
    assert "$129.99" in d.text and "$79.00" in d.text


def test_compare_without_two_products_asks_which(router):
    d = router.route(turn("which is better?", "product_compare"))
    assert d.route == "template" and "Which product" in d.text


def test_recommendation_by_category(router):
    d = router.route(turn("recommend some earbuds under $100", "recommend"))
    assert d.route == "retrieval" and d.sources and "Nimbus S5 Earbuds" in d.text
    assert "Aurora X200 Wireless Earbuds" not in d.text  # over budget


def test_product_question_with_no_product_falls_back_to_faqs(router, retriever):
    retriever.passages = [passage(STRONG, pid="en-price-match")]
    d = router.route(turn("do you price match?", "product_question"))
    assert d.route == "retrieval" and d.sources[0].id == "en-price-match"


def test_out_of_scope_mentioning_a_product_is_a_product_question(router):
    d = router.route(turn("X200 battery?", "out_of_scope", products=(X200,)))
    assert "30 hours" in d.text


# -- 5. retrieval, fallback and hand-off after repeated fallbacks --------------------------------------------


def test_strong_faq_match_is_answered_with_its_source(router, retriever):
    retriever.passages = [passage(STRONG), passage(0.6, pid="en-other")]
    d = router.route(turn("how long do I have to return an item?", "policy_question"))
    assert d.route == "retrieval"
    assert d.text == "You can return items within 30 days of delivery."
    assert [s.id for s in d.sources] == ["en-returns"]
    assert retriever.queries == [("how long do I have to return an item?", 3, "en")]


def test_out_of_scope_with_a_strong_faq_match_is_answered(router, retriever):
    retriever.passages = [passage(STRONG)]
    d = router.route(turn("30 day returns?", "out_of_scope"))
    assert d.route == "retrieval" and d.sources[0].kind == "faq"


def test_out_of_scope_needs_a_clearer_match_than_an_in_scope_question(router, retriever):
    retriever.passages = [passage(MIN_SCORE + 0.01)]
    assert router.route(turn("returns", "policy_question")).route == "retrieval"
    assert router.route(turn("returns", "out_of_scope")).route == "fallback"


def test_low_score_is_a_fallback_not_an_answer(router):
    d = router.route(turn("what's the meaning of life?", "out_of_scope"))
    assert d.route == "fallback"
    assert "30 days" not in d.text and d.sources == []
    assert "rephrase" in d.text


def test_in_scope_question_without_an_answer_says_so(router):
    d = router.route(turn("do you ship to Mars?", "policy_question"))
    assert d.route == "fallback" and "reliable information" in d.text


def test_no_passages_at_all_is_a_fallback(router, retriever):
    retriever.passages = []
    assert router.route(turn("???", "out_of_scope")).route == "fallback"


def test_repeated_fallbacks_hand_off(router):
    first = router.route(turn("blah", "out_of_scope", state=after_fallbacks(0)))
    assert first.route == "fallback"
    second = router.route(turn("blah blah", "out_of_scope", state=after_fallbacks(1)))
    assert second.route == "handoff" and second.handoff_reason == "repeated fallbacks"


def test_fallbacks_before_handoff_is_configurable(service, retriever, qa):
    templates = Templates(store="B")
    router = Router(templates=templates, orders=OrderFlows(service, templates), retriever=retriever,
                    generator=ExtractiveGenerator(), products=qa,
                    dialogue=DialogueSettings(fallbacks_before_handoff=3),
                    retrieval=RetrievalSettings(min_score=MIN_SCORE, language_min_score={}))
    assert router.route(turn("x", "out_of_scope", state=after_fallbacks(1))).route == "fallback"
    assert router.route(turn("x", "out_of_scope", state=after_fallbacks(2))).route == "handoff"


def test_a_successful_answer_resets_the_fallback_count(router, retriever):
    state = after_fallbacks(1).apply_all([UserUttered("hi"), BotUttered("hello", route="template")])
    assert router.route(turn("blah", "out_of_scope", state=state)).route == "fallback"


def test_chinese_retrieval_asks_in_chinese(router, retriever):
    retriever.passages = [passage(STRONG, pid="zh-returns", lang="zh")]
    router.route(turn("退货期限是多久", "policy_question", lang="zh"))
    assert retriever.queries[-1][2] == "zh"


# -- flows and intents as data --------------------------------------------------------------------------


def test_a_flow_with_a_new_step_name_is_routed_from_its_spec(service, retriever, qa):
    """A write flow and its intent declared as data only (a spec, a catalog entry, templates): the
    router feeds its step the answers, lets a question digress, and confirms — no router change."""
    from engine.flows.specs import FLOWS, FlowSpec, SlotSpec
    from engine.nlu.catalog import load_intent_catalog

    calls = []

    class Backend(FakeOrderService):
        def add_gift_note(self, actor, order_id, note, *, idempotency_key):
            calls.append((order_id, note))

    def act(backend, actor, order_id, values, key):
        backend.add_gift_note(actor, order_id, values["gift_note"], idempotency_key=key)
        return {"note": values["gift_note"]}

    spec = FlowSpec("gift_note", "add_gift_note", (
        SlotSpec("wording", "gift_note", "gift_ask", "gift_ask", lambda t: None, lambda t: t.strip() or None,
                 confirm_as="note"),), act, actions=("add",), refusals={"closed": "cancel_closed"})
    templates = Templates(store="B", overrides={
        "gift_ask": {"en": "What should the note on {order_id} say?"},
        "gift_note_confirm": {"en": "Add \"{note}\" to order {order_id}? (yes / no)"},
        "gift_note_done": {"en": "Added \"{note}\"."}, "gift_note_kept": {"en": "No note added."}})
    backend = Backend(dict(service.orders))
    catalog = load_intent_catalog().merged({"gift_note": {"route": "order", "order": "write"}})
    router = Router(templates=templates,
                    orders=OrderFlows(backend, templates, today=lambda: TODAY, flows={**FLOWS, "gift_note": spec}),
                    retriever=retriever, generator=ExtractiveGenerator(), products=qa,
                    dialogue=DialogueSettings(), retrieval=RetrievalSettings(min_score=MIN_SCORE),
                    catalog=catalog)
    state = DialogueState("g")

    def say(text, intent="out_of_scope", **kw):
        nonlocal state
        d = router.route(Turn(nlu=nlu(text, intent, **kw), state=state, actor=Actor.customer("C002")))
        state = state.apply_all(d.events)
        return d

    assert say("add a gift note to 100031", "gift_note", order_ids=("100031",)).text == \
        "What should the note on 100031 say?"
    assert state.slots["flow_step"] == "wording"
    digression = say("do you ship to Canada?", "policy_question")
    assert digression.text.endswith("What should the note on 100031 say?")  # answered, then asked again
    assert say("Happy birthday Ann").text == 'Add "Happy birthday Ann" to order 100031? (yes / no)'
    assert say("yes", "affirm").text == 'Added "Happy birthday Ann".' and calls == [("100031", "Happy birthday Ann")]
    assert state.active_flow is None and "gift_note" not in state.slots


def test_a_catalog_order_intent_without_a_flow_is_refused_at_start(service, retriever, qa):
    from engine.errors import ConfigError
    from engine.nlu.catalog import load_intent_catalog

    catalog = load_intent_catalog().merged({"gift_note": {"route": "order", "order": "write"}})
    templates = Templates(store="B")
    with pytest.raises(ConfigError, match="gift_note"):
        Router(templates=templates, orders=OrderFlows(service, templates), retriever=retriever,
               generator=ExtractiveGenerator(), products=qa, dialogue=DialogueSettings(),
               retrieval=RetrievalSettings(), catalog=catalog)


@pytest.mark.parametrize("flow,text,expected", [
    ("request_replacement", "no, just refund me instead", "return_item"),
    ("request_replacement", "算了不换了，给我退钱吧", "return_item"),
    ("request_replacement", "I'd rather return it", "return_item"),
    ("return_item", "actually can you just send me a new one", "request_replacement"),
    ("return_item", "算了，换个新的吧", "request_replacement"),
    # a wish said negated, a question about the other remedy, a what-if: no switch
    ("request_replacement", "I don't want a refund, just replace it", None),
    ("request_replacement", "不要退款，换新的", None),
    ("request_replacement", "how long does a refund take?", None),
    ("request_replacement", "and if I return it, do I pay shipping", None),
    ("request_replacement", "yes", None),
    ("cancel_order", "refund me instead", None),  # not a remedy flow
])
def test_the_other_remedy_is_asked_for_only_when_wished(flow, text, expected):
    from engine.router import _other_remedy

    assert _other_remedy(flow, text) == expected
