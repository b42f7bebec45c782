"""The rerank stage of FAQ retrieval: a protocol, a cheap lexical reranker, a cross-encoder.

A reranker re-scores the fused candidates of one query and returns them best first. Scores stay
answerability scores (about 0..1), because the router thresholds on the top one.

- :class:`LexicalReranker` (default): blends the fused score with how much of the query's
  *discriminative* vocabulary each candidate's question contains, where term weights come from the
  candidate set itself (a term every candidate shares says nothing). Microseconds per candidate.
- :class:`CrossEncoderReranker`: a sentence-transformers cross-encoder (any local folder or hub
  name; none ships offline), its logit squashed to 0..1 and blended with the fused score.

Example:
    >>> rr = LexicalReranker(weight=0.1)
    >>> [p.id for p in rr.rerank("gift card return", passages, language="en")]  # doctest: +SKIP
    ['51', '75', '48']
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol, runtime_checkable

from knowledge.kernel.errors import ModelError
from knowledge.kernel.types import Passage

from .lexical import analyse

__all__ = ["Reranker", "LexicalReranker", "CrossEncoderReranker", "NoReranker", "build_reranker"]


@runtime_checkable
class Reranker(Protocol):
    """Re-scores one query's candidates (each ``Passage.score`` is the fused score on input)."""

    name: str

    def rerank(self, query: str, passages: Sequence[Passage], *, language: str) -> list[Passage]: ...


def _sorted(passages: list[Passage]) -> list[Passage]:
    return sorted(passages, key=lambda p: (-p.score, p.id))


class NoReranker:
    """Keeps the fused order and scores."""

    name = "none"

    def rerank(self, query: str, passages: Sequence[Passage], *, language: str) -> list[Passage]:
        return _sorted(list(passages))


class LexicalReranker:
    """``(1 - weight) * fused + weight * question coverage`` with candidate-set idf.

    Args:
        weight: share of the lexical question-coverage in the new score, in [0, 1]; 0.1 was
            chosen on the tuning queries (benchmarks/data/ecommerce_faq_en_queries_tune.csv).
    """

    name = "lexical"

    def __init__(self, weight: float = 0.1) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight must be in [0, 1], got {weight}")
        self._w = weight

    def rerank(self, query: str, passages: Sequence[Passage], *, language: str) -> list[Passage]:
        passages = list(passages)
        terms = list(dict.fromkeys(analyse(query, language)))[:256]
        if not passages or not terms or self._w == 0.0:
            return _sorted(passages)
        n = len(passages)
        qsets = [set(analyse(p.question, language)) for p in passages]
        weights = {t: math.log(1.0 + n / (sum(t in s for s in qsets) + 0.5)) for t in terms}
        total = sum(weights.values())
        out = []
        for p, qs in zip(passages, qsets):
            cov = sum(w for t, w in weights.items() if t in qs) / total
            out.append(replace(p, score=round((1.0 - self._w) * p.score + self._w * cov, 4)))
        return _sorted(out)


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` over (query, question + answer) pairs.

    Args:
        model: local folder or hub name of a cross-encoder (loaded on first use, offline when
            ``HF_HUB_OFFLINE=1``).
        weight: share of the cross-encoder's probability in the new score, in [0, 1].
        device: ``"auto"``, ``"cpu"``, ``"cuda"``...
    """

    name = "cross-encoder"

    def __init__(self, model: str, *, weight: float = 0.5, device: str = "auto") -> None:
        if not model:
            raise ValueError("model must be a non-empty name or path")
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight must be in [0, 1], got {weight}")
        self._model_ref, self._w, self._device = model, weight, device
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            try:
                from sentence_transformers import CrossEncoder

                from knowledge.embedders import _pick_device, resolve_model_path

                self._model = CrossEncoder(resolve_model_path(self._model_ref), device=_pick_device(self._device))
            except Exception as exc:  # library errors vary: OSError, ValueError, HF errors...
                raise ModelError(f"cannot load cross-encoder {self._model_ref!r}: {exc}") from exc

    def rerank(self, query: str, passages: Sequence[Passage], *, language: str) -> list[Passage]:
        passages = list(passages)
        if not passages:
            return []
        self.warm_up()
        logits = self._model.predict([(query, f"{p.question} {p.answer}") for p in passages], show_progress_bar=False)
        out = []
        for p, z in zip(passages, logits):
            prob = 1.0 / (1.0 + math.exp(-float(z)))
            out.append(replace(p, score=round((1.0 - self._w) * p.score + self._w * prob, 4)))
        return _sorted(out)


def build_reranker(kind: str = "lexical", *, model: str | None = None, weight: float | None = None) -> Reranker:
    """A reranker from settings: ``lexical`` (default), ``none`` or ``cross-encoder`` (needs ``model``)."""
    if kind == "lexical":
        return LexicalReranker(0.1 if weight is None else weight)
    if kind == "none":
        return NoReranker()
    if kind == "cross-encoder":
        if not model:
            raise ValueError("a cross-encoder reranker needs a model name or path")
        return CrossEncoderReranker(model, weight=0.5 if weight is None else weight)
    raise ValueError(f"reranker must be lexical, none or cross-encoder, got {kind!r}")
