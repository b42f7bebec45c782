"""Intent classification: frozen sentence embeddings + a trained linear (softmax) head.

The head is multinomial logistic regression on mean-centred embeddings, trained full-batch with
L-BFGS in torch (deterministic, a second or two on a CPU); it keeps the class centroids too. A prediction is ``out_of_scope`` when its probability is under
``confidence_threshold`` or the text is far from every class centroid (cosine under
``min_similarity``). Trained heads are cached in a folder keyed by a hash of the training data,
the embedding model and the hyper-parameters, so an engine starts without retraining; a cached
folder is used only when it matches the checksums recorded when it was written
(:mod:`engine.integrity`) and names its own key and model, else it is retrained and rewritten.

Example:
    >>> clf = load_or_train(embedder, load_intent_examples(), cache_dir)   # doctest: +SKIP
    >>> clf.classify("where is my parcel?").intent                         # doctest: +SKIP
    'track_order'
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from engine.errors import ModelError
from engine.integrity import check_folder, write_checksums
from engine.text import clip_for_model
from engine.types import IntentPrediction
from engine.yamlio import safe_load as yaml_safe_load
from knowledge.embedders import Embedder

from .base import OUT_OF_SCOPE

__all__ = [
    "IntentExample",
    "LinearHead",
    "EmbeddingIntentClassifier",
    "CascadeIntentClassifier",
    "fast_stage_examples",
    "load_intent_examples",
    "split_examples",
    "train_linear_head",
    "load_or_train",
    "HEAD_FORMAT_VERSION",
]

log = logging.getLogger("shopassist.nlu.intent")

HEAD_FORMAT_VERSION = 3  # 3: rows are L2-normalised after centring


@dataclass(frozen=True)
class IntentExample:
    text: str
    label: str
    lang: str


def load_intent_examples(path: str | Path | None = None) -> list[IntentExample]:
    """Examples from an intents YAML (``intents: {name: {en: [...], zh: [...]}}``)."""
    try:
        if path is None:
            text = resources.files("engine.nlu").joinpath("data/intents.yaml").read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        doc = yaml_safe_load(text)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read intent examples {path or 'intents.yaml'}: {exc}") from exc
    intents = doc.get("intents") if isinstance(doc, dict) else None
    if not isinstance(intents, dict) or not intents:
        raise ModelError("intent examples need a non-empty 'intents' mapping")
    out: list[IntentExample] = []
    for label, spec in intents.items():
        for lang in ("en", "zh"):
            for t in (spec or {}).get(lang) or ():
                if isinstance(t, str) and t.strip():
                    out.append(IntentExample(t.strip(), str(label), lang))
    return out


def split_examples(
    examples: list[IntentExample], *, holdout_every: int = 5
) -> tuple[list[IntentExample], list[IntentExample]]:
    """Deterministic split: every ``holdout_every``-th example of each (label, lang) is held out."""
    if holdout_every < 2:
        raise ValueError(f"holdout_every must be >= 2, got {holdout_every}")
    train, held = [], []
    counters: dict[tuple[str, str], int] = {}
    for ex in examples:
        k = (ex.label, ex.lang)
        counters[k] = counters.get(k, 0) + 1
        (held if counters[k] % holdout_every == 0 else train).append(ex)
    return train, held


@dataclass
class LinearHead:
    """A softmax layer over embeddings, with class centroids for distance-based OOS."""

    labels: tuple[str, ...]
    weight: np.ndarray  # (dim, classes)
    bias: np.ndarray  # (classes,)
    centroids: np.ndarray  # (classes, dim), L2-normalised, in centred space
    mean: np.ndarray  # (dim,) training mean, subtracted before everything
    meta: dict[str, Any]

    def features(self, x: np.ndarray) -> np.ndarray:
        """Centred on the training mean, then L2-normalised per row (what the weights see)."""
        xc = np.asarray(x, dtype=np.float32) - self.mean
        return xc / np.maximum(np.linalg.norm(xc, axis=1, keepdims=True), 1e-9)

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self.features(x) @ self.weight + self.bias

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        logits = self.logits(x)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def centroid_similarity(self, x: np.ndarray) -> np.ndarray:
        """Cosine of each row of ``x`` (centred) to its nearest class centroid."""
        return (self.features(x) @ self.centroids.T).max(axis=1)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"head.npz.tmp{os.getpid()}.npz"
        np.savez(tmp, weight=self.weight, bias=self.bias, centroids=self.centroids, mean=self.mean)
        os.replace(tmp, folder / "head.npz")
        meta = dict(self.meta, labels=list(self.labels), format_version=HEAD_FORMAT_VERSION)
        (folder / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False))
        write_checksums(folder)  # last: a folder whose record matches is the one written here

    @classmethod
    def load(cls, folder: Path, *, checksums: str = "warn") -> "LinearHead":
        """Read a head saved by :meth:`save`, verifying the folder's recorded checksums first.

        Args:
            folder: the folder :meth:`save` wrote.
            checksums: ``"warn"`` (a folder without a record loads, with a logged warning),
                ``"require"`` (refused without one: caches, which are rebuilt instead) or ``"skip"``
                (the caller verified the folder itself).

        Raises:
            ModelError: missing, corrupt, of another format, or not matching its checksums.
        """
        if checksums not in ("warn", "require", "skip"):
            raise ValueError(f"checksums must be 'warn', 'require' or 'skip', got {checksums!r}")
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"intent model in {folder} is missing or corrupt: {exc}") from exc
        if not isinstance(meta, dict):
            raise ModelError(f"intent model in {folder} is corrupt: meta.json is not an object")
        if meta.get("format_version") != HEAD_FORMAT_VERSION:
            raise ModelError(
                f"intent model in {folder} has format {meta.get('format_version')!r}, "
                f"this version reads {HEAD_FORMAT_VERSION}; retrain it"
            )
        if checksums != "skip":
            check_folder(folder, fix="retrain it", require=checksums == "require", what="intent model")
        try:
            with np.load(folder / "head.npz") as z:
                weight, bias, centroids, mean = z["weight"], z["bias"], z["centroids"], z["mean"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelError(f"intent model in {folder} is missing or corrupt: {exc}") from exc
        labels = tuple(meta.get("labels") or ())
        if weight.shape[1] != len(labels) or bias.shape != (len(labels),):
            raise ModelError(f"intent model in {folder} is inconsistent (labels vs weights)")
        if mean.shape != (weight.shape[0],) or centroids.shape != (len(labels), weight.shape[0]):
            raise ModelError(f"intent model in {folder} is inconsistent (dimensions)")
        return cls(labels, weight, bias, centroids, mean, meta)


def train_linear_head(
    x: np.ndarray,
    y: list[str],
    *,
    max_iter: int = 200,
    weight_decay: float = 1e-4,
    seed: int = 13,
    init: LinearHead | None = None,
) -> LinearHead:
    """Fit L2-regularised multinomial logistic regression on embeddings ``x``.

    Rows are centred on the training mean and L2-normalised. ``init`` warm-starts from another
    head over the same labels (a regularisation path converges in a fraction of the iterations).
    """
    import torch

    if len(x) != len(y) or len(y) == 0:
        raise ValueError("x and y must be non-empty and of equal length")
    if max_iter <= 0:
        raise ValueError(f"max_iter must be > 0, got {max_iter}")
    labels = tuple(sorted(set(y)))
    if len(labels) < 2:
        raise ValueError("need at least two intents to train")
    index = {lab: i for i, lab in enumerate(labels)}
    torch.manual_seed(seed)
    xt = torch.from_numpy(np.asarray(x, dtype=np.float32))
    mean = xt.mean(0)
    xt = torch.nn.functional.normalize(xt - mean, dim=1)
    yt = torch.tensor([index[lab] for lab in y])
    cent = torch.stack([xt[yt == i].mean(0) for i in range(len(labels))])
    cent = torch.nn.functional.normalize(cent, dim=1)
    if init is not None and init.labels == labels and init.weight.shape[0] == xt.shape[1]:
        w = torch.from_numpy(init.weight.copy()).requires_grad_(True)
        b = torch.from_numpy(init.bias.copy()).requires_grad_(True)
    else:  # start from scaled centroids (a nearest-centroid classifier) and let L-BFGS refine
        w = (cent.T * 10.0).contiguous().requires_grad_(True)
        b = torch.zeros(len(labels), requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")
    loss_fn = torch.nn.CrossEntropyLoss()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = loss_fn(xt @ w + b, yt) + weight_decay * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        final = float(loss_fn(xt @ w + b, yt))
    return LinearHead(
        labels=labels,
        weight=w.detach().numpy().astype(np.float32),
        bias=b.detach().numpy().astype(np.float32),
        centroids=cent.numpy().astype(np.float32),
        mean=mean.numpy().astype(np.float32),
        meta={"train_loss": final, "examples": len(y), "max_iter": max_iter},
    )


class EmbeddingIntentClassifier:
    """:class:`engine.nlu.base.IntentClassifier` over an embedder and a :class:`LinearHead`.

    Args:
        embedder: the sentence embedder the head was trained on.
        head: the trained head.
        confidence_threshold: below this top probability the turn is out of scope.
        min_similarity: below this cosine to the nearest centroid the turn is out of scope.
    """

    def __init__(
        self,
        embedder: Embedder,
        head: LinearHead,
        *,
        confidence_threshold: float = 0.30,
        min_similarity: float = 0.0,
    ) -> None:
        if not 0.0 <= confidence_threshold <= 1.0:
            raise ValueError(f"confidence_threshold must be in [0, 1], got {confidence_threshold}")
        self.embedder = embedder
        self.head = head
        self.threshold = confidence_threshold
        self.min_similarity = min_similarity

    @property
    def labels(self) -> tuple[str, ...]:
        return self.head.labels

    def classify(self, text: str) -> IntentPrediction:
        # the model sees a bounded prefix: a 2,000-character turn must not cost seconds
        return self.classify_vector(self.embedder.embed([clip_for_model(text)])[0])

    def classify_vector(self, vec: np.ndarray) -> IntentPrediction:
        probs = self.head.probabilities(vec[None, :])[0]
        order = np.argsort(-probs)[:5]
        ranking = tuple((self.head.labels[i], round(float(probs[i]), 4)) for i in order)
        best, conf = ranking[0]
        sim = float(self.head.centroid_similarity(vec[None, :])[0])
        reason = None
        if conf < self.threshold:
            reason = "low_confidence"
        elif sim < self.min_similarity:
            reason = "far_from_training_data"
        if reason:
            return IntentPrediction(OUT_OF_SCOPE, conf, ranking, oos_reason=reason)
        return IntentPrediction(best, conf, ranking)


def fast_stage_examples(examples: list[IntentExample]) -> list[IntentExample]:
    """The examples a fast stage learns: the English ones (the only text it sees)."""
    return [e for e in examples if e.lang == "en"]


class CascadeIntentClassifier:
    """Two stages: a cheap classifier answers alone when it is sure, the full one decides the rest.

    The store's full classifier reads multilingual E5 vectors, the costliest model of a turn; the
    fast stage is a head over int8 MiniLM, several times cheaper, trained on the English examples.
    English (ASCII) text goes to the fast stage first, and its answer stands when its top
    probability is at least ``accept``; anything else — Chinese or other non-ASCII text, a fast
    answer under ``accept``, a fast out-of-scope — is classified by the full stage alone, with its
    own out-of-scope thresholds. ``accept`` is chosen so the pair loses next to nothing on held-out data
    (``python benchmarks/intent_store.py --cascade``; its figures, and what the stage costs inside
    a turn, are in benchmarks/README.md).

    A prediction's ``stage`` names the stage that made it (``"fast"`` or ``"full"``). ``embedder``,
    ``head``, ``threshold``, ``min_similarity`` and ``labels`` are the full stage's: what a promoted
    model (engine/learn) is served with; a promoted version's own fast-stage head, when it has one,
    replaces ``fast``'s head (:class:`engine.learn.reload.ReloadingClassifier`).

    Args:
        fast: the cheap classifier (over English examples).
        full: the classifier every other turn gets.
        accept: the fast stage's top probability at or above which its answer stands, in (0, 1].
    """

    def __init__(self, fast: EmbeddingIntentClassifier, full: EmbeddingIntentClassifier, *,
                 accept: float = 0.8) -> None:
        if not 0.0 < accept <= 1.0:
            raise ValueError(f"accept must be in (0, 1], got {accept}")
        unknown = set(fast.labels) - set(full.labels)
        if unknown:
            raise ValueError(f"the fast stage knows intents the full one does not: {sorted(unknown)}")
        self.fast = fast
        self.full = full
        self.accept = accept

    @property
    def labels(self) -> tuple[str, ...]:
        return self.full.labels

    @property
    def embedder(self) -> Embedder:
        return self.full.embedder

    @property
    def head(self) -> LinearHead:
        return self.full.head

    @property
    def threshold(self) -> float:
        return self.full.threshold

    @property
    def min_similarity(self) -> float:
        return self.full.min_similarity

    def classify(self, text: str) -> IntentPrediction:
        if text.isascii():  # no CJK, so detect_language would say "en"; accents and other scripts go to full
            pred = self.fast.classify(text)
            if pred.intent != OUT_OF_SCOPE and pred.confidence >= self.accept:
                return replace(pred, stage="fast")
        return replace(self.full.classify(text), stage="full")

    def classify_vector(self, vec: np.ndarray) -> IntentPrediction:
        """The full stage on one of its vectors (what held-out evaluation of a promoted model uses)."""
        return self.full.classify_vector(vec)

    def warm_up(self) -> None:
        """Load both stages' models now (a greeting would only reach the fast one)."""
        for stage in (self.fast, self.full):
            stage.embedder.embed(["hello"])


def _training_key(examples: list[IntentExample], model: str, params: dict[str, Any]) -> str:
    h = hashlib.sha256(json.dumps({"model": model, "params": params, "v": HEAD_FORMAT_VERSION}).encode())
    for ex in examples:
        h.update(f"{ex.label}\x00{ex.lang}\x00{ex.text}\x01".encode())
    return h.hexdigest()[:16]


def load_or_train(
    embedder: Embedder,
    examples: list[IntentExample],
    cache_dir: Path | None,
    *,
    confidence_threshold: float = 0.30,
    min_similarity: float = 0.0,
    max_iter: int = 200,
    weight_decay: float = 1e-4,
    seed: int = 13,
) -> EmbeddingIntentClassifier:
    """Load the cached head for these examples and settings, or train and cache one."""
    params = {"max_iter": max_iter, "weight_decay": weight_decay, "seed": seed}
    key = _training_key(examples, embedder.name, params)
    folder = cache_dir / f"intent-head-{key}" if cache_dir is not None else None
    head = None
    if folder is not None and (folder / "meta.json").exists():
        try:
            head = LinearHead.load(folder, checksums="require")
            if head.meta.get("data_key") != key or head.meta.get("model") != embedder.name:
                raise ModelError(f"{folder} holds the head of another key or model")
        except ModelError as exc:
            log.warning("cached intent head not used, retraining: %s", exc)
            head = None  # corrupt, edited, swapped or unverifiable cache: retrain below and overwrite it
    if head is None:
        x = embedder.embed([e.text for e in examples], kind="query")
        head = train_linear_head(x, [e.label for e in examples], **params)
        head.meta.update(model=embedder.name, data_key=key)
        if folder is not None:
            head.save(folder)
    return EmbeddingIntentClassifier(
        embedder, head, confidence_threshold=confidence_threshold, min_similarity=min_similarity
    )
