"""engine/nlu/intent.py: the linear head, out-of-scope decisions, persistence and the cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import engine.nlu.intent as intent_module
from engine.errors import ModelError
from engine.nlu.base import OUT_OF_SCOPE, IntentClassifier
from engine.nlu.intent import (
    HEAD_FORMAT_VERSION,
    EmbeddingIntentClassifier,
    IntentExample,
    LinearHead,
    load_intent_examples,
    load_or_train,
    split_examples,
    train_linear_head,
)
from knowledge.embedders import HashEmbedder

PHRASES = {
    "track_order": ["where is my order", "track my package", "where is my parcel", "has my order shipped",
                    "order status please", "when will my package arrive", "is my parcel on its way",
                    "tracking for my order"],
    "return_item": ["I want to return this", "how do I send it back", "return my shoes", "start a return",
                    "can I return an item", "returning a product", "send back the jacket", "return request"],
    "greet": ["hello there", "hi", "good morning", "hey", "hello", "hi there", "good evening", "hey hello"],
}
EXAMPLES = [IntentExample(t, label, "en") for label, texts in PHRASES.items() for t in texts]


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Full-batch L-BFGS on a few dozen rows is far faster on one thread."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="module")
def head(embedder) -> LinearHead:
    x = embedder.embed([e.text for e in EXAMPLES])
    return train_linear_head(x, [e.label for e in EXAMPLES], max_iter=100)


# -- training ------------------------------------------------------------------------------------


def _clusters(seed: int, classes: int = 4, per: int = 25, dim: int = 32, noise: float = 0.3):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dim))
    x = np.concatenate([c + noise * rng.normal(size=(per, dim)) for c in centres]).astype(np.float32)
    y = [f"c{k}" for k in range(classes) for _ in range(per)]
    return centres, x, y


def test_train_linear_head_separates_random_clusters():
    centres, x, y = _clusters(seed=1)
    h = train_linear_head(x, y, max_iter=100)
    assert h.labels == ("c0", "c1", "c2", "c3")
    assert h.weight.shape == (32, 4) and h.bias.shape == (4,) and h.centroids.shape == (4, 32)
    # held-out points drawn from the same clusters
    rng = np.random.default_rng(99)
    xt = np.concatenate([c + 0.3 * rng.normal(size=(10, 32)) for c in centres]).astype(np.float32)
    yt = np.repeat(np.arange(4), 10)
    p = h.probabilities(xt)
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert (p.argmax(axis=1) == yt).mean() >= 0.95
    assert np.allclose(np.linalg.norm(h.centroids, axis=1), 1.0, atol=1e-5)


def test_train_linear_head_fits_hash_embeddings_of_distinct_phrases(head, embedder):
    x = embedder.embed([e.text for e in EXAMPLES])
    pred = np.array(head.labels)[head.probabilities(x).argmax(axis=1)]
    assert (pred == np.array([e.label for e in EXAMPLES])).mean() >= 0.95


def test_training_is_deterministic():
    _, x, y = _clusters(seed=2)
    a = train_linear_head(x, y, max_iter=30, seed=5)
    b = train_linear_head(x, y, max_iter=30, seed=5)
    assert np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias)


@pytest.mark.parametrize(
    "x, y, kwargs",
    [
        (np.zeros((0, 4), np.float32), [], {}),
        (np.zeros((3, 4), np.float32), ["a", "b"], {}),
        (np.zeros((3, 4), np.float32), ["a", "a", "a"], {}),
        (np.zeros((2, 4), np.float32), ["a", "b"], {"max_iter": 0}),
    ],
)
def test_train_linear_head_rejects_bad_input(x, y, kwargs):
    with pytest.raises(ValueError):
        train_linear_head(x, y, **kwargs)


# -- classification and out-of-scope -------------------------------------------------------------


def test_classifier_satisfies_the_protocol(embedder, head):
    assert isinstance(EmbeddingIntentClassifier(embedder, head), IntentClassifier)


@pytest.mark.parametrize(
    "text, label",
    [("where is my order?", "track_order"), ("return this item", "return_item"), ("hello!", "greet")],
)
def test_classifier_predicts_close_paraphrases(embedder, head, text, label):
    clf = EmbeddingIntentClassifier(embedder, head, confidence_threshold=0.45, min_similarity=0.0)
    pred = clf.classify(text)
    assert pred.intent == label
    assert pred.oos_reason is None
    assert pred.ranking[0][0] == label
    assert [p for _, p in pred.ranking] == sorted((p for _, p in pred.ranking), reverse=True)


class _FixedEmbedder:
    name = "fixed"
    dim = 2

    def __init__(self, vec):
        self.vec = np.asarray(vec, dtype=np.float32)

    def embed(self, texts, *, kind="query"):
        return np.tile(self.vec, (len(texts), 1))


def _hand_head(weight=((0.0, 0.0), (0.0, 0.0))) -> LinearHead:
    """Two classes; zero weights give exactly 50/50 probabilities."""
    return LinearHead(
        labels=("a", "b"),
        weight=np.asarray(weight, np.float32),
        bias=np.zeros(2, np.float32),
        centroids=np.asarray([[1.0, 0.0], [0.0, 1.0]], np.float32),
        mean=np.zeros(2, np.float32),
        meta={},
    )


def test_below_the_confidence_threshold_is_out_of_scope():
    clf = EmbeddingIntentClassifier(_FixedEmbedder([1.0, 0.0]), _hand_head(), confidence_threshold=0.6,
                                    min_similarity=-1.0)
    pred = clf.classify("anything")
    assert pred.intent == OUT_OF_SCOPE
    assert pred.oos_reason == "low_confidence"
    assert pred.confidence == pytest.approx(0.5)
    assert {label for label, _ in pred.ranking} == {"a", "b"}  # the ranking is still reported


def test_at_or_above_the_threshold_the_top_intent_is_returned():
    head = _hand_head(weight=((3.0, 0.0), (0.0, 0.0)))  # favours "a" for x = (1, 0)
    clf = EmbeddingIntentClassifier(_FixedEmbedder([1.0, 0.0]), head, confidence_threshold=0.6,
                                    min_similarity=-1.0)
    pred = clf.classify("anything")
    assert pred.intent == "a" and pred.confidence > 0.9


def test_far_from_every_centroid_is_out_of_scope():
    head = _hand_head(weight=((3.0, 0.0), (0.0, 0.0)))
    # (-1, 0) has cosine -1 to centroid a and 0 to centroid b
    clf = EmbeddingIntentClassifier(_FixedEmbedder([-1.0, 0.0]), head, confidence_threshold=0.0,
                                    min_similarity=0.3)
    pred = clf.classify("anything")
    assert pred.intent == OUT_OF_SCOPE and pred.oos_reason == "far_from_training_data"


@pytest.mark.parametrize("threshold", [-0.1, 1.1])
def test_threshold_outside_unit_interval_is_rejected(threshold):
    with pytest.raises(ValueError):
        EmbeddingIntentClassifier(_FixedEmbedder([1, 0]), _hand_head(), confidence_threshold=threshold)


# -- persistence -----------------------------------------------------------------------------------


def test_save_load_round_trip_gives_identical_probabilities(tmp_path, head, embedder):
    head.save(tmp_path / "m")
    loaded = LinearHead.load(tmp_path / "m")
    x = embedder.embed(["where is my parcel", "hi", "something else entirely"])
    assert loaded.labels == head.labels
    assert np.array_equal(loaded.probabilities(x), head.probabilities(x))
    assert np.array_equal(loaded.centroid_similarity(x), head.centroid_similarity(x))
    assert loaded.meta["format_version"] == HEAD_FORMAT_VERSION


def _saved(tmp_path: Path, head: LinearHead, name: str = "m") -> Path:
    folder = tmp_path / name
    head.save(folder)
    return folder


def test_load_missing_folder_raises_model_error(tmp_path):
    with pytest.raises(ModelError):
        LinearHead.load(tmp_path / "nothing-here")


def test_load_wrong_format_version_raises_model_error(tmp_path, head):
    folder = _saved(tmp_path, head)
    meta = json.loads((folder / "meta.json").read_text())
    meta["format_version"] = HEAD_FORMAT_VERSION - 1
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="format"):
        LinearHead.load(folder)


def test_load_labels_inconsistent_with_weights_raises_model_error(tmp_path, head):
    folder = _saved(tmp_path, head)
    meta = json.loads((folder / "meta.json").read_text())
    meta["labels"] = ["only", "two"]
    (folder / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError):
        LinearHead.load(folder)


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda f: (f / "meta.json").write_text("{not json"), id="meta-not-json"),
        pytest.param(lambda f: (f / "meta.json").write_text("[]"), id="meta-not-an-object"),
        pytest.param(lambda f: (f / "head.npz").write_bytes(b"junk"), id="npz-junk"),
        pytest.param(lambda f: (f / "head.npz").unlink(), id="npz-missing"),
        pytest.param(
            lambda f: (f / "head.npz").write_bytes((f / "head.npz").read_bytes()[:200]), id="npz-truncated"
        ),
        pytest.param(lambda f: np.savez(f / "head.npz", weight=np.zeros((2, 2))), id="npz-missing-arrays"),
    ],
)
def test_load_corrupt_folder_raises_model_error(tmp_path, head, corrupt):
    folder = _saved(tmp_path, head)
    corrupt(folder)
    with pytest.raises(ModelError):
        LinearHead.load(folder)


# -- load_or_train: the cache ------------------------------------------------------------------------


def _forbid_training(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("retrained although a cached head exists")

    monkeypatch.setattr(intent_module, "train_linear_head", boom)


def test_load_or_train_caches_and_reuses_the_head(tmp_path, embedder, monkeypatch):
    first = load_or_train(embedder, EXAMPLES, tmp_path, max_iter=50)
    folders = list(tmp_path.glob("intent-head-*"))
    assert len(folders) == 1 and (folders[0] / "meta.json").is_file()
    _forbid_training(monkeypatch)
    second = load_or_train(embedder, EXAMPLES, tmp_path, max_iter=50, confidence_threshold=0.7)
    x = embedder.embed(["where is my parcel"])
    assert np.array_equal(first.head.probabilities(x), second.head.probabilities(x))
    assert second.threshold == 0.7  # thresholds are not part of the cache key


def test_load_or_train_retrains_when_examples_change(tmp_path, embedder):
    load_or_train(embedder, EXAMPLES, tmp_path, max_iter=50)
    changed = EXAMPLES + [IntentExample("wave hello", "greet", "en")]
    clf = load_or_train(embedder, changed, tmp_path, max_iter=50)
    assert len(list(tmp_path.glob("intent-head-*"))) == 2
    assert clf.head.meta["examples"] == len(changed)


def test_load_or_train_retrains_when_hyper_parameters_change(tmp_path, embedder):
    load_or_train(embedder, EXAMPLES, tmp_path, max_iter=50)
    load_or_train(embedder, EXAMPLES, tmp_path, max_iter=50, weight_decay=1e-2)
    assert len(list(tmp_path.glob("intent-head-*"))) == 2


def test_load_or_train_key_depends_on_the_embedder(tmp_path):
    load_or_train(HashEmbedder(dim=64), EXAMPLES, tmp_path, max_iter=50)
    load_or_train(HashEmbedder(dim=128), EXAMPLES, tmp_path, max_iter=50)
    assert len(list(tmp_path.glob("intent-head-*"))) == 2


def test_load_or_train_without_cache_dir_writes_nothing(tmp_path, embedder, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clf = load_or_train(embedder, EXAMPLES, None, max_iter=50)
    assert clf.classify("where is my order").intent == "track_order"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "corrupt",
    [
        pytest.param(lambda f: (f / "head.npz").write_bytes(b"junk"), id="npz-junk"),
        pytest.param(
            lambda f: (f / "head.npz").write_bytes((f / "head.npz").read_bytes()[:200]), id="npz-truncated"
        ),
        pytest.param(lambda f: (f / "meta.json").write_text("{"), id="meta-not-json"),
    ],
)
def test_load_or_train_retrains_over_a_corrupt_cache(tmp_path, embedder, corrupt):
    load_or_train(embedder, EXAMPLES, tmp_path, max_iter=50)
    (folder,) = tmp_path.glob("intent-head-*")
    corrupt(folder)
    clf = load_or_train(embedder, EXAMPLES, tmp_path, max_iter=50)
    assert clf.classify("where is my order").intent == "track_order"
    LinearHead.load(folder)  # and the cache was rewritten whole


# -- examples and the split ------------------------------------------------------------------------


def test_split_holds_out_every_fifth_example_per_label_and_language():
    examples = [IntentExample(f"{label}-{lang}-{i}", label, lang)
                for i in range(12) for label in ("a", "b") for lang in ("en", "zh")]
    train, held = split_examples(examples)
    assert len(held) == 4 * 2  # items 5 and 10 of each of the four (label, lang) groups
    for label in ("a", "b"):
        for lang in ("en", "zh"):
            assert [e.text for e in held if (e.label, e.lang) == (label, lang)] == [
                f"{label}-{lang}-4", f"{label}-{lang}-9"
            ]
    assert sorted(map(repr, train + held)) == sorted(map(repr, examples))
    assert not set(train) & set(held)


def test_split_is_deterministic_and_respects_holdout_every():
    examples = [IntentExample(f"t{i}", "a", "en") for i in range(9)]
    assert split_examples(examples) == split_examples(examples)
    _, held = split_examples(examples, holdout_every=3)
    assert [e.text for e in held] == ["t2", "t5", "t8"]
    with pytest.raises(ValueError):
        split_examples(examples, holdout_every=1)


def test_load_intent_examples_from_a_file(tmp_path):
    path = tmp_path / "intents.yaml"
    path.write_text(
        "intents:\n  greet:\n    en: [hi, ' hello ', '']\n    zh: [你好]\n  thanks:\n    en: [thanks]\n",
        encoding="utf-8",
    )
    examples = load_intent_examples(path)
    assert examples == [
        IntentExample("hi", "greet", "en"),
        IntentExample("hello", "greet", "en"),
        IntentExample("你好", "greet", "zh"),
        IntentExample("thanks", "thanks", "en"),
    ]


@pytest.mark.parametrize("text", ["intents: {}\n", "- a\n", "intents: [\n", "other: 1\n"])
def test_load_intent_examples_rejects_bad_files(tmp_path, text):
    path = tmp_path / "intents.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelError):
        load_intent_examples(path)


def test_load_intent_examples_missing_file_is_a_model_error(tmp_path):
    with pytest.raises(ModelError):
        load_intent_examples(tmp_path / "missing.yaml")


def test_packaged_intent_examples_are_bilingual():
    examples = load_intent_examples()
    assert {e.lang for e in examples} == {"en", "zh"}
    assert len({e.label for e in examples}) >= 5


# -- the two-stage (fast + full) classifier -----------------------------------------------------------


class _CountingEmbedder:
    """Maps known texts to fixed 2-d vectors and counts the texts it was asked to embed."""

    dim = 2

    def __init__(self, name: str, vectors: dict[str, tuple[float, float]]) -> None:
        self.name = name
        self.vectors = vectors
        self.seen: list[str] = []

    def embed(self, texts, *, kind="query"):
        self.seen.extend(texts)
        return np.asarray([self.vectors.get(t, (0.0, 0.0)) for t in texts], dtype=np.float32)


def _cascade(fast_vectors, full_vectors, *, accept=0.8, full_threshold=0.0):
    # weight 4 on the matching axis (rows are L2-normalised): (1, 0) gives "a" ~0.98, (1, 0.7) ~0.73,
    # (0, 0) exactly 0.5
    head = _hand_head(weight=((4.0, 0.0), (0.0, 4.0)))
    fast_emb = _CountingEmbedder("fast", fast_vectors)
    full_emb = _CountingEmbedder("full", full_vectors)
    fast = EmbeddingIntentClassifier(fast_emb, head, confidence_threshold=0.0, min_similarity=-1.0)
    full = EmbeddingIntentClassifier(full_emb, head, confidence_threshold=full_threshold, min_similarity=-1.0)
    return intent_module.CascadeIntentClassifier(fast, full, accept=accept), fast_emb, full_emb


def test_cascade_a_sure_fast_answer_stands_without_the_full_model():
    clf, fast_emb, full_emb = _cascade({"where is it": (1.0, 0.0)}, {"where is it": (0.0, 1.0)})
    pred = clf.classify("where is it")
    assert (pred.intent, pred.stage) == ("a", "fast") and pred.confidence > 0.8
    assert fast_emb.seen == ["where is it"] and full_emb.seen == []


def test_cascade_an_unsure_fast_answer_goes_to_the_full_model():
    # the fast stage leans to "a" at ~0.73 (under accept 0.8): the full model decides, and says "b"
    clf, fast_emb, full_emb = _cascade({"maybe": (1.0, 0.7)}, {"maybe": (0.0, 1.0)})
    pred = clf.classify("maybe")
    assert (pred.intent, pred.stage) == ("b", "full")
    assert fast_emb.seen == ["maybe"] and full_emb.seen == ["maybe"]


def test_cascade_accept_is_inclusive_and_configurable():
    fast_vectors, full_vectors = {"maybe": (1.0, 0.7)}, {"maybe": (0.0, 1.0)}
    p = _cascade(fast_vectors, full_vectors)[0].fast.classify("maybe").confidence  # ~0.73, as reported
    assert 0.7 < p < 0.8
    assert _cascade(fast_vectors, full_vectors, accept=p)[0].classify("maybe").stage == "fast"
    assert _cascade(fast_vectors, full_vectors, accept=p + 1e-4)[0].classify("maybe").stage == "full"


def test_cascade_fast_out_of_scope_is_rechecked_by_the_full_model():
    head = _hand_head(weight=((4.0, 0.0), (0.0, 4.0)))
    fast = EmbeddingIntentClassifier(_CountingEmbedder("fast", {"x": (1.0, 0.0)}), head,
                                     confidence_threshold=0.99, min_similarity=-1.0)  # "a" ~0.98: out of scope
    full = EmbeddingIntentClassifier(_CountingEmbedder("full", {"x": (0.0, 1.0)}), head, min_similarity=-1.0)
    pred = intent_module.CascadeIntentClassifier(fast, full, accept=0.5).classify("x")
    assert (pred.intent, pred.stage) == ("b", "full")


@pytest.mark.parametrize("text", ["你们支持七天无理由退货吗", "où est ma commande", "order 退款"])
def test_cascade_non_english_text_never_reaches_the_fast_stage(text):
    clf, fast_emb, full_emb = _cascade({text: (1.0, 0.0)}, {text: (0.0, 1.0)})
    pred = clf.classify(text)
    assert (pred.intent, pred.stage) == ("b", "full")
    assert fast_emb.seen == [] and full_emb.seen == [text]


def test_cascade_full_out_of_scope_keeps_its_reason():
    clf, _, _ = _cascade({}, {}, full_threshold=0.6)  # unknown text: (0, 0) everywhere, 50/50
    pred = clf.classify("something else entirely")
    assert (pred.intent, pred.oos_reason, pred.stage) == (OUT_OF_SCOPE, "low_confidence", "full")


def test_cascade_serves_as_the_full_stage_for_promoted_models():
    clf, _, full_emb = _cascade({}, {}, full_threshold=0.3)
    assert clf.embedder is full_emb and clf.head is clf.full.head
    assert (clf.threshold, clf.min_similarity, clf.labels) == (0.3, -1.0, ("a", "b"))
    assert clf.classify_vector(np.array([0.0, 1.0], np.float32)).intent == "b"
    assert isinstance(clf, IntentClassifier)


def test_cascade_warm_up_loads_both_stages():
    clf, fast_emb, full_emb = _cascade({}, {})
    clf.warm_up()
    assert fast_emb.seen and full_emb.seen


@pytest.mark.parametrize("accept", [0.0, -0.1, 1.5])
def test_cascade_rejects_an_accept_outside_the_unit_interval(accept):
    with pytest.raises(ValueError, match="accept"):
        _cascade({}, {}, accept=accept)


def test_cascade_rejects_a_fast_stage_with_intents_the_full_one_lacks():
    fast = EmbeddingIntentClassifier(_FixedEmbedder([1, 0]), _hand_head())
    other = LinearHead(("a", "c"), np.zeros((2, 2), np.float32), np.zeros(2, np.float32),
                       np.eye(2, dtype=np.float32), np.zeros(2, np.float32), {})
    with pytest.raises(ValueError, match="'b'"):
        intent_module.CascadeIntentClassifier(fast, EmbeddingIntentClassifier(_FixedEmbedder([1, 0]), other))


def test_fast_stage_examples_are_the_english_ones():
    exs = [IntentExample("hi", "greet", "en"), IntentExample("你好", "greet", "zh")]
    assert intent_module.fast_stage_examples(exs) == exs[:1]
