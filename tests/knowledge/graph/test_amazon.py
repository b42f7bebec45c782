"""knowledge/graph/amazon.py: an Amazon-style product CSV imported into the catalog graph."""

from __future__ import annotations

import csv
import json

import pytest

from engine.errors import KnowledgeError
from knowledge.graph.amazon import import_amazon_csv, parse_dimensions, parse_price, parse_weight
from knowledge.graph.catalog import FORMAT_VERSION, Attribute, Catalog
from knowledge.graph.query import ProductQA

COLUMNS = ["Uniq Id", "Product Name", "Brand Name", "Category", "Selling Price", "Model Number",
           "Product Specification", "Shipping Weight", "Product Dimensions", "About Product"]

ROWS = [
    {  # spaced specification text, like most rows of the real sample
        "Uniq Id": "u1", "Product Name": "Snap Circuits Mini Kit", "Category": "Toys & Games | Learning & Education | Science Kits",
        "Selling Price": "$1,299.99", "Model Number": "SC-55324",
        "Product Specification": "Product Dimensions:   14.7 x 11.1 x 10.2 inches ; 4.06 pounds |Shipping Weight: 4 pounds (View shipping rates)|ASIN: B008AK6DAS|Manufacturer recommended age: 8 - 15 years",
        "Shipping Weight": "4 pounds", "Product Dimensions": "14.7 x 11.1 x 10.2 inches  4.06 pounds",
        "About Product": "Build a radio.\nAnd a motion detector.",
    },
    {  # the squashed form: no spaces at all
        "Uniq Id": "u2", "Product Name": "3Doodler Flexy Refill", "Category": "Toys & Games | Arts & Crafts | Craft Kits",
        "Selling Price": "$34.99",
        "Product Specification": "ProductDimensions:10.3x3.4x0.8inches|ItemWeight:12.8ounces|ShippingWeight:12.8ounces(Viewshippingratesandpolicies)|ASIN:B07D36747F|Manufacturerrecommendedage:14yearsandup",
        "Shipping Weight": "12.8 ounces",
    },
    {  # a price range, weight only in the shipping column, no category
        "Uniq Id": "u3", "Product Name": "Longboard, \"41\" Bamboo", "Brand Name": "DB Longboards",
        "Selling Price": "$74.99 - $249.99", "Shipping Weight": "10.7 pounds",
    },
    {  # nothing parses but the id and the name
        "Uniq Id": "u4", "Product Name": "Mystery Box", "Category": " | ", "Selling Price": "Total price:",
        "Product Specification": "garbage|:::|x x x", "Shipping Weight": "heavy", "Product Dimensions": "big",
    },
    {"Uniq Id": "", "Product Name": "No id"},  # skipped
    {"Uniq Id": "u1", "Product Name": "Duplicate of u1"},  # skipped
]


def write_csv(path, rows=ROWS, columns=COLUMNS):
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
    return path


@pytest.fixture
def imported(tmp_path):
    return import_amazon_csv(write_csv(tmp_path / "amazon.csv"))


def test_rows_become_products_with_price_category_path_and_typed_attributes(imported):
    cat = imported.catalog
    assert imported.catalog_ids == ("u1", "u2", "u3", "u4")
    p = cat.get("u1")
    assert p.name == "Snap Circuits Mini Kit" and p.price == 1299.99
    assert cat.category_path("u1") == ["Toys & Games", "Learning & Education", "Science Kits"]
    assert p.attributes["weight"] == Attribute("weight", 4.06, "lb", label="weight")
    assert p.attributes["shipping_weight"].value == 4.0 and p.attributes["shipping_weight"].unit == "lb"
    assert p.attributes["dimensions"].value == (14.7, 11.1, 10.2) and p.attributes["dimensions"].unit == "in"
    assert p.attributes["dimensions"].render() == "14.7 x 11.1 x 10.2 in"
    assert (p.attributes["min_age"].value, p.attributes["max_age"].value, p.attributes["max_age"].unit) == (8, 15, "years")
    assert p.attributes["asin"].value == "B008AK6DAS" and p.attributes["model_number"].value == "SC-55324"
    assert p.aliases == ("SC-55324",)
    assert p.description == "Build a radio. And a motion detector."


def test_the_squashed_specification_form_is_parsed(imported):
    p = imported.catalog.get("u2")
    assert p.attributes["weight"].value == 12.8 and p.attributes["weight"].unit == "oz"
    assert p.attributes["dimensions"].value == (10.3, 3.4, 0.8)
    assert p.attributes["min_age"].value == 14 and "max_age" not in p.attributes


def test_a_price_range_keeps_both_ends_and_brand_becomes_a_node(imported):
    p = imported.catalog.get("u3")
    assert p.price == 74.99 and p.attributes["price_max"].value == 249.99
    assert p.brand == "DB Longboards" and imported.catalog.graph.has_edge("u3", "brand:DB Longboards")
    assert p.attributes["shipping_weight"].render() == "10.7 lb" and "dimensions" not in p.attributes
    assert p.name == 'Longboard, "41" Bamboo'  # quoted commas and quotes survive


def test_an_unparseable_row_keeps_what_it_can_and_is_reported(imported):
    p = imported.catalog.get("u4")
    assert p.name == "Mystery Box" and p.price == 0.0 and p.category == ""
    assert not {"weight", "shipping_weight", "dimensions"} & set(p.attributes)
    assert any("line" in m and "Total price" in m for m in imported.stats.problems)


def test_stats_count_what_was_parsed_and_skipped(imported):
    s = imported.stats
    assert (s.rows, s.imported, s.skipped) == (6, 4, 2)
    assert (s.with_price, s.with_weight, s.with_dimensions, s.with_category) == (3, 3, 2, 2)
    assert s.share(s.with_dimensions) == 0.5
    assert any("duplicate Uniq Id 'u1'" in m for m in s.problems)


def test_category_paths_are_a_hierarchy_of_nodes(imported):
    g = imported.catalog.graph
    leaf = "category:Toys & Games > Learning & Education > Science Kits"
    assert g.has_edge("u1", leaf)
    assert g.nodes[leaf]["name"] == "Science Kits"
    assert g.nodes[leaf]["path"] == ("Toys & Games", "Learning & Education", "Science Kits")
    assert g.has_edge(leaf, "category:Toys & Games > Learning & Education")
    assert g.has_edge("category:Toys & Games > Learning & Education", "category:Toys & Games")
    top = imported.catalog.in_category("Toys & Games", subcategories=True)
    assert sorted(p.id for p in top) == ["u1", "u2"]
    assert imported.catalog.in_category("Toys & Games") == []


def test_imported_attributes_answer_questions(imported):
    facts = ProductQA(imported.catalog).facts("how heavy is it?", ["u1"], "en")
    assert "4.06 lb" in facts[0].text and facts[0].sources[0].id == "u1"
    facts = ProductQA(imported.catalog).facts("what size is it?", ["u2"], "en")
    assert "10.3 x 3.4 x 0.8 in" in facts[0].text


def test_limit(tmp_path):
    assert imported_ids(import_amazon_csv(write_csv(tmp_path / "a.csv"), limit=2)) == ["u1", "u2"]
    with pytest.raises(ValueError):
        import_amazon_csv(tmp_path / "a.csv", limit=0)


def imported_ids(result):
    return list(result.catalog_ids)


# -- parsers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("$1,299.99", (1299.99, None)), ("$5", (5.0, None)), ("$6.94 $ 6 . 94", (6.94, None)),
        ("$ 19 99 $39.95 #listPriceLegalMessageText { margin-left: 4px }", (19.99, None)),
        ("$22.50 - $49.88", (22.5, 49.88)), ("Total price:", None), ("", None), ("free", None),
    ],
)
def test_parse_price(text, expected):
    assert parse_price(text) == expected


@pytest.mark.parametrize(
    "text, value, unit",
    [("2.5 pounds", 2.5, "lb"), ("12.8ounces", 12.8, "oz"), ("1 pound", 1.0, "lb"), ("350 g", 350.0, "g"),
     ("1.2 kg (approx)", 1.2, "kg"), ("2 lbs", 2.0, "lb")],
)
def test_parse_weight(text, value, unit):
    a = parse_weight(text)
    assert (a.value, a.unit) == (value, unit)


@pytest.mark.parametrize(
    "text, value, unit",
    [("10 x 5 x 2 inches", (10.0, 5.0, 2.0), "in"), ("10.3x3.4x0.8inches", (10.3, 3.4, 0.8), "in"),
     ("30 x 20 cm", (30.0, 20.0), "cm")],
)
def test_parse_dimensions(text, value, unit):
    a = parse_dimensions(text)
    assert (a.value, a.unit) == (value, unit)


@pytest.mark.parametrize("text", ["", "heavy", "pounds", "x x inches", "4 x pounds"])
def test_unparseable_measures_are_none(text):
    assert parse_weight(text) is None
    assert parse_dimensions(text) is None


# -- bad files -----------------------------------------------------------------------------------


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(KnowledgeError, match="nothere.csv"):
        import_amazon_csv(tmp_path / "nothere.csv")


@pytest.mark.parametrize("column", ["Uniq Id", "Product Name"])
def test_missing_required_column_names_file_and_column(tmp_path, column):
    path = write_csv(tmp_path / "cut.csv", columns=[c for c in COLUMNS if c != column])
    with pytest.raises(KnowledgeError, match=rf"cut\.csv.*{column}"):
        import_amazon_csv(path)


def test_empty_file_is_a_missing_column_error(tmp_path):
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="Uniq Id"):
        import_amazon_csv(tmp_path / "empty.csv")


def test_only_optional_columns_may_be_absent(tmp_path):
    path = write_csv(tmp_path / "min.csv", rows=[{"Uniq Id": "a", "Product Name": "A thing"}],
                     columns=["Uniq Id", "Product Name"])
    result = import_amazon_csv(path)
    assert result.catalog.get("a").price == 0.0 and result.stats.imported == 1


def test_not_utf8_is_a_knowledge_error(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("Uniq Id,Product Name\na,Caf\xe9 \xff\xfe\n".encode("latin-1"))
    with pytest.raises(KnowledgeError, match="latin1.csv"):
        import_amazon_csv(path)


# -- save / load ---------------------------------------------------------------------------------


def test_save_and_load_round_trip_keeps_products_attributes_and_graph(imported, tmp_path):
    path = imported.catalog.save(tmp_path / "graph.json")
    loaded = Catalog.load(path)
    assert [p for p in loaded] == [p for p in imported.catalog]  # dataclass equality, tuples included
    assert loaded.get("u1").attributes["dimensions"].value == (14.7, 11.1, 10.2)
    assert set(loaded.graph.edges(keys=False)) == set(imported.catalog.graph.edges(keys=False))


def test_save_and_load_keeps_relations(tmp_path):
    from tests.fakes import NIMBUS, X200, X200_CASE, write_catalog

    cat = Catalog.from_file(write_catalog(tmp_path))
    loaded = Catalog.load(cat.save(tmp_path / "saved.json"))
    assert [p.id for p in loaded.accessories(X200)] == [X200_CASE]
    assert [p.id for p in loaded.similar(X200)] == [NIMBUS]
    assert loaded.get(X200) == cat.get(X200)


def test_a_file_of_another_version_is_refused(imported, tmp_path):
    path = imported.catalog.save(tmp_path / "graph.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["version"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=rf"graph\.json.*version {FORMAT_VERSION + 1}.*rebuild"):
        Catalog.load(path)


@pytest.mark.parametrize("content", ["not json", "[]", json.dumps({"format": "other", "version": 1}),
                                     json.dumps({"format": "shopassist.catalog", "version": FORMAT_VERSION})])
def test_load_of_a_foreign_or_broken_file_is_a_knowledge_error(tmp_path, content):
    (tmp_path / "x.json").write_text(content, encoding="utf-8")
    with pytest.raises(KnowledgeError, match="x.json"):
        Catalog.load(tmp_path / "x.json")


def test_load_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(KnowledgeError, match="gone.json"):
        Catalog.load(tmp_path / "gone.json")
