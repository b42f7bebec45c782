"""knowledge/faq/dense.py: index kinds by size, and add/delete without re-embedding."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.faq.dense import DenseIndex, build_faiss_index, choose_kind


def unit(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_kind_is_chosen_by_size():
    assert choose_kind(100) == "flat"
    assert choose_kind(200_000) == "hnsw"
    assert choose_kind(10_000_000) == "ivf"


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_every_kind_finds_the_vector_itself(kind):
    data = unit(2000)
    index = build_faiss_index(data, kind, nlist=16, nprobe=16)
    scores, ids = index.search(data[:20], 1)
    assert ids[:, 0].tolist() == list(range(20))
    assert np.allclose(scores[:, 0], 1.0, atol=1e-4)


def test_bad_kind_or_shape_is_rejected():
    with pytest.raises(ValueError):
        build_faiss_index(unit(10), "lsh")
    with pytest.raises(ValueError):
        build_faiss_index(np.zeros(5, dtype=np.float32))


def test_delete_hides_a_slot_and_add_appends():
    data = unit(50)
    idx = DenseIndex(data, kind="flat")
    assert idx.search(data[7:8], 1)[1][0, 0] == 7
    idx.delete([7])
    assert 7 not in idx.search(data[7:8], 50)[1][0].tolist()
    assert idx.size == 49 and idx.slots == 50
    assert idx.add(data[7:8]) == [50]
    assert idx.search(data[7:8], 1)[1][0, 0] == 50


def test_search_pads_when_fewer_live_vectors_than_k():
    idx = DenseIndex(unit(3), kind="hnsw")
    idx.delete([0, 1])
    scores, ids = idx.search(unit(1, seed=3), 5)
    assert ids[0].tolist() == [2, -1, -1, -1, -1]


def test_compaction_keeps_the_live_vectors_in_order():
    data = unit(100)
    idx = DenseIndex(data, kind="flat")
    idx.delete(range(0, 100, 2))
    assert idx.needs_compaction()
    old = idx.compact()
    assert old.tolist() == list(range(1, 100, 2))
    assert idx.slots == idx.size == 50
    assert idx.search(data[3:4], 1)[1][0, 0] == 1  # old slot 3 is new slot 1


def test_dimension_mismatch_is_rejected():
    idx = DenseIndex(unit(5, d=8))
    with pytest.raises(ValueError):
        idx.add(unit(1, d=4))


def test_similarity_is_exact_cosine():
    data = unit(10)
    idx = DenseIndex(data, kind="hnsw")
    assert np.allclose(idx.similarity(data[0], [0, 1]), [1.0, float(data[0] @ data[1])], atol=1e-5)


def test_empty_index_grows_on_first_add():
    idx = DenseIndex(np.zeros((0, 8), dtype=np.float32))
    assert idx.search(unit(1, d=8), 3)[1][0].tolist() == [-1, -1, -1]
    idx.add(unit(2, d=8))
    assert idx.size == 2 and idx.kind == "flat"
