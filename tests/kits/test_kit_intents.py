"""A kit's intents.yaml joins the engine's base training data, and a version the learning loop
promoted before the kit's examples existed is checked again against them: one that does not know
the shop's intents, or gets its examples wrong far more often than the base model, is not served.
A kit that lists languages the engine does not answer fully loads, with a warning naming them.

Runs on small real parts (a hash embedder, linear heads trained in milliseconds).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from engine.learn.registry import BASE, ModelRegistry
from engine.learn.reload import ReloadingClassifier
from engine.nlu.intent import EmbeddingIntentClassifier, IntentExample, train_linear_head
from engine.store import StoreCheckedRegistry, _intent_examples, store_intent_examples
from knowledge.embedders import HashEmbedder
from knowledge.kit.reader import check_kit, read_kit
from knowledge.kit.starter import init_kit

BASE_EXAMPLES = {
    "track_order": ["where is my parcel", "track my package", "has my order shipped", "when does my order arrive"],
    "refund_status": ["where is my refund", "money back status", "refund not received", "when is my refund due"],
    "greet": ["hello there", "hi", "good morning", "hey"],
}


def _base() -> list[IntentExample]:
    return [IntentExample(t, label, "en") for label, ts in BASE_EXAMPLES.items() for t in ts]


def _classifier(emb: HashEmbedder, examples: list[IntentExample]) -> EmbeddingIntentClassifier:
    head = train_linear_head(emb.embed([e.text for e in examples], kind="query"), [e.label for e in examples],
                             max_iter=80)
    head.meta.update(model=emb.name)
    return EmbeddingIntentClassifier(emb, head, confidence_threshold=0.0)


def _write_intents(kit: Path, text: str) -> None:
    (kit / "intents.yaml").write_text(text, encoding="utf-8")


@pytest.fixture
def kit(tmp_path) -> Path:
    return init_kit(tmp_path / "kit")


GIFT_WRAP = """intents:
  gift_wrap:
    en: ["can you gift wrap it", "add gift wrapping please", "wrap it as a present", "is gift wrap available"]
    zh: ["可以礼品包装吗", "帮我包装成礼物"]
  track_order:
    en: ["where has my kettle got to"]
catalog:
  gift_wrap: {route: retrieval}
"""


def test_kit_intent_examples_join_the_base_data_in_both_languages(kit, tmp_path):
    _write_intents(kit, GIFT_WRAP)
    assert not [p for p in check_kit(kit) if p.is_error], check_kit(kit)
    examples = _intent_examples(read_kit(kit).intents)
    assert {(e.label, e.lang) for e in examples} == {("gift_wrap", "en"), ("gift_wrap", "zh"), ("track_order", "en")}
    assert IntentExample("where has my kettle got to", "track_order", "en") in examples

    from engine.settings import load_settings

    settings = load_settings(data_dir=tmp_path / "data", store={"kind": "kit", "root": kit})
    added = store_intent_examples(settings)                      # what `shopassist learn retrain` adds
    assert added[-len(examples):] == examples
    name = read_kit(kit).profile.name
    named = added[:-len(examples)]                               # greetings and complaints naming the shop
    assert named and all(name in e.text for e in named) and {e.label for e in named} == {"greet", "complaint"}
    demo = store_intent_examples(load_settings(data_dir=tmp_path / "data"))
    assert demo and all("Brightcart" in e.text for e in demo)   # the demo's name, from its profile


def _promote(registry_dir: Path, emb: HashEmbedder, examples: list[IntentExample]) -> str:
    reg = ModelRegistry(registry_dir)
    clf = _classifier(emb, examples)
    version = reg.add(clf.head, {"metrics": {"macro_f1": 1.0}}).version
    reg.promote(version, by="test")
    return version


def _serving(registry_dir: Path, emb: HashEmbedder, store_examples: list[IntentExample]):
    base = _classifier(emb, _base() + store_examples)   # what the engine trains at start-up
    reg = StoreCheckedRegistry(registry_dir, store_examples)
    serving = ReloadingClassifier(reg, base, interval_s=0)
    reg.bind(serving)
    return serving, reg


def test_a_promoted_version_that_does_not_know_the_shops_intents_is_not_served(tmp_path, caplog):
    emb = HashEmbedder(dim=128)
    version = _promote(tmp_path / "reg", emb, _base())       # promoted before the kit had gift_wrap
    store = [IntentExample(t, "gift_wrap", "en") for t in ("can you gift wrap it", "add gift wrapping please",
                                                           "wrap it as a present")]
    serving, reg = _serving(tmp_path / "reg", emb, store)
    with caplog.at_level(logging.WARNING, logger="shopassist.store"):
        assert serving.classify("can you gift wrap it").intent == "gift_wrap"
    assert serving.version == BASE and reg.current() == BASE
    assert ModelRegistry(tmp_path / "reg").current() == version      # the registry itself is left as it is
    said = " ".join(r.getMessage() for r in caplog.records)
    assert version in said and "gift_wrap" in said and "learn retrain" in said


def test_a_promoted_version_that_learnt_the_shops_examples_keeps_serving(tmp_path):
    emb = HashEmbedder(dim=128)
    store = [IntentExample(t, "gift_wrap", "en") for t in ("can you gift wrap it", "add gift wrapping please",
                                                           "wrap it as a present")]
    version = _promote(tmp_path / "reg", emb, _base() + store)
    serving, reg = _serving(tmp_path / "reg", emb, store)
    assert serving.classify("hello there").model == version
    assert reg.verdicts[version][0] is True


def test_without_store_examples_nothing_is_checked(tmp_path):
    emb = HashEmbedder(dim=128)
    version = _promote(tmp_path / "reg", emb, _base())
    serving, reg = _serving(tmp_path / "reg", emb, [])
    assert serving.classify("hi").model == version and reg.verdicts == {}


def test_a_kit_listing_languages_the_engine_does_not_answer_fully_loads_with_a_warning(kit, caplog):
    text = (kit / "store.yaml").read_text("utf-8").replace("languages: [en, zh]", "languages: [en, zh, fr, de]")
    (kit / "store.yaml").write_text(text, "utf-8")
    problems = check_kit(kit)
    assert not [p for p in problems if p.is_error], problems
    warned = [p for p in problems if p.field == "languages"]
    assert {lang for lang in ("fr", "de") if any(lang in p.message for p in warned)} == {"fr", "de"}
    assert not any("'en'" in p.message or "'zh'" in p.message for p in warned)
    with caplog.at_level(logging.WARNING):
        kit_read = read_kit(kit)
    assert kit_read.profile.languages[:2] == ["en", "zh"] or tuple(kit_read.profile.languages[:2]) == ("en", "zh")
    assert any("fr" in r.getMessage() for r in caplog.records)
