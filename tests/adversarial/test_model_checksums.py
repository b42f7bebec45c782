"""Model and index folders are verified against the checksums recorded when they were written.

An edited or swapped file in a cache the engine can rebuild (the store's intent head, the FAQ
indexes, the product-name vectors) is rebuilt, never served; in a folder a person made
(``shopassist nlu train``, a learning-loop registry version) it is refused with a message naming the
fix. Folders written before checksums were recorded: caches rebuild, user folders load with a
logged warning. Real files, real (hash-embedder) models, no mocks.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.errors import ModelError
from engine.integrity import RECORD, folder_checksums, read_checksums, verify_checksums, write_checksums
from engine.learn.registry import BASE, ModelRegistry
from engine.learn.reload import ReloadingClassifier
from engine.nlu.intent import IntentExample, LinearHead, load_or_train
from engine.nlu.training import TextModel, train_text_model
from knowledge.embedders import HashEmbedder
from knowledge.faq.index import HybridFAQRetriever
from knowledge.faq.store import FAQEntry
from knowledge.graph.catalog import Catalog
from knowledge.graph.semantic import EmbeddingProductMatcher
from tests.fakes import write_catalog

PHRASES = {
    "track_order": ["where is my order", "track my package", "where is my parcel", "has my order shipped"],
    "return_item": ["I want to return this", "how do I send it back", "return my shoes", "start a return"],
    "handoff": ["talk to a human", "I want an agent", "real person please", "connect me to support staff"],
    "greet": ["hello there", "hi", "good morning", "hey"],
}
PROBES = [("where is my order", "track_order"), ("track my package", "track_order"),
          ("return my shoes", "return_item"), ("start a return", "return_item"),
          ("talk to a human", "handoff"), ("I want an agent", "handoff"),
          ("hello there", "greet"), ("good morning", "greet")]
EXAMPLES = [IntentExample(t, label, "en") for label, ts in PHRASES.items() for t in ts]
_LABELS = sorted(PHRASES)
# the same texts with every label moved one along: a head of the same shape that gets every probe wrong
ROTATED = [IntentExample(e.text, _LABELS[(_LABELS.index(e.label) + 1) % len(_LABELS)], "en") for e in EXAMPLES]


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def embedder() -> HashEmbedder:
    return HashEmbedder()


def _right(clf) -> int:
    return sum(clf.classify(text).intent == label for text, label in PROBES)


def _folder(cache: Path, key_of: str | None = None) -> Path:
    (folder,) = [p for p in cache.glob("intent-head-*") if key_of is None or key_of in p.name]
    return folder


# -- the helper ---------------------------------------------------------------------------------------


def test_the_record_covers_every_file_but_itself_and_names_what_changed(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("b")
    written = write_checksums(tmp_path)
    assert set(written) == {"a.bin", "sub/b.txt"} and read_checksums(tmp_path) == written
    assert folder_checksums(tmp_path) == written and verify_checksums(tmp_path, written) == []
    (tmp_path / "a.bin").write_bytes(b"A")
    (tmp_path / "sub" / "b.txt").unlink()
    (tmp_path / "c.txt").write_text("new")
    problems = verify_checksums(tmp_path, written)
    assert any("a.bin" in p and "changed" in p for p in problems)
    assert any("sub/b.txt" in p and "missing" in p for p in problems)
    assert any("c.txt" in p for p in problems)
    assert read_checksums(tmp_path / "nowhere") is None


# -- the engine's cached intent head: rebuilt ---------------------------------------------------------


def test_a_swapped_cached_head_is_rebuilt_not_served(tmp_path, embedder):
    good = load_or_train(embedder, EXAMPLES, tmp_path, max_iter=100)
    assert _right(good) == len(PROBES)
    good_folder = _folder(tmp_path)
    load_or_train(embedder, ROTATED, tmp_path, max_iter=100)
    (bad_folder,) = [p for p in tmp_path.glob("intent-head-*") if p != good_folder]
    shutil.copyfile(bad_folder / "head.npz", good_folder / "head.npz")  # same labels, same shape
    clf = load_or_train(embedder, EXAMPLES, tmp_path, max_iter=100)
    assert _right(clf) == len(PROBES)
    assert verify_checksums(good_folder, read_checksums(good_folder)) == []  # the cache was rewritten whole


def test_an_edited_cached_head_is_rebuilt_not_served(tmp_path, embedder):
    load_or_train(embedder, EXAMPLES, tmp_path, max_iter=100)
    folder = _folder(tmp_path)
    with np.load(folder / "head.npz") as z:
        arrays = dict(z)
    arrays["weight"] = arrays["weight"][:, ::-1].copy()  # a valid file, every class moved
    np.savez(folder / "head.npz", **arrays)
    assert _right(load_or_train(embedder, EXAMPLES, tmp_path, max_iter=100)) == len(PROBES)


def test_a_whole_cache_folder_swapped_in_under_another_key_is_rebuilt(tmp_path, embedder):
    load_or_train(embedder, EXAMPLES, tmp_path, max_iter=100)
    good_folder = _folder(tmp_path)
    load_or_train(embedder, ROTATED, tmp_path, max_iter=100)
    (bad_folder,) = [p for p in tmp_path.glob("intent-head-*") if p != good_folder]
    shutil.rmtree(good_folder)
    shutil.copytree(bad_folder, good_folder)  # its own checksums match: the key in meta.json does not
    assert _right(load_or_train(embedder, EXAMPLES, tmp_path, max_iter=100)) == len(PROBES)


def test_a_cached_head_without_a_record_is_rebuilt(tmp_path, embedder):
    load_or_train(embedder, EXAMPLES, tmp_path, max_iter=100)
    folder = _folder(tmp_path)
    (folder / RECORD).unlink()  # written before checksums were recorded
    before = (folder / "head.npz").stat().st_mtime_ns
    load_or_train(embedder, EXAMPLES, tmp_path, max_iter=100)
    assert (folder / RECORD).is_file() and (folder / "head.npz").stat().st_mtime_ns != before


# -- `shopassist nlu train` folders: refused --------------------------------------------------------


def _user_model(folder: Path) -> TextModel:
    texts = [e.text for e in EXAMPLES]
    labels = [e.label for e in EXAMPLES]
    model = train_text_model(texts * 2, labels * 2, task="intent", embedder="hash", folds=2, progress=False)
    model.save(folder)
    return model


def test_an_edited_user_model_is_refused_with_the_fix(tmp_path):
    _user_model(tmp_path / "m")
    assert TextModel.load(tmp_path / "m").labels
    with np.load(tmp_path / "m" / "head.npz") as z:
        arrays = dict(z)
    arrays["bias"] = arrays["bias"] + 5.0
    np.savez(tmp_path / "m" / "head.npz", **arrays)
    with pytest.raises(ModelError, match="shopassist nlu train") as info:
        TextModel.load(tmp_path / "m")
    assert "head.npz" in str(info.value)


def test_a_swapped_user_model_file_is_refused(tmp_path):
    _user_model(tmp_path / "a")
    _user_model(tmp_path / "b")
    meta = json.loads((tmp_path / "b" / "meta.json").read_text())
    meta["threshold"] = 0.0
    (tmp_path / "b" / "meta.json").write_text(json.dumps(meta))
    shutil.copyfile(tmp_path / "b" / "meta.json", tmp_path / "a" / "meta.json")
    with pytest.raises(ModelError, match="meta.json"):
        TextModel.load(tmp_path / "a")


def test_a_user_model_without_a_record_loads_with_a_warning(tmp_path, caplog):
    _user_model(tmp_path / "m")
    (tmp_path / "m" / RECORD).unlink()
    with caplog.at_level(logging.WARNING):
        model = TextModel.load(tmp_path / "m")
    assert model.labels
    assert any("checksum" in r.getMessage() and str(tmp_path / "m") in r.getMessage() for r in caplog.records)


# -- learning-loop registry versions: refused, the serving model stays ---------------------------------


def _head(embedder: HashEmbedder, examples: list[IntentExample]) -> LinearHead:
    from engine.nlu.intent import train_linear_head

    head = train_linear_head(embedder.embed([e.text for e in examples], kind="query"), [e.label for e in examples],
                             max_iter=100)
    head.meta.update(model=embedder.name)
    return head


@pytest.mark.parametrize("target", ["head.npz", "fast/head.npz", "card.json"])
def test_a_tampered_registry_version_is_refused_and_never_promoted(tmp_path, embedder, target):
    reg = ModelRegistry(tmp_path / "reg")
    good = _head(embedder, EXAMPLES)
    v1 = reg.add(good, {"metrics": {"macro_f1": 0.9}}, stages={"fast": good})
    v2 = reg.add(_head(embedder, ROTATED), {})
    assert reg.load_head(v1.version).labels == good.labels
    if target == "card.json":
        card = json.loads((v1.path / "card.json").read_text())
        card["metrics"]["macro_f1"] = 1.0
        (v1.path / "card.json").write_text(json.dumps(card))
    else:
        shutil.copyfile(v2.path / "head.npz", v1.path / target)
    with pytest.raises(ModelError, match="shopassist learn"):
        reg.load_head(v1.version)
    with pytest.raises(ModelError):
        reg.promote(v1.version)
    assert reg.current() == BASE


def test_a_running_engine_keeps_its_model_when_the_promoted_version_is_tampered(tmp_path, embedder):
    reg = ModelRegistry(tmp_path / "reg")
    base = load_or_train(embedder, EXAMPLES, tmp_path / "cache", max_iter=100)
    v1 = reg.add(_head(embedder, EXAMPLES), {})
    reg.promote(v1.version)
    shutil.copyfile(reg.add(_head(embedder, ROTATED), {}).path / "head.npz", v1.path / "head.npz")
    serving = ReloadingClassifier(reg, base, interval_s=0)
    assert _right(serving) == len(PROBES)  # the base model, not the tampered version
    assert serving.version == BASE


def test_a_registry_version_without_a_record_loads_with_a_warning(tmp_path, embedder, caplog):
    reg = ModelRegistry(tmp_path / "reg")
    v1 = reg.add(_head(embedder, EXAMPLES), {})
    (v1.path / RECORD).unlink()
    with caplog.at_level(logging.WARNING):
        assert reg.load_head(v1.version).labels == tuple(_LABELS)
    assert any("checksum" in r.getMessage() for r in caplog.records)


# -- FAQ indexes and product-name vectors: rebuilt ----------------------------------------------------


FAQS = [
    FAQEntry("en-return", "How long do I have to return an item?", "You can return items within 30 days.", "en"),
    FAQEntry("en-ship", "Is shipping free?", "Shipping is free on orders over 49.", "en"),
    FAQEntry("en-refund", "How long does a refund take?", "Refunds take 5-7 business days.", "en"),
    FAQEntry("en-pay", "Which payment methods do you accept?", "Visa, Mastercard and PayPal.", "en"),
]


def test_a_swapped_faq_index_file_is_rebuilt_not_served(tmp_path):
    HybridFAQRetriever(FAQS, HashEmbedder(), cache_dir=tmp_path / "a").warm_up()
    original = (tmp_path / "a" / "faq-en.faiss").read_bytes()
    HybridFAQRetriever(FAQS, HashEmbedder(ngram=2), cache_dir=tmp_path / "b").warm_up()
    other = (tmp_path / "b" / "faq-en.faiss").read_bytes()
    assert other != original  # same count and dimension, other vectors: faiss reads it happily
    (tmp_path / "a" / "faq-en.faiss").write_bytes(other)
    r = HybridFAQRetriever(FAQS, HashEmbedder(), cache_dir=tmp_path / "a")
    r.warm_up()
    assert (tmp_path / "a" / "faq-en.faiss").read_bytes() == original  # rebuilt from the verified vectors
    assert r.retrieve("is shipping free?")[0].id == "en-ship"


def test_a_faq_manifest_without_file_checksums_rebuilds_the_index(tmp_path):
    HybridFAQRetriever(FAQS, HashEmbedder(), cache_dir=tmp_path).warm_up()
    manifest = json.loads((tmp_path / "faq-en.json").read_text())
    assert set(manifest["files"]) == {"faq-en.faiss", "faq-en.npy"}
    del manifest["files"]
    (tmp_path / "faq-en.json").write_text(json.dumps(manifest))
    (tmp_path / "faq-en.faiss").write_bytes((tmp_path / "faq-en.faiss").read_bytes())  # any content
    HybridFAQRetriever(FAQS, HashEmbedder(), cache_dir=tmp_path).warm_up()
    assert "files" in json.loads((tmp_path / "faq-en.json").read_text())


class _Counting(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.name = "counting"
        self.texts: list[str] = []

    def embed(self, texts, *, kind="query"):
        self.texts.extend(texts)
        return super().embed(texts, kind=kind)


def test_edited_product_name_vectors_are_rebuilt_not_served(tmp_path):
    catalog = Catalog.from_file(write_catalog(tmp_path))
    EmbeddingProductMatcher(catalog, _Counting(), cache_dir=tmp_path / "cache").warm_up()
    vectors = tmp_path / "cache" / "product-names.npy"
    data = np.load(vectors)
    np.save(vectors, data[::-1].copy())  # same shape and type, every name on another product
    again = _Counting()
    EmbeddingProductMatcher(catalog, again, cache_dir=tmp_path / "cache").warm_up()
    assert again.texts  # re-embedded
    assert np.array_equal(np.load(vectors), data)
