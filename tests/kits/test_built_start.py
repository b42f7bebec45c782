"""An engine started from a built kit (``shopassist store build``'s saved kit and catalog tables)
answers exactly as one that reads and learns the kit from its files; an edited kit file or a
damaged build is not used, and the start serves what the kit's files say."""

from __future__ import annotations

import csv
import importlib.util
import io
import logging
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LOGGER = "shopassist.kit.built"


def _make_kit(out: Path) -> Path:
    spec = importlib.util.spec_from_file_location("make_kit", ROOT / "benchmarks" / "make_kit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_kit(out, 300, 40, seed=5, customers=10, orders=30)


def _questions(root: Path) -> list[str]:
    with open(root / "catalog.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))[:60:6]
    faqs = (root / "faqs.jsonl").read_text("utf-8").splitlines()[:6]
    out = ["hi", "thanks!", "where is my order 100012?", "something cheaper?"]
    for r in rows:
        noun = r["name"].split(" ")[-1].lower()
        out += [f"how much is the {r['name']}?", f"is the {r['name']} in stock?", f"{noun}s under $150",
                f"the cheapest {noun} you have", f"{r.get('name:zh') or r['name']}多少钱", "something cheaper?"]
    out += [__import__("json").loads(line)["question"] for line in faqs]
    return out


def _engine(data_dir: Path, root: Path):
    from engine import Engine

    eng = Engine.from_config(data_dir=data_dir, store={"kind": "kit", "root": root, "watch": False})
    eng.warm_up()
    return eng


def _replies(eng, questions: list[str], prefix: str) -> list[tuple]:
    out = []
    for i, q in enumerate(questions):
        r = eng.respond(f"{prefix}-{i // 6}", q)
        out.append((q, r.text, r.intent, r.route, [s.id for s in r.sources]))
    return out


@pytest.fixture(scope="module")
def kit_root(tmp_path_factory) -> Path:
    return _make_kit(tmp_path_factory.mktemp("built-start") / "kit")


def test_a_built_kit_answers_as_the_kit_read_from_its_files(kit_root, tmp_path, caplog):
    from engine.settings import load_settings
    from engine.store import kit_work_dir, save_built
    from knowledge.kit import read_kit
    from knowledge.kit.built import FOLDER

    data = tmp_path / "data"
    questions = _questions(kit_root)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        plain = _replies(_engine(data, kit_root), questions, "plain")
    assert "not built yet" in caplog.text

    settings = load_settings(data_dir=data, store={"kind": "kit", "root": kit_root})
    assert save_built(settings, read_kit(kit_root))
    assert (kit_work_dir(settings) / FOLDER / "manifest.json").is_file()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        from_build = _replies(_engine(data, kit_root), questions, "built")
    assert "not built yet" not in caplog.text and "is not used" not in caplog.text
    assert from_build == plain

    # an edited price after the build: the build is not used, the start serves the new price
    with open(kit_root / "catalog.csv", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows[0]["price"] = "543.21"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (kit_root / "catalog.csv").write_text(out.getvalue(), encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        eng = _engine(data, kit_root)
    assert "the kit's files have changed since" in caplog.text
    assert "543.21" in eng.respond("edited-1", f"how much is the {rows[0]['name']}?").text
