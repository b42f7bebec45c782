"""Comparing a candidate intent head with the serving one: scores, flipped texts, the promotion rule.

Both models are judged the same way on the same examples: the fixed held-out split of the base
examples (macro-F1 per intent) plus the frozen regression set of real past turns (how many stay
right). Each gets its own out-of-scope threshold, chosen so it flags at least as much of the
packaged out-of-scope set (``engine/nlu/data/oos.yaml``, never trained on) as the serving model
does at its threshold: a model that is more (or less) sure of itself is not punished for borderline
messages sliding under a cut-off chosen for another model.

The promotion rule, as :func:`decide` applies it:

* **blocks**: held-out macro-F1 falling by more than the tolerance (``learn.promote_tolerance``);
  more regression-set turns broken (right before, wrong now) than ``max_broken`` allows.
* **accepted**: single intents whose F1 drops while macro-F1 holds, and broken held-out examples
  while the total holds; they are reported with the texts that flipped.

A rejection names the labels behind it (:func:`blame`): for each broken text, the label of the
intent it now gets that lies nearest to it; and labels the candidate could not learn (its own
text still classified otherwise after training on it: contradicted by the base examples).

Example:
    >>> pred = predict(head, vectors, threshold=0.4)                       # doctest: +SKIP
    >>> t = choose_threshold(head, oos_vectors, target_recall=0.9)          # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from engine.nlu.base import OUT_OF_SCOPE
from engine.nlu.intent import LinearHead

__all__ = ["Evaluation", "Flip", "Blame", "oos_texts", "predict", "oos_recall", "choose_threshold", "score",
           "flips", "decide", "blame"]


@dataclass(frozen=True)
class Evaluation:
    """A model's scores on the comparison examples (held-out split + regression set)."""

    version: str
    macro_f1: float
    accuracy: float
    per_class: dict[str, float]  # F1 per gold intent, held-out split
    support: dict[str, int]
    n: int  # held-out examples
    threshold: float | None = None  # its out-of-scope threshold
    oos_recall: float | None = None  # share of the out-of-scope set it flags
    regression_right: int = 0
    regression_n: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "macro_f1": self.macro_f1, "accuracy": self.accuracy,
                "per_class_f1": self.per_class, "support": self.support, "n": self.n,
                "threshold": self.threshold, "oos_recall": self.oos_recall,
                "regression_right": self.regression_right, "regression_n": self.regression_n}


@dataclass(frozen=True)
class Flip:
    """A comparison text whose answer changed: ``broken`` (right before) or ``fixed``."""

    text: str
    gold: str
    before: str
    after: str
    source: str  # "heldout" | "regression"

    @property
    def broken(self) -> bool:
        return self.before == self.gold != self.after

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "gold": self.gold, "before": self.before, "after": self.after,
                "source": self.source, "broken": self.broken}


@dataclass(frozen=True)
class Blame:
    """A reviewed label a rejection names: why, and which texts it is held to have broken."""

    record_id: int
    text: str
    intent: str
    author: str
    why: str  # "broke N" | "contradicted"
    broke: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "text": self.text, "intent": self.intent, "author": self.author,
                "why": self.why, "broke": list(self.broke)}


@lru_cache(maxsize=1)
def oos_texts() -> tuple[str, ...]:
    """The packaged out-of-scope messages (English and Chinese; never trained on)."""
    import yaml

    doc = yaml.safe_load(resources.files("engine.nlu").joinpath("data/oos.yaml").read_text("utf-8"))
    return tuple(str(t).strip() for lang in ("en", "zh") for t in (doc.get(lang) or ()) if str(t).strip())


def predict(head: LinearHead, x: np.ndarray, *, threshold: float, min_similarity: float = 0.0) -> list[str]:
    """What an :class:`~engine.nlu.intent.EmbeddingIntentClassifier` answers for each row of ``x``."""
    if len(x) == 0:
        return []
    probs = head.probabilities(x)
    conf = probs.max(axis=1)
    sim = head.centroid_similarity(x)
    return [OUT_OF_SCOPE if c < threshold or s < min_similarity else head.labels[i]
            for i, c, s in zip(probs.argmax(axis=1), conf, sim)]


def oos_recall(head: LinearHead, oos_x: np.ndarray, *, threshold: float, min_similarity: float = 0.0) -> float:
    """The share of ``oos_x`` flagged out of scope."""
    pred = predict(head, oos_x, threshold=threshold, min_similarity=min_similarity)
    return round(sum(p == OUT_OF_SCOPE for p in pred) / max(1, len(pred)), 4)


def choose_threshold(head: LinearHead, oos_x: np.ndarray, *, target_recall: float,
                     min_similarity: float = 0.0) -> float:
    """The lowest threshold at which ``head`` flags at least ``target_recall`` of ``oos_x``
    (lowest: the fewest in-scope messages lost for that recall)."""
    if not 0.0 <= target_recall <= 1.0:
        raise ValueError(f"target_recall must be in [0, 1], got {target_recall}")
    conf = head.probabilities(oos_x).max(axis=1)
    far = head.centroid_similarity(oos_x) < min_similarity
    need = math.ceil(target_recall * len(conf) - 1e-9) - int(far.sum())
    if need <= 0:
        return 0.0
    near = np.sort(conf[~far])
    return round(min(1.0, float(near[need - 1]) + 1e-4), 4)


def score(version: str, gold: list[str], pred: list[str], *, threshold: float | None = None,
          recall: float | None = None, regression: tuple[list[str], list[str]] = ([], [])) -> Evaluation:
    """An :class:`Evaluation` from held-out ``gold``/``pred`` and regression-set (gold, pred)."""
    from engine.nlu.cli import metrics

    m = metrics(gold, pred)
    classes = sorted(set(gold))
    rg, rp = regression
    return Evaluation(version, float(m["macro_f1"]), float(m["accuracy"]),
                      {c: float(m["per_class"][c]["f1"]) for c in classes},
                      {c: int(m["per_class"][c]["support"]) for c in classes}, len(gold), threshold, recall,
                      sum(g == p for g, p in zip(rg, rp)), len(rg))


def flips(texts: list[str], gold: list[str], before: list[str], after: list[str], source: str) -> list[Flip]:
    """The texts whose answer moved between right and wrong."""
    return [Flip(t, g, b, a, source) for t, g, b, a in zip(texts, gold, before, after) if (b == g) != (a == g)]


def decide(current: Evaluation, candidate: Evaluation, tolerance: float = 0.0, *, broken_regression: int = 0,
           max_broken: int = 0) -> tuple[bool, str, tuple[tuple[str, float, float], ...]]:
    """Promote unless held-out macro-F1 falls by more than ``tolerance`` or more than ``max_broken``
    regression-set turns broke; returns (promote, the reason in words, intents whose F1 dropped)."""
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    regressions = tuple((c, current.per_class[c], candidate.per_class.get(c, 0.0)) for c in sorted(current.per_class)
                        if candidate.per_class.get(c, 0.0) < current.per_class[c])
    delta = candidate.macro_f1 - current.macro_f1
    f1_ok = delta >= -tolerance - 1e-12
    reg_ok = broken_regression <= max_broken
    blocks = []
    if not f1_ok:
        blocks.append(f"held-out macro-F1 fell by more than the tolerance {tolerance}")
    if not reg_ok:
        blocks.append(f"{broken_regression} regression-set turn(s) broken (at most {max_broken} allowed)")
    reason = (f"candidate macro-F1 {candidate.macro_f1:.4f} vs current {current.macro_f1:.4f} "
              f"({delta:+.4f}, tolerance {tolerance}): {'not worse' if f1_ok else 'worse'}")
    if candidate.regression_n:
        reason += (f"; regression set {candidate.regression_right}/{candidate.regression_n} right "
                   f"(current {current.regression_right}), {broken_regression} broken")
    if regressions:
        reason += f"; {len(regressions)} intent(s) regressed" + (" (accepted: macro-F1 holds)" if f1_ok and reg_ok else "")
    if blocks:
        reason += "; blocked: " + "; ".join(blocks)
    return f1_ok and reg_ok, reason, regressions


def blame(broken: list[Flip], labels: list[tuple[Any, str, Any]], vectors: dict[str, np.ndarray],
          contradicted: list[tuple[Any, str, Any]]) -> list[Blame]:
    """The labels behind ``broken`` texts: per text, the nearest label of the intent it now gets
    (``labels``: (label record, masked text, example) triples with vectors by text); plus every
    ``contradicted`` label. Most damaging first."""
    def unit(v: np.ndarray) -> np.ndarray:
        return v / max(float(np.linalg.norm(v)), 1e-9)

    hits: dict[int, list[str]] = {}
    by_id = {lab.record_id: (lab, text) for lab, text, _ in labels}
    for f in broken:
        same = [(lab, text) for lab, text, _ in labels if lab.intent == f.after]
        if not same or f.text not in vectors:
            continue
        v = unit(vectors[f.text])
        lab, _ = max(same, key=lambda lt: float(unit(vectors[lt[1]]) @ v) if lt[1] in vectors else -2.0)
        hits.setdefault(lab.record_id, []).append(f.text)
    out = [Blame(rid, by_id[rid][1], by_id[rid][0].intent, by_id[rid][0].author, f"broke {len(ts)}", tuple(ts))
           for rid, ts in sorted(hits.items(), key=lambda kv: -len(kv[1]))]
    seen = set(hits)
    out += [Blame(lab.record_id, text, lab.intent, lab.author, "contradicted")
            for lab, text, _ in contradicted if lab.record_id not in seen]
    return out
