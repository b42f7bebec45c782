"""Retrain: base data + reviewed labels → a candidate intent head, judged fairly, trained on everything.

The comparison (:mod:`engine.learn.compare`) sets the serving model and the candidate on equal
footing: both are retrained *twins* on the same training side — the base examples' training split
(:func:`engine.nlu.intent.split_examples`, every fifth example of each intent and language held
out) plus their own reviewed labels — and both are scored on the same comparison examples: that
held-out split and the frozen regression set of real past turns (``regression.jsonl`` of the
registry; turns confirmed right by a ``/good`` or an agreeing label join it before each retrain).
Each twin gets an out-of-scope threshold re-chosen for it on the packaged out-of-scope set, so the
serving model's cut-off is not imposed on a model calibrated differently. A labelled text that is
also a held-out text is left out.

Once decided, the version registered is trained on everything — every base example, the labels
and the regression set — with its own out-of-scope threshold, so a promoted model never knows
less than the one it replaces; its card and report say what was held out for the comparison and
how many examples it trained on. With ``fast_embedder`` it also gets a fast-stage head over that
model (English examples, the same everything).

A retrain whose examples were already judged against the serving model answers at once, before
anything is embedded, naming the earlier decision and the command that overrides it.

Example:
    >>> result = retrain(embedder, load_intent_examples(), store.feedback(), registry, nlu=settings.nlu)  # doctest: +SKIP
    >>> result.promoted, result.candidate.macro_f1                                                       # doctest: +SKIP
    (True, 0.913)
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelError
from engine.nlu.base import OUT_OF_SCOPE
from engine.nlu.intent import IntentExample, LinearHead, fast_stage_examples, split_examples, train_linear_head
from engine.privacy import mask_pii
from engine.settings import NLUSettings
from engine.text import detect_language

from .compare import (
    Blame,
    Evaluation,
    Flip,
    blame,
    choose_threshold,
    decide,
    flips,
    oos_recall,
    oos_texts,
    predict,
    score,
)
from .registry import BASE, ModelRegistry
from .review import Label, confirmed_turns, reviewed_labels

__all__ = ["Evaluation", "TrainingSet", "RetrainResult", "build_training_set", "decide", "retrain", "Progress"]

#: ``progress(step, done, total)``: a long step's advance (the CLI draws it as a bar).
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TrainingSet:
    """The base split, the reviewed labels, and the regression set, as the comparison uses them."""

    train: list[IntentExample]  # base training split
    heldout: list[IntentExample]  # base held-out split (comparison)
    labelled: list[IntentExample]  # reviewed feedback used for training
    skipped: dict[str, int] = field(default_factory=dict)  # labels not used, by why
    authors: tuple[str, ...] = ()
    labels: tuple[Label, ...] = ()  # the label behind each of ``labelled``, same order
    regression: list[IntentExample] = field(default_factory=list)  # frozen past turns (comparison)

    @property
    def candidate_examples(self) -> list[IntentExample]:
        """What the candidate's twin trains on (the comparison examples left out)."""
        return self.train + self.labelled

    @property
    def everything(self) -> list[IntentExample]:
        """What a registered version trains on: base (held-out split included), labels, regression set."""
        return self.train + self.heldout + self.labelled + self.regression


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
    flipped: tuple[Flip, ...] = ()
    blamed: tuple[Blame, ...] = ()
    override: str | None = None  # the command that promotes anyway, when not promoted
    decided: bool = False  # True: answered from an earlier decision, nothing trained

    def to_dict(self) -> dict[str, Any]:
        return {"current": self.current.to_dict() if self.current else None,
                "candidate": self.candidate.to_dict() if self.candidate else None,
                "candidate_version": self.candidate_version, "promoted": self.promoted, "reason": self.reason,
                "regressions": [list(r) for r in self.regressions], "data": self.data,
                "tolerance": self.tolerance, "report": str(self.report) if self.report else None,
                "chart": str(self.chart) if self.chart else None,
                "flipped": [f.to_dict() for f in self.flipped], "blamed": [b.to_dict() for b in self.blamed],
                "override": self.override, "decided": self.decided}


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def build_training_set(base: list[IntentExample], records: Iterable[dict[str, Any]],
                       regression: Iterable[dict[str, Any]] = ()) -> TrainingSet:
    """The fixed split of ``base``, the reviewed labels among ``records`` and the ``regression`` set
    (:meth:`ModelRegistry.regression_set` entries) as comparison examples."""
    records = list(records)
    train, heldout = split_examples(base)
    known = {e.label for e in base}
    held_texts = {_norm(e.text) for e in heldout}
    skipped = {"out_of_scope": 0, "unknown_intent": 0, "in_heldout": 0}
    labelled, labels, seen, authors = [], [], set(), set()
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
            labels.append(label)
            authors.add(label.author)
    taken = held_texts | {_norm(e.text) for e in labelled} | {_norm(e.text) for e in train}
    reg = []
    for entry in regression:  # a label or a base example says more about the same text
        text, intent = str(entry["text"]), str(entry["intent"])
        if intent in known and _norm(text) not in taken:
            taken.add(_norm(text))
            reg.append(IntentExample(text, intent, detect_language(text)))
    return TrainingSet(train, heldout, labelled, skipped, tuple(sorted(authors)), tuple(labels), reg)


def _data_key(embedder: str, params: dict[str, Any], data: TrainingSet) -> str:
    h = hashlib.sha256(json.dumps({"embedder": embedder, "params": params, "scheme": 2}, sort_keys=True).encode())
    for part, exs in (("train", data.train), ("held", data.heldout), ("labels", data.labelled),
                      ("regression", data.regression)):
        h.update(f"\x02{part}".encode())
        for text, label in sorted((e.text, e.label) for e in exs):
            h.update(f"{label}\x00{text}\x01".encode())
    return h.hexdigest()[:16]


#: A reviewed label counts as this many base examples: one real, checked turn among ~60 written
#: examples of its intent is otherwise learnt too weakly to clear the out-of-scope cut-off
#: (benchmarks/README.md, the learning benchmark at 1 and at 3).
LABEL_WEIGHT = 3


def _train(embedder: Any, examples: list[IntentExample], vectors: dict[str, np.ndarray],
           params: dict[str, Any], labelled: Iterable[IntentExample] = ()) -> LinearHead:
    rows = list(examples) + [e for e in labelled for _ in range(LABEL_WEIGHT - 1)]
    x = np.stack([vectors[e.text] for e in rows])
    head = train_linear_head(x, [e.label for e in rows], **params)
    head.meta.update(model=embedder.name, examples=len(examples))
    return head


def _embed(embedder: Any, texts: list[str], progress: Progress | None, step: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    batch = 64
    for i in range(0, len(texts), batch):
        chunk = texts[i:i + batch]
        out.update(zip(chunk, embedder.embed(chunk, kind="query")))
        if progress:
            progress(step, min(i + batch, len(texts)), len(texts))
    return out


def _fast_stage(embedder: Any, data: TrainingSet, params: dict[str, Any], nlu: NLUSettings,
                progress: Progress | None) -> tuple[LinearHead | None, dict[str, Any]]:
    """The version's fast-stage head (None: fewer than two English intents to learn), trained on
    the English side of everything, and what its twin (without the held-out split) does there."""
    everything = fast_stage_examples(data.everything)
    twin_train = fast_stage_examples(data.candidate_examples)
    if len({e.label for e in everything}) < 2:
        return None, {"embedder": embedder.name, "skipped": "fewer than two English intents"}
    held = [e for e in data.heldout if e.text.isascii()]  # what the fast stage sees (CascadeIntentClassifier)
    texts = sorted({e.text for e in everything + held})
    vectors = _embed(embedder, texts, progress, "fast stage: embedding")
    labelled = fast_stage_examples(data.labelled)
    head = _train(embedder, everything, vectors, params, labelled)
    summary: dict[str, Any] = {"embedder": embedder.name, "accept": nlu.fast_accept, "examples": len(everything)}
    if held and len({e.label for e in twin_train}) >= 2:
        twin = _train(embedder, twin_train, vectors, params, labelled)
        probs = twin.probabilities(np.stack([vectors[e.text] for e in held]))
        sure = probs.max(axis=1) >= nlu.fast_accept
        right = np.array([twin.labels[i] == e.label for i, e in zip(probs.argmax(axis=1), held)])
        summary.update(heldout=len(held), answered=round(float(sure.mean()), 4),
                       precision=round(float(right[sure].mean()), 4) if sure.any() else None)
    return head, summary


def _override(version: str) -> str:
    return f"shopassist learn promote {version} --reason '...'"


def _earlier_decision(registry: ModelRegistry, key: str, current_version: str, tolerance: float,
                      counts: dict[str, int]) -> RetrainResult | None:
    """The answer when these examples were already judged against the serving model."""
    for seen in reversed(registry.versions()):
        card = seen.card
        if (card.get("data_key") != key or (card.get("compared_with") or {}).get("version") != current_version
                or card.get("tolerance") != tolerance):
            continue
        decision = card.get("decision")
        if decision == "promoted":  # it served, and no longer does: rolled back
            why = (f"{seen.version} was trained on these examples and promoted, then rolled back; "
                   f"{current_version} serves now. Serve it again with: {_override(seen.version)}")
        else:
            why = (f"already decided: {seen.version} (rejected: {card.get('reason', '-')}) was trained on these "
                   f"examples and compared with {current_version}; label more turns (or withdraw labels: "
                   f"shopassist learn unlabel ID), or promote it anyway with: {_override(seen.version)}")
        current = Evaluation(**{k: v for k, v in {**(card.get("compared_with") or {})}.items()
                                if k in ("version", "macro_f1", "accuracy", "n", "threshold", "oos_recall",
                                         "regression_right", "regression_n")},
                             per_class=(card.get("compared_with") or {}).get("per_class_f1", {}),
                             support=(card.get("compared_with") or {}).get("support", {}))
        return RetrainResult(current, None, seen.version, False, why, (), counts, tolerance,
                             override=_override(seen.version), decided=True)
    return None


def retrain(
    embedder: Any,
    base: list[IntentExample],
    records: Iterable[dict[str, Any]],
    registry: ModelRegistry,
    *,
    nlu: NLUSettings,
    tolerance: float = 0.0,
    max_broken: float = 0.01,
    regression_min: int = 30,
    heldout_collapse: float = 0.05,
    strict_without_turns: bool = False,
    author: str = "",
    dry_run: bool = False,
    write_report: bool = True,
    fast_embedder: Any = None,
    progress: Progress | None = None,
) -> RetrainResult:
    """Compare a candidate (base + reviewed labels) with the serving model; register and promote it
    when the rule (:func:`engine.learn.compare.decide`) allows.

    Args:
        tolerance: how far held-out macro-F1 may fall when real past turns decide (with fewer than
            ``regression_min`` of them it may not fall at all).
        max_broken: the share of the regression set that may break (rounded down: under 100 turns
            with the default 1%, none may); also of the held-out split when it decides.
        regression_min: real past turns (the frozen regression set) needed for them to decide.
        heldout_collapse: the share of the held-out split that may break, net, when real turns
            decide.
        strict_without_turns: with fewer than ``regression_min`` real turns, hold the held-out split
            to no fall at all whatever ``tolerance`` says (what `learn retrain` does on the configured
            default; an operator's explicit ``--tolerance`` applies either way).

    Raises:
        ModelError: the serving version cannot be loaded or was trained on another embedder.
    """
    from .report import write_report as write

    records = list(records)
    if not dry_run:  # turns confirmed right since the last retrain join the frozen regression set
        registry.freeze_regression(confirmed_turns(records))
    data = build_training_set(base, records, registry.regression_set())
    params = {"max_iter": nlu.max_iter, "weight_decay": nlu.weight_decay, "seed": nlu.seed}
    counts = {"base": len(data.train) + len(data.heldout), "base_train": len(data.train),
              "heldout": len(data.heldout), "regression": len(data.regression), "labels_used": len(data.labelled),
              "trained_on": len(data.everything), **{f"labels_skipped_{k}": v for k, v in data.skipped.items()}}
    current_version = registry.current()
    current_card = registry.get(current_version).card if current_version != BASE else {}
    key = _data_key(embedder.name, params, data)
    if key == current_card.get("data_key") or (current_version == BASE and not data.labelled):
        nothing = Evaluation(current_version, current_card.get("metrics", {}).get("macro_f1", 0.0), 0.0, {}, {}, 0)
        return RetrainResult(nothing, None, None, False,
                             f"nothing new to learn: {current_version} was trained on these examples",
                             (), counts, tolerance, decided=True)
    if not dry_run and (earlier := _earlier_decision(registry, key, current_version, tolerance, counts)):
        return earlier

    # the serving model's twin trains on its own labels (read from its card), the candidate's on all
    current_threshold = nlu.confidence_threshold
    if current_version == BASE:
        current_labelled: list[IntentExample] | None = []
    else:
        head = registry.load_head(current_version)
        if head.meta.get("model") != embedder.name:
            raise ModelError(f"serving version {current_version} was trained on embedder "
                             f"{head.meta.get('model')!r}, not {embedder.name!r}: retrain with that one")
        current_threshold = float(head.meta.get("confidence_threshold", nlu.confidence_threshold))
        held = {_norm(e.text) for e in data.heldout + data.regression}
        card_labels = current_card.get("labels")
        current_labelled = None if card_labels is None else [
            IntentExample(str(lab["text"]), str(lab["intent"]), detect_language(str(lab["text"])))
            for lab in card_labels if _norm(str(lab["text"])) not in held and lab.get("intent") in
            {e.label for e in base}]
    oos = list(oos_texts())
    texts = sorted({e.text for e in data.everything + (current_labelled or [])} | set(oos))
    vectors = _embed(embedder, texts, progress, "embedding")

    def x(examples: list[IntentExample]) -> np.ndarray:
        return np.stack([vectors[e.text] for e in examples]) if examples else np.zeros((0, 1), np.float32)

    steps = 4 if dry_run else 5
    tick = (lambda n: progress("training", n, steps)) if progress else (lambda n: None)
    current_head = (_train(embedder, data.train + current_labelled, vectors, params, current_labelled)
                    if current_labelled is not None
                    else registry.load_head(current_version))  # a version from before cards kept their labels
    tick(1)
    cand_head = _train(embedder, data.candidate_examples, vectors, params, data.labelled)
    tick(2)
    oos_x = x([IntentExample(t, OUT_OF_SCOPE, "") for t in oos])
    min_sim = nlu.min_similarity
    target = oos_recall(current_head, oos_x, threshold=current_threshold, min_similarity=min_sim)
    thresholds = [choose_threshold(h, oos_x, target_recall=target, min_similarity=min_sim)
                  for h in (current_head, cand_head)]
    held_x, reg_x = x(data.heldout), x(data.regression)
    gold, reg_gold = [e.label for e in data.heldout], [e.label for e in data.regression]
    preds = [(predict(h, held_x, threshold=t, min_similarity=min_sim),
              predict(h, reg_x, threshold=t, min_similarity=min_sim)) for h, t in zip((current_head, cand_head),
                                                                                     thresholds)]
    current, candidate = (score(name, gold, hp, closed=predict(h, held_x, threshold=0.0, min_similarity=-2.0),
                                threshold=t, regression=(reg_gold, rp),
                                recall=oos_recall(h, oos_x, threshold=t, min_similarity=min_sim))
                          for name, h, t, (hp, rp) in zip((current_version, "candidate"), (current_head, cand_head),
                                                          thresholds, preds))
    tick(3)
    flipped = (flips([e.text for e in data.heldout], gold, preds[0][0], preds[1][0], "heldout")
               + flips([e.text for e in data.regression], reg_gold, preds[0][1], preds[1][1], "regression"))

    def net(source: str) -> int:
        return sum(1 if f.broken else -1 for f in flipped if f.source == source)

    allowed = math.floor(max_broken * len(data.regression) + 1e-9)
    # Real past turns decide once there are enough of them: the held-out split is our own written
    # examples, which genuine labels teaching something new move a little; it then only guards
    # against a collapse (``tolerance``, a share of it breaking). With too few real turns, the
    # held-out split decides strictly, as the only evidence there is.
    judged_by_turns = len(data.regression) >= regression_min
    strict = not judged_by_turns and strict_without_turns
    promoted, reason, regressions = decide(
        current, candidate, 0.0 if strict else tolerance, net_broken=net("regression"),
        max_broken=allowed, net_broken_heldout=net("heldout"),
        max_broken_heldout=math.floor((heldout_collapse if judged_by_turns else max_broken) * len(data.heldout)
                                      + 1e-9))
    reason = (f"judged by {len(data.regression)} real past turns (held-out examples guard against a collapse); "
              if judged_by_turns else
              f"judged by the held-out examples (only {len(data.regression)} real past turns, "
              f"{regression_min} needed to judge by them); ") + reason
    # labels the candidate could not learn: contradicted by the base examples around them
    own = predict(cand_head, x(data.labelled), threshold=0.0) if data.labelled else []
    label_rows = [(lab, e.text, e) for lab, e in zip(data.labels, data.labelled)]
    contradicted = [row for row, p in zip(label_rows, own) if p != row[2].label]
    blamed = tuple(blame([f for f in flipped if f.broken], label_rows, vectors, contradicted)) if not promoted else ()
    counts["labels_contradicted"] = len(contradicted)
    tick(4)
    if dry_run:
        return RetrainResult(current, candidate, None, promoted, "dry run: " + reason, regressions, counts,
                             tolerance, flipped=tuple(flipped), blamed=blamed)

    # decided: the version registered learns from everything, with its own threshold
    final = _train(embedder, data.everything, vectors, params, data.labelled)
    final.meta["confidence_threshold"] = choose_threshold(final, oos_x, target_recall=target, min_similarity=min_sim)
    tick(5)
    card = {
        "embedder": embedder.name, "params": params, "data_key": key, "data": counts,
        "labels": [{"text": mask_pii(e.text), "intent": e.label, "author": lab.author, "record": lab.record_id}
                   for lab, e in zip(data.labels, data.labelled)],
        "label_authors": list(data.authors),
        "confidence_threshold": final.meta["confidence_threshold"], "oos_recall_target": target,
        "metrics": {k: v for k, v in candidate.to_dict().items() if k != "version"},
        "compared_with": current.to_dict(), "decision": "promoted" if promoted else "rejected",
        "reason": reason, "tolerance": tolerance, "max_broken": allowed, "by": author, "created_at": time.time(),
        "flipped": [dict(f.to_dict(), text=mask_pii(f.text)) for f in flipped[:100]],
        "blamed": [dict(b.to_dict(), text=mask_pii(b.text), broke=[mask_pii(t) for t in b.broke]) for b in blamed],
    }
    stages = {}
    if fast_embedder is not None:
        fast_head, card["fast_stage"] = _fast_stage(fast_embedder, data, params, nlu, progress)
        if fast_head is not None:
            stages["fast"] = fast_head
    version = registry.add(final, card, stages)
    candidate = Evaluation(**{**candidate.__dict__, "version": version.version})
    result = RetrainResult(current, candidate, version.version, promoted, reason, regressions, counts, tolerance,
                           flipped=tuple(flipped), blamed=blamed,
                           override=None if promoted else _override(version.version))
    if write_report:
        report, chart = write(result, registry.reports_dir)
        result = RetrainResult(**{**result.__dict__, "report": report, "chart": chart})
    if promoted:
        registry.promote(version.version, by=author, note=reason, expect=current_version)
    return result
