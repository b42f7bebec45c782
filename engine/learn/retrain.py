"""Retrain: base data + reviewed labels → a candidate intent head, compared with the serving one.

The held-out split is fixed: :func:`engine.nlu.intent.split_examples` over the base intent
examples (every fifth example of each intent and language). Reviewed feedback only ever joins
the *training* side, and a labelled text that is also a held-out text is left out, so the
comparison never tests a model on what it trained on. The serving ``base`` model was trained on
all base examples (held-out ones included), so it is compared through its fair twin: the same
head trained on the training split alone. Both models are scored on the same held-out vectors;
the candidate is promoted only when its macro-F1 is not worse (``learn.promote_tolerance``), and
every class whose F1 drops is listed. Each decision is registered with its metrics and reported.

With ``fast_embedder`` (the engine's ``nlu.fast_embedder``) the candidate also gets a fast-stage
head over that model, trained on the candidate's English examples (reviewed labels included), so
a promoted version keeps the two-stage speed and its fast stage knows the feedback too. The
decision stays the full head's; the card records how much of the English held-out split the fast
stage would answer at ``nlu.fast_accept`` and how often rightly.

Example:
    >>> result = retrain(embedder, load_intent_examples(), store.feedback(), registry, nlu=settings.nlu)  # doctest: +SKIP
    >>> result.promoted, result.candidate.macro_f1                                                       # doctest: +SKIP
    (True, 0.913)
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelError
from engine.nlu.base import OUT_OF_SCOPE
from engine.nlu.intent import (
    EmbeddingIntentClassifier,
    IntentExample,
    LinearHead,
    fast_stage_examples,
    split_examples,
    train_linear_head,
)
from engine.settings import NLUSettings
from engine.text import detect_language

from .registry import BASE, ModelRegistry
from .review import reviewed_labels

__all__ = ["Evaluation", "TrainingSet", "RetrainResult", "build_training_set", "evaluate", "decide", "retrain"]


@dataclass(frozen=True)
class Evaluation:
    """A model's scores on the fixed held-out split."""

    version: str
    macro_f1: float
    accuracy: float
    per_class: dict[str, float]  # F1 per gold intent
    support: dict[str, int]
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "macro_f1": self.macro_f1, "accuracy": self.accuracy,
                "per_class_f1": self.per_class, "support": self.support, "n": self.n}


@dataclass(frozen=True)
class TrainingSet:
    """Base training split + reviewed labels, and the fixed held-out split (base data only)."""

    train: list[IntentExample]
    heldout: list[IntentExample]
    labelled: list[IntentExample]  # reviewed feedback used for training
    skipped: dict[str, int] = field(default_factory=dict)  # labels not used, by why
    authors: tuple[str, ...] = ()

    @property
    def candidate_examples(self) -> list[IntentExample]:
        return self.train + self.labelled


@dataclass(frozen=True)
class RetrainResult:
    """What ``learn retrain`` decided, with the figures behind it."""

    current: Evaluation
    candidate: Evaluation | None
    candidate_version: str | None
    promoted: bool
    reason: str
    regressions: tuple[tuple[str, float, float], ...]  # (intent, current F1, candidate F1)
    data: dict[str, int]
    tolerance: float
    report: Path | None = None
    chart: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"current": self.current.to_dict(), "candidate": self.candidate.to_dict() if self.candidate else None,
                "candidate_version": self.candidate_version, "promoted": self.promoted, "reason": self.reason,
                "regressions": [list(r) for r in self.regressions], "data": self.data,
                "tolerance": self.tolerance, "report": str(self.report) if self.report else None,
                "chart": str(self.chart) if self.chart else None}


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def build_training_set(base: list[IntentExample], records: Iterable[dict[str, Any]]) -> TrainingSet:
    """The fixed split of ``base`` plus the reviewed labels among ``records`` (training side only)."""
    train, heldout = split_examples(base)
    known = {e.label for e in base}
    held_texts = {_norm(e.text) for e in heldout}
    skipped = {"out_of_scope": 0, "unknown_intent": 0, "in_heldout": 0}
    labelled, seen, authors = [], set(), set()
    for text, label in reviewed_labels(records):
        if label.intent == OUT_OF_SCOPE:
            skipped["out_of_scope"] += 1  # out of scope is detected by threshold, never trained as a class
        elif label.intent not in known:
            skipped["unknown_intent"] += 1
        elif _norm(text) in held_texts:
            skipped["in_heldout"] += 1
        elif (_norm(text), label.intent) not in seen:
            seen.add((_norm(text), label.intent))
            labelled.append(IntentExample(text, label.intent, detect_language(text)))
            authors.add(label.author)
    return TrainingSet(train, heldout, labelled, skipped, tuple(sorted(authors)))


def evaluate(version: str, classifier: EmbeddingIntentClassifier, vectors: np.ndarray,
             gold: list[str]) -> Evaluation:
    """Scores of ``classifier`` on held-out ``vectors`` (an out-of-scope answer counts as wrong)."""
    from engine.nlu.cli import metrics

    pred = [classifier.classify_vector(v).intent for v in vectors]
    m = metrics(gold, pred)
    gold_classes = sorted(set(gold))
    return Evaluation(version, float(m["macro_f1"]), float(m["accuracy"]),
                      {c: float(m["per_class"][c]["f1"]) for c in gold_classes},
                      {c: int(m["per_class"][c]["support"]) for c in gold_classes}, len(gold))


def decide(current: Evaluation, candidate: Evaluation, tolerance: float = 0.0
           ) -> tuple[bool, str, tuple[tuple[str, float, float], ...]]:
    """Promote when the candidate's macro-F1 is not worse than the current one's (minus ``tolerance``)."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    regressions = tuple((c, current.per_class[c], candidate.per_class.get(c, 0.0)) for c in sorted(current.per_class)
                        if candidate.per_class.get(c, 0.0) < current.per_class[c])
    delta = candidate.macro_f1 - current.macro_f1
    promoted = delta >= -tolerance - 1e-12
    verdict = "not worse" if promoted else "worse"
    reason = (f"candidate macro-F1 {candidate.macro_f1:.4f} vs current {current.macro_f1:.4f} "
              f"({delta:+.4f}, tolerance {tolerance}): {verdict}")
    if regressions:
        reason += f"; {len(regressions)} intent(s) regressed"
    return promoted, reason, regressions


def _data_key(embedder: str, params: dict[str, Any], train: list[IntentExample], labelled: list[IntentExample]) -> str:
    h = hashlib.sha256(json.dumps({"embedder": embedder, "params": params}, sort_keys=True).encode())
    for ex in train:
        h.update(f"{ex.label}\x00{ex.text}\x01".encode())
    h.update(b"\x02labels")
    for text, label in sorted((e.text, e.label) for e in labelled):
        h.update(f"{label}\x00{text}\x01".encode())
    return h.hexdigest()[:16]


def _train(embedder: Any, examples: list[IntentExample], vectors: dict[str, np.ndarray], params: dict[str, Any]) -> LinearHead:
    x = np.stack([vectors[e.text] for e in examples])
    head = train_linear_head(x, [e.label for e in examples], **params)
    head.meta.update(model=embedder.name)
    return head


def _fast_stage(embedder: Any, data: TrainingSet, params: dict[str, Any],
                nlu: NLUSettings) -> tuple[LinearHead | None, dict[str, Any]]:
    """The candidate's fast-stage head (None: fewer than two English intents to learn) and what it
    would do on the English held-out split."""
    train = fast_stage_examples(data.candidate_examples)
    if len({e.label for e in train}) < 2:
        return None, {"embedder": embedder.name, "skipped": "fewer than two English intents"}
    held = [e for e in data.heldout if e.text.isascii()]  # what the fast stage sees (CascadeIntentClassifier)
    texts = sorted({e.text for e in train + held})
    vectors = dict(zip(texts, embedder.embed(texts, kind="query")))
    head = _train(embedder, train, vectors, params)
    summary: dict[str, Any] = {"embedder": embedder.name, "accept": nlu.fast_accept, "examples": len(train)}
    if held:
        probs = head.probabilities(np.stack([vectors[e.text] for e in held]))
        sure = probs.max(axis=1) >= nlu.fast_accept
        right = np.array([head.labels[i] == e.label for i, e in zip(probs.argmax(axis=1), held)])
        summary.update(heldout=len(held), answered=round(float(sure.mean()), 4),
                       precision=round(float(right[sure].mean()), 4) if sure.any() else None)
    return head, summary


def retrain(
    embedder: Any,
    base: list[IntentExample],
    records: Iterable[dict[str, Any]],
    registry: ModelRegistry,
    *,
    nlu: NLUSettings,
    tolerance: float = 0.0,
    author: str = "",
    dry_run: bool = False,
    write_report: bool = True,
    fast_embedder: Any = None,
) -> RetrainResult:
    """Train a candidate on base + reviewed labels, compare with the serving model, promote if not worse.

    Raises:
        ModelError: the serving version cannot be loaded or was trained on another embedder.
    """
    from .report import write_report as write

    data = build_training_set(base, records)
    params = {"max_iter": nlu.max_iter, "weight_decay": nlu.weight_decay, "seed": nlu.seed}
    texts = sorted({e.text for e in data.train + data.heldout + data.labelled})
    vectors = dict(zip(texts, embedder.embed(texts, kind="query")))
    held_x = np.stack([vectors[e.text] for e in data.heldout])
    gold = [e.label for e in data.heldout]

    def classifier(head: LinearHead) -> EmbeddingIntentClassifier:
        return EmbeddingIntentClassifier(embedder, head, confidence_threshold=nlu.confidence_threshold,
                                         min_similarity=nlu.min_similarity)

    current_version = registry.current()
    if current_version == BASE:
        current_head = _train(embedder, data.train, vectors, params)  # base's fair twin (see module doc)
        current_key = _data_key(embedder.name, params, data.train, [])
    else:
        current_head = registry.load_head(current_version)
        current_key = registry.get(current_version).card.get("data_key")
        if current_head.meta.get("model") != embedder.name:
            raise ModelError(f"serving version {current_version} was trained on embedder "
                             f"{current_head.meta.get('model')!r}, not {embedder.name!r}: retrain with that one")
    current = evaluate(current_version, classifier(current_head), held_x, gold)
    counts = {"base_train": len(data.train), "heldout": len(data.heldout), "labels_used": len(data.labelled),
              **{f"labels_skipped_{k}": v for k, v in data.skipped.items()}}

    key = _data_key(embedder.name, params, data.train, data.labelled)
    if key == current_key:
        return RetrainResult(current, None, None, False,
                             f"nothing new to learn: {current_version} was trained on these examples",
                             (), counts, tolerance)
    for seen in registry.versions():  # the same data was already judged against this model
        card = seen.card
        if (card.get("data_key") == key and (card.get("compared_with") or {}).get("version") == current_version
                and card.get("tolerance") == tolerance and not dry_run):
            return RetrainResult(current, None, None, False,
                                 f"already decided: {seen.version} ({card.get('decision')}) was trained on these "
                                 f"examples and compared with {current_version}; label more turns first",
                                 (), counts, tolerance)
    cand_head = _train(embedder, data.candidate_examples, vectors, params)
    candidate = evaluate("candidate", classifier(cand_head), held_x, gold)
    promoted, reason, regressions = decide(current, candidate, tolerance)
    if dry_run:
        return RetrainResult(current, candidate, None, promoted, "dry run: " + reason, regressions, counts, tolerance)

    card = {
        "embedder": embedder.name, "params": params, "data_key": key, "data": counts,
        "labels": [{"text": e.text, "intent": e.label} for e in data.labelled], "label_authors": list(data.authors),
        "metrics": {k: v for k, v in candidate.to_dict().items() if k != "version"},
        "compared_with": current.to_dict(), "decision": "promoted" if promoted else "rejected",
        "reason": reason, "tolerance": tolerance, "by": author, "created_at": time.time(),
    }
    stages = {}
    if fast_embedder is not None:
        fast_head, card["fast_stage"] = _fast_stage(fast_embedder, data, params, nlu)
        if fast_head is not None:
            stages["fast"] = fast_head
    version = registry.add(cand_head, card, stages)
    candidate = Evaluation(version.version, candidate.macro_f1, candidate.accuracy, candidate.per_class,
                           candidate.support, candidate.n)
    result = RetrainResult(current, candidate, version.version, promoted, reason, regressions, counts, tolerance)
    if write_report:
        report, chart = write(result, registry.reports_dir)
        result = RetrainResult(**{**result.__dict__, "report": report, "chart": chart})
    if promoted:
        registry.promote(version.version, by=author, note=reason, expect=current_version)
    return result
