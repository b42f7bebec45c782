"""knowledge/graph/catalog.py: loading a catalog file into the product graph, and its lookups."""

from __future__ import annotations

import json

import pytest

from engine.errors import KnowledgeError
from knowledge.graph.catalog import Attribute, Catalog, Product
from tests.fakes import CATALOG, CHARGER, NIMBUS, X200, X200_CASE, write_catalog


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Catalog:
    return Catalog.from_file(write_catalog(tmp_path_factory.mktemp("catalog")))


def ids(products: list[Product]) -> list[str]:
    return [p.id for p in products]


def test_products_are_loaded_with_typed_attributes(catalog):
    assert len(catalog) == len(CATALOG)
    x200 = catalog.get(X200)
    assert x200.name == "Aurora X200 Wireless Earbuds" and x200.brand == "Aurora"
    assert x200.price == 129.99 and x200.stock == 40 and x200.rating == 4.6
    assert x200.aliases == ("X200", "X200 earbuds")
    battery = x200.attributes["battery_life"]
    assert (battery.value, battery.unit, battery.label, battery.note) == (30, "h", "battery life",
                                                                         "with the charging case")
    assert catalog.get("P404") is None
    assert {p.id for p in catalog} == {p["id"] for p in CATALOG}


def test_accessories_are_the_products_pointing_at_it(catalog):
    assert ids(catalog.accessories(X200)) == [X200_CASE]
    assert catalog.accessories(X200_CASE) == []  # the relation is directed


def test_what_goes_with_a_product_includes_what_goes_with_its_owner(tmp_path):
    # a tablet with a keyboard cover and a screen protector, and a charger that works with it
    rows = [
        {"id": "T1", "name": "Slate Tablet", "brand": "Lumen", "category": "phones", "price": 300.0},
        {"id": "K1", "name": "Keyboard Cover for Slate", "brand": "Armorly", "category": "computing", "price": 90.0,
         "relations": [{"type": "accessory_of", "target": "T1"}]},
        {"id": "S1", "name": "Screen Protector for Slate", "brand": "Kestrel", "category": "mobile_accessories",
         "price": 12.0, "relations": [{"type": "accessory_of", "target": "T1"}]},
        {"id": "C1", "name": "Wall Charger", "brand": "Voltix", "category": "mobile_accessories", "price": 30.0,
         "relations": [{"type": "compatible_with", "target": "T1"}]},
    ]
    (tmp_path / "catalog.json").write_text(json.dumps(rows), "utf-8")
    graph = Catalog.from_file(tmp_path / "catalog.json")
    assert ids(graph.goes_with("T1")) == ["K1", "S1", "C1"]
    assert ids(graph.goes_with("K1")) == ["T1", "S1"]  # the cover's tablet, and the tablet's protector
    assert "K1" not in ids(graph.goes_with("K1"))


def test_compatible_works_in_both_directions(catalog):
    assert ids(catalog.compatible(X200)) == [CHARGER]
    assert ids(catalog.compatible(CHARGER)) == [X200]


def test_similar_works_in_both_directions(catalog):
    assert ids(catalog.similar(X200)) == [NIMBUS]
    assert ids(catalog.similar(NIMBUS)) == [X200]


def test_similar_lists_each_product_once_when_declared_both_ways(tmp_path):
    """The demo catalog declares most similar_to pairs in both directions."""
    products = [
        {"id": "A", "name": "Alpha", "relations": [{"type": "similar_to", "target": "B"}]},
        {"id": "B", "name": "Beta", "relations": [{"type": "similar_to", "target": "A"}]},
    ]
    cat = Catalog.from_file(write_catalog(tmp_path, products))
    assert ids(cat.similar("A")) == ["B"]


def test_lookups_of_unknown_products_are_empty(catalog):
    assert catalog.accessories("nope") == [] and catalog.similar("nope") == []
    assert catalog.related("nope", "compatible_with") == []


def test_relations_to_unknown_products_or_of_unknown_types_are_ignored(tmp_path):
    products = [{"id": "A", "name": "Alpha", "relations": [
        {"type": "accessory_of", "target": "ghost"}, {"type": "enemy_of", "target": "B"}]},
                {"id": "B", "name": "Beta"}]
    cat = Catalog.from_file(write_catalog(tmp_path, products))
    assert cat.related("A", "enemy_of") == [] and cat.accessories("ghost") == []


def test_categories_and_brands_are_graph_nodes(catalog):
    assert "audio" in catalog.categories() and "footwear" in catalog.categories()
    assert set(ids(catalog.in_category("audio"))) == {p["id"] for p in CATALOG if p["category"] == "audio"}
    assert catalog.graph.has_edge(X200, "brand:Aurora")
    assert catalog.graph.has_edge(X200, "category:audio")


@pytest.mark.parametrize(
    "attr, lang, text",
    [
        (Attribute("battery_life", 30, "h"), "en", "30 hours"),
        (Attribute("battery_life", 30, "h"), "zh", "30小时"),
        (Attribute("weight", 52.0, "g"), "en", "52 g"),
        (Attribute("os", ["iOS", "Android"]), "en", "iOS and Android"),
        (Attribute("os", ["iOS", "Android", "Windows"]), "en", "iOS, Android and Windows"),
        (Attribute("os", ["iOS", "Android"]), "zh", "iOS、Android"),
        (Attribute("anc", True), "en", "yes"),
        (Attribute("anc", False), "zh", "否"),
        (Attribute("warranty", 12, "months"), "zh", "12个月"),
        (Attribute("size", 6.1, "in"), "en", "6.1 in"),
    ],
)
def test_attribute_render(attr, lang, text):
    assert attr.render(lang) == text


def test_display_name_falls_back_to_english(catalog):
    assert catalog.get(X200).display_name("zh") == "Aurora X200 无线耳机"
    assert catalog.get("P4").display_name("zh") == "Vega Studio Headphones"


# -- malformed catalogs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("not json", id="not-json"),
        pytest.param(json.dumps({"products": []}), id="not-a-list"),
        pytest.param(json.dumps([{"name": "no id"}]), id="missing-id"),
        pytest.param(json.dumps([{"id": "A"}]), id="missing-name"),
        pytest.param(json.dumps([{"id": "A", "name": "x", "price": "cheap"}]), id="bad-price"),
        pytest.param(json.dumps([{"id": "A", "name": "x", "attributes": [1, 2]}]), id="attributes-not-a-map"),
        pytest.param(json.dumps([{"id": "A", "name": "x"}, {"id": "A", "name": "y"}]), id="duplicate-id"),
        pytest.param(json.dumps(["just a string"]), id="product-not-an-object"),
        pytest.param(json.dumps([{"id": "A", "name": "x", "relations": 5}]), id="relations-not-a-list"),
    ],
)
def test_malformed_catalog_raises_knowledge_error(tmp_path, content):
    path = tmp_path / "catalog.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KnowledgeError):
        Catalog.from_file(path)


def test_missing_catalog_file_raises_knowledge_error(tmp_path):
    with pytest.raises(KnowledgeError, match="missing.json"):
        Catalog.from_file(tmp_path / "missing.json")
