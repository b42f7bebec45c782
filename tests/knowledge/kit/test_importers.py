"""Importers on files in the formats' own documented columns: a Shopify product CSV export
(variants on continuation rows, an image-only row, HTML bodies), a Google Merchant Center TSV and
an RSS 2.0 XML feed (item groups, a currency mismatch, required fields missing); bad inputs are
refused in bounded memory; rows merge into an existing catalog.csv."""

from __future__ import annotations

import csv
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from knowledge.kit.importers import (
    BASE_COLUMNS,
    UNCOUNTED_IN_STOCK,
    html_to_text,
    import_merchant,
    import_shopify,
    write_catalog_rows,
)
from knowledge.kit.problems import KitInvalid

FIXTURES = Path(__file__).parent / "fixtures"
SHOPIFY = FIXTURES / "shopify_products.csv"
TSV = FIXTURES / "merchant_feed.tsv"
XML = FIXTURES / "merchant_feed.xml"


def _by_id(result) -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in result.rows}


def _where(result) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.field, p.level) for p in result.problems]


def _read_catalog(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


# -- Shopify ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shopify():
    return import_shopify(SHOPIFY, currency="USD", languages=("en", "zh"))


def test_shopify_variants_on_continuation_rows_become_one_product(shopify):
    tee = _by_id(shopify)["classic-tee"]
    assert tee["name"] == "Classic Tee"
    assert tee["brand"] == "Northwind Apparel"
    assert tee["category"] == "T-Shirts"  # Type wins over Product Category
    assert tee["price"] == "20.00"  # the lowest variant price
    assert tee["stock"] == "8"  # 5 + 3 + an oversold -2 counted as 0
    assert tee["attr:size"] == "S; M; L"
    assert tee["attr:color"] == "Black; White"
    assert tee["aliases"] == "TEE-S-BLK; TEE-M-BLK; TEE-L-WHT"
    assert tee["attr:weight"] == "200 g"
    assert tee["attr:gtin"] == "0012345678905"


def test_shopify_html_body_becomes_text_with_the_price_range(shopify):
    tee = _by_id(shopify)["classic-tee"]
    assert tee["description"] == ("Soft organic cotton & a relaxed fit. Machine wash cold Made in Portugal "
                                  "Price 20.00–24.00 USD, depending on the option.")
    assert "<" not in tee["description"] and "alert" not in tee["description"]
    mug = _by_id(shopify)["stoneware-mug"]
    assert mug["description"] == "Hand\u2011glazed stoneware, 350 ml édition."


def test_shopify_single_variant_product(shopify):
    mug = _by_id(shopify)["stoneware-mug"]
    assert mug["category"] == "Mugs"  # no Type: Product Category's last segment
    assert mug["price"] == "18.50" and mug["stock"] == "12"
    assert mug["attr:weight"] == "0.42 kg"  # 420 grams shown in the variant's unit
    assert not any(k.startswith("attr:title") for k in mug)  # "Title: Default Title" is no option


def test_shopify_ids_are_safe_and_stable(shopify):
    ids = [r["id"] for r in shopify.rows]
    assert ids == ["classic-tee", "stoneware-mug", "gift-card", ids[3]]
    teapot = shopify.rows[3]
    assert teapot["id"].startswith("cast-iron-") and teapot["id"].isascii()
    assert all(c.isalnum() or c in "_-" for c in teapot["id"])
    assert import_shopify(SHOPIFY, currency="USD").rows[3]["id"] == teapot["id"]
    assert teapot["attr:weight"] == "2 lb; 3 lb"
    assert teapot["attr:capacity"] == "0.8 L; 1.2 L"


def test_shopify_formulas_are_kept_as_text_and_uncounted_stock(shopify):
    card = _by_id(shopify)["gift-card"]
    assert card["name"] == '=HYPERLINK("http://evil.example","Gift Card")'
    assert card["stock"] == str(UNCOUNTED_IN_STOCK)  # no inventory tracking
    assert card["attr:denominations"] == "$25.00; $50.00"
    assert "attr:weight" not in card  # zero grams is no weight


def test_shopify_problems_name_their_rows(shopify):
    assert _where(shopify) == [
        (7, "Status", "warning"),  # a draft is left out
        (8, "Variant Price", "warning"),  # "abc"
        (8, "Variant Price", "error"),  # ... so the product has no price: skipped
        (11, "Handle", "error"),
        (13, "Variant Inventory Qty", "warning"),  # "many"
    ]
    assert "linen-apron" not in _by_id(shopify) and "broken-price" not in _by_id(shopify)
    assert str(shopify.problems[1]) == 'shopify_products.csv:8: Variant Price: "abc" is not a price; ' \
                                       'variant left out (warning)'
    assert len(shopify.errors) == 2


def test_shopify_rows_carry_the_base_columns(shopify):
    for row in shopify.rows:
        assert all(row[c] != "" for c in ("id", "name", "price", "stock"))
        assert set(BASE_COLUMNS) <= set(row)


def test_shopify_price_range_note_in_the_first_language():
    tee = _by_id(import_shopify(SHOPIFY, currency="USD", languages=("zh", "en")))["classic-tee"]
    assert tee["description"].endswith("价格 20.00–24.00 USD，视所选规格而定。")


# -- Merchant TSV -------------------------------------------------------------------------------------


NOW = datetime(2024, 6, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def tsv():
    return import_merchant(TSV, currency="USD", now=NOW)


def test_merchant_tsv_items(tsv):
    tea = _by_id(tsv)["TEA-001"]
    assert tea == {
        "id": "TEA-001", "name": "Jasmine Green Tea 100 g", "brand": "Lotus Leaf", "category": "Tea",
        "price": "12.99", "stock": str(UNCOUNTED_IN_STOCK), "description": "Fragrant & floral jasmine tea.",
        "aliases": "LL-JAS-100", "attr:gtin": "4006381333931", "attr:condition": "new", "attr:weight": "0.25 kg",
    }


def test_merchant_tsv_item_group_becomes_one_product(tsv):
    kettle = _by_id(tsv)["KETTLE-1"]
    assert kettle["name"] == "Enamel Kettle"  # what the items' titles share
    assert kettle["attr:color"] == "Red; Blue"
    assert kettle["price"] == "39.00"
    assert kettle["stock"] == str(UNCOUNTED_IN_STOCK)  # red in stock, blue out of stock
    assert kettle["description"].endswith("Price 39.00–42.00 USD, depending on the option.")
    assert kettle["aliases"] == "KETTLE-RED; KETTLE-BLUE"
    assert "KETTLE-RED" not in _by_id(tsv)


def test_merchant_tsv_prices_sales_and_availability(tsv):
    rows = _by_id(tsv)
    assert rows["PRE-01"]["price"] == "30.00"  # its sale ended in 2020
    assert rows["PRE-01"]["stock"] == "0" and rows["PRE-01"]["attr:availability"] == "preorder"
    assert rows["SALE-01"]["price"] == "15.00"  # a sale running now
    assert rows["SALE-01"]["category"] == ""  # a numeric google_product_category names no category
    assert rows["CUP-02"]["price"] == "7.50"  # "USD 7.50" reads too
    assert rows["CUP-02"]["attr:availability"] == "backorder" and rows["CUP-02"]["stock"] == "0"
    assert rows["CUP-02"]["description"] == 'Cup with a "handle"'  # a spreadsheet's quoting undone
    assert rows["CUP-02"]["attr:weight"] == "8 oz"


def test_merchant_tsv_formulas_are_kept_as_text(tsv):
    assert _by_id(tsv)["SALE-01"]["description"] == "=cmd|' /C calc'!A0"


def test_merchant_tsv_problems(tsv):
    assert _where(tsv) == [(5, "price", "error"), (6, "title", "error"), (7, "price", "error")]
    assert "is in EUR, the store sells in USD" in tsv.problems[0].message
    assert {"MUG-EU", "NO-TITLE", "CUP-01"}.isdisjoint(_by_id(tsv))


# -- Merchant XML ---------------------------------------------------------------------------------------


def _item_line(marker: str) -> int:
    """The line of the <item> that holds ``marker``."""
    lines = XML.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if marker in line)
    return next(i for i in range(at, -1, -1) if "<item>" in lines[i]) + 1


@pytest.fixture(scope="module")
def xml():
    return import_merchant(XML, currency="USD")


def test_merchant_xml_item_group(xml):
    shirt = _by_id(xml)["SHIRT"]
    assert shirt["name"] == "Linen Shirt"
    assert shirt["brand"] == "Fieldhouse" and shirt["category"] == "Shirts"
    assert shirt["price"] == "49.00"  # not the nested <g:shipping><g:price>
    assert shirt["stock"] == "10"  # g:quantity 4 + 6
    assert shirt["attr:size"] == "S; M" and shirt["attr:color"] == "Natural"
    assert shirt["description"] == "Breathable linen, garment washed."  # CDATA HTML stripped
    assert shirt["aliases"] == "FH-LS-S; FH-LS-M; SHIRT-S; SHIRT-M"
    bowl = _by_id(xml)["BOWL-01"]
    assert bowl["category"] == "Bowls" and bowl["attr:gtin"] == "0614141999996"


def test_merchant_xml_problems_name_the_item_line(xml):
    assert _where(xml) == [
        (_item_line("VASE-CN"), "price", "error"),
        (_item_line("Item Without Id"), "id", "error"),
        (_item_line("LAMP-01"), "price", "error"),
    ]
    assert "is in CNY, the store sells in USD" in xml.problems[0].message
    assert [r["id"] for r in xml.rows] == ["SHIRT", "BOWL-01"]


def test_merchant_xml_in_another_store_currency():
    result = import_merchant(XML, currency="CNY")
    assert [r["id"] for r in result.rows] == ["VASE-CN"]
    assert _by_id(result)["VASE-CN"]["price"] == "199.00"


def test_merchant_xml_atom_feed(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_text(
        '<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">\n'
        "<title>Shop</title>\n<entry>\n<g:id>A1</g:id>\n<title>Oak Board</title>\n<summary>x</summary>\n"
        "<g:price>15 USD</g:price>\n<g:availability>out_of_stock</g:availability>\n</entry>\n</feed>\n",
        encoding="utf-8")
    result = import_merchant(feed, currency="USD")
    assert result.rows == [{"id": "A1", "name": "Oak Board", "brand": "", "category": "", "price": "15",
                            "stock": "0", "description": ""}]


# -- bad input ---------------------------------------------------------------------------------------------


def _refusal(call) -> str:
    with pytest.raises(KitInvalid) as info:
        call()
    (problem,) = info.value.problems
    assert problem.level == "error" and problem.row is None
    return problem.message


def test_entity_declarations_are_refused(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
                    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
                    '<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>&b;</g:id>'
                    "</item></channel></rss>\n", encoding="utf-8")
    assert "DOCTYPE" in _refusal(lambda: import_merchant(bomb, currency="USD"))


def test_malformed_xml_is_refused(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<rss><channel><item><g:id>1</g:id></item>", encoding="utf-8")
    assert "XML" in _refusal(lambda: import_merchant(bad, currency="USD"))


def test_binary_input_is_refused(tmp_path):
    blob = tmp_path / "products.csv"
    blob.write_bytes(b"PK\x03\x04" + os.urandom(4096))
    assert "binary" in _refusal(lambda: import_shopify(blob, currency="USD"))
    assert "binary" in _refusal(lambda: import_merchant(blob, currency="USD"))


def test_huge_input_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:  # sparse: 2 GB that are never read
        fh.truncate(2 * 1024**3)
    message = _refusal(lambda: import_shopify(big, currency="USD"))
    assert "more than" in message and "bytes" in message


def test_too_many_rows_are_refused(tmp_path):
    assert "more than 3 rows" in _refusal(lambda: import_shopify(SHOPIFY, currency="USD", max_rows=3))
    assert "more than 2 items" in _refusal(lambda: import_merchant(XML, currency="USD", max_rows=2))


def test_an_endless_line_is_refused(tmp_path):
    line = tmp_path / "line.tsv"
    line.write_text("id\ttitle\tprice\n" + "x" * (2 * 1024 * 1024), encoding="utf-8")
    assert "longer than" in _refusal(lambda: import_merchant(line, currency="USD"))


def test_missing_required_columns_and_files(tmp_path):
    assert "Handle" in _refusal(lambda: import_shopify(TSV, currency="USD"))
    assert "price" in _refusal(lambda: import_merchant(SHOPIFY, currency="USD"))
    assert "not a readable file" in _refusal(lambda: import_shopify(tmp_path / "none.csv", currency="USD"))


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="ISO 4217"):
        import_shopify(SHOPIFY, currency="usd")
    with pytest.raises(ValueError, match="language"):
        import_merchant(TSV, currency="USD", languages=())


def test_html_to_text():
    assert html_to_text("<h2>Care</h2><p>Hand&nbsp;wash&hellip;<br>dry flat</p>") == "Care Hand wash… dry flat"
    assert html_to_text("<style>p{color:red}</style>3 < 5 &lt;b&gt;") == "3 < 5 <b>"


# -- merging into a kit -------------------------------------------------------------------------------


def test_write_catalog_rows_creates_the_catalog(tmp_path, shopify):
    merge = write_catalog_rows(shopify.rows, tmp_path / "kit")
    columns, rows = _read_catalog(tmp_path / "kit" / "catalog.csv")
    assert columns[:7] == list(BASE_COLUMNS)
    assert (merge.added, merge.replaced, merge.total) == (4, 0, 4)
    assert [r["id"] for r in rows] == [r["id"] for r in shopify.rows]
    assert rows[0]["attr:size"] == "S; M; L" and rows[1]["attr:size"] == ""
    assert rows[2]["name"] == '=HYPERLINK("http://evil.example","Gift Card")'


def test_write_catalog_rows_merges_into_an_existing_catalog(tmp_path, shopify):
    kit = tmp_path / "kit"
    kit.mkdir()
    (kit / "catalog.csv").write_text(
        "id,name,brand,category,price,stock,description,name:zh,accessories,attr:material\n"
        "own-1,House Blend,Ours,Tea,9.00,3,Our own tea.,自家拼配,,leaf\n"
        "classic-tee,Old Tee,Old,Shirts,1.00,1,Old text.,经典T恤,own-1,cotton\n",
        encoding="utf-8")
    merge = write_catalog_rows(shopify.rows, kit)
    assert (merge.added, merge.replaced, merge.total) == (3, 1, 5)
    columns, rows = _read_catalog(kit / "catalog.csv")
    assert columns[:10] == ["id", "name", "brand", "category", "price", "stock", "description", "name:zh",
                            "accessories", "attr:material"]
    assert {"aliases", "attr:size", "attr:color", "attr:weight"} <= set(columns)  # the union
    assert [r["id"] for r in rows] == ["own-1", "classic-tee", "stoneware-mug", "gift-card", rows[4]["id"]]
    own, tee = rows[0], rows[1]
    assert own["name"] == "House Blend" and own["name:zh"] == "自家拼配" and own["aliases"] == ""
    assert tee["name"] == "Classic Tee" and tee["price"] == "20.00"  # replaced...
    assert tee["name:zh"] == "经典T恤" and tee["accessories"] == "own-1"  # ...its hand-kept columns kept
    assert tee["attr:material"] == ""  # an imported column the import no longer gives is cleared
    again = write_catalog_rows(shopify.rows, kit)  # re-importing changes nothing
    assert (again.added, again.replaced, again.total) == (0, 4, 5)
    assert _read_catalog(kit / "catalog.csv") == (columns, rows)
    assert [p.name for p in kit.iterdir()] == ["catalog.csv"]  # no temporary file left


def test_write_catalog_rows_keeps_the_old_file_when_writing_fails(tmp_path, shopify, monkeypatch):
    kit = tmp_path / "kit"
    write_catalog_rows(shopify.rows[:1], kit)
    before = (kit / "catalog.csv").read_bytes()

    def boom(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_catalog_rows(shopify.rows, kit)
    assert (kit / "catalog.csv").read_bytes() == before
    assert [p.name for p in kit.iterdir()] == ["catalog.csv"]


def test_write_catalog_rows_refuses_rows_without_id(tmp_path):
    with pytest.raises(ValueError, match="id"):
        write_catalog_rows([{"name": "x"}], tmp_path)


def test_problems_are_capped_per_file(tmp_path):
    feed = tmp_path / "feed.tsv"
    feed.write_text("id\ttitle\tprice\n" + "".join(f"X{i}\tCup\t1.00 EUR\n" for i in range(1500)),
                    encoding="utf-8")
    result = import_merchant(feed, currency="USD")
    assert result.rows == [] and len(result.problems) == 1001
    assert "500 more problems not listed" in result.problems[0].message
