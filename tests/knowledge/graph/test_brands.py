"""knowledge/graph/brands.py: brand mentions in customer text, exact and fuzzy."""

from __future__ import annotations

import pytest

from knowledge.graph.brands import BrandLinker
from knowledge.graph.catalog import Catalog
from tests.fakes import write_catalog


@pytest.fixture(scope="module")
def brands(tmp_path_factory) -> BrandLinker:
    return BrandLinker(Catalog.from_file(write_catalog(tmp_path_factory.mktemp("catalog"))))


def test_the_gazetteer_holds_every_brand_of_the_catalog(brands):
    assert {"Aurora", "Nimbus", "Zenith"} <= set(brands.brands)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("do you sell anything from aurora?", ["Aurora"]),  # case-insensitive, catalog spelling back
        ("Zenith or Nimbus, which is better?", ["Zenith", "Nimbus"]),  # order of appearance
        ("the Aurora X200 and another Aurora case", ["Aurora"]),  # once each
        ("有Zenith的笔记本吗", ["Zenith"]),  # touching Chinese text
        ("any Nimbuss earbuds?", ["Nimbus"]),  # a typo of a six-letter brand
    ],
)
def test_brands_are_found(brands, text, expected):
    assert brands.link(text) == expected


@pytest.mark.parametrize("text", ["where is my order", "I want a refund", "my watch stopped working", "退款多久到账"])
def test_plain_requests_mention_no_brand(brands, text):
    assert brands.link(text) == []


@pytest.mark.parametrize("text", ["aurorae", "the zenithal angle", "echoes"])
def test_the_exact_pass_needs_whole_words(tmp_path, text):
    exact = BrandLinker(Catalog.from_file(write_catalog(tmp_path)), fuzzy_threshold=None)
    assert exact.link(text) == []


def test_fuzzy_matching_can_be_turned_off(tmp_path):
    exact = BrandLinker(Catalog.from_file(write_catalog(tmp_path)), fuzzy_threshold=None)
    assert exact.link("any Nimbuss earbuds?") == []


def test_threshold_is_validated(tmp_path):
    with pytest.raises(ValueError, match="fuzzy_threshold"):
        BrandLinker(Catalog.from_file(write_catalog(tmp_path)), fuzzy_threshold=0.2)
