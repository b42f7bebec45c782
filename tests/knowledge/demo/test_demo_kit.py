"""The demo store is a store kit: `shopassist demo build` writes store.yaml, faqs.jsonl and the
catalog in the kit format, the kit reader loads it clean, and what the engine says of the shop
(name, currency, return window, refund days) comes from that store.yaml, not from engine code.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from knowledge.demo import build_demo_store, ensure_demo_store
from knowledge.kit import check_kit, read_kit

TODAY = date(2025, 3, 1)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_demo_store(tmp_path_factory.mktemp("demo-kit"), today=TODAY)


def test_the_demo_folder_is_a_clean_kit(store):
    assert check_kit(store.root) == []
    kit = read_kit(store.root)
    assert kit.profile.name == "Brightcart" and kit.profile.currency == "USD"
    assert list(kit.profile.languages) == ["en", "zh"]
    p = kit.profile.policies
    assert (p.return_window_days, p.free_shipping_over, tuple(p.refund_business_days)) == (30, 49, (5, 7))
    assert len(kit.catalog) >= 200 and {f.lang for f in kit.faqs} == {"en", "zh"}


def test_the_kits_faqs_keep_the_demo_ids_and_text(store):
    from knowledge.demo.faqs import FAQS

    kit = read_kit(store.root)
    by_id = {f.id: f for f in kit.faqs}
    assert set(by_id) == {f["id"] for f in FAQS}
    for f in FAQS:
        e = by_id[f["id"]]
        assert (e.lang, e.question, e.answer, e.kind) == (f["lang"], f["question"], f["answer"], f["kind"])
    lines = [json.loads(line) for line in store.faqs_path.read_text("utf-8").splitlines()]
    assert all(set(line) <= {"id", "language", "question", "answer", "kind", "tags", "alternates"} for line in lines)


def test_the_kits_catalog_is_the_demo_catalog(store):
    from knowledge.graph.catalog import Catalog

    graph = Catalog.from_file(store.catalog_path)
    kit = read_kit(store.root)
    assert [p.id for p in kit.catalog] == [p.id for p in graph]
    assert kit.catalog.relations() == graph.relations()


def test_a_store_built_before_store_yaml_existed_gets_one_and_keeps_its_orders(store, tmp_path):
    root = tmp_path / "old"
    shutil.copytree(store.root, root)
    (root / "store.yaml").unlink()
    kept = (root / "store.db").read_bytes()
    again = ensure_demo_store(root, today=TODAY)
    assert again.profile_path.is_file() and check_kit(root) == []
    assert (root / "store.db").read_bytes() == kept


def test_engine_code_holds_no_demo_policy_or_name():
    """What the demo shop says of itself lives in its store.yaml (knowledge/demo), not in engine code."""
    engine_dir = Path(__file__).resolve().parents[3] / "engine"
    hits = []
    for path in engine_dir.rglob("*.py"):
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"Brightcart", code) and ">>>" not in line and "..." not in line:
                hits.append(f"{path.relative_to(engine_dir.parent)}:{n}: {line.strip()}")
    assert hits == [], "\n".join(hits)
