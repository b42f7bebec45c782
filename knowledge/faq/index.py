"""Hybrid FAQ retrieval: dense FAISS search per language fused with idf-weighted lexical overlap.

Each language's FAQs get their own FAISS inner-product index built with that language's embedder
(MiniLM for English; multilingual E5 for Chinese when installed). The fused score
``w * cosine + (1 - w) * lexical_coverage`` lies in [-1, 1] and doubles as the answerability
score the router thresholds on. Indexes are persisted beside a manifest (model, dimension,
data hash); a mismatched or unreadable index is rebuilt, never silently used.

Example:
    >>> r = HybridFAQRetriever(entries, {"en": minilm, "zh": e5}, cache_dir=tmp)  # doctest: +SKIP
    >>> r.retrieve("how long do refunds take?", top_k=3)[0].id                    # doctest: +SKIP
    'en-refund-timing'
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from engine.text import detect_language, lexical_tokens
from engine.types import Passage
from knowledge.embedders import Embedder

from .store import FAQEntry

__all__ = ["Retriever", "HybridFAQRetriever", "INDEX_FORMAT_VERSION"]

log = logging.getLogger(__name__)
INDEX_FORMAT_VERSION = 2


@runtime_checkable
class Retriever(Protocol):
    def retrieve(self, query: str, *, top_k: int = 3, language: str | None = None) -> list[Passage]: ...


class _LexicalIndex:
    """Inverted index of lexical tokens; scores are idf-weighted query coverage in [0, 1]."""

    def __init__(self, docs: Sequence[str]) -> None:
        self._postings: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for tok in set(lexical_tokens(doc)):
                self._postings[tok].append(i)
        n = max(1, len(docs))
        self._idf = {t: math.log(1 + n / len(p)) for t, p in self._postings.items()}
        self._unseen_idf = math.log(1 + n)
        self._n = len(docs)

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(self._n, dtype=np.float32)
        toks = set(lexical_tokens(query))
        if not toks:
            return out
        total = 0.0
        for tok in toks:
            idf = self._idf.get(tok, self._unseen_idf)
            total += idf
            for i in self._postings.get(tok, ()):
                out[i] += idf
        return out / total


class _LanguageIndex:
    def __init__(self, entries: list[FAQEntry], embedder: Embedder) -> None:
        self.entries = entries
        self.embedder = embedder
        self.lexical = _LexicalIndex([f"{e.question} {e.answer}" for e in entries])
        self.faiss_index = None


def _data_hash(entries: Sequence[FAQEntry], model: str) -> str:
    h = hashlib.sha256(f"v{INDEX_FORMAT_VERSION}|{model}".encode())
    for e in entries:
        h.update(json.dumps([e.id, e.question, e.answer, e.lang], ensure_ascii=False).encode())
    return h.hexdigest()


def _maybe_to_gpu(index):  # pragma: no cover - needs faiss-gpu and a GPU
    import faiss

    if hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0:
        return faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, index)
    return index


class HybridFAQRetriever:
    """FAISS + lexical retrieval over FAQ entries, one index per language.

    Args:
        entries: the FAQs.
        embedders: one embedder for all languages, or a mapping language → embedder (a
            ``"default"`` key, or the first entry, serves languages without their own).
        cache_dir: where indexes are persisted; ``None`` keeps them in memory only.
        dense_weight: weight of the cosine score in the fused score, in [0, 1].
    """

    def __init__(
        self,
        entries: Sequence[FAQEntry],
        embedders: Embedder | Mapping[str, Embedder],
        *,
        cache_dir: str | Path | None = None,
        dense_weight: float = 0.9,
    ) -> None:
        if not entries:
            raise ValueError("entries must not be empty")
        if not 0.0 <= dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be in [0, 1], got {dense_weight}")
        if not isinstance(embedders, Mapping):
            embedders = {"default": embedders}
        if not embedders:
            raise ValueError("embedders must not be empty")
        default = embedders.get("default") or next(iter(embedders.values()))
        by_lang: dict[str, list[FAQEntry]] = defaultdict(list)
        for e in entries:
            by_lang[e.lang].append(e)
        self._indexes = {
            lang: _LanguageIndex(items, embedders.get(lang, default))
            for lang, items in sorted(by_lang.items())
        }
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._w = dense_weight
        self._lock = threading.Lock()
        self._ready = False

    @property
    def languages(self) -> list[str]:
        return list(self._indexes)

    def warm_up(self) -> None:
        """Load or build every language's FAISS index (once)."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            for lang, idx in self._indexes.items():
                idx.faiss_index = self._load_or_build(lang, idx)
            self._ready = True

    def _load_or_build(self, lang: str, idx: _LanguageIndex):
        import faiss

        digest = _data_hash(idx.entries, idx.embedder.name)
        if self._cache_dir is not None:
            base = self._cache_dir / f"faq-{lang}"
            manifest_path, index_path = base.with_suffix(".json"), base.with_suffix(".faiss")
            try:
                manifest = json.loads(manifest_path.read_text())
                if isinstance(manifest, dict) and manifest.get("data_hash") == digest and manifest.get("count") == len(idx.entries):
                    index = faiss.read_index(str(index_path))
                    if index.ntotal == len(idx.entries) and index.d == manifest.get("dim"):
                        return _maybe_to_gpu(index)
                log.info("FAQ index for %s is stale; rebuilding", lang)
            except (OSError, ValueError, RuntimeError):
                log.info("no usable FAQ index for %s; building", lang)
        # question + answer: shoppers often ask in the answer's words, not the question's
        vecs = idx.embedder.embed([f"{e.question} {e.answer}" for e in idx.entries], kind="passage")
        index = faiss.IndexFlatIP(vecs.shape[1])
        index.add(vecs)
        if self._cache_dir is not None:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = index_path.with_suffix(f".faiss.tmp{os.getpid()}")
            faiss.write_index(index, str(tmp))
            os.replace(tmp, index_path)
            manifest = {
                "version": INDEX_FORMAT_VERSION,
                "model": idx.embedder.name,
                "dim": int(vecs.shape[1]),
                "count": len(idx.entries),
                "data_hash": digest,
            }
            tmp_m = manifest_path.with_suffix(f".json.tmp{os.getpid()}")
            tmp_m.write_text(json.dumps(manifest, indent=1))
            os.replace(tmp_m, manifest_path)
        return _maybe_to_gpu(index)

    def retrieve(self, query: str, *, top_k: int = 3, language: str | None = None) -> list[Passage]:
        """Best ``top_k`` FAQs for ``query`` in its language (or ``language``), best first."""
        if top_k <= 0:
            raise ValueError(f"top_k must be > 0, got {top_k}")
        if not query.strip():
            return []
        self.warm_up()
        lang = language or detect_language(query)
        idx = self._indexes.get(lang) or self._indexes.get("en") or next(iter(self._indexes.values()))
        n = len(idx.entries)
        qvec = idx.embedder.embed([query], kind="query")
        k_dense = min(n, max(top_k * 4, 10))
        dense_scores, dense_ids = idx.faiss_index.search(qvec, k_dense)
        lex = idx.lexical.scores(query)
        candidates: dict[int, float] = {}
        dense_of = {int(i): float(s) for i, s in zip(dense_ids[0], dense_scores[0]) if i >= 0}
        lex_top = np.argsort(-lex)[:k_dense] if n else []
        for i in set(dense_of) | {int(i) for i in lex_top if lex[i] > 0}:
            if i in dense_of:
                dense = dense_of[i]
            else:  # a lexical-only candidate: score its cosine exactly
                dense = float(idx.faiss_index.reconstruct(i) @ qvec[0])
            candidates[i] = self._w * dense + (1.0 - self._w) * float(lex[i])
        best = sorted(candidates.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
        return [
            Passage(
                id=idx.entries[i].id,
                question=idx.entries[i].question,
                answer=idx.entries[i].answer,
                language=idx.entries[i].lang,
                score=round(score, 4),
                kind=idx.entries[i].kind,
            )
            for i, score in best
        ]
