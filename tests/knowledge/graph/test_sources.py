"""knowledge/graph/sources.py: the demo catalog merged with, or replaced by, an Amazon-format CSV."""

from __future__ import annotations

import logging

import pytest

from engine.errors import KnowledgeError
from knowledge.graph.catalog import Catalog
from knowledge.graph.sources import load_catalog
from tests.fakes import X200, X200_CASE, write_catalog
from tests.knowledge.graph.test_amazon import COLUMNS, ROWS, write_csv


@pytest.fixture
def base(tmp_path):
    return write_catalog(tmp_path)


def test_without_a_csv_the_base_catalog_is_served(base):
    assert {p.id for p in load_catalog(base)} == {p.id for p in Catalog.from_file(base)}


def test_merge_adds_the_csv_products_and_keeps_the_base_relations(tmp_path, base):
    cat = load_catalog(base, csv_path=write_csv(tmp_path / "a.csv"), mode="merge")
    ids = {p.id for p in cat}
    assert {"u1", "u2", "u3", "u4", X200, X200_CASE} <= ids
    assert len(ids) == len(Catalog.from_file(base)) + 4
    assert [p.id for p in cat.accessories(X200)] == [X200_CASE]
    assert cat.get("u1").attributes["weight"].render() == "4.06 lb"


def test_replace_serves_the_csv_alone(tmp_path, base):
    cat = load_catalog(base, csv_path=write_csv(tmp_path / "a.csv"), mode="replace")
    assert sorted(p.id for p in cat) == ["u1", "u2", "u3", "u4"]


def test_an_id_in_both_keeps_the_base_product(tmp_path, base, caplog):
    rows = [{**ROWS[0], "Uniq Id": X200, "Product Name": "Impostor"}, ROWS[1]]
    with caplog.at_level(logging.WARNING):
        cat = load_catalog(base, csv_path=write_csv(tmp_path / "a.csv", rows), mode="merge")
    assert cat.get(X200).name == "Aurora X200 Wireless Earbuds" and cat.get("u2") is not None
    assert "already in the base catalog" in caplog.text


def test_the_parsed_csv_is_cached_and_an_edited_csv_is_imported_again(tmp_path, base):
    csv_path, cache = write_csv(tmp_path / "a.csv"), tmp_path / "cache"
    load_catalog(base, csv_path=csv_path, cache_dir=cache)
    saved = list(cache.glob("catalog-a-*.json"))
    assert len(saved) == 1
    assert {p.id for p in Catalog.load(saved[0])} == {"u1", "u2", "u3", "u4"}
    write_csv(csv_path, [ROWS[0], {"Uniq Id": "u9", "Product Name": "New Thing"}])
    cat = load_catalog(base, csv_path=csv_path, cache_dir=cache, mode="replace")
    assert sorted(p.id for p in cat) == ["u1", "u9"]
    assert len(list(cache.glob("catalog-a-*.json"))) == 2


def test_a_damaged_cache_file_is_ignored(tmp_path, base):
    csv_path, cache = write_csv(tmp_path / "a.csv"), tmp_path / "cache"
    load_catalog(base, csv_path=csv_path, cache_dir=cache)
    next(cache.glob("*.json")).write_text("{not json")
    assert len(load_catalog(base, csv_path=csv_path, cache_dir=cache, mode="replace")) == 4


@pytest.mark.parametrize(
    "rows, columns, message",
    [
        ([{"Uniq Id": "", "Product Name": "no id"}], COLUMNS, "no product could be imported"),
        ([], ["Uniq Id", "Name"], "required column 'Product Name'"),
    ],
)
def test_unusable_csvs_raise_clear_errors(tmp_path, base, rows, columns, message):
    with pytest.raises(KnowledgeError, match=message):
        load_catalog(base, csv_path=write_csv(tmp_path / "a.csv", rows, columns))


def test_a_missing_csv_and_a_bad_mode_are_refused(tmp_path, base):
    with pytest.raises(KnowledgeError, match="does not exist"):
        load_catalog(base, csv_path=tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="merge or replace"):
        load_catalog(base, csv_path=write_csv(tmp_path / "a.csv"), mode="append")
