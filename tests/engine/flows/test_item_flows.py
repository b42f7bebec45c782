"""Orders at the item level, as shoppers use them: return some items of an order (named in English
or Chinese, "both", "all of it", a number of units), what that refunds, why a refund was only part
of what was paid, per-item refusals, and which order "the kettle one" is. Writes only after a yes,
with an idempotency key that covers the item lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from connectors.base import Order, OrderItem, ReturnLine, ReturnRecord
from engine.flows import OrderFlows
from engine.flows.items import ItemInfo, amounts_in, pick_lines
from engine.flows.returns import non_returnable_by_category
from engine.generation import ExtractiveGenerator
from engine.responses.templates import Templates
from engine.router import Router
from engine.settings import DialogueSettings, RetrievalSettings
from knowledge.graph.catalog import Catalog, Product
from knowledge.graph.query import ProductQA
from tests.engine.flows.test_writes import Chat, WritableService
from tests.fakes import TODAY, FakeRetriever, at, passage, shipment, write_catalog

PRODUCTS = {
    "P11": Product("P11", "Sonora Q5 Headphones", "Sonora", "audio", 120.0, name_zh="Sonora Q5 头戴式耳机"),
    "P12": Product("P12", "Sonora Q5 Carry Case", "Sonora", "audio", 20.0, name_zh="Sonora Q5 收纳盒"),
    "P13": Product("P13", "Hearthstone Pour 3 Electric Kettle", "Hearthstone", "kitchen", 45.0,
                   name_zh="Hearthstone Pour 3 电热水壶"),
    "P14": Product("P14", "Brightcart Gift Card", "Brightcart", "Gift Cards", 50.0, name_zh="礼品卡"),
}


def _order(oid: str, lines: list[tuple[str, int]], *, status: str = "delivered", delivered: int | None = 5,
           returns: tuple = (), total: float | None = None) -> Order:
    items = tuple(OrderItem(pid, PRODUCTS[pid].name, qty, PRODUCTS[pid].price) for pid, qty in lines)
    paid = sum(i.unit_price * i.quantity for i in items) if total is None else total
    ship = shipment("delivered", delivered_days_ago=delivered) if delivered is not None else None
    return Order(oid, "C001", status, at((delivered or 0) + 3), round(paid, 2), "USD", items, ship, returns)


def _refunded(oid: str, lines: list[tuple[str, int, float]], status: str = "refunded") -> ReturnRecord:
    return ReturnRecord("R20001", oid, status, "too big", at(4), refund_amount=sum(a for _, _, a in lines)
                        if status == "refunded" else None, refunded_at=at(1) if status == "refunded" else None,
                        items=tuple(ReturnLine(p, q, a) for p, q, a in lines))


@pytest.fixture
def service() -> WritableService:
    return WritableService({o.order_id: o for o in [
        _order("200001", [("P11", 1), ("P12", 2), ("P13", 1)]),
        _order("200002", [("P11", 1), ("P12", 1)], status="returned",
               returns=(_refunded("200002", [("P11", 1, 120.0)]),)),
        _order("200003", [("P13", 1), ("P14", 1)], delivered=50),
    ]})


def _router(service, tmp_path, **flow_kwargs) -> Router:
    templates = Templates(store="Brightcart")
    flows = OrderFlows(service, templates, today=lambda: TODAY, product=PRODUCTS.get, **flow_kwargs)
    return Router(templates=templates, orders=flows, retriever=FakeRetriever([passage(0.95, "en-returns")]),
                  generator=ExtractiveGenerator(), products=ProductQA(Catalog.from_file(write_catalog(tmp_path))),
                  dialogue=DialogueSettings(fallbacks_before_handoff=2, negative_handoff_score=-0.6),
                  retrieval=RetrievalSettings(top_k=3, min_score=0.5, language_min_score={}))


@pytest.fixture
def router(service, tmp_path) -> Router:
    return _router(service, tmp_path)


def test_return_just_one_item_refunds_what_was_paid_for_it_after_a_yes(router, service):
    chat = Chat(router)
    d = chat.say("can I return just the kettle from order 200001? it's broken", "return_item", order_ids=("200001",))
    assert "Kettle" in d.text and "$45.00" in d.text and "(yes / no)" in d.text
    assert "Headphones" not in d.text and service.writes == []
    d = chat.say("yes", "affirm")
    assert "$45.00" in d.text and "R0000" in d.text
    (key,) = [w[2] for w in service.writes]
    assert service.return_items[key] == [("P13", 1)]


def test_the_write_key_covers_the_item_lines(service, tmp_path):
    keys = []
    for text in ("return the kettle from 200001, it's broken", "return the headphones from 200001, it's broken"):
        chat = Chat(_router(service, tmp_path))
        chat.say(text, "return_item", order_ids=("200001",))
        chat.say("yes", "affirm")
        keys.append(service.writes[-1][2])
    assert keys[0] != keys[1] and list(service.return_items.values()) == [[("P13", 1)], [("P11", 1)]]


def test_several_items_and_none_named_asks_which_then_reads_the_answer(router, service):
    chat = Chat(router)
    d = chat.say("I want to return something from order 200001", "return_item", order_ids=("200001",))
    assert "Which" in d.text and all(n in d.text for n in ("Headphones", "Carry Case", "Kettle"))
    d = chat.say("one of the cases", "out_of_scope")
    assert "Carry Case" in d.text and "$20.00" in d.text and "reason" in d.text
    chat.say("ordered too many", "out_of_scope")
    chat.say("yes", "affirm")
    assert list(service.return_items.values()) == [[("P12", 1)]]


@pytest.mark.parametrize("text, lines", [
    ("return both the headphones and the kettle", [("P11", 1), ("P13", 1)]),
    ("退掉那个水壶", [("P13", 1)]),
    ("I'll keep the kettle and the headphones, the cases go back", [("P12", 2)]),
])
def test_which_items_in_both_languages(router, service, text, lines):
    chat = Chat(router)
    lang = "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en"
    chat.say(f"{text} 200001", "return_item", order_ids=("200001",), lang=lang)
    chat.say("太大了" if lang == "zh" else "too big", "out_of_scope", lang=lang)
    chat.say("好的" if lang == "zh" else "yes", "affirm", lang=lang)
    assert list(service.return_items.values()) == [lines]


def test_all_of_it_returns_the_whole_order_without_item_lines(router, service):
    chat = Chat(router)
    chat.say("return all of it, order 200001, changed my mind", "return_item", order_ids=("200001",))
    chat.say("yes", "affirm")
    assert list(service.return_items.values()) == [None]  # the whole order: any backend understands it


def test_why_only_part_was_refunded_names_what_was_kept(router, service):
    d = Chat(router).say("why did I only get 120 back for 200002?", "refund_status", order_ids=("200002",))
    assert "$120.00" in d.text and "Headphones" in d.text
    assert "Sonora Q5 Carry Case: not returned, so not part of the refund" in d.text and "original payment method" in d.text


def test_a_rejected_return_promises_no_refund(router, service):
    service.orders["200002"] = replace(service.orders["200002"],
                                       returns=(_refunded("200002", [("P11", 1, 120.0)], status="rejected"),))
    d = Chat(router).say("where is my refund for 200002", "refund_status", order_ids=("200002",))
    assert "rejected" in d.text and "no refund" in d.text and "business days" not in d.text


def test_how_much_would_i_get_back_before_any_return(router, service):
    d = Chat(router).say("how much do I get back if I return the carry cases from 200001", "refund_status",
                         order_ids=("200001",))
    assert "$40.00" in d.text and "R0" not in d.text and service.writes == []


def test_an_order_discount_is_shared_out_in_the_amount(router, service):
    service.orders["200001"] = replace(service.orders["200001"], total=184.5)  # 10% off 205.00
    d = Chat(router).say("return the kettle from 200001 it's broken", "return_item", order_ids=("200001",))
    assert "$40.50" in d.text


def test_an_item_outside_its_window_is_refused_with_its_own_dates(router, service):
    d = Chat(router).say("can I still return the kettle from 200003?", "return_item", order_ids=("200003",))
    assert "Kettle" in d.text and "30-day" in d.text and service.writes == []


def test_each_item_counts_its_window_from_its_own_delivery(router, service):
    order = service.orders["200003"]
    late = replace(order.items[0], delivered_at=at(3))  # the kettle came on its own, three days ago
    service.orders["200003"] = replace(order, items=(late, order.items[1]))
    d = Chat(router).say("can I return the kettle from 200003? it's broken", "return_item", order_ids=("200003",))
    deadline = (at(3) + timedelta(days=30)).date()
    assert f"{deadline:%b} {deadline.day}" in d.text and "(yes / no)" in d.text


def test_categories_the_store_does_not_take_back(service, tmp_path):
    refused = non_returnable_by_category(["gift cards"], PRODUCTS.get)
    service.orders["200004"] = _order("200004", [("P14", 1)])
    router = _router(service, tmp_path, non_returnable=refused)
    d = Chat(router).say("return the gift card from 200004", "return_item", order_ids=("200004",))
    assert "Gift Cards" in d.text and "(yes / no)" not in d.text and service.writes == []


def test_an_opened_item_of_a_sealed_only_category_is_refused_and_the_sealed_units_may_go_back(service, tmp_path):
    """Kettles here are taken back only unopened: "I opened one, can I return it" is refused with
    the reason (no write offered); the unopened one of the two is then offered on its own."""
    sealed = non_returnable_by_category(["kitchen"], PRODUCTS.get)
    service.orders["200006"] = _order("200006", [("P13", 2)])
    router = _router(service, tmp_path, sealed_only=sealed)
    chat = Chat(router)
    d = chat.say("I opened one of the kettles from 200006 and used it, can I return it?", "return_item",
                 order_ids=("200006",))
    assert "can't be returned once opened" in d.text and "(yes / no)" not in d.text and service.writes == []
    d = chat.say("what about the unopened one?", "return_item", order_ids=("200006",))
    assert "(1 of 2)" in d.text and "$45.00" in d.text and service.writes == []
    zh = Chat(router).say("200006的电热水壶没拆封，能退吗", "return_item", order_ids=("200006",), lang="zh")
    assert "无法退货" not in zh.text and "退货" in zh.text


@pytest.mark.parametrize("text, opened", [
    ("龙井拆开喝了一泡，觉得一般，能退吗", True),
    ("I opened it and tried some", True),
    ("还没拆封，能退吗", False),
    ("it's still sealed, never opened", False),
    ("can I return it? it arrived damaged", False),
])
def test_what_the_words_say_about_an_item_being_opened(text, opened):
    from engine.flows.returns import says_opened

    assert says_opened(text) is opened


def test_the_order_is_found_from_the_items_named(router, service):
    d = Chat(router).say("can I send the kettle back? it's broken", "return_item")
    assert "200001" in d.text  # the only order with a kettle still inside its window
    d = Chat(router).say("did I get my money back for the headphones", "refund_status")
    assert "200002" in d.text and "$120.00" in d.text


def test_one_item_off_a_processing_order_explains_it_cancels_as_a_whole(router, service):
    service.orders["200005"] = _order("200005", [("P11", 1), ("P13", 1)], status="processing", delivered=None)
    chat = Chat(router)
    d = chat.say("can you remove the kettle from order 200005", "cancel_order", order_ids=("200005",))
    assert "as a whole" in d.text and "(yes / no)" in d.text and service.writes == []
    chat.say("no, keep it", "deny")
    assert service.writes == []


def test_pick_lines_and_amounts():
    lines = [ItemInfo("P1", "Aurora X200 Wireless Earbuds", 1), ItemInfo("P2", "Aurora X200 Charging Case", 2)]
    assert pick_lines("return just the earbuds", lines).indexes == (0,)
    pick = pick_lines("one of the two cases", lines)
    assert pick.indexes == (1,) and pick.quantities == (1,)
    assert pick_lines("both please", lines).all
    assert pick_lines("hello there", lines).indexes == ()
    assert amounts_in("got 979.99 back but paid $1,059.99, order 100153") == [979.99, 1059.99]


@pytest.mark.parametrize("said, index, units", [
    ("I want to send back one of the two bottles from my last order", 0, 1),  # "bottles" is a bottle
    ("just the tent from my last order", 1, None),  # the order said after the item
    ("return the tent in order 100282", 1, None),
    ("return one bottle", 0, 1),  # a count right before the line's word
    ("the flow 4 bottle, please", 0, None),  # a model number is no count
    ("我最近那单里的两个保温杯，想退一个", 0, 1),  # the count of the clause after the one that names it
    ("两个保温杯退一个", 0, 1),  # the last count said
    ("the two bottles, I only want to return one of them", 0, 1),
])
def test_items_and_units_named_around_the_order(said, index, units):
    lines = [ItemInfo("P1", "Summitcraft Flow 4 Insulated Bottle", 2, ("Summitcraft Flow 4 保温水杯",)),
             ItemInfo("P2", "Peakline Ultra 9 Tent", 1, ("Peakline Ultra 9 帐篷",))]
    pick = pick_lines(said, lines)
    assert pick.indexes == (index,) and pick.quantities == (units,)
    assert pick_lines("the order with the tent", lines).indexes == ()  # describes the order, not an item


def test_an_answer_naming_no_item_asks_again_with_the_items_listed(router, service):
    chat = Chat(router)
    chat.say("I want to return something from order 200001", "return_item", order_ids=("200001",))
    d = chat.say("hmm the thing I don't use", "out_of_scope")
    assert "Kettle" in d.text and "Headphones" in d.text and chat.state.active_flow == "return_item"
    assert chat.state.slots["flow_step"] == "items" and service.writes == []


def test_a_clause_keeping_other_items_is_not_the_reason(router, service):
    chat = Chat(router)
    d = chat.say("退那个水壶，耳机和收纳盒留着", "return_item", order_ids=("200001",), lang="zh")
    assert "原因" in d.text and chat.state.slots["flow_step"] == "reason"


def test_how_much_a_return_in_progress_refunds_is_that_return_s_amount(router, service):
    chat = Chat(router)
    d = chat.say("I want to return one of the two carry cases from order 200001", "return_item", order_ids=("200001",))
    assert chat.state.slots["flow_step"] == "reason"
    d = chat.say("how much will I get back for it", "refund_status")
    assert "$20.00" in d.text and "don't see a return" not in d.text and service.writes == []
    assert chat.state.active_flow == "return_item"  # the return still waits for its reason


def test_how_much_for_one_unit_of_an_order_on_its_way(router, service):
    service.orders["200006"] = _order("200006", [("P12", 2), ("P13", 1)], status="shipped", delivered=None)
    d = Chat(router).say("order 200006 has 2 carry cases, if I send one back when it comes how much do I get back",
                         "return_item", order_ids=("200006",))
    assert "$20.00" in d.text and "$85.00" not in d.text and service.writes == []
