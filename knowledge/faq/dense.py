"""Dense vector search on FAISS: exact when small, HNSW or IVF by size, GPU when available.

:func:`build_faiss_index` is the one place that decides how vectors are indexed (the scaling
benchmark uses it too, so what is measured is what runs). :class:`DenseIndex` keeps the vectors
beside the FAISS index so that entries can be added, updated and deleted without re-embedding
anything: a delete is a tombstone filtered at search time, and the ANN structure is compacted
from the kept vectors once tombstones pile up. :class:`KeyedDenseIndex` holds several vectors per
item (an FAQ's alternate phrasings), each item scored by its best row.

Inner product on L2-normalised vectors = cosine similarity.

Example:
    >>> import numpy as np
    >>> v = np.eye(4, dtype=np.float32)
    >>> idx = DenseIndex(v)
    >>> idx.search(v[2:3], 1)[1][0].tolist()
    [2]
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np

__all__ = ["IndexKind", "choose_kind", "build_faiss_index", "DenseIndex", "KeyedDenseIndex", "gpu_available"]

log = logging.getLogger(__name__)

IndexKind = Literal["auto", "flat", "hnsw", "ivf"]
FLAT_MAX = 50_000  # exact search up to here: a 50k x 384 scan is ~2-4 ms on one core
HNSW_MAX = 5_000_000  # beyond this, IVF's smaller memory footprint wins
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96
IVF_NPROBE = 24


def choose_kind(n: int) -> str:
    """``flat`` for small stores, ``hnsw`` up to a few million vectors, ``ivf`` beyond."""
    if n <= FLAT_MAX:
        return "flat"
    return "hnsw" if n <= HNSW_MAX else "ivf"


def ivf_nlist(n: int) -> int:
    """IVF cells: about 4·sqrt(n), a power of two, at least 16."""
    return max(16, 1 << int(round(math.log2(4 * math.sqrt(max(n, 1))))))


def gpu_available() -> bool:
    """Whether faiss was built with GPU support and sees a GPU."""
    import faiss

    try:
        return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0
    except Exception:  # pragma: no cover - odd faiss builds
        return False


def build_faiss_index(
    vectors: np.ndarray,
    kind: IndexKind = "auto",
    *,
    hnsw_m: int = HNSW_M,
    ef_construction: int = HNSW_EF_CONSTRUCTION,
    ef_search: int = HNSW_EF_SEARCH,
    nlist: int | None = None,
    nprobe: int = IVF_NPROBE,
    seed: int = 1234,
):
    """A FAISS inner-product index over ``vectors`` (n x d, float32), CPU-resident.

    Args:
        vectors: the rows to index, in id order (id = row number).
        kind: ``flat`` (exact), ``hnsw``, ``ivf`` or ``auto`` (:func:`choose_kind`).
        hnsw_m, ef_construction, ef_search: HNSW graph degree and beam widths.
        nlist, nprobe: IVF cells (default :func:`ivf_nlist`) and cells probed per query.
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] == 0:
        raise ValueError(f"vectors must be a non-empty n x d matrix, got shape {vectors.shape}")
    n, d = vectors.shape
    kind = choose_kind(n) if kind == "auto" else kind
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
    elif kind == "ivf":
        cells = min(nlist or ivf_nlist(n), max(1, n // 39))  # faiss wants ~39 points per cell
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, cells, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = 10  # k-means iterations: plenty for coarse cells, a third of the default cost
        rng = np.random.default_rng(seed)
        sample = vectors if n <= cells * 40 else vectors[np.sort(rng.choice(n, cells * 40, replace=False))]
        index.train(sample)
        index.nprobe = min(nprobe, cells)
    else:
        raise ValueError(f"index kind must be auto, flat, hnsw or ivf, got {kind!r}")
    if n:
        index.add(vectors)
    return index


def _to_gpu(index):  # pragma: no cover - needs faiss-gpu and a GPU
    import faiss

    if isinstance(index, faiss.IndexHNSWFlat):
        return index  # FAISS has no GPU HNSW; the CPU graph is already fast
    try:
        return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
    except Exception as exc:
        log.warning("cannot move the FAISS index to the GPU (%s); searching on the CPU", exc)
        return index


class DenseIndex:
    """Vectors + their FAISS index, with tombstone deletes and appends.

    Args:
        vectors: initial rows (n x d, L2-normalised float32); row i gets slot i.
        kind: see :func:`build_faiss_index`; ``auto`` re-decides on every compaction.
        use_gpu: ``"auto"`` moves flat/IVF indexes to a GPU when faiss-gpu sees one.
        index: an already-built FAISS index over exactly ``vectors`` (from disk).

    Example:
        >>> import numpy as np
        >>> idx = DenseIndex(np.eye(3, dtype=np.float32))
        >>> idx.delete([0]); idx.add(np.eye(3, dtype=np.float32)[:1])
        [3]
    """

    def __init__(
        self,
        vectors: np.ndarray,
        *,
        kind: IndexKind = "auto",
        use_gpu: bool | Literal["auto"] = "auto",
        index=None,
    ) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be a 2-d matrix, got shape {vectors.shape}")
        if index is not None and (index.ntotal != len(vectors) or index.d != vectors.shape[1]):
            raise ValueError("the FAISS index does not match the vectors")
        self._kind = kind
        self._use_gpu = gpu_available() if use_gpu == "auto" else bool(use_gpu)
        self._vecs = vectors
        self._alive = np.ones(len(vectors), dtype=bool)
        self._cpu_index = index if index is not None else (build_faiss_index(vectors, kind) if len(vectors) else None)
        self._search_index = self._place(self._cpu_index)

    def _place(self, index):
        return _to_gpu(index) if (index is not None and self._use_gpu) else index

    @property
    def dim(self) -> int:
        return int(self._vecs.shape[1])

    @property
    def size(self) -> int:
        """Live (not deleted) vectors."""
        return int(self._alive.sum())

    @property
    def slots(self) -> int:
        """Slots used, deleted ones included."""
        return len(self._vecs)

    @property
    def kind(self) -> str:
        import faiss

        idx = self._cpu_index
        if idx is None:
            return "empty"
        if isinstance(idx, faiss.IndexHNSWFlat):
            return "hnsw"
        return "ivf" if isinstance(idx, faiss.IndexIVF) else "flat"

    @property
    def faiss_index(self):
        """The CPU FAISS index (what gets saved)."""
        return self._cpu_index

    @property
    def vectors(self) -> np.ndarray:
        return self._vecs

    def add(self, vectors: np.ndarray) -> list[int]:
        """Append rows; returns their slots. No existing vector is touched."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or (self.slots and vectors.shape[1] != self.dim):
            raise ValueError(f"expected rows of dimension {self.dim}, got shape {vectors.shape}")
        start = self.slots
        self._vecs = np.concatenate([self._vecs, vectors]) if self.slots else vectors
        self._alive = np.concatenate([self._alive, np.ones(len(vectors), dtype=bool)])
        if self._cpu_index is None:
            self._cpu_index = build_faiss_index(self._vecs, self._kind)
            self._search_index = self._place(self._cpu_index)
        else:
            self._search_index.add(vectors)
            if self._search_index is not self._cpu_index:  # pragma: no cover - GPU copy
                self._cpu_index.add(vectors)
        return list(range(start, start + len(vectors)))

    def delete(self, slots) -> None:
        """Tombstone ``slots``; they never come back from :meth:`search`."""
        for s in slots:
            if 0 <= s < self.slots:
                self._alive[s] = False

    def needs_compaction(self) -> bool:
        dead = self.slots - self.size
        return dead > 0 and dead >= max(32, self.slots // 4)

    def compact(self) -> np.ndarray:
        """Drop tombstones and re-index the live vectors; returns old slot of each new slot."""
        keep = np.flatnonzero(self._alive)
        self._vecs = np.ascontiguousarray(self._vecs[keep])
        self._alive = np.ones(len(keep), dtype=bool)
        self._cpu_index = build_faiss_index(self._vecs, self._kind) if len(keep) else None
        self._search_index = self._place(self._cpu_index)
        return keep

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` live slots per query row: (scores, slots), slot -1 where fewer exist."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        nq = len(queries)
        out_s = np.full((nq, k), -np.inf, dtype=np.float32)
        out_i = np.full((nq, k), -1, dtype=np.int64)
        if self._search_index is None or not self.size:
            return out_s, out_i
        dead = self.slots - self.size
        fetch = min(self.slots, k + dead)
        scores, ids = self._search_index.search(queries, fetch)
        for r in range(nq):
            keep = [(s, i) for s, i in zip(scores[r], ids[r]) if i >= 0 and self._alive[i]][:k]
            for c, (s, i) in enumerate(keep):
                out_s[r, c], out_i[r, c] = s, i
        return out_s, out_i

    def similarity(self, query: np.ndarray, slots) -> np.ndarray:
        """Exact cosine of one query vector with the vectors in ``slots``."""
        slots = np.asarray(list(slots), dtype=np.int64)
        if not len(slots):
            return np.zeros(0, dtype=np.float32)
        return self._vecs[slots] @ np.asarray(query, dtype=np.float32).reshape(-1)


class KeyedDenseIndex:
    """Several vectors per item over one :class:`DenseIndex`; an item scores as its best row.

    Each row carries its item's id (``owner``) and a content key (a hash of what was embedded), so
    that a changed item re-embeds only its new rows and a saved index can be re-used row by row.

    Args:
        dense: the rows, in the order of ``owners`` and ``keys``.
        owners: the item id of each row.
        keys: the content key of each row.

    Example:
        >>> import numpy as np
        >>> idx = KeyedDenseIndex(DenseIndex(np.eye(3, dtype=np.float32)), ["a", "a", "b"], ["k1", "k2", "k3"])
        >>> idx.search(np.eye(3, dtype=np.float32)[1], 3)
        {'a': 1.0, 'b': 0.0}
    """

    def __init__(self, dense: DenseIndex, owners: Sequence[str], keys: Sequence[str]) -> None:
        if not len(owners) == len(keys) == dense.slots:
            raise ValueError(f"need one owner and key per row: {dense.slots} rows, {len(owners)} owners, "
                             f"{len(keys)} keys")
        self.dense = dense
        self._owners: list[str | None] = list(owners)
        self._keys: list[str] = list(keys)
        self._rows_of: dict[str, list[int]] = {}
        for row, owner in enumerate(self._owners):
            self._rows_of.setdefault(owner, []).append(row)

    @property
    def size(self) -> int:
        """Live rows."""
        return self.dense.size

    @property
    def keys(self) -> list[str]:
        """The content key of every slot (deleted ones included): after :meth:`compact`, of every row."""
        return list(self._keys)

    def __contains__(self, owner: str) -> bool:
        return owner in self._rows_of

    def remove(self, owner: str) -> dict[str, np.ndarray]:
        """Tombstone ``owner``'s rows; returns their vectors by key (for re-use by a new version)."""
        rows = self._rows_of.pop(owner, [])
        self.dense.delete(rows)
        for r in rows:
            self._owners[r] = None
        return {self._keys[r]: self.dense.vectors[r] for r in rows}

    def add(self, owner: str, vectors: np.ndarray, keys: Sequence[str]) -> None:
        """Append ``owner``'s rows (after :meth:`remove` of its old ones)."""
        if len(vectors) != len(keys):
            raise ValueError(f"need one key per row, got {len(vectors)} rows and {len(keys)} keys")
        if not len(keys):
            return
        if owner in self._rows_of:
            raise ValueError(f"{owner!r} already has rows: remove them first")
        rows = self.dense.add(vectors)
        self._owners.extend([owner] * len(rows))
        self._keys.extend(keys)
        self._rows_of[owner] = rows

    def compact(self) -> None:
        """Drop tombstoned rows and re-index the rest (row numbers change; owners and keys follow)."""
        if self.dense.slots == self.dense.size:
            return
        keep = self.dense.compact()
        self._owners = [self._owners[i] for i in keep]
        self._keys = [self._keys[i] for i in keep]
        self._rows_of = {}
        for row, owner in enumerate(self._owners):
            self._rows_of.setdefault(owner, []).append(row)

    def search(self, query: np.ndarray, k: int) -> dict[str, float]:
        """The owners of the ``k`` nearest live rows to one query vector, each with its best score."""
        scores, rows = self.dense.search(np.asarray(query, dtype=np.float32).reshape(1, -1), k)
        out: dict[str, float] = {}
        for score, row in zip(scores[0], rows[0]):
            if row >= 0:
                owner = self._owners[row]
                out[owner] = max(out.get(owner, -np.inf), float(score))
        return out

    def best(self, query: np.ndarray, owners: Iterable[str]) -> np.ndarray:
        """Exact best cosine of one query vector with each owner's rows (``-inf`` where it has none)."""
        owners = list(owners)
        out = np.full(len(owners), -np.inf, dtype=np.float32)
        for i, owner in enumerate(owners):
            rows = self._rows_of.get(owner)
            if rows:
                out[i] = float(self.dense.similarity(query, rows).max())
        return out
