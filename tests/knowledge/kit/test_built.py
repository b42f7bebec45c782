"""A store build's saved kit (knowledge.kit.built): read back, it is the kit its files hold, its
catalog's learned tables answer as tables learned afresh, and a stale, damaged or foreign build is
never used (the kit is then read from its files)."""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import io
import json
import logging
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedders import HashEmbedder
from knowledge.graph.catalog import Attribute, Catalog, Product
from knowledge.graph.columns import catalog_columns, catalog_from_columns
from knowledge.graph.linker import ProductLinker
from knowledge.graph.query import ProductQA
from knowledge.graph.semantic import EmbeddingProductMatcher
from knowledge.graph.vocabulary import CatalogVocabulary
from knowledge.kit import built
from knowledge.kit.built import FOLDER, load_built, write_built
from knowledge.kit.reader import read_kit, reread

ROOT = Path(__file__).resolve().parents[3]
LOGGER = "shopassist.kit.built"

QUESTIONS = [
    "how much is the {name}?", "is the {name} in stock?", "{noun}s under $120", "the cheapest {noun} you have",
    "the best rated {noun}", "{name_zh}多少钱", "200美元以内的{noun_zh}", "does the {brand} one come in black?",
    "{noun} with the longest battery life", "something lighter than the {name}", "{brand} {noun}",
    "i want a {noun} for my mom", "is shipping free?", "where is my order 100012?",
]


def _make_kit_module():
    spec = importlib.util.spec_from_file_location("make_kit", ROOT / "benchmarks" / "make_kit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return _make_kit_module().make_kit(tmp_path_factory.mktemp("gen") / "kit", 400, 40, seed=11, customers=10,
                                       orders=30)


@pytest.fixture
def kit_copy(generated, tmp_path) -> Path:
    out = tmp_path / "kit"
    out.mkdir()
    for f in generated.iterdir():
        (out / f.name).write_bytes(f.read_bytes())
    return out


def _questions(kit) -> list[str]:
    out = []
    for p in list(kit.catalog)[:40:4]:
        noun = p.name.split(" ")[-1].lower()
        noun_zh = (p.name_zh or p.name)[-2:]
        out += [q.format(name=p.name, noun=noun, name_zh=p.name_zh or p.name, noun_zh=noun_zh, brand=p.brand)
                for q in QUESTIONS]
    return out


def _kit_fields(kit) -> dict:
    return {f.name: getattr(kit, f.name) for f in dataclasses.fields(kit) if f.name not in ("catalog", "root")}


# -- the saved kit is the kit ---------------------------------------------------------------------
def test_a_built_kit_reads_back_as_the_kit_its_files_hold(kit_copy, tmp_path):
    kit = read_kit(kit_copy)
    assert write_built(kit, tmp_path / FOLDER)
    again = load_built(kit_copy, tmp_path / FOLDER)
    assert again is not None
    assert _kit_fields(again) == _kit_fields(kit)
    assert list(again.catalog) == list(kit.catalog)
    assert again.catalog.relations() == kit.catalog.relations()
    assert set(again.catalog.prebuilt) == {"vocabulary", "linker", "names"}
    assert not kit.catalog.prebuilt  # a kit read from its files learns everything itself


def test_learned_tables_answer_as_tables_learned_afresh(kit_copy, tmp_path):
    kit = read_kit(kit_copy)
    write_built(kit, tmp_path / FOLDER)
    again = load_built(kit_copy, tmp_path / FOLDER)
    fresh_qa, built_qa = ProductQA(kit.catalog), ProductQA(again.catalog)
    fresh_link, built_link = ProductLinker(kit.catalog), ProductLinker(again.catalog)
    emb = HashEmbedder()
    fresh_names = EmbeddingProductMatcher(kit.catalog, emb, threshold=0.3)
    built_names = EmbeddingProductMatcher(again.catalog, emb, threshold=0.3)
    questions = _questions(kit)
    assert len(questions) > 100
    for q in questions:
        lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in q) else "en"
        assert built_link.link(q) == fresh_link.link(q), q
        assert built_names.candidates(q) == fresh_names.candidates(q), q
        fresh_q, built_q = fresh_qa.understand(q, lang), built_qa.understand(q, lang)
        assert built_q == fresh_q, q
        fresh_r, built_r = fresh_qa.search(fresh_q), built_qa.search(built_q)
        assert [p.id for p in built_r.products] == [p.id for p in fresh_r.products], q
        named = fresh_link.link(q)
        if named:
            assert [f.text for f in built_qa.facts(q, named, lang)] == [f.text for f in fresh_qa.facts(q, named, lang)]
    fresh_v, built_v = fresh_qa.vocabulary, built_qa.vocabulary
    fresh_v.wait_indexed()
    assert built_v.head == fresh_v.head and built_v.cues == fresh_v.cues
    assert {k: v.tolist() for k, v in built_v.types.items()} == {k: v.tolist() for k, v in fresh_v.types.items()}
    assert {k: v.tolist() for k, v in built_v._words.items()} == {k: v.tolist() for k, v in fresh_v._words.items()}
    rows = np.arange(len(kit.catalog))
    assert np.array_equal(built_v.word_scores("wireless charger black", rows),
                          fresh_v.word_scores("wireless charger black", rows))


def test_tables_learned_with_other_parameters_are_not_taken(kit_copy, tmp_path):
    kit = read_kit(kit_copy)
    write_built(kit, tmp_path / FOLDER)
    again = load_built(kit_copy, tmp_path / FOLDER)
    synonyms = {"gizmo": next(iter(kit.catalog)).name.split(" ")[-1]}
    assert CatalogVocabulary(again.catalog, synonyms=synonyms).types.keys() == \
        CatalogVocabulary(kit.catalog, synonyms=synonyms).types.keys()
    assert ProductLinker(again.catalog, min_alias_len=6)._aliases == ProductLinker(kit.catalog, min_alias_len=6)._aliases


# -- a build that no longer holds is never used ----------------------------------------------------
def _set_first_price(kit: Path, price: str) -> str:
    with open(kit / "catalog.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows[0]["price"] = price
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (kit / "catalog.csv").write_text(out.getvalue(), encoding="utf-8")
    return rows[0]["id"]


def test_an_edited_kit_file_makes_the_build_stale(kit_copy, tmp_path, caplog):
    write_built(read_kit(kit_copy), tmp_path / FOLDER)
    pid = _set_first_price(kit_copy, "777.77")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert load_built(kit_copy, tmp_path / FOLDER) is None
    assert "the kit's files have changed since" in caplog.text and "shopassist store build" in caplog.text
    assert read_kit(kit_copy).catalog.get(pid).price == 777.77  # what a start then serves


@pytest.mark.parametrize("name", ["catalog.npz", "vocabulary.json", "vocabulary.npz", "linker.json", "names.npz",
                                  "kit.json"])
def test_a_damaged_or_swapped_file_is_never_read(kit_copy, tmp_path, caplog, name):
    folder = tmp_path / FOLDER
    write_built(read_kit(kit_copy), folder)
    data = bytearray((folder / name).read_bytes())
    data[len(data) // 2] ^= 0x55
    (folder / name).write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert load_built(kit_copy, folder) is None
    assert f"{name} changed" in caplog.text


def test_a_missing_or_unreadable_manifest_or_another_version_is_not_used(kit_copy, tmp_path, caplog, monkeypatch):
    folder = tmp_path / FOLDER
    assert load_built(kit_copy, folder) is None  # never built
    write_built(read_kit(kit_copy), folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "version": 0}))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert load_built(kit_copy, folder) is None
    assert "another version" in caplog.text
    (folder / "manifest.json").write_text("{not json")
    assert load_built(kit_copy, folder) is None
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert load_built(kit_copy, folder) is not None
    monkeypatch.setattr(built, "code_fingerprint", lambda: "another reader")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert load_built(kit_copy, folder) is None
    assert "the code that reads kits has changed" in caplog.text


def test_a_build_of_another_kit_is_not_used(kit_copy, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    for f in kit_copy.iterdir():
        (other / f.name).write_bytes(f.read_bytes())
    _set_first_price(other, "1.23")
    write_built(read_kit(other), tmp_path / FOLDER)
    assert load_built(kit_copy, tmp_path / FOLDER) is None


# -- live edits ------------------------------------------------------------------------------------
def test_live_edits_of_a_built_kit_read_the_files_and_learn_afresh(kit_copy, tmp_path):
    folder = tmp_path / FOLDER
    write_built(read_kit(kit_copy), folder)
    kit = load_built(kit_copy, folder)
    rows = [json.loads(line) for line in (kit_copy / "faqs.jsonl").read_text("utf-8").splitlines() if line.strip()]
    rows[0]["answer"] = "A new answer."
    (kit_copy / "faqs.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    faq_edit = reread(kit, frozenset({"faqs.jsonl"}))
    assert "A new answer." in [f.answer for f in faq_edit.faqs]
    assert faq_edit.catalog is kit.catalog  # the catalog and its tables are still those of catalog.csv
    pid = _set_first_price(kit_copy, "654.32")
    catalog_edit = reread(faq_edit, frozenset({"catalog.csv"}))
    assert catalog_edit.catalog.get(pid).price == 654.32 and not catalog_edit.catalog.prebuilt
    qa = ProductQA(catalog_edit.catalog)
    name = catalog_edit.catalog.get(pid).name
    assert "654.32" in " ".join(f.text for f in qa.facts(f"how much is the {name}?", [pid]))
    assert load_built(kit_copy, folder) is None  # the next start reads the edited files


def test_a_kit_whose_data_json_would_change_is_not_saved(kit_copy, tmp_path):
    import datetime

    kit = read_kit(kit_copy)
    kit.intents = {"note": datetime.date(2026, 1, 1)}
    assert write_built(kit, tmp_path / FOLDER) is False
    assert load_built(kit_copy, tmp_path / FOLDER) is None


# -- the catalog's columns -------------------------------------------------------------------------
def test_catalog_columns_keep_every_field_and_any_text():
    odd = "a\x1fb\x1ec"
    attrs = {"size": Attribute("size", (10.0, 5.0, 2.0), "cm", "size", "尺寸"),
             "os": Attribute("os", ["iOS", "Android"], None, "os"), "wet": Attribute("wet", True),
             "note": Attribute("note", odd, None, "note", note="n", value_zh="值")}
    products = [Product("P1", odd, "B", "Cat > Sub", 9.5, stock=3, rating=4.5, description=odd, name_zh="名",
                        aliases=("x1", odd), attributes=attrs, translations={"fr": {"name": "nom"}}),
                Product("P2", "Two", "", "Cat", 0.0, currency="EUR")]
    catalog = Catalog(products, [("P2", "accessory_of", "P1"), ("P1", "compatible_with", "P9")])
    doc, arrays = catalog_columns(catalog)
    again = catalog_from_columns(json.loads(json.dumps(doc)), {k: np.asarray(v) for k, v in arrays.items()})
    assert list(again) == products
    assert again.relations() == [("P2", "accessory_of", "P1")]
    assert [p.id for p in again.accessories("P1")] == ["P2"]
    assert again.graph.has_edge("P1", "brand:B")
