"""knowledge/graph/query.py: facts about products, comparisons and recommendations, each cited."""

from __future__ import annotations

import pytest

from knowledge.graph.catalog import Catalog
from knowledge.graph.query import ProductQA
from tests.fakes import (CHARGER, ECHO, LAPTOP_AIR, LAPTOP_PRO, NIMBUS, TRAIL, VEGA, X200, X200_CASE,
                         write_catalog)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Catalog:
    return Catalog.from_file(write_catalog(tmp_path_factory.mktemp("catalog")))


@pytest.fixture(scope="module")
def qa(catalog) -> ProductQA:
    return ProductQA(catalog)


def texts(facts) -> str:
    return " ".join(f.text for f in facts)


def cited(facts) -> list[str]:
    return [s.id for f in facts for s in f.sources]


def assert_every_fact_cites(facts, *product_ids):
    assert facts
    for f in facts:
        assert f.sources, f.text
        assert {s.id for s in f.sources} <= set(product_ids)
        assert all(s.kind == "product" for s in f.sources)


# -- facts ---------------------------------------------------------------------------------------


def test_compatibility_with_a_supported_platform(qa):
    facts = qa.facts("does the X200 work with my iPhone?", [X200], "en")
    assert_every_fact_cites(facts, X200)
    assert facts[0].text.startswith("Yes")
    assert "iOS" in facts[0].text and "Aurora X200 Wireless Earbuds" in facts[0].text


def test_compatibility_with_an_unsupported_platform_does_not_say_yes(qa):
    facts = qa.facts("does it work with my windows pc?", [X200], "en")
    assert_every_fact_cites(facts, X200)
    text = texts(facts)
    assert not text.startswith("Yes")
    assert "Windows" in text and "iOS and Android" in text


def test_compatibility_in_chinese(qa):
    facts = qa.facts("X200支持安卓手机吗", [X200], "zh")
    assert facts[0].text.startswith("是的") and "Android" in facts[0].text
    facts = qa.facts("X200支持windows吗", [X200], "zh")
    assert "不包括Windows" in facts[0].text


def test_battery_life_with_unit_and_note(qa):
    facts = qa.facts("how long does the battery last?", [X200], "en")
    assert_every_fact_cites(facts, X200)
    assert "30 hours" in facts[0].text and "with the charging case" in facts[0].text


def test_battery_life_in_chinese_uses_the_chinese_label_and_unit(qa):
    facts = qa.facts("电池续航多久", [X200], "zh")
    assert facts[0].text == "Aurora X200 无线耳机的续航：30小时。"


def test_price_uses_the_currency_symbol(qa, catalog):
    facts = qa.facts("how much is it?", [X200], "en")
    assert_every_fact_cites(facts, X200)
    assert "$129.99" in texts(facts)
    assert "¥129.99" in texts(ProductQA(catalog, currency_symbol="¥").facts("多少钱", [X200], "zh"))


def test_stock_in_and_out(qa):
    assert "in stock (40 available)" in texts(qa.facts("is it in stock?", [X200], "en"))
    out = qa.facts("is it available?", [VEGA], "en")
    assert_every_fact_cites(out, VEGA)
    assert "out of stock" in texts(out)
    assert "缺货" in texts(qa.facts("有货吗", [VEGA], "zh"))


def test_accessories_are_listed_citing_the_product_and_each_accessory(qa):
    facts = qa.facts("what accessories are there for it?", [X200], "en")
    assert_every_fact_cites(facts, X200, X200_CASE)
    assert "Aurora X200 Charging Case" in texts(facts)
    assert cited(facts) == [X200, X200_CASE]  # the asked-about product first


def test_a_question_with_no_cue_gets_the_summary(qa):
    facts = qa.facts("tell me about it", [X200], "en")
    assert len(facts) == 1
    assert_every_fact_cites(facts, X200)
    assert "Aurora" in facts[0].text and "$129.99" in facts[0].text and "30 hours" in facts[0].text


def test_an_asked_attribute_the_product_lacks_falls_back_to_the_summary(qa):
    facts = qa.facts("is it waterproof?", [TRAIL], "en")
    assert len(facts) == 1 and "$89.00" in facts[0].text


def test_facts_use_the_first_known_product(qa):
    assert cited(qa.facts("how much?", ["P404", NIMBUS, X200], "en")) == [NIMBUS]


def test_no_known_product_gives_no_facts(qa):
    assert qa.facts("how much?", ["P404"], "en") == []
    assert qa.facts("how much?", [], "en") == []


def test_several_cues_give_several_facts(qa):
    facts = qa.facts("how much is it and what is the battery life?", [X200], "en")
    assert len(facts) == 2
    assert "30 hours" in texts(facts) and "$129.99" in texts(facts)


# -- compare -------------------------------------------------------------------------------------


def test_compare_states_both_prices_and_shared_attributes(qa):
    facts = qa.compare([X200, NIMBUS], "en")
    assert len(facts) == 1
    assert_every_fact_cites(facts, X200, NIMBUS)
    assert sorted(cited(facts)) == sorted([X200, NIMBUS])
    text = facts[0].text
    assert "$129.99" in text and "$79.00" in text
    assert "30 hours vs 24 hours" in text and "5.3 vs 5.2" in text


def test_compare_needs_two_known_products(qa):
    assert qa.compare([X200], "en") == []
    assert qa.compare([X200, "P404"], "en") == []


def test_compare_in_chinese(qa):
    text = qa.compare([X200, NIMBUS], "zh")[0].text
    assert "对比" in text and "Nimbus S5 耳机" in text


# -- recommend -----------------------------------------------------------------------------------


def test_recommend_by_category_cue_best_rated_first_and_in_stock_only(qa):
    facts = qa.recommend("can you recommend some earbuds?", "en")
    assert_every_fact_cites(facts, X200, NIMBUS, ECHO, VEGA)
    picks = cited(facts)
    assert VEGA not in picks  # out of stock
    assert picks == [X200, NIMBUS, ECHO]


def test_recommend_with_a_budget(qa):
    facts = qa.recommend("recommend earbuds under $100", "en")
    picks = cited(facts)
    assert picks == [NIMBUS, ECHO]
    assert "under $100" in facts[0].text


@pytest.mark.parametrize("question", ["earbuds below 50 dollars", "推荐50元以内的耳机", "earbuds, budget $50"])
def test_recommend_budget_phrasings(qa, question):
    assert cited(qa.recommend(question, "en")) == [ECHO]


def test_recommend_with_a_budget_written_with_a_thousands_separator(qa):
    facts = qa.recommend("recommend a laptop under $1,000", "en")
    assert cited(facts) == [LAPTOP_AIR]
    assert LAPTOP_PRO not in cited(facts)


def test_recommend_with_nothing_in_budget_says_so_and_names_the_closest(qa):
    facts = qa.recommend("earbuds under $20", "en")
    assert facts[0].text.startswith("Nothing matches")
    assert "under $20" in facts[0].text
    assert cited(facts)[0] == ECHO  # the cheapest earbuds: nearest to the budget


def test_recommend_without_a_cue_or_context_is_empty(qa):
    assert qa.recommend("what would you recommend?", "en") == []


def test_recommend_from_context_uses_similar_products(qa):
    assert cited(qa.recommend("anything like it?", "en", context_ids=[X200])) == [NIMBUS]


def test_recommend_never_lists_a_product_twice(tmp_path):
    products = [
        {"id": "A", "name": "Alpha Buds", "category": "audio", "price": 50, "stock": 3, "rating": 4.0,
         "relations": [{"type": "similar_to", "target": "B"}]},
        {"id": "B", "name": "Beta Buds", "category": "audio", "price": 60, "stock": 3, "rating": 4.5,
         "relations": [{"type": "similar_to", "target": "A"}]},
    ]
    qa = ProductQA(Catalog.from_file(write_catalog(tmp_path, products)))
    picks = cited(qa.recommend("something similar?", "en", context_ids=["A"]))
    assert picks == ["B"]


def test_recommend_respects_k(qa):
    assert len(cited(qa.recommend("earbuds", "en", k=1))) == 1


def test_recommend_in_chinese(qa):
    facts = qa.recommend("推荐一款跑鞋", "zh")
    assert facts[0].text.startswith("为您推荐") and cited(facts) == [TRAIL]


def test_price_format(qa, catalog):
    assert qa.price(catalog.get(LAPTOP_PRO)) == "$1,299.00"


def test_single_valued_os_attribute_is_understood(tmp_path):
    """Phones carry ``os: "Android"`` (a string, not a list); the answer must not be
    "lists Android as supported, not Android"."""
    products = [{"id": "F1", "name": "Novu Edge 6 Smartphone", "category": "phones", "price": 399,
                 "attributes": {"os": {"value": "Android", "label": "operating system"}}}]
    qa = ProductQA(Catalog.from_file(write_catalog(tmp_path, products)))
    yes = texts(qa.facts("does it run android?", ["F1"], "en"))
    assert "not Android" not in yes
    assert "Android" in yes
    no = texts(qa.facts("does it work with iOS?", ["F1"], "en"))
    assert "not iOS" in no


def test_a_recommendation_for_earbuds_does_not_offer_an_accessory(tmp_path):
    products = [
        {"id": "E1", "name": "Orbit Buds", "category": "audio", "price": 60, "stock": 5, "rating": 4.0},
        {"id": "E2", "name": "Orbit Buds Charging Case", "category": "audio", "price": 20, "stock": 5,
         "rating": 4.9, "relations": [{"type": "accessory_of", "target": "E1"}]},
    ]
    qa = ProductQA(Catalog.from_file(write_catalog(tmp_path, products)))
    assert cited(qa.recommend("recommend some buds", "en")) == ["E1"]


def test_every_demo_category_can_be_recommended(demo_store):
    """The demo store's categories all have a cue, so "recommend a smartphone" finds phones."""
    catalog = Catalog.from_file(demo_store.catalog_path)
    qa = ProductQA(catalog)
    facts = qa.recommend("can you recommend a smartphone?", "en")
    assert facts, "no recommendation for the demo store's phones category"
    assert {catalog.get(pid).category for pid in cited(facts)} == {"phones"}


# -- graph relations: every fact cites both nodes ------------------------------------------------


def test_compatibility_between_two_products_cites_both(qa):
    facts = qa.facts("does the X200 work with the Volt charger?", [X200, CHARGER], "en")
    rel = [f for f in facts if "compatible" in f.text]
    assert len(rel) == 1
    assert rel[0].text.startswith("Yes") and "Volt 20W USB-C Charger" in rel[0].text
    assert [s.id for s in rel[0].sources] == [X200, CHARGER]
    assert_every_fact_cites(facts, X200, CHARGER, X200_CASE)


def test_an_accessory_fits_its_product_in_either_order(qa):
    for ids in ([X200_CASE, X200], [X200, X200_CASE]):
        facts = qa.facts("does it fit?", ids, "en")
        assert facts[0].text == "Yes: the Aurora X200 Charging Case is an accessory for the Aurora X200 Wireless Earbuds."
        assert [s.id for s in facts[0].sources] == ids


def test_products_without_a_relation_are_not_called_compatible(qa):
    facts = qa.facts("is the Trailrunner compatible with the X200?", [TRAIL, X200], "en")
    assert facts[0].text.startswith("The catalog does not list") and "Yes" not in facts[0].text
    assert [s.id for s in facts[0].sources] == [TRAIL, X200]


def test_compatible_products_are_listed_citing_each(qa):
    facts = qa.facts("what works with it?", [CHARGER], "en")
    assert facts[0].text == "Listed as compatible with the Volt 20W USB-C Charger: Aurora X200 Wireless Earbuds."
    assert [s.id for s in facts[0].sources] == [CHARGER, X200]


def test_similar_products_are_listed_citing_each(qa):
    facts = qa.facts("is there an alternative to it?", [X200], "en")
    assert facts[0].text == "Similar to the Aurora X200 Wireless Earbuds: Nimbus S5 Earbuds."
    assert [s.id for s in facts[0].sources] == [X200, NIMBUS]
    zh = qa.facts("有类似的吗", [X200], "zh")
    assert zh[0].text == "Aurora X200 无线耳机的类似产品：Nimbus S5 耳机。"
    assert [s.id for s in zh[0].sources] == [X200, NIMBUS]


def test_a_platform_question_does_not_list_compatible_products(qa):
    facts = qa.facts("does it work with my iPhone?", [X200], "en")
    assert cited(facts) == [X200]


def test_compatibility_in_chinese_cites_both(qa):
    facts = qa.facts("X200和充电器兼容吗", [X200, CHARGER], "zh")
    rel = [f for f in facts if "兼容" in f.text]
    assert rel and rel[0].text == "是的，Aurora X200 无线耳机与Volt 20W USB-C Charger兼容。"
    assert [s.id for s in rel[0].sources] == [X200, CHARGER]


@pytest.mark.parametrize(
    "question",
    ["how much is it?", "what accessories are there?", "does it work with the charger?", "anything similar?",
     "tell me about it", "is it in stock?", "what is the battery life?"],
)
def test_every_fact_cites_known_product_nodes(qa, catalog, question):
    for ids in ([X200], [X200, CHARGER], [CHARGER, X200], [X200_CASE, X200]):
        facts = qa.facts(question, ids, "en")
        assert facts
        for f in facts:
            assert f.sources and f.sources[0].id == ids[0], f.text
            assert all(catalog.get(s.id) is not None and s.kind == "product" for s in f.sources)
            assert all(catalog.graph.nodes[s.id]["kind"] == "product" for s in f.sources)


def test_a_stem_names_the_same_label_word_on_both_sides():
    from knowledge.graph.vocabulary import stem

    assert stem("mop") == stem("mopping")
    assert stem("charge") == stem("charging")
    assert stem("wirelessly") == stem("wireless")
    assert stem("press") == "press"


# -- the categories a question or an FAQ speaks of ------------------------------------------------
KINDS = [
    {"id": "K1", "name": "Brewly Drip 5 Coffee Maker", "name_zh": "Brewly Drip 5 咖啡机", "brand": "Brewly",
     "category": "kitchen", "category_zh": "厨房电器", "price": 89.0, "stock": 3},
    {"id": "K2", "name": "Brewly Pour 2 Electric Kettle", "name_zh": "Brewly Pour 2 电热水壶", "brand": "Brewly",
     "category": "kitchen", "category_zh": "厨房电器", "price": 39.0, "stock": 3},
    {"id": "O1", "name": "Ridge Dome 4 Tent", "name_zh": "Ridge Dome 4 帐篷", "brand": "Ridge",
     "category": "outdoor", "category_zh": "户外运动", "price": 199.0, "stock": 3},
    {"id": "S1", "name": "Homely V4 Robot Vacuum", "name_zh": "Homely V4 扫地机器人", "brand": "Homely",
     "category": "smart_home", "category_zh": "智能家居", "price": 399.0, "stock": 3},
]


@pytest.fixture(scope="module")
def kinds(tmp_path_factory) -> ProductQA:
    return ProductQA(Catalog.from_file(write_catalog(tmp_path_factory.mktemp("kinds"), KINDS)))


def test_the_category_of_a_kind_named_in_a_question(kinds):
    assert kinds.kind_categories("how long is the warranty on a coffee maker?", "en") == ["kitchen"]
    assert kinds.kind_categories("咖啡机保修多久", "zh") == ["厨房电器"]
    assert kinds.kind_categories("扫地机器人保修多久", "zh") == ["智能家居"]
    assert kinds.kind_categories("how long is the warranty?", "en") == []


def test_the_categories_an_faq_is_written_for(kinds):
    electronics = "All electronics, including audio, smart home and gaming, come with a 12-month warranty."
    assert kinds.categories_in(electronics, "en") == {"smart home"}
    assert kinds.categories_in("Outdoor gear such as tents comes with a 12-month warranty.", "en") == {"outdoor"}
    assert kinds.categories_in("厨房电器自签收之日起享受24个月保修。", "zh") == {"厨房电器"}
    assert kinds.categories_in("Returns are free within 30 days.", "en") == set()


def test_what_a_question_asks_once_its_kind_is_left_out(kinds):
    assert kinds.without_kinds("咖啡机保修多久", "zh") == "保修多久"
    assert kinds.without_kinds("do tents come with a warranty", "en") == "do come with a warranty"


def test_a_category_s_chinese_name_given_beside_it_is_shown_not_learnt(kinds, tmp_path):
    p = Catalog.from_file(write_catalog(tmp_path, KINDS)).get("K1")
    assert p.text("category", "zh") == "厨房电器" and p.text("category", "en") == "kitchen"
