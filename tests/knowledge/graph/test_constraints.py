"""Product reasoning as a shopper meets it: constrained searches, comparisons, yes/no with reasons.

The store here is invented for the test (a small outdoor shop, English with Chinese translations):
nothing in the code under test knows its words, so these tests also show the reasoning comes from
the catalog's own categories, labels, units and values.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.graph.catalog import Catalog
from knowledge.graph.constraints import understand
from knowledge.graph.meaning import cn_number, to_base, water_level, water_meaning
from knowledge.graph.query import ProductQA
from tests.fakes import write_catalog


def _p(pid, name, name_zh, category, price, attrs, *, stock=10, rating=4.0, relations=(), category_zh=""):
    return {"id": pid, "name": name, "name_zh": name_zh, "brand": name.split()[0], "category": category,
            "price": price, "stock": stock, "rating": rating, "attributes": attrs, "relations": list(relations),
            "translations": {"zh": {"category": category_zh}} if category_zh else {}}


def _a(value, unit=None, label="", label_zh=""):
    return {"value": value, "unit": unit, "label": label, "label_zh": label_zh}


WATER = ("water rating", "防水等级")
STORE = [
    _p("L1", "Fernlo Beam 2 Head Torch", "Fernlo Beam 2 头灯", "Lights > Head Torches", 35.0,
       {"brightness": _a(300, "lm", "brightness", "亮度"), "water": _a("IPX4", None, *WATER),
        "weight": _a(80, "g", "weight", "重量"), "rechargeable": _a(True, None, "rechargeable", "可充电")},
       rating=4.5, category_zh="灯具 > 头灯"),
    _p("L2", "Fernlo Beam 9 Head Torch", "Fernlo Beam 9 头灯", "Lights > Head Torches", 79.0,
       {"brightness": _a(900, "lm", "brightness", "亮度"), "water": _a("IPX8", None, *WATER),
        "weight": _a(120, "g", "weight", "重量"), "rechargeable": _a(True, None, "rechargeable", "可充电")},
       rating=4.8, category_zh="灯具 > 头灯"),
    _p("L3", "Glimra Spark 1 Head Torch", "Glimra Spark 1 头灯", "Lights > Head Torches", 19.0,
       {"brightness": _a(150, "lm", "brightness", "亮度"), "water": _a("IPX7", None, *WATER),
        "weight": _a(0.06, "kg", "weight", "重量"), "rechargeable": _a(False, None, "rechargeable", "可充电")},
       rating=3.9, category_zh="灯具 > 头灯"),
    _p("S1", "Glimra Haul 40 Backpack", "Glimra Haul 40 背包", "Packs > Backpacks", 120.0,
       {"capacity": _a(40, "L", "capacity", "容量"), "weight": _a(1.1, "kg", "weight", "重量"),
        "colour": {"value": "olive", "label": "colour", "label_zh": "颜色", "value_zh": "橄榄绿"}},
       category_zh="背包 > 双肩包"),
    _p("S2", "Fernlo Day 20 Backpack", "Fernlo Day 20 背包", "Packs > Backpacks", 60.0,
       {"capacity": _a(20, "L", "capacity", "容量"), "weight": _a(700, "g", "weight", "重量"),
        "colour": {"value": "black", "label": "colour", "label_zh": "颜色", "value_zh": "黑色"}},
       stock=0, category_zh="背包 > 双肩包"),
    _p("A1", "Fernlo Beam Headband", "Fernlo Beam 头带", "Lights > Spares", 9.0, {},
       relations=[{"type": "accessory_of", "target": "L1"}, {"type": "accessory_of", "target": "L2"}],
       category_zh="灯具 > 配件"),
]


@pytest.fixture(scope="module")
def qa(tmp_path_factory) -> ProductQA:
    return ProductQA(Catalog.from_file(write_catalog(tmp_path_factory.mktemp("shop"), STORE)))


def ids(facts) -> list[str]:
    return [s.id for f in facts for s in f.sources]


# -- what the words mean ----------------------------------------------------------------------------

def test_units_numbers_and_ratings_mean_what_they_say():
    assert to_base(1.2, "kg") == (1200.0, "mass") and to_base(500, "毫升") == (500.0, "volume")
    assert [cn_number(t) for t in ("一百", "三百五", "两千", "十五", "一百零五")] == [100, 350, 2000, 15, 105]
    assert water_level("IPX7") == 7 and water_level("IP68") == 8 and water_level("blue") is None
    assert "not swimming" in water_meaning("IPX7") and "swimming" in water_meaning("IP68")


@pytest.mark.parametrize("text, use", [
    ("is it good for running?", "sweat"), ("can I wear them while jogging", "sweat"), ("跑步的时候能戴吗", "sweat"),
    ("running shoes under 150", None),  # a kind of shoe, no use in the wet
])
def test_a_sport_the_product_is_for_means_sweat(text, use):
    from knowledge.graph.meaning import water_use

    assert water_use(text) == use


def test_watch_style_water_ratings_say_what_they_stand():
    """A watch rated in atmospheres: 5 ATM is made for swimming, 3 ATM only for splashes; a length in
    metres is no rating at all."""
    assert water_level("5 ATM") == 8 and water_level("WR100") == 8 and water_level("10 bar") == 8
    assert water_level("3 ATM") == 4 and "not swimming" in water_meaning("3 ATM")
    assert "not diving" in water_meaning("5 ATM") and "潜水" in water_meaning("5ATM", "zh")
    assert water_level("10 m") is None and water_level("1.5 m") is None


# -- searching: every stated constraint holds -------------------------------------------------------

@pytest.mark.parametrize("text, lang, expected", [
    ("head torch under $50", "en", {"L1", "L3"}),
    ("头灯 五十元以内", "zh", {"L1", "L3"}),
    ("有没有五十以内的头灯", "zh", {"L1", "L3"}),  # a bare number 以内 beside a kind is its price
    ("有没有50以下的头灯", "zh", {"L1", "L3"}),
    ("a head torch between 30 and 100 dollars", "en", {"L1", "L2"}),
    ("head torch at least 250 lumens", "en", {"L1", "L2"}),
    ("a head torch lighter than 100 g", "en", {"L1", "L3"}),  # 0.06 kg is 60 g
    ("头灯 重量100克以下", "zh", {"L1", "L3"}),
    ("backpack of at least 30 litres", "en", {"S1"}),
    ("黑色的双肩包", "zh", {"S2"}),
    ("a rechargeable head torch under 50", "en", {"L1"}),
    ("head torch that isn't rechargeable", "en", {"L3"}),
    ("a head torch I can swim with", "en", {"L2"}),
])
def test_a_search_returns_only_products_meeting_every_constraint(qa, text, lang, expected):
    q = qa.understand(text, lang)
    result = qa.search(q, 5)
    assert not result.relaxed
    assert {p.id for p in result.products} == expected


def test_orderings_put_the_asked_extreme_first(qa):
    assert qa.search(qa.understand("the cheapest head torch", "en")).products[0].id == "L3"
    assert qa.search(qa.understand("最亮的头灯", "zh")).products[0].id == "L2"
    assert qa.search(qa.understand("best rated head torch", "en")).products[0].id == "L2"
    # the lightest backpack is sold out: the lightest one to buy comes first, and the sold-out one says so
    assert [p.id for p in qa.search(qa.understand("lightest backpack", "en")).products] == ["S1", "S2"]
    assert "out of stock" in qa.recommend("lightest backpack", "en")[0].text
    # the answer never calls the one in stock the lightest: it is the lightest *in stock*
    text = qa.recommend("lightest backpack", "en")[0].text
    assert text.startswith("Of those in stock, the Glimra Haul 40 Backpack") and "the Fernlo Day 20 Backpack," in text
    assert qa.recommend("最轻的背包", "zh")[0].text.startswith("有货的商品里")


def test_a_bound_is_no_preference_and_a_comparative_is_one(qa):
    """"less than 100 g" bounds the search; "lighter" alone orders it (lightest first)."""
    assert qa.understand("a head torch less than 100 g", "en").soft_order is None
    assert qa.understand("any lighter head torch", "en").soft_order == ("weight", "asc")


def test_plurals_in_es_and_days_read_like_the_catalog():
    from knowledge.graph.vocabulary import singular

    assert [singular(w) for w in ("smartwatches", "boxes", "brushes", "glasses", "shoes", "cases", "earbuds")] == [
        "smartwatch", "box", "brush", "glass", "shoe", "case", "earbud"]
    assert to_base(3, "days") == (3 * 1440.0, "time") and to_base(10, "days")[0] > to_base(34, "hours")[0]


def test_nothing_fits_is_said_and_the_closest_named(qa):
    facts = qa.recommend("head torch for swimming under $40", "en")
    assert facts[0].text.startswith("Nothing matches")
    assert "swimming" in facts[0].text
    # under budget, the nearest to swimming first (IPX7), then the rest under budget
    assert ids(facts) == ["L3", "L1"]
    over = qa.recommend("head torch for swimming under $10", "en")[0]
    assert "Nothing matches" in over.text and [s.id for s in over.sources][0] == "L2"


def test_something_cheaper_than_the_product_in_context(qa):
    facts = qa.recommend("anything cheaper?", "en", context_ids=["L2"])
    assert set(ids(facts)) == {"L1", "L3"}
    zh = qa.recommend("有没有便宜点的", "zh", context_ids=["L2"])
    assert set(ids(zh)) == {"L1", "L3"}


def test_an_accessory_type_is_looked_for_among_the_context_products_accessories(qa):
    assert ids(qa.recommend("do you have a headband for it?", "en", context_ids=["L1"])) == ["A1"]


def test_a_number_that_names_a_feature_is_not_an_amount(tmp_path):
    phones = [_p("T1", "Velo One 5 Phone", "", "Phones", 300.0, {"five_g": _a(True, None, "5G", "支持5G")}),
              _p("T2", "Velo Two 6 Phone", "", "Phones", 200.0, {"five_g": _a(False, None, "5G", "支持5G")})]
    qa = ProductQA(Catalog.from_file(write_catalog(tmp_path, phones)))
    q = qa.understand("a 5G phone under $400", "en")
    assert [c.key for c in q.attrs] == ["five_g"] and q.price_max == 400
    assert [p.id for p in qa.search(q).products] == ["T1"]


# -- comparing and answering ------------------------------------------------------------------------

def test_a_comparison_answers_the_asked_question_first(qa):
    text = qa.compare(["L1", "L3"], "en", "which one is lighter?")[0].text
    assert text.startswith("The Glimra Spark 1 Head Torch is lighter")
    assert "60 g" in text and "80 g" in text
    zh = qa.compare(["L1", "L2"], "zh", "哪个更便宜")[0].text
    assert zh.startswith("Fernlo Beam 2 头灯更便宜")


def test_water_questions_get_yes_or_no_with_the_reason(qa):
    no = qa.facts("can I swim with it?", ["L1"], "en")[0].text
    assert no.startswith("No") and "IPX4" in no and "splashes" in no
    yes = qa.facts("can I take it swimming?", ["L2"], "en")[0].text
    assert yes.startswith("Yes") and "IPX8" in yes
    zh = qa.facts("能游泳吗", ["L3"], "zh")[0].text
    assert zh.startswith("不行") and "IPX7" in zh


def test_chinese_replies_carry_chinese_units(qa):
    text = qa.facts("多重", ["L1"], "zh")[0].text
    assert "80克" in text and " g" not in text


def test_which_of_the_listed_products_is_answered_among_them(qa):
    facts = qa.recommend("which of those is the cheapest?", "en", within=["L1", "L2"])
    assert ids(facts)[0] == "L1"
    assert qa.asks_comparison("which one is lighter?") and qa.asks_comparison("哪个更便宜")
    assert not qa.asks_comparison("how heavy is it?")


def test_a_search_is_told_from_a_question_about_the_product_in_context(qa):
    assert qa.is_search("head torches under $50", "en")
    assert qa.is_search("anything cheaper?", "en", ["L2"])
    assert qa.is_search("do you have a headband for it?", "en", ["L1"])
    assert not qa.is_search("how heavy is it?", "en", ["L1"])
    assert not qa.is_search("is the head torch rechargeable?", "en", ["L1"])


def test_bad_input_is_refused_clearly(qa):
    with pytest.raises(ValueError, match="k must be > 0"):
        qa.search(qa.understand("head torch", "en"), 0)
    assert qa.recommend("", "en") == [] and qa.recommend("🙂" * 3000, "en") == []


def test_one_attribute_in_several_units_is_compared_within_the_stated_one(tmp_path):
    # "capacity" is litres for a pack, persons for a tent: "at least 2 persons" never reads litres
    items = [_p("K1", "Osto Trek 30 Pack", "", "Packs", 90.0, {"capacity": _a(30, "L", "capacity", "容量")}),
             _p("K2", "Osto Dome 3 Tent", "", "Tents", 200.0, {"capacity": _a(3, "persons", "capacity", "容量")}),
             _p("K3", "Osto Dome 1 Tent", "", "Tents", 120.0, {"capacity": _a(1, "persons", "capacity", "容量")})]
    qa = ProductQA(Catalog.from_file(write_catalog(tmp_path, items)))
    assert [p.id for p in qa.search(qa.understand("capacity at least 2 persons", "en")).products] == ["K2"]
    assert [p.id for p in qa.search(qa.understand("容量20升以上", "zh")).products] == ["K1"]


def test_cheaper_than_a_named_product_in_chinese(qa):
    facts = qa.recommend("有没有比Fernlo Beam 9便宜的头灯", "zh", context_ids=["L2"], named_ids=["L2"])
    assert set(ids(facts)) == {"L1", "L3"}



def test_attribute_cues_read_the_same_in_every_process(tmp_path):
    """Two attributes whose labels share words ("keeps drinks hot", "keeps drinks cold"): which
    cue of each counts must not depend on a set's order, which changes between processes."""
    import json
    import os
    import subprocess
    import sys

    bottle = [_p("B1", "Trek 4 Insulated Bottle", "Trek 4 保温杯", "Drinkware > Bottles", 30.0,
                 {"keeps_hot": _a(8, "h", "keeps drinks hot", "保热"), "keeps_cold": _a(22, "h", "keeps drinks cold", "保冷")})]
    path = write_catalog(tmp_path, bottle)
    script = ("import json, sys\nfrom knowledge.graph.catalog import Catalog\nfrom knowledge.graph.query import ProductQA\n"
              "qa = ProductQA(Catalog.from_file(sys.argv[1]))\n"
              "print(json.dumps(qa.vocabulary.cue_keys('how long does it keep drinks hot and cold')))")
    seen = set()
    for seed in ("1", "2", "3", "4"):
        out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}, cwd=str(Path(__file__).resolve().parents[3]))
        seen.add(out.stdout.strip())
    assert len(seen) == 1, seen
    assert {k for k, _, _ in json.loads(seen.pop())} == {"keeps_hot", "keeps_cold"}


# -- a product the shopper has is what the request is for, not a brand or a kind to look for -----
GEAR = [
    _p("G1", "Cirrus Base 2 Stove", "Cirrus Base 2 炉头", "Stoves", 149.0, {}),
    _p("G2", "Cirrus Pot 1 Cookpot", "Cirrus Pot 1 锅", "Cookware", 64.0,
       {"fits": _a(["Cirrus Base 2"], label="fits", label_zh="适配")}),
    _p("G3", "Ember Pot 5 Cookpot", "Ember Pot 5 锅", "Cookware", 29.0,
       {"fits": _a(["Cirrus Base 2", "Ember Base 1"], label="fits", label_zh="适配")}),
    _p("G4", "Cirrus Base 3 Stove", "Cirrus Base 3 炉头", "Stoves", 39.0, {}),
]


@pytest.fixture(scope="module")
def gear(tmp_path_factory):
    return ProductQA(Catalog.from_file(write_catalog(tmp_path_factory.mktemp("gear"), GEAR)))


def test_a_brand_said_inside_a_value_is_no_brand_asked_for(gear):
    q = gear.understand("a gift for my dad, he has a cirrus base 2. budget around 40", "en")
    assert q.brands == [] and [a.key for a in q.attrs] == ["fits"]
    assert len(gear.understand("a cirrus pot that fits the ember base 1", "en").brands) == 1


def test_a_request_for_what_fits_a_product_in_view_is_not_another_of_its_kind(gear):
    facts = gear.recommend("a gift for my dad, he has a cirrus base 2. budget around 40", "en", named_ids=["G1"])
    said = " ".join(f.text for f in facts)
    assert "Ember Pot 5" in said and "Cirrus Base 3" not in said


# -- what a number is about -------------------------------------------------------------------------

_COLD = [
    _p("Q1", "Duvra Loft 2 Quilt", "Duvra Loft 2 被子", "Sleep > Quilts", 90.0,
       {"comfort": _a(8, "°C", "comfort temperature", "舒适温度"), "warranty": _a(24, "months", "warranty", "保修期")},
       category_zh="睡眠 > 被子"),
    _p("Q2", "Duvra Loft 7 Quilt", "Duvra Loft 7 被子", "Sleep > Quilts", 180.0,
       {"comfort": _a(-4, "°C", "comfort temperature", "舒适温度"), "warranty": _a(24, "months", "warranty", "保修期")},
       category_zh="睡眠 > 被子"),
    _p("T1", "Lumo Camp 3 Lantern", "Lumo Camp 3 营地灯", "Lights > Lanterns", 40.0,
       {"runtime": _a(40, "h", "run time", "续航"), "warranty": _a(12, "months", "warranty", "保修期")},
       category_zh="灯具 > 营地灯"),
    _p("T2", "Lumo Camp 8 Lantern", "Lumo Camp 8 营地灯", "Lights > Lanterns", 70.0,
       {"runtime": _a(90, "h", "run time", "续航"), "warranty": _a(12, "months", "warranty", "保修期")},
       category_zh="灯具 > 营地灯"),
]


@pytest.fixture(scope="module")
def cold(tmp_path_factory) -> ProductQA:
    return ProductQA(Catalog.from_file(write_catalog(tmp_path_factory.mktemp("cold"), _COLD)))


@pytest.mark.parametrize("text, lang", [
    ("a quilt for a 4 day trip", "en"),
    ("出去玩五天四夜，推荐个被子", "zh"),
])
def test_how_long_the_customer_goes_is_no_warranty(cold, text, lang):
    """The quilts' warranties are stated in months: days said beside them are the trip."""
    q = cold.understand(text, lang)
    assert [c.key for c in q.attrs] == []
    assert {p.id for p in cold.search(q).products} == {"Q1", "Q2"}


@pytest.mark.parametrize("text, lang", [
    ("a quilt for nights around 0°C", "en"),
    ("晚上零度左右，哪个被子合适", "zh"),
])
def test_a_cold_night_wants_a_rating_at_or_below_it(cold, text, lang):
    """A comfort rating says how cold a product copes with: "around 0°" is met by -4°C, not by 8°C."""
    assert [p.id for p in cold.search(cold.understand(text, lang)).products] == ["Q2"]


def test_hours_are_the_run_time_and_at_least_is_a_bound_not_a_superlative(cold):
    q = cold.understand("a lantern that lasts at least 60 hours", "en")
    assert [(c.key, c.op) for c in q.attrs] == [("runtime", ">=")] and q.order is None
    assert [p.id for p in cold.search(q).products] == ["T2"]
    zh = cold.understand("营地灯 最少50小时", "zh")
    assert [c.key for c in zh.attrs] == ["runtime"] and zh.order is None


@pytest.mark.parametrize("text, lang, expected, said", [
    ("哪款头灯不可以充电", "zh", {"L3"}, "否"),
    ("有没有可充电的头灯", "zh", {"L1", "L2"}, "可充电"),  # 有没有 asks, it negates nothing
    ("a head torch that isn't rechargeable", "en", {"L3"}, "no"),
])
def test_a_feature_wanted_or_not_is_read_with_its_polarity(qa, text, lang, expected, said):
    q = qa.understand(text, lang)
    assert [c.said for c in q.attrs] == [said]
    assert {p.id for p in qa.search(q, 5).products} == expected


def test_accessories_asked_without_a_kind_are_listed_with_prices_and_a_kind_asked_is_kept_to(qa):
    text = qa.recommend("what accessories are there for the Fernlo Beam 2?", "en", named_ids=["L1"])[0].text
    assert text.startswith("Accessories for the Fernlo Beam 2 Head Torch") and "Fernlo Beam Headband ($9.00)" in text
    none = qa.facts("which backpack works with the Fernlo Beam 2?", ["L1"], "en")[0].text
    assert none.startswith("No backpack is listed for the Fernlo Beam 2 Head Torch")


@pytest.mark.parametrize("text, lang, kinds", [
    ("a backpack for head torches", "en", ["backpack"]),  # what it is for, not a second kind asked for
    ("适合装头灯的背包", "zh", ["背包"]),
    ("a head torch and a backpack", "en", ["head torch", "backpack"]),
])
def test_a_kind_named_as_what_another_is_for_is_no_kind_asked_for(qa, text, lang, kinds):
    assert sorted(qa.understand(text, lang).types) == sorted(kinds)


def test_a_value_of_several_words_is_found_and_confirmed_by_its_head_word(tmp_path):
    glass = {"value": "borosilicate glass", "label": "material", "label_zh": "材质", "value_zh": "高硼硅玻璃"}
    clay = {"value": "raw stoneware", "label": "material", "label_zh": "材质", "value_zh": "原矿粗陶"}
    qa = ProductQA(Catalog.from_file(write_catalog(tmp_path, [
        _p("C1", "Kiln Fair Cup", "窑火公道杯", "Cups", 39.0, {"material": glass}, category_zh="杯子"),
        _p("C2", "Kiln Stone Cup", "窑火粗陶杯", "Cups", 29.0, {"material": clay}, category_zh="杯子")])))
    assert [p.id for p in qa.search(qa.understand("a glass cup", "en")).products] == ["C1"]
    assert [p.id for p in qa.search(qa.understand("玻璃的杯子有吗", "zh")).products] == ["C1"]
    assert qa.facts("is it glass?", ["C1"], "en")[0].text.startswith("Yes: the Kiln Fair Cup's material is borosilicate")
    assert qa.facts("是玻璃的吗", ["C1"], "zh")[0].text == "是的，窑火公道杯的材质是高硼硅玻璃。"
    assert not qa.facts("the kiln stone cup, is it glass?", ["C2"], "en")[0].text.startswith("Yes")


def test_whether_one_product_goes_on_another_is_their_compatibility(tmp_path):
    qa = ProductQA(Catalog.from_file(write_catalog(tmp_path, [
        _p("K1", "Songjian Cast Kettle", "松间铸铁壶", "Kettles", 560.0, {}, category_zh="水壶"),
        _p("H1", "Songjian Tea Hob", "松间电陶炉", "Stoves", 398.0, {}, category_zh="炉具",
           relations=[{"type": "compatible_with", "target": "K1"}]),
        _p("B1", "Songjian Tin Caddy", "松间锡罐", "Caddies", 328.0, {"material": _a("tin", None, "material", "材质")})])))
    assert qa.facts("can I put the cast kettle on the tea hob?", ["K1", "H1"], "en")[0].text.startswith("Yes")
    assert qa.facts("松间铸铁壶能放在松间电陶炉上用吗", ["K1", "H1"], "zh")[0].text.startswith("是的")
    # the product's own name is no value asked about: "tin" of "Tin Caddy" is no "yes, it is tin"
    assert not qa.facts("does the songjian tin caddy fit a whole cake?", ["B1"], "en")[0].text.startswith("Yes")
