"""engine/nlu/entity_eval.py and the store's labelled entity set: scoring, bad files, a quality floor."""

from __future__ import annotations

from datetime import date

import pytest

from engine.errors import KnowledgeError
from engine.nlu.entities import RuleEntityExtractor
from engine.nlu.entity_eval import ENTITY_TYPES, evaluate_entities, load_entity_eval
from knowledge.graph.brands import BrandLinker
from knowledge.graph.catalog import Catalog
from knowledge.graph.linker import ProductLinker

# measured 2026-11-28 (benchmarks/entities.py): micro F1 0.988, lowest type F1 0.959
# (quantities); the floors sit well below so that only a real regression trips them
MICRO_F1_FLOOR = 0.90
TYPE_F1_FLOOR = 0.80


@pytest.fixture(scope="module")
def store_extractor(demo_store) -> RuleEntityExtractor:
    catalog = Catalog.from_file(demo_store.catalog_path)
    return RuleEntityExtractor(ProductLinker(catalog), brands=BrandLinker(catalog))


def test_the_store_set_is_bilingual_and_covers_every_type():
    eval_set = load_entity_eval()
    langs = [i.lang for i in eval_set.items]
    assert langs.count("en") >= 100 and langs.count("zh") >= 100
    for t in ENTITY_TYPES:
        for lang in ("en", "zh"):
            assert any(i.gold[t] for i in eval_set.items if i.lang == lang), (t, lang)
    # negatives: items that give nothing at all
    assert sum(not any(i.gold.values()) for i in eval_set.items) >= 30


def test_the_store_extractor_stays_above_the_floor(store_extractor):
    report = evaluate_entities(store_extractor, load_entity_eval())
    for lang in ("en", "zh", "all"):
        assert report["by_type"]["micro"][lang]["f1"] >= MICRO_F1_FLOOR, (lang, report["errors"])
    for t in ENTITY_TYPES:
        assert report["by_type"][t]["all"]["f1"] >= TYPE_F1_FLOOR, (t, report["errors"])


def test_scoring_counts_spurious_and_missed_values(tmp_path):
    path = tmp_path / "set.yaml"
    path.write_text(
        "today: 2026-11-12\n"
        "en:\n"
        "  - {text: 'order 100023, yesterday', order_ids: ['100023'], dates: ['2026-11-11']}\n"
        "  - {text: 'it costs $49 and arrived 2026-11-01', dates: ['2026-11-02']}\n"
        "zh:\n"
        "  - {text: '两个', quantities: [2]}\n",
        "utf-8",
    )
    report = evaluate_entities(RuleEntityExtractor(), load_entity_eval(path))
    dates = report["by_type"]["dates"]["en"]
    assert (dates["tp"], dates["fp"], dates["fn"]) == (1, 1, 1)
    assert dates["precision"] == dates["recall"] == 0.5
    assert report["by_type"]["quantities"]["zh"]["f1"] == 1.0
    assert report["by_type"]["emails"]["all"]["f1"] == 1.0  # nothing to find, nothing found
    assert report["items"] == {"en": 2, "zh": 1}
    [error] = report["errors"]
    assert error["missed"] == ["2026-11-02"] and error["spurious"] == ["2026-11-01"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("en: []\n", "today"),
        ("today: 2026-11-12\nen:\n  - {text: ''}\n", "non-empty `text`"),
        ("today: 2026-11-12\nen:\n  - {text: hi, colours: [red]}\n", "unknown types"),
        ("today: 2026-11-12\nen:\n  - {text: hi, colors: red}\n", "must be a list"),
        ("today: 2026-11-12\n", "no items"),
        ("today: [unclosed\n", "cannot read"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content, "utf-8")
    with pytest.raises(KnowledgeError, match=message) as exc:
        load_entity_eval(path)
    assert "bad.yaml" in str(exc.value)


def test_a_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("today: 2026-11-12\nen:\n  - {text: 'caf\u00e9'}\n".encode("latin-1"))
    with pytest.raises(KnowledgeError, match="latin1.yaml"):
        load_entity_eval(path)


def test_relative_dates_use_the_given_day_or_the_clock():
    extractor = RuleEntityExtractor(clock=lambda: date(2026, 1, 2))
    assert extractor.extract("yesterday").dates == ("2026-01-01",)
    assert extractor.extract("yesterday", today=date(2026, 3, 1)).dates == ("2026-02-28",)
