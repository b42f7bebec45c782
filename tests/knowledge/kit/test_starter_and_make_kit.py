"""The starter kit and benchmarks/make_kit.py both write kits that check clean."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from knowledge.kit import check_kit, read_kit
from knowledge.kit.starter import init_kit

ROOT = Path(__file__).resolve().parents[3]


def _make_kit_module():
    spec = importlib.util.spec_from_file_location("make_kit", ROOT / "benchmarks" / "make_kit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_starter_kit_checks_clean_and_is_bilingual(kit_dir):
    assert check_kit(kit_dir) == []
    kit = read_kit(kit_dir)
    assert kit.profile.languages == ("en", "zh")
    by_lang = {lang: {f.id.split("-", 1)[1] for f in kit.faqs if f.lang == lang} for lang in ("en", "zh")}
    assert by_lang["en"] == by_lang["zh"] and len(by_lang["en"]) == 12
    assert all(p.name_zh for p in kit.catalog)


def test_starter_kit_refuses_to_overwrite(kit_dir):
    with pytest.raises(FileExistsError):
        init_kit(kit_dir)
    init_kit(kit_dir, overwrite=True)


def test_make_kit_is_clean_and_deterministic(tmp_path):
    make_kit = _make_kit_module().make_kit
    a = make_kit(tmp_path / "a", 300, 60, seed=3, customers=20, orders=50)
    b = make_kit(tmp_path / "b", 300, 60, seed=3, customers=20, orders=50)
    for name in ("store.yaml", "catalog.csv", "faqs.jsonl", "customers.csv", "orders.jsonl"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert check_kit(a) == []
    kit = read_kit(a)
    assert len(kit.catalog) == 300 and len(kit.faqs) == 60 and len(kit.orders) == 50
    assert kit.catalog.relations() and any(p.attributes for p in kit.catalog)


def test_make_kit_other_languages(tmp_path):
    kit = _make_kit_module().make_kit(tmp_path / "k", 50, 9, seed=1, languages=("en",), customers=3, orders=5)
    assert check_kit(kit) == []
