"""Hybrid FAQ retrieval: dense FAISS + BM25 candidates, a tuned fused score, then a rerank stage.

Per language (MiniLM for English; multilingual E5 for Chinese when installed):

1. **Candidates**: the dense index's top ``candidates`` (cosine of the query with each FAQ's
   vector: the normalised sum of the embeddings of "question answer" and of the question alone)
   united with BM25's top ``candidates`` (``bm25s``; jieba words for Chinese).
2. **Fusion**: ``fused = w * cosine + (1 - w) * coverage``, where coverage is the idf-weighted
   share of the query's terms found in the FAQ (in [0, 1]). ``w`` is ``dense_weight``, set per
   language (``retrieval.language_dense_weight``) because embedders score on different scales: E5's
   cosines are compressed into a narrow band, so lexical terms must weigh less beside them. The
   weights are tuned on tuning queries, never on the test ones (benchmarks/retrieval.py; the values
   and their history are in benchmarks/README.md, FAQ retrieval). Fusion is a weighted sum rather
   than reciprocal rank fusion because BM25 alone is far weaker than the dense side on paraphrases.
3. **Rerank** (:mod:`knowledge.faq.rerank`): lexical by default, a cross-encoder when configured.

**Alternates** (other ways customers ask a FAQ's question, ``FAQEntry.alternates``) are extra keys
of their FAQ: each is embedded as the question is ("alternate answer" plus the alternate alone,
normalised), in a second dense index whose rows name their FAQ, and a FAQ's cosine is the best of
its keys. Their words count as the FAQ's in coverage (idf from the question-and-answer index only)
and a separate BM25 over them adds candidates. The question vectors, the BM25 index and the hub
densities stay those of question and answer alone, so a FAQ without alternates scores exactly as
it would in a store that had none; results stay one per FAQ.

The final score is an answerability score (about 0..1; the router thresholds on the top one per
language). Dense indexes are exact when small, HNSW or IVF by size (:mod:`knowledge.faq.dense`).
:meth:`HybridFAQRetriever.upsert` and :meth:`~HybridFAQRetriever.delete` change the store without
re-embedding the rest. Indexes are persisted beside a manifest (model, dimension, data hash,
per-entry hashes, a checksum of the vectors, the SHA-256 of the vector and FAISS files as written;
alternates in a second set of files keyed per alternate, written only where a language has some); a
stale, mismatched, edited or unreadable index is rebuilt, re-using only vectors whose checksum and
entry hash still match, and never used as is (an index file that does not match its recorded
checksum, or was written before they were recorded, is rebuilt from the verified vectors).

Example:
    >>> r = HybridFAQRetriever(entries, {"en": minilm, "zh": e5}, cache_dir=tmp)  # doctest: +SKIP
    >>> r.retrieve("how long do refunds take?", top_k=3)[0].id                    # doctest: +SKIP
    'en-refund-timing'
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from knowledge.kernel.integrity import folder_checksums, verify_checksums
from knowledge.kernel.text import clip_for_model, detect_language
from knowledge.kernel.types import Passage
from knowledge.embedders import Embedder

from .answerability import AnswerabilityJudge, AnswerFeatures, Verdict
from .dense import DenseIndex, IndexKind, KeyedDenseIndex
from .lexical import BM25Index, analyse
from .rerank import LexicalReranker, Reranker
from .store import FAQEntry

__all__ = ["Retriever", "HybridFAQRetriever", "INDEX_FORMAT_VERSION", "RetrievalMode"]

log = logging.getLogger(__name__)
INDEX_FORMAT_VERSION = 3
MAX_QUERY_CHARS = 4096  # longer input is cut: no FAQ question is longer, and embedders truncate anyway
RetrievalMode = Literal["hybrid", "dense", "bm25"]
_HAS_WORD = re.compile(r"\w")
Progress = Callable[[str, int, int], None]
# hubness densities of every FAQ are measured at start-up and after writes up to this many FAQs
# (~0.5 s for 10k on a flat index); above it, per query candidate on first need (~4 ms for a
# query's 40 candidates at 100k FAQs on HNSW, kept until the entries change)
DENSITY_PRECOMPUTE_MAX = 20_000


@runtime_checkable
class Retriever(Protocol):
    def retrieve(self, query: str, *, top_k: int = 3, language: str | None = None) -> list[Passage]: ...


def _embed_keys(embedder: Embedder, keys: Sequence[tuple[str, str]]) -> np.ndarray:
    """One vector per (question, answer) key: the normalised sum of the "question answer" and
    question embeddings (the question alone sharpens near-duplicate FAQs whose answers read alike).
    An alternate is embedded the same way in place of the question, so its cosines are on the
    question's scale."""
    n = len(keys)
    texts = [f"{q} {a}" for q, a in keys] + [q for q, _ in keys]
    vecs = np.asarray(embedder.embed(texts, kind="passage"), dtype=np.float32)
    both = vecs[:n] + vecs[n:]
    norms = np.linalg.norm(both, axis=1, keepdims=True)
    return np.ascontiguousarray(both / np.maximum(norms, 1e-12), dtype=np.float32)


def _question_hash(e: FAQEntry) -> str:
    """What an entry's question vector depends on: its content hash without alternates (the same
    hash as ever for entries without them, so indexes written before alternates stay valid)."""
    return replace(e, alternates=()).content_hash() if e.alternates else e.content_hash()


def _alternate_texts(e: FAQEntry) -> list[str]:
    """The distinct alternates of ``e`` that are not its question (a repeat adds nothing)."""
    seen = {e.question.strip().casefold()}
    out = []
    for text in e.alternates:
        text = text.strip()
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out


def _alternates(e: FAQEntry) -> list[tuple[str, str]]:
    """(alternate, key hash) of each of ``e``'s alternates: the hash of what its vector depends on."""
    out = []
    for text in _alternate_texts(e):
        raw = json.dumps(["alternate", e.lang, text, e.answer], ensure_ascii=False)
        out.append((text, hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]))
    return out


def _answer_hash(e: FAQEntry) -> str:
    """What an entry's answer vector depends on: its language and answer."""
    raw = json.dumps(["answer", e.lang, e.answer], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _data_hash(hashes: Sequence[str], model: str) -> str:
    h = hashlib.sha256(f"v{INDEX_FORMAT_VERSION}|{model}".encode())
    for x in hashes:
        h.update(x.encode())
    return h.hexdigest()


@dataclass
class _DensityCache:
    """Neighbourhood densities of one index state (:meth:`_LanguageIndex.density`)."""

    k: int
    values: dict[int, float] = field(default_factory=dict)
    mean: float | None = None


class _LanguageIndex:
    """One language's FAQs: slot-aligned entries, the dense index and BM25 over live slots, and
    their alternates (a keyed dense index by FAQ id, BM25 and term sets by slot) where any exist."""

    def __init__(self, lang: str, embedder: Embedder) -> None:
        self.lang = lang
        self.embedder = embedder
        self.entries: list[FAQEntry | None] = []
        self.slot_of: dict[str, int] = {}
        self.dense: DenseIndex | None = None
        self.bm25: BM25Index | None = None
        self.bm25_slots = np.zeros(0, dtype=np.int64)
        self.bm25_pos: dict[int, int] = {}
        self.alt: KeyedDenseIndex | None = None  # alternates' vectors, rows named by FAQ id
        self.alt_bm25: BM25Index | None = None
        self.alt_bm25_slots = np.zeros(0, dtype=np.int64)
        self.alt_terms: dict[int, frozenset[str]] = {}
        self._density: _DensityCache | None = None  # see density()
        self.answer_vecs: dict[str, np.ndarray] = {}  # FAQ id -> its answer's own vector (see answer_cosines)

    def live(self) -> list[FAQEntry]:
        return [e for e in self.entries if e is not None]

    def set_entries(self, entries: list[FAQEntry], dense: DenseIndex) -> None:
        self.entries = list(entries)
        self.slot_of = {e.id: i for i, e in enumerate(entries)}
        self.dense = dense
        self.refresh_lexical()

    def refresh_lexical(self) -> None:
        slots = [i for i, e in enumerate(self.entries) if e is not None]
        self.bm25_slots = np.asarray(slots, dtype=np.int64)
        self.bm25_pos = {s: i for i, s in enumerate(slots)}
        self.bm25 = BM25Index([analyse(f"{self.entries[i].question} {self.entries[i].answer}", self.lang) for i in slots])
        alt_docs = {i: analyse(" ".join(_alternate_texts(self.entries[i])), self.lang)
                    for i in slots if self.entries[i].alternates}
        alt_docs = {i: doc for i, doc in alt_docs.items() if doc}
        self.alt_terms = {i: frozenset(doc) for i, doc in alt_docs.items()}
        self.alt_bm25_slots = np.asarray(list(alt_docs), dtype=np.int64)
        self.alt_bm25 = BM25Index(list(alt_docs.values())) if alt_docs else None
        self._density = None  # every change of entries passes here

    def answer_cosines(self, qvec: np.ndarray, slots: Sequence[int]) -> np.ndarray:
        """Cosine of ``qvec`` with each FAQ's answer alone (0 where a FAQ has no answer vector)."""
        out = np.zeros(len(slots), dtype=np.float32)
        for r, s in enumerate(slots):
            vec = self.answer_vecs.get(self.entries[s].id)
            if vec is not None:
                out[r] = float(vec @ qvec)
        return out

    def alternate_hits(self, qvec: np.ndarray, k: int) -> list[int]:
        """Slots of the FAQs owning the ``k`` alternates nearest to ``qvec``, best first."""
        if self.alt is None or not self.alt.size:
            return []
        found = self.alt.search(qvec, k)
        return [self.slot_of[i] for i, _ in sorted(found.items(), key=lambda kv: -kv[1]) if i in self.slot_of]

    def alternate_lexical_hits(self, terms: Sequence[str], k: int) -> list[int]:
        """Slots of the ``k`` FAQs whose alternates score best on BM25 for ``terms``."""
        if self.alt_bm25 is None:
            return []
        bm = self.alt_bm25.scores(terms)
        return [int(self.alt_bm25_slots[i]) for i in np.argsort(-bm, kind="stable")[:k] if bm[i] > 0]

    def key_cosines(self, qvec: np.ndarray, slots: Sequence[int], cos: np.ndarray) -> np.ndarray:
        """``cos`` (the question vectors' cosines for ``slots``) raised to the best alternate's
        where a FAQ has alternates; other values are returned untouched."""
        if self.alt is None or not self.alt.size:
            return cos
        owned = [r for r, s in enumerate(slots) if self.entries[s].id in self.alt]
        if not owned:
            return cos
        cos = np.array(cos, dtype=np.float32, copy=True)
        best = self.alt.best(qvec, [self.entries[slots[r]].id for r in owned])
        cos[owned] = np.maximum(cos[owned], best)
        return cos

    def density(self, k: int, slots: Sequence[int]) -> np.ndarray:
        """For each of ``slots``: the FAQ's mean cosine to its ``k`` nearest other FAQs, minus the
        store's mean of that (exact up to ``DENSITY_PRECOMPUTE_MAX`` FAQs after
        :meth:`prepare_density`; else estimated on 512 evenly spaced FAQs).

        A FAQ in a crowded region (a "hub": short, generic questions such as "Can I order by
        phone?") sits near many queries it does not answer; subtracting a share of this from the
        fused score is the document side of CSLS (Conneau et al., 2018). Values are computed with
        the dense index itself, per FAQ on first need, and kept until the entries change: a query
        pays only for its candidates, so a 100k-FAQ store does not search every FAQ at start-up or
        after each write. Centring moves every candidate alike: it keeps scores on their usual
        scale (answerability thresholds) and never changes a ranking."""
        cache = self._cache(k)
        values = cache.values
        missing = [s for s in dict.fromkeys(int(x) for x in slots) if s not in values]
        if missing:
            self._measure(cache, missing)
        if cache.mean is None:
            self._centre(cache, full=False)
        return np.array([values[int(s)] for s in slots], dtype=np.float32) - np.float32(cache.mean)

    def prepare_density(self, k: int) -> None:
        """Measure every FAQ now when the store is small enough (a flat search of 10k FAQs takes
        ~0.5 s), else the centring sample only; then :meth:`density` is a lookup."""
        self._centre(self._cache(k), full=self.dense.size <= DENSITY_PRECOMPUTE_MAX)

    def _cache(self, k: int) -> _DensityCache:
        cache = self._density
        if cache is None or cache.k != k:
            cache = self._density = _DensityCache(k)
        return cache

    def _centre(self, cache: _DensityCache, *, full: bool) -> None:
        live = np.flatnonzero([e is not None for e in self.entries])
        picked = live if full or len(live) <= 512 else live[np.linspace(0, len(live) - 1, 512).astype(np.int64)]
        sample = [int(s) for s in picked]
        self._measure(cache, [s for s in sample if s not in cache.values])
        cache.mean = float(np.mean([cache.values[s] for s in sample])) if sample else 0.0

    def _measure(self, cache: _DensityCache, slots: list[int]) -> None:
        dense = self.dense
        kk = min(cache.k, dense.size - 1)
        if kk < 1:
            cache.values.update((s, 0.0) for s in slots)
            return
        vecs = dense.vectors
        for start in range(0, len(slots), 1024):
            rows = slots[start : start + 1024]
            scores, found = dense.search(vecs[rows], kk + 1)
            for r, slot in enumerate(rows):
                near = [float(c) for c, f in zip(scores[r], found[r]) if f >= 0 and f != slot][:kk]
                cache.values[slot] = float(np.mean(near)) if near else 0.0

    def compact(self) -> None:
        old = self.dense.compact()
        self.set_entries([self.entries[i] for i in old], self.dense)


class HybridFAQRetriever:
    """Dense FAISS + BM25 retrieval over FAQ entries, one index per language, with reranking.

    Args:
        entries: the FAQs (ids unique).
        embedders: one embedder for all languages, or a mapping language → embedder (a
            ``"default"`` key, or the first entry, serves languages without their own).
        cache_dir: where indexes are persisted; ``None`` keeps them in memory only.
        dense_weight: ``w`` in the fused score ``w * cosine + (1 - w) * coverage``, in [0, 1];
            or a mapping language → ``w`` (key ``"default"`` for the rest, else 0.9).
        reranker: the rerank stage (default :class:`LexicalReranker`), or a mapping language →
            reranker (key ``"default"`` for the rest).
        index_kind: ``auto`` (exact when small, HNSW/IVF by size), ``flat``, ``hnsw`` or ``ivf``.
        candidates: candidates taken from each of dense and BM25 before fusion.
        hub_weight: share of each FAQ's neighbourhood density (:meth:`_LanguageIndex.density`,
            centred on the store's mean) subtracted from its fused score; or a mapping language →
            share (key ``"default"`` for the rest, else 0). 0 turns the correction off.
        hub_k: the neighbours that density averages over.
        use_gpu: ``"auto"`` searches flat/IVF indexes on a GPU when faiss-gpu sees one.
        progress: called as ``progress(stage, done, total)`` while building indexes.

    Example:
        >>> r = HybridFAQRetriever(entries, HashEmbedder())                       # doctest: +SKIP
        >>> r.upsert([FAQEntry("en-new", "Do you sell gift cards?", "Yes.", "en")])  # doctest: +SKIP
    """

    def __init__(
        self,
        entries: Sequence[FAQEntry],
        embedders: Embedder | Mapping[str, Embedder],
        *,
        cache_dir: str | Path | None = None,
        dense_weight: float | Mapping[str, float] = 0.9,
        reranker: Reranker | Mapping[str, Reranker] | None = None,
        index_kind: IndexKind = "auto",
        candidates: int = 20,
        use_gpu: bool | Literal["auto"] = "auto",
        progress: Progress | None = None,
        hub_weight: float | Mapping[str, float] = 0.0,
        hub_k: int = 20,
        answer_weight: float | Mapping[str, float] = 0.0,
        answer_depth: int = 5,
    ) -> None:
        if not entries:
            raise ValueError("entries must not be empty")
        weights = dict(dense_weight) if isinstance(dense_weight, Mapping) else {"default": dense_weight}
        for w in weights.values():
            if not 0.0 <= w <= 1.0:
                raise ValueError(f"dense_weight must be in [0, 1], got {w}")
        weights.setdefault("default", 0.9)
        hubs = dict(hub_weight) if isinstance(hub_weight, Mapping) else {"default": hub_weight}
        for h in hubs.values():
            if not 0.0 <= h <= 1.0:
                raise ValueError(f"hub_weight must be in [0, 1], got {h}")
        hubs.setdefault("default", 0.0)
        if hub_k <= 0:
            raise ValueError(f"hub_k must be > 0, got {hub_k}")
        answers = dict(answer_weight) if isinstance(answer_weight, Mapping) else {"default": answer_weight}
        for a in answers.values():
            if not 0.0 <= a <= 10.0:
                raise ValueError(f"answer_weight must be in [0, 10], got {a}")
        answers.setdefault("default", 0.0)
        if answer_depth <= 0:
            raise ValueError(f"answer_depth must be > 0, got {answer_depth}")
        rerankers = dict(reranker) if isinstance(reranker, Mapping) else {"default": reranker}
        rerankers = {k: v if v is not None else LexicalReranker() for k, v in rerankers.items()}
        rerankers.setdefault("default", LexicalReranker())
        if candidates <= 0:
            raise ValueError(f"candidates must be > 0, got {candidates}")
        if index_kind not in ("auto", "flat", "hnsw", "ivf"):
            raise ValueError(f"index_kind must be auto, flat, hnsw or ivf, got {index_kind!r}")
        if not isinstance(embedders, Mapping):
            embedders = {"default": embedders}
        if not embedders:
            raise ValueError("embedders must not be empty")
        ids = [e.id for e in entries]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"duplicate FAQ id {dup!r}")
        self._embedders = dict(embedders)
        self._default = embedders.get("default") or next(iter(embedders.values()))
        self._pending: dict[str, list[FAQEntry]] = defaultdict(list)
        for e in entries:
            self._pending[e.lang].append(e)
        self._indexes: dict[str, _LanguageIndex] = {
            lang: _LanguageIndex(lang, self._embedder_for(lang)) for lang in sorted(self._pending)
        }
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._weights = weights
        self._hubs = hubs
        self._hub_k = hub_k
        self._answer_weights = answers
        self._answer_depth = answer_depth
        self._rerankers = rerankers
        self._kind = index_kind
        self._candidates = candidates
        self._use_gpu = use_gpu
        self._progress = progress
        self._lock = threading.RLock()
        self._ready = False
        self._qcache: dict[tuple[str, str], np.ndarray] = {}
        self._judge = AnswerabilityJudge()

    @classmethod
    def from_settings(
        cls,
        entries: Sequence[FAQEntry],
        embedders: Embedder | Mapping[str, Embedder],
        retrieval,
        *,
        cache_dir: str | Path | None = None,
        progress: Progress | None = None,
    ) -> HybridFAQRetriever:
        """A retriever configured by an :class:`engine.settings.RetrievalSettings` (per-language
        fusion and rerank weights where ``language_dense_weight`` / ``language_rerank_weight`` set them)."""
        from .rerank import build_reranker

        def reranker(weight):
            return build_reranker(retrieval.reranker, model=retrieval.reranker_model, weight=weight)

        lang_w = getattr(retrieval, "language_dense_weight", {}) or {}
        lang_rr = getattr(retrieval, "language_rerank_weight", {}) or {}
        lang_hub = getattr(retrieval, "language_hub_weight", {}) or {}
        return cls(
            entries,
            embedders,
            cache_dir=cache_dir,
            dense_weight={"default": retrieval.dense_weight, **lang_w},
            reranker={"default": reranker(retrieval.rerank_weight), **{k: reranker(v) for k, v in lang_rr.items()}},
            index_kind=retrieval.index_kind,
            candidates=retrieval.candidates,
            progress=progress,
            hub_weight={"default": getattr(retrieval, "hub_weight", 0.0), **lang_hub},
            hub_k=getattr(retrieval, "hub_k", 20),
            answer_weight=getattr(retrieval, "answer_weight", 0.0),
            answer_depth=getattr(retrieval, "answer_depth", 5),
        )

    def _embedder_for(self, lang: str) -> Embedder:
        return self._embedders.get(lang, self._default)

    @property
    def languages(self) -> list[str]:
        return list(self._indexes)

    def __len__(self) -> int:
        self.warm_up()
        return sum(idx.dense.size if idx.dense is not None else 0 for idx in self._indexes.values())

    def stats(self) -> dict[str, dict]:
        """Per language: entries, dense index kind, model, dimension, alternates indexed."""
        self.warm_up()
        return {
            lang: {"entries": idx.dense.size, "index": idx.dense.kind, "model": idx.embedder.name,
                   "dim": idx.dense.dim, "alternates": idx.alt.size if idx.alt is not None else 0}
            for lang, idx in self._indexes.items()
        }

    # -- building and persistence ------------------------------------------------------------
    def warm_up(self, language: str | None = None) -> None:
        """Load or build every language's indexes (once); with ``language``, that one's only
        (a query loads just its own language: the first English answer need not wait for the
        Chinese word segmenter)."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            for lang, idx in self._indexes.items():
                if lang in self._pending and language in (None, lang):
                    self._build(idx, self._pending[lang])
                    del self._pending[lang]
                    self._prepare_density(idx)
            self._ready = not self._pending

    def _hub_for(self, lang: str) -> float:
        return self._hubs.get(lang, self._hubs["default"])

    def _prepare_density(self, idx: _LanguageIndex) -> None:
        """Estimate the store's mean density now (start-up, a write), not in a customer's query."""
        if self._hub_for(idx.lang) and idx.dense is not None and idx.dense.size:
            idx.prepare_density(self._hub_k)

    def _build(self, idx: _LanguageIndex, entries: list[FAQEntry]) -> None:
        """Load or build ``idx``'s question index and, where its FAQs have any, its alternates'."""
        lang, embedder = idx.lang, idx.embedder
        idx.set_entries(entries, self._load_or_build(
            lang, lang, embedder, [_question_hash(e) for e in entries], [(e.question, e.answer) for e in entries]))
        self._build_answers(idx, entries)
        rows = [(e, text, h) for e in entries for text, h in _alternates(e)]
        if rows:
            dense = self._load_or_build(f"{lang}-alternates", f"{lang} alternates", embedder,
                                        [h for _, _, h in rows], [(t, e.answer) for e, t, _ in rows])
            idx.alt = KeyedDenseIndex(dense, [e.id for e, _, _ in rows], [h for _, _, h in rows])
        else:
            idx.alt = None
            self._drop(f"{lang}-alternates")

    def _build_answers(self, idx: _LanguageIndex, entries: list[FAQEntry]) -> None:
        """Each FAQ's answer embedded on its own (``faq-<lang>-answers.*``), for the answer-side
        rerank of :meth:`retrieve`: a question phrased as its situation ("the box came crushed")
        often reads closer to the answer ("...arrived damaged...") than to the FAQ's question.
        Loaded, built or re-used per answer like the question index."""
        if not self._answer_weight_for(idx.lang) or not entries:
            idx.answer_vecs = {}
            return
        hashes = [_answer_hash(e) for e in entries]
        # (answer, "") embeds "answer " and "answer": the answer's own vector, normalised
        dense = self._load_or_build(f"{idx.lang}-answers", f"{idx.lang} answers", idx.embedder, hashes,
                                    [(e.answer, "") for e in entries])
        idx.answer_vecs = {e.id: dense.vectors[i] for i, e in enumerate(entries)}

    def _update_answers(self, idx: _LanguageIndex, changed: list[FAQEntry]) -> None:
        """New answer vectors for ``changed`` FAQs (kept in memory; the next start saves them)."""
        if not self._answer_weight_for(idx.lang) or not changed:
            return
        vecs = _embed_keys(idx.embedder, [(e.answer, "") for e in changed])
        idx.answer_vecs.update((e.id, v) for e, v in zip(changed, vecs))

    def _answer_weight_for(self, lang: str) -> float:
        return self._answer_weights.get(lang, self._answer_weights["default"])

    def _paths(self, name: str) -> tuple[Path, Path, Path]:
        base = self._cache_dir / f"faq-{name}"
        return base.with_suffix(".json"), base.with_suffix(".faiss"), base.with_suffix(".npy")

    def _drop(self, name: str) -> None:
        """Remove a saved index that no longer has rows (a language's alternates, all gone)."""
        if self._cache_dir is None:
            return
        for path in self._paths(name):  # the manifest first: never a manifest without its files
            try:
                if path.exists():
                    path.unlink()
            except OSError:
                log.info("cannot remove the stale FAQ index file %s", path)

    def _read_cache(self, name: str, model: str):
        """(manifest, vectors) when the cached vectors of index ``name`` (a language, or
        ``<lang>-alternates``) are intact and from ``model``, else None."""
        if self._cache_dir is None:
            return None
        manifest_path, _, vectors_path = self._paths(name)
        try:
            manifest = json.loads(manifest_path.read_text())
            if not isinstance(manifest, dict) or manifest.get("version") != INDEX_FORMAT_VERSION:
                return None
            if manifest.get("model") != model:
                log.info("FAQ index for %s was built with %r, not %r; rebuilding", name, manifest.get("model"), model)
                return None
            vecs = np.load(vectors_path, allow_pickle=False)
            hashes = manifest.get("entries")
            files = manifest.get("files")
            if isinstance(files, dict) and verify_checksums(vectors_path.parent, files, names=[vectors_path.name]):
                log.info("FAQ vectors for %s do not match their checksum; rebuilding", name)
                return None
            if (
                not isinstance(hashes, list)
                or vecs.dtype != np.float32
                or vecs.shape != (len(hashes), manifest.get("dim"))
                or hashlib.sha256(vecs.tobytes()).hexdigest() != manifest.get("vectors_sha256")
            ):
                log.info("FAQ vectors for %s do not match their manifest; rebuilding", name)
                return None
            return manifest, vecs
        except (OSError, ValueError, TypeError, EOFError):
            log.info("no usable FAQ index for %s; building", name)
            return None

    def _load_or_build(self, name: str, label: str, embedder: Embedder, hashes: list[str],
                       keys: list[tuple[str, str]]) -> DenseIndex:
        """The dense index of ``keys`` ((question, answer) pairs, one per row, ``hashes`` theirs),
        read from ``faq-<name>.*`` when it still matches, else built re-using the saved vectors
        whose hash is still wanted. ``label`` names it in progress reports."""
        digest = _data_hash(hashes, embedder.name)
        cached = self._read_cache(name, embedder.name)
        if cached is not None:
            manifest, vecs = cached
            if manifest.get("data_hash") == digest:
                index_path = self._paths(name)[1]
                files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
                problems = verify_checksums(index_path.parent, files, names=[index_path.name])
                try:
                    if not problems:  # an index file swapped or edited since it was written is never read
                        import faiss

                        index = faiss.read_index(str(index_path))
                        if index.ntotal == len(keys) and index.d == vecs.shape[1]:
                            return DenseIndex(vecs, kind=self._kind, use_gpu=self._use_gpu, index=index)
                except (RuntimeError, OSError, ValueError):
                    pass
                log.info("FAQ index for %s is unreadable or does not match its checksum (%s); rebuilding it from "
                         "the saved vectors", label, "; ".join(problems) or "unreadable")
            reuse = {h: row for row, h in enumerate(manifest["entries"])}
        else:
            vecs, reuse = None, {}
        missing = [i for i, h in enumerate(hashes) if h not in reuse]
        fresh = self._embed(label, embedder, [keys[i] for i in missing]) if missing else None
        if vecs is not None and fresh is not None and fresh.shape[1] != vecs.shape[1]:
            vecs, reuse = None, {}
            missing = list(range(len(keys)))
            fresh = self._embed(label, embedder, keys)
        dim = fresh.shape[1] if fresh is not None else vecs.shape[1]
        out = np.zeros((len(keys), dim), dtype=np.float32)
        if fresh is not None:
            out[missing] = fresh
        for i, h in enumerate(hashes):
            if h in reuse:
                out[i] = vecs[reuse[h]]
        if self._progress:
            self._progress(f"indexing {label}", 0, 1)
        dense = DenseIndex(out, kind=self._kind, use_gpu=self._use_gpu)
        self._save(name, embedder.name, hashes, dense)
        if self._progress:
            self._progress(f"indexing {label}", 1, 1)
        return dense

    def _embed(self, lang: str, embedder: Embedder, keys: list[tuple[str, str]], batch: int = 512) -> np.ndarray:
        if not self._progress or len(keys) <= batch:
            if self._progress:
                self._progress(f"embedding {lang}", 0, len(keys))
            out = _embed_keys(embedder, keys)
        else:
            parts = []
            for start in range(0, len(keys), batch):
                self._progress(f"embedding {lang}", start, len(keys))
                parts.append(_embed_keys(embedder, keys[start : start + batch]))
            out = np.concatenate(parts)
        if self._progress:
            self._progress(f"embedding {lang}", len(keys), len(keys))
        return out

    def _save(self, name: str, model: str, hashes: list[str], dense: DenseIndex) -> None:
        if self._cache_dir is None:
            return
        import faiss

        self._cache_dir.mkdir(parents=True, exist_ok=True)
        manifest_path, index_path, vectors_path = self._paths(name)
        manifest_path.unlink(missing_ok=True)  # no manifest while the files change: never half-valid
        pid = os.getpid()
        tmp_v = vectors_path.with_suffix(f".tmp{pid}.npy")
        np.save(tmp_v, dense.vectors, allow_pickle=False)
        os.replace(tmp_v, vectors_path)
        if dense.faiss_index is not None:
            tmp_i = index_path.with_suffix(f".faiss.tmp{pid}")
            faiss.write_index(dense.faiss_index, str(tmp_i))
            os.replace(tmp_i, index_path)
        else:
            index_path.unlink(missing_ok=True)  # a stale index is not left beside the new manifest
        manifest = {
            "version": INDEX_FORMAT_VERSION,
            "model": model,
            "dim": dense.dim,
            "count": len(hashes),
            "index_kind": dense.kind,
            "data_hash": _data_hash(hashes, model),
            "vectors_sha256": hashlib.sha256(dense.vectors.tobytes()).hexdigest(),
            "entries": hashes,
            # the files as written: a reader verifies them before use (engine.integrity)
            "files": folder_checksums(self._cache_dir, [p.name for p in (vectors_path, index_path) if p.exists()]),
        }
        tmp_m = manifest_path.with_suffix(f".json.tmp{pid}")
        tmp_m.write_text(json.dumps(manifest))
        os.replace(tmp_m, manifest_path)

    def _persist(self, idx: _LanguageIndex) -> None:
        if idx.dense.slots != idx.dense.size:
            idx.compact()  # saved vectors = live entries, in order
        live = idx.live()
        self._save(idx.lang, idx.embedder.name, [_question_hash(e) for e in live], idx.dense)
        if idx.alt is not None and idx.alt.size:
            idx.alt.compact()  # saved rows = live rows, in order
            self._save(f"{idx.lang}-alternates", idx.embedder.name, idx.alt.keys, idx.alt.dense)
        else:
            idx.alt = None
            self._drop(f"{idx.lang}-alternates")

    def _update_alternates(self, idx: _LanguageIndex, changed: list[FAQEntry]) -> set[str]:
        """Replace the alternates of ``changed`` FAQs, embedding only alternates (or answers) that
        are new; returns the ids of the FAQs that needed embedding."""
        rows = {e.id: _alternates(e) for e in changed}
        if idx.alt is None and not any(rows.values()):
            return set()
        vec_of: dict[str, np.ndarray] = {}
        if idx.alt is not None:
            for e in changed:
                vec_of.update(idx.alt.remove(e.id))
        need = [(e, t, h) for e in changed for t, h in rows[e.id] if h not in vec_of]
        if need:
            fresh = self._embed(f"{idx.lang} alternates", idx.embedder, [(t, e.answer) for e, t, _ in need])
            vec_of.update((h, v) for (_, _, h), v in zip(need, fresh))
        if idx.alt is None:
            idx.alt = KeyedDenseIndex(DenseIndex(np.zeros((0, idx.dense.dim), dtype=np.float32), kind=self._kind,
                                                 use_gpu=self._use_gpu), [], [])
        for e in changed:
            if rows[e.id]:
                idx.alt.add(e.id, np.stack([vec_of[h] for _, h in rows[e.id]]), [h for _, h in rows[e.id]])
        if idx.alt.dense.needs_compaction():
            idx.alt.compact()
        return {e.id for e, _, _ in need}

    # -- changes without a full rebuild ------------------------------------------------------
    def upsert(self, entries: Iterable[FAQEntry]) -> int:
        """Add new FAQs and replace changed ones (same id); embeds only those. Returns how many
        entries were embedded (unchanged ones are skipped)."""
        self.warm_up()
        entries = list(entries)
        ids = [e.id for e in entries]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate ids in one upsert")
        embedded = 0
        with self._lock:
            by_lang: dict[str, list[FAQEntry]] = defaultdict(list)
            for e in entries:
                by_lang[e.lang].append(e)
            for lang, items in by_lang.items():
                for other, oidx in self._indexes.items():  # an id moving language leaves its old one
                    if other != lang:
                        gone = [e.id for e in items if e.id in oidx.slot_of]
                        if gone:
                            self._delete_in(oidx, gone)
                idx = self._indexes.get(lang)
                if idx is None:
                    idx = self._indexes[lang] = _LanguageIndex(lang, self._embedder_for(lang))
                    self._build(idx, items)
                    self._prepare_density(idx)
                    embedded += len(items)
                    continue
                changed = [e for e in items if e.id not in idx.slot_of
                           or idx.entries[idx.slot_of[e.id]].content_hash() != e.content_hash()]
                meta_only = [e for e in items if e not in changed]
                for e in meta_only:  # tags/validity only: no re-embedding
                    idx.entries[idx.slot_of[e.id]] = e
                # a FAQ whose question and answer are unchanged (its alternates changed) keeps its vector
                rekey = [e for e in changed if e.id not in idx.slot_of
                         or _question_hash(idx.entries[idx.slot_of[e.id]]) != _question_hash(e)]
                rekeyed = {e.id for e in rekey}
                for e in changed:
                    if e.id not in rekeyed:
                        idx.entries[idx.slot_of[e.id]] = e
                if rekey:
                    vecs = self._embed(lang, idx.embedder, [(e.question, e.answer) for e in rekey])
                    idx.dense.delete([idx.slot_of[e.id] for e in rekey if e.id in idx.slot_of])
                    for e in rekey:
                        if e.id in idx.slot_of:
                            idx.entries[idx.slot_of[e.id]] = None
                    for e, slot in zip(rekey, idx.dense.add(vecs)):
                        idx.entries.append(e)
                        idx.slot_of[e.id] = slot
                embedded += len(rekeyed | self._update_alternates(idx, changed))
                self._update_answers(idx, changed)
                idx.refresh_lexical()
                if idx.dense.needs_compaction():
                    idx.compact()
                self._persist(idx)
                self._prepare_density(idx)
        return embedded

    def delete(self, ids: Iterable[str]) -> int:
        """Remove FAQs by id (unknown ids are ignored); returns how many were removed."""
        self.warm_up()
        ids = set(ids)
        removed = 0
        with self._lock:
            for idx in self._indexes.values():
                here = [i for i in ids if i in idx.slot_of]
                if here:
                    removed += self._delete_in(idx, here)
        return removed

    def _delete_in(self, idx: _LanguageIndex, ids: list[str]) -> int:
        slots = [idx.slot_of.pop(i) for i in ids]
        for i in ids:
            idx.answer_vecs.pop(i, None)
        idx.dense.delete(slots)
        for s in slots:
            idx.entries[s] = None
        if idx.alt is not None:
            for i in ids:
                idx.alt.remove(i)
            if idx.alt.dense.needs_compaction():
                idx.alt.compact()
        idx.refresh_lexical()
        if idx.dense.needs_compaction():
            idx.compact()
        self._persist(idx)
        self._prepare_density(idx)
        return len(slots)

    # -- retrieval ------------------------------------------------------------------------------
    def _index_for(self, query: str, language: str | None) -> _LanguageIndex | None:
        lang = language or detect_language(query)
        idx = self._indexes.get(lang) or self._indexes.get("en") or next(iter(self._indexes.values()), None)
        return idx if idx is not None and idx.dense is not None and idx.dense.size else None

    def retrieve(
        self,
        query: str,
        *,
        top_k: int = 3,
        language: str | None = None,
        mode: RetrievalMode = "hybrid",
    ) -> list[Passage]:
        """Best ``top_k`` FAQs for ``query`` in its language (or ``language``), best first.

        ``mode`` ``"dense"`` or ``"bm25"`` runs one side alone (for evaluation); their scores
        are the cosine and the raw BM25 score. Queries without a letter or digit return ``[]``.
        """
        if top_k <= 0:
            raise ValueError(f"top_k must be > 0, got {top_k}")
        if mode not in ("hybrid", "dense", "bm25"):
            raise ValueError(f"mode must be hybrid, dense or bm25, got {mode!r}")
        query = query[:MAX_QUERY_CHARS]
        if not _HAS_WORD.search(query):
            return []
        if not self._ready:
            lang = language or detect_language(query)
            self.warm_up(lang if lang in self._indexes else "en" if "en" in self._indexes else next(iter(self._indexes)))
        idx = self._index_for(query, language)
        if idx is None:
            return []
        today = _dt.date.today()
        valid = lambda s: s >= 0 and idx.entries[s] is not None and idx.entries[s].is_valid(today)  # noqa: E731
        terms = analyse(query, idx.lang)
        n_cand = max(self._candidates, top_k)

        if mode == "bm25":
            bm = idx.bm25.scores(terms)
            order = [int(i) for i in np.argsort(-bm, kind="stable") if bm[i] > 0]
            slots = [(int(idx.bm25_slots[i]), float(bm[i])) for i in order]
            if idx.alt_bm25 is not None:  # a FAQ's BM25 is the better of its text's and its alternates'
                best = dict(slots)
                alt = idx.alt_bm25.scores(terms)
                for i in np.flatnonzero(alt > 0):
                    s = int(idx.alt_bm25_slots[i])
                    best[s] = max(best.get(s, 0.0), float(alt[i]))
                slots = sorted(best.items(), key=lambda kv: (-kv[1], idx.bm25_pos[kv[0]]))
            return [self._passage(idx, s, sc) for s, sc in slots if valid(s)][:top_k]

        qvec = idx.embedder.embed([clip_for_model(query)], kind="query")  # bounded model time
        self._remember((idx.lang, query), qvec[0])
        d_scores, d_slots = idx.dense.search(qvec, n_cand)
        dense_of = {int(s): float(c) for s, c in zip(d_slots[0], d_scores[0]) if valid(int(s))}
        alt_top = [s for s in idx.alternate_hits(qvec[0], n_cand) if valid(s)]
        if mode == "dense":
            if idx.alt is not None:  # each FAQ's cosine becomes the best of its question's and alternates'
                extra = [s for s in alt_top if s not in dense_of]
                slots = [*dense_of, *extra]
                base = np.concatenate([np.asarray(list(dense_of.values()), dtype=np.float32),
                                       idx.dense.similarity(qvec[0], extra)])
                dense_of = {s: float(c) for s, c in zip(slots, idx.key_cosines(qvec[0], slots, base))}
            best = sorted(dense_of.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
            return [self._passage(idx, s, sc) for s, sc in best]

        bm = idx.bm25.scores(terms)
        lex_top = [int(idx.bm25_slots[i]) for i in np.argsort(-bm, kind="stable")[:n_cand] if bm[i] > 0]
        lex_top += idx.alternate_lexical_hits(terms, n_cand)
        cand = list(dict.fromkeys([*dense_of, *alt_top, *(s for s in lex_top if valid(s))]))
        if not cand:
            return []
        cos = idx.key_cosines(qvec[0], cand, idx.dense.similarity(qvec[0], cand))
        extra_terms = [idx.alt_terms.get(s) for s in cand] if idx.alt_terms else None
        cov = idx.bm25.coverage(terms, [idx.bm25_pos[s] for s in cand], extra_terms)
        w = self._weights.get(idx.lang, self._weights["default"])
        fused = w * cos + (1.0 - w) * cov
        hub = self._hub_for(idx.lang)
        if hub:
            fused = fused - hub * idx.density(self._hub_k, cand)
        ranked = sorted(zip(cand, fused), key=lambda kv: (-kv[1], kv[0]))[:n_cand]
        passages = [self._passage(idx, s, float(f)) for s, f in ranked]
        reranker = self._rerankers.get(idx.lang, self._rerankers["default"])
        return self._answer_rerank(idx, qvec[0], reranker.rerank(query, passages, language=idx.lang))[:top_k]

    def _answer_rerank(self, idx: _LanguageIndex, qvec: np.ndarray, passages: list[Passage]) -> list[Passage]:
        """The best ``answer_depth`` of ``passages`` re-ordered by
        ``score + answer_weight * cosine(query, answer alone)``; scores stay as they were (the
        answerability threshold's scale), the rest keep their order."""
        a = self._answer_weight_for(idx.lang)
        if not a or not idx.answer_vecs or len(passages) < 2:
            return passages
        head, tail = passages[: self._answer_depth], passages[self._answer_depth:]
        cos = idx.answer_cosines(qvec, [idx.slot_of[p.id] for p in head])
        order = sorted(range(len(head)), key=lambda i: (-(head[i].score + a * float(cos[i])), head[i].id))
        return [head[i] for i in order] + tail

    def answer_features(self, query: str, passages: Sequence[Passage], *,
                        language: str | None = None) -> AnswerFeatures | None:
        """What the answerability decision reads about ``passages`` (this retriever's answer to
        ``query``, best first): None when there is nothing to judge."""
        query = query[:MAX_QUERY_CHARS]
        idx = self._index_for(query, language) if passages else None
        if idx is None or passages[0].id not in idx.slot_of:
            return None
        terms = list(dict.fromkeys(analyse(query, idx.lang)))[:256]
        slot = idx.slot_of[passages[0].id]
        qvec = self._query_vector(idx, query)
        cos = float(idx.key_cosines(qvec, [slot], idx.dense.similarity(qvec, [slot]))[0])
        extra = [idx.alt_terms.get(slot)] if idx.alt_terms else None
        cov = float(idx.bm25.coverage(terms, [idx.bm25_pos[slot]], extra)[0]) if terms else 0.0
        second = passages[1].score if len(passages) > 1 else 0.0
        return AnswerFeatures(score=passages[0].score, margin=passages[0].score - second, cosine=cos,
                              coverage=cov, terms=len(terms))

    def answerable(self, query: str, passages: Sequence[Passage], *, language: str | None = None,
                   bar: float | None = None) -> Verdict:
        """Whether ``passages`` (best first) answer ``query``: :class:`AnswerabilityJudge` on
        :meth:`answer_features`, with ``bar`` the language's answer threshold (None: the judge's)."""
        features = self.answer_features(query, passages, language=language)
        return self._judge.judge(features, bar=bar)

    def _query_vector(self, idx: _LanguageIndex, query: str) -> np.ndarray:
        key = (idx.lang, query)
        vec = self._qcache.get(key)
        if vec is None:
            vec = idx.embedder.embed([clip_for_model(query)], kind="query")[0]
            self._remember(key, vec)
        return vec

    def _remember(self, key: tuple[str, str], vec: np.ndarray) -> None:
        if len(self._qcache) >= 64:  # the last few queries: a turn asks about the one it just retrieved
            self._qcache.pop(next(iter(self._qcache)), None)
        self._qcache[key] = vec

    @staticmethod
    def _passage(idx: _LanguageIndex, slot: int, score: float) -> Passage:
        e = idx.entries[slot]
        return Passage(id=e.id, question=e.question, answer=e.answer, language=e.lang,
                       score=round(score, 4), kind=e.kind)
