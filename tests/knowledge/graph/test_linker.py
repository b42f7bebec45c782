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
