"""knowledge/graph/linker.py: product mentions in customer text."""

from __future__ import annotations

import pytest

from knowledge.graph.catalog import Catalog
from knowledge.graph.linker import ProductLinker
from tests.fakes import NIMBUS, TRAIL, X200, X200_CASE, write_catalog


@pytest.fixture(scope="module")
def linker(tmp_path_factory) -> ProductLinker:
    return ProductLinker(Catalog.from_file(write_catalog(tmp_path_factory.mktemp("catalog"))))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("does the X200 charging case fit in a pocket", [X200_CASE]),  # longest match wins
        ("how long does the X200 battery last", [X200]),
        ("Aurora X200 Wireless Earbuds", [X200]),
        ("aurora x200 wireless earbuds", [X200]),  # case-insensitive
        ("x200 CHARGING case", [X200_CASE]),
        ("Aurora X200 无线耳机多少钱", [X200]),  # Chinese name
        ("Aurora X200 充电盒有货吗", [X200_CASE]),
        ("Trailrunner 5 跑鞋", [TRAIL]),
        ("compare Nimbus S5 with the X200", [NIMBUS, X200]),  # order of appearance
        ("X200, or the X200 charging case?", [X200, X200_CASE]),
        ("Aurora X200!!!", [X200]),  # punctuation
    ],
)
def test_link(linker, text, expected):
    assert linker.link(text) == expected


@pytest.mark.parametrize("text", ["x2000 earbuds", "ax200", "where is my order 100023", "", "X20"])
def test_no_partial_word_matches(linker, text):
    assert linker.link(text) == []


def test_each_product_is_reported_once(linker):
    assert linker.link("X200 X200 x200") == [X200]


def test_latin_model_name_next_to_chinese_text_is_linked(linker):
    """Chinese customers write model names straight into the sentence: "X200耳机多少钱"."""
    assert linker.link("X200耳机多少钱") == [X200]
    assert linker.link("我想买Nimbus S5") == [NIMBUS]


def test_an_alias_shared_by_a_product_and_its_accessory_resolves_to_the_base_product(tmp_path):
    products = [
        {"id": "A", "name": "Orion Z1 Smartwatch", "aliases": ["Orion Z1"]},
        {"id": "B", "name": "Orion Z1 Smartwatch Charging Dock", "aliases": ["Orion Z1"]},
    ]
    linker = ProductLinker(Catalog.from_file(write_catalog(tmp_path, products)))
    assert linker.link("is the orion z1 waterproof?") == ["A"]


def test_min_alias_len_is_validated(tmp_path):
    cat = Catalog.from_file(write_catalog(tmp_path))
    with pytest.raises(ValueError):
        ProductLinker(cat, min_alias_len=0)


# -- fuzzy linking -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("aurorax200", [X200]),  # no exact match: "x200" sits inside a longer word
        ("trailrunner5", [TRAIL]),  # the space dropped
        ("trailrunnr 5 in size 9?", [TRAIL]),
        ("Nimbsu S5 or Trialrunner 5?", [NIMBUS, TRAIL]),  # two typos, order of appearance
    ],
)
def test_typos_link_fuzzily(linker, text, expected):
    assert ProductLinker(linker._catalog, fuzzy_threshold=None).link(text) == []  # exact alone misses
    assert linker.link(text) == expected


@pytest.fixture(scope="module")
def brand_only_linker(tmp_path_factory) -> ProductLinker:
    """Products known only by brand + model, so "x200" alone does not match exactly."""
    products = [
        {"id": "A", "name": "Aurora X200 Wireless Earbuds", "brand": "Aurora", "aliases": ["Aurora X200"]},
        {"id": "B", "name": "Aurora X200 Charging Case", "brand": "Aurora", "aliases": ["Aurora X200 case"]},
    ]
    return ProductLinker(Catalog.from_file(write_catalog(tmp_path_factory.mktemp("brand"), products)))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("aurra x200", ["A"]),  # a dropped letter in the brand
        ("does the auroa x200 work with android", ["A"]),
        ("aurra x200 case", ["B"]),  # the longer span wins over "aurra x200"
        ("aurora x300", []),
    ],
)
def test_misspelt_brand_and_model(brand_only_linker, text, expected):
    assert brand_only_linker.link(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "aurora x300",  # another model number is not a typo
        "trailrunner 6",
        "aurora",  # the brand alone names no product
        "x2oo",  # short aliases are exact-only
    ],
)
def test_model_numbers_and_short_aliases_are_never_fuzzy(linker, text):
    assert linker.link(text) == []


ORDINARY = [
    "I want to return my order",
    "where is my package?",
    "my order hasn't arrived yet",
    "can I change the delivery address",
    "I need a refund for the wireless earbuds",
    "do you sell running shoes",
    "it is quite 60 dollars",
    "the charging case is missing from the box",
    "I'd like to cancel order 100023",
    "what is your return policy",
    "talk to a human please",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_sentences_link_nothing(linker, text):
    assert linker.link(text) == []


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_sentences_link_nothing_in_the_demo_catalog(demo_store, text):
    """The demo store has 200+ products with aliases like "Air 2", "Edge 6" and "Quiet 60"."""
    linker = ProductLinker(Catalog.from_file(demo_store.catalog_path))
    assert linker.link(text) == []


def test_fuzzy_finds_demo_products_by_misspelt_names(demo_store):
    cat = Catalog.from_file(demo_store.catalog_path)
    linker = ProductLinker(cat)
    assert [cat.get(i).name for i in linker.link("is the sonqiue air 3 waterproof")] == [
        "Sonique Air 3 Wireless Earbuds"]
    assert [cat.get(i).name for i in linker.link("orbit probok 34")] == ["Orbit ProBook 34 Laptop"]


def test_fuzzy_runs_only_when_nothing_matched_exactly(linker):
    # "X200" matches exactly, so the misspelt "nimbsu s5" is not looked for
    assert linker.link("X200 or nimbsu s5") == [X200]


def test_fuzzy_can_be_turned_off(tmp_path):
    cat = Catalog.from_file(write_catalog(tmp_path))
    assert ProductLinker(cat, fuzzy_threshold=None).link("trailrunnr 5") == []
    assert ProductLinker(cat, fuzzy_threshold=0.99).link("trailrunnr 5") == []
    assert ProductLinker(cat, fuzzy_threshold=0.8).link("trailrunnr 5") == [TRAIL]


@pytest.mark.parametrize("threshold", [0.0, 0.3, 1.5])
def test_fuzzy_threshold_is_validated(tmp_path, threshold):
    cat = Catalog.from_file(write_catalog(tmp_path))
    with pytest.raises(ValueError, match="fuzzy_threshold"):
        ProductLinker(cat, fuzzy_threshold=threshold)


def test_a_long_message_is_linked_quickly(linker):
    import time

    text = "I want to return my order because " * 400 + "trailrunnr 5"
    t = time.perf_counter()
    linker.link(text)
    assert time.perf_counter() - t < 2.0  # the text is capped; a generous bound, not a benchmark


def test_a_two_character_chinese_alias_the_store_lists_names_its_product_unless_it_names_a_kind(tmp_path):
    """"石瓢" is one teapot's shape and its listed alias; "盖碗" (a category) and "龙井" (in two teas'
    names) are kinds, whichever product lists them."""
    def p(pid, name, category, aliases):
        return {"id": pid, "name": name, "name_zh": name, "brand": "Songjian", "category": category, "price": 10.0,
                "stock": 5, "aliases": aliases, "attributes": {}}
    catalog = Catalog.from_file(write_catalog(tmp_path, [
        p("T1", "紫砂石瓢壶", "茶壶", ["石瓢"]), p("T2", "原矿西施壶", "茶壶", ["西施壶"]),
        p("T3", "德化白瓷盖碗", "盖碗", ["盖碗"]), p("T4", "明前西湖龙井", "绿茶", ["龙井"]), p("T5", "雨前龙井", "绿茶", [])]))
    linker = ProductLinker(catalog)
    assert linker.link("西施壶和石瓢哪个大") == ["T2", "T1"]
    assert linker.link("盖碗有点小瑕疵也不行吗") == [] and linker.link("龙井放冰箱还是常温") == []


def test_an_alias_that_is_only_the_kind_points_at_no_one_product(tmp_path):
    """A store listing "gaiwan" among one gaiwan's aliases: "my ru ware gaiwan" is not that gaiwan."""
    def p(pid, name, aliases):
        return {"id": pid, "name": name, "name_zh": "", "brand": "Ciyu", "category": "Gaiwans", "price": 10.0,
                "stock": 5, "aliases": aliases, "attributes": {}}
    linker = ProductLinker(Catalog.from_file(write_catalog(tmp_path, [
        p("G1", "Dehua Porcelain Gaiwan", ["gaiwan", "dehua gaiwan"]), p("G2", "Ru Ware Sky Celadon Gaiwan", [])])))
    assert linker.link("the glaze on my ru ware gaiwan has tiny lines") == []
    assert linker.link("is the dehua gaiwan thin?") == ["G1"]
