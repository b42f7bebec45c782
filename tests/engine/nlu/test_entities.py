"""engine/nlu/entities.py: order ids, malformed ids, anaphora and products in one turn."""

from __future__ import annotations

import pytest

from engine.nlu.base import EntityExtractor
from engine.nlu.entities import RuleEntityExtractor
from knowledge.graph.catalog import Catalog
from knowledge.graph.linker import ProductLinker
from tests.fakes import NIMBUS, TRAIL, X200, X200_CASE, write_catalog


@pytest.fixture(scope="module")
def extractor(tmp_path_factory) -> RuleEntityExtractor:
    catalog = Catalog.from_file(write_catalog(tmp_path_factory.mktemp("catalog")))
    return RuleEntityExtractor(ProductLinker(catalog))


def test_satisfies_the_protocol(extractor):
    assert isinstance(extractor, EntityExtractor)


# -- order ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, ids",
    [
        ("where is order #100023?", ("100023",)),
        ("where is my order 100023", ("100023",)),
        ("order: 100023, please", ("100023",)),
        ("my order is 100023!", ("100023",)),
        ("(100023)", ("100023",)),
        ("order no. 100023.", ("100023",)),
        ("100023", ("100023",)),
        ("订单号100031到哪了", ("100031",)),
        ("我的订单100023还没到", ("100023",)),
        ("orders 100023 and 100024", ("100023", "100024")),
        ("100023 or was it 100023?", ("100023",)),  # de-duplicated, order kept
    ],
)
def test_order_ids_are_found(extractor, text, ids):
    ents = extractor.extract(text)
    assert ents.order_ids == ids
    assert ents.malformed_order_ids == ()


@pytest.mark.parametrize(
    "text, bad",
    [
        ("order ABC12", "ABC12"),
        ("order 12345", "12345"),
        ("order 1234567", "1234567"),
        ("order number 12345", "12345"),
        ("order #A1B2C3", "A1B2C3"),
        ("订单号是12345", "12345"),
    ],
)
def test_malformed_order_ids_are_reported_not_guessed(extractor, text, bad):
    ents = extractor.extract(text)
    assert ents.order_ids == ()
    assert bad in ents.malformed_order_ids


@pytest.mark.parametrize(
    "text",
    [
        "it costs $129.99",
        "is it under $1,299?",
        "I paid 100023.50 for it",  # six digits before a decimal point: an amount
        "I bought it in 2024",
        "you can return it within 30 days",
        "free shipping over 49",
        "the order is late",
        "my order status please",
        "what's my order history",
        "I ordered 2 items on 2025-03-01",
        "battery lasts 30 hours",
    ],
)
def test_no_order_ids_from_prices_years_or_durations(extractor, text):
    ents = extractor.extract(text)
    assert ents.order_ids == ()
    assert ents.malformed_order_ids == ()


def test_six_digit_dollar_amount_is_not_an_order_id(extractor):
    """``$123456`` is a price; the loose-digit rule already excludes ``$``, the id rule does not."""
    assert extractor.extract("my budget is $150000").order_ids == ()


def test_a_zip_code_in_an_address_change_is_not_a_malformed_order_id(extractor):
    """A five-digit ZIP in "change the address of my order to ..." must not make the bot reply
    that "98101" is not a valid order number."""
    ents = extractor.extract("please change the address of my order to 1208 Maple Avenue, Seattle, WA 98101")
    assert ents.order_ids == ()
    assert ents.malformed_order_ids == ()


def test_a_phone_number_outside_an_order_context_is_not_an_order_id(extractor):
    ents = extractor.extract("my phone is 13812345678")
    assert ents.order_ids == () and ents.malformed_order_ids == ()


def test_extract_bounds_its_work_on_huge_input(extractor):
    ents = extractor.extract("x" * 100_000 + " order 100023")
    assert ents.order_ids == ()  # only the first 5000 characters are read


# -- anaphora ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["is it waterproof?", "how much is that one", "does this come in blue", "它防水吗", "这个多少钱", "那款有货吗"]
)
def test_anaphora_is_detected(extractor, text):
    assert extractor.extract(text).anaphora is True


@pytest.mark.parametrize("text", ["hit the item", "where is my order", "退款多久到账", "itinerary please"])
def test_no_anaphora_inside_other_words(extractor, text):
    assert extractor.extract(text).anaphora is False


# -- products ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, products",
    [
        ("does the X200 work with my iPhone?", (X200,)),
        ("how much is the x200 charging case", (X200_CASE,)),
        ("compare the Nimbus S5 and the X200", (NIMBUS, X200)),
        ("Trailrunner 5 跑鞋有几个尺码", (TRAIL,)),
        ("Aurora X200 无线耳机多少钱", (X200,)),
        ("where is my order 100023", ()),
    ],
)
def test_products_are_linked_in_order_of_appearance(extractor, text, products):
    assert extractor.extract(text).product_ids == products


def test_without_a_linker_no_products_are_extracted():
    ents = RuleEntityExtractor().extract("does the X200 work with iOS?")
    assert ents.product_ids == ()


# -- slots: brands, sizes, colors, quantities, dates, emails, phones ---------------------------------


def test_every_slot_of_one_message_is_extracted(tmp_path):
    from datetime import date

    from knowledge.graph.brands import BrandLinker

    catalog = Catalog.from_file(write_catalog(tmp_path))
    ext = RuleEntityExtractor(ProductLinker(catalog), brands=BrandLinker(catalog))
    ents = ext.extract("order 100023: two pairs of Trailrunner 5 in US 10, black, bought last Monday; "
                       "mail Alice@Example.com or call +1 555-201-3344", today=date(2026, 11, 12))
    assert ents.order_ids == ("100023",)
    assert ents.product_ids == (TRAIL,)
    assert ents.quantities == (2,) and ents.sizes == ("US 10",) and ents.colors == ("black",)
    assert ents.dates == ("2026-11-09",)
    assert ents.emails == ("alice@example.com",) and ents.phones == ("+15552013344",)


def test_chinese_slots(extractor):
    from datetime import date

    ents = extractor.extract("订单100031：上周五买了两双42码的黑色跑鞋，手机13812345678", today=date(2026, 11, 12))
    assert ents.order_ids == ("100031",)
    assert ents.dates == ("2026-11-06",) and ents.quantities == (2,)
    assert ents.sizes == ("EU 42",) and ents.colors == ("black",) and ents.phones == ("13812345678",)


def test_a_postcode_is_not_an_order_id(extractor):
    assert extractor.extract("邮编是200120").order_ids == ()
    assert extractor.extract("zip code 100023").order_ids == ()


@pytest.mark.parametrize("text, ids", [
    ("上海市徐汇区漕溪北路1号 200030", ()),  # a postcode closing an address
    ("深圳市南山区科技园路2号，518057", ()),
    ("12 Oak St, Portland OR 970101", ()),
    ("订单号 100326", ("100326",)),  # 号 of 单号 is no house number
    ("where is 100326", ("100326",)),
    ("change the address of 100326 to 5 Oak St", ("100326",)),
])
def test_a_number_closing_an_address_is_its_postcode(extractor, text, ids):
    assert extractor.extract(text).order_ids == ids


def test_without_a_brand_linker_no_brands_are_extracted(extractor):
    assert extractor.extract("anything from Aurora?").brands == ()


def test_entities_built_the_old_way_have_empty_slots():
    from engine.types import Entities

    ents = Entities(order_ids=("100023",))
    assert ents.sizes == ents.colors == ents.dates == ents.emails == ents.phones == ents.brands == ()
    assert ents.quantities == ()


def test_warm_up_prepares_the_linkers_embedding_fallback(tmp_path):
    class SpyMatcher:
        warmed = 0

        def warm_up(self):
            self.warmed += 1

        def match(self, text):
            return None

    spy = SpyMatcher()
    catalog = Catalog.from_file(write_catalog(tmp_path))
    RuleEntityExtractor(ProductLinker(catalog, semantic=spy)).warm_up()
    assert spy.warmed == 1
    RuleEntityExtractor(ProductLinker(catalog)).warm_up()  # no fallback: nothing to do, no error
    RuleEntityExtractor(None).warm_up()
