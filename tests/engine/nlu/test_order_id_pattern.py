"""The entity extractor finds order ids in the store's own form (``order_id_pattern``)."""

from __future__ import annotations

import pytest

from engine.nlu.entities import RuleEntityExtractor


def test_default_six_digits_unchanged():
    ents = RuleEntityExtractor().extract("where is order #100023? and LP10023")
    assert ents.order_ids == ("100023",)


@pytest.mark.parametrize("text, ids", [
    ("where is LP10023?", ("LP10023",)),
    ("订单lp10023到哪了", ("LP10023",)),  # typed in lower case: the store's form
    ("LP10023 and LP10024", ("LP10023", "LP10024")),
    ("it costs $LP10023", ()),
    ("LP100234", ()),
    ("order 100023", ()),
])
def test_store_pattern(text, ids):
    assert RuleEntityExtractor(order_id_pattern="LP[0-9]{5}").extract(text).order_ids == ids


def test_wrong_shape_near_the_word_order_is_malformed():
    ents = RuleEntityExtractor(order_id_pattern="LP[0-9]{5}").extract("my order LP1002")
    assert ents.order_ids == () and ents.malformed_order_ids == ("LP1002",)


def test_a_found_id_is_not_also_malformed():
    ents = RuleEntityExtractor(order_id_pattern="#?[0-9]{4}").extract("order #1001")
    assert ents.order_ids == ("1001",) and ents.malformed_order_ids == ()


def test_bad_pattern():
    with pytest.raises(ValueError, match="order_id_pattern"):
        RuleEntityExtractor(order_id_pattern="(")
