"""Comparing a candidate intent head with the serving one: scores, flipped texts, the promotion rule.

Both models are judged the same way on the same examples: the fixed held-out split of the base
examples (macro-F1 per intent) plus the frozen regression set of real past turns (how many stay
right). Each gets its own out-of-scope threshold, chosen so it flags at least as much of the
packaged out-of-scope set (``engine/nlu/data/oos.yaml``, never trained on) as the serving model
does at its threshold: a model that is more (or less) sure of itself is not punished for borderline
messages sliding under a cut-off chosen for another model.

The promotion rule, as :func:`decide` applies it:

* **blocks**: held-out macro-F1 of the intent each model picks (the out-of-scope cut-off aside:
  what wrong labels damage) falling by more than the tolerance (``learn.promote_tolerance``);
  on the regression set, or on the held-out split, more texts broken (right before, wrong now)
  than fixed by over 1% of the set (``max_broken``).
* **accepted**: single intents whose F1 drops while those hold, and texts moving across the
  out-of-scope cut-off either way while as many are fixed as broken; they are reported with the
  texts that flipped.

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


def score(version: str, gold: list[str], pred: list[str], *, closed: list[str] | None = None,
          threshold: float | None = None, recall: float | None = None,
          regression: tuple[list[str], list[str]] = ([], [])) -> Evaluation:
    """An :class:`Evaluation`: macro-F1 and per-intent F1 of the intent each model picks
    (``closed``: its top intent, the out-of-scope cut-off aside: what labels can damage), accuracy
    of what it answers (``pred``, cut-off included), and the regression set's (gold, pred)."""
    from engine.nlu.cli import metrics

    m = metrics(gold, closed if closed is not None else pred)
    classes = sorted(set(gold))
    rg, rp = regression
    accuracy = round(sum(g == p for g, p in zip(gold, pred)) / max(1, len(gold)), 4)
    return Evaluation(version, float(m["macro_f1"]), accuracy,
                      {c: float(m["per_class"][c]["f1"]) for c in classes},
                      {c: int(m["per_class"][c]["support"]) for c in classes}, len(gold), threshold, recall,
                      sum(g == p for g, p in zip(rg, rp)), len(rg))


def flips(texts: list[str], gold: list[str], before: list[str], after: list[str], source: str) -> list[Flip]:
    """The texts whose answer moved between right and wrong."""
    return [Flip(t, g, b, a, source) for t, g, b, a in zip(texts, gold, before, after) if (b == g) != (a == g)]


def decide(current: Evaluation, candidate: Evaluation, tolerance: float = 0.0, *, net_broken: int = 0,
           max_broken: int = 0, net_broken_heldout: int = 0, max_broken_heldout: int | None = None,
           ) -> tuple[bool, str, tuple[tuple[str, float, float], ...]]:
    """Apply the promotion rule; returns (promote, the reason in words, intents whose F1 dropped).

    Blocks: intent-choice macro-F1 on the held-out split falling by more than ``tolerance``; more
    regression-set turns broken than fixed by over ``max_broken`` (``net_broken``); the same on
    the held-out split (``net_broken_heldout`` over ``max_broken_heldout``; None: not checked).
    Accepted: single intents dropping while those hold (listed).
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    regressions = tuple((c, current.per_class[c], candidate.per_class.get(c, 0.0)) for c in sorted(current.per_class)
                        if candidate.per_class.get(c, 0.0) < current.per_class[c])
    delta = candidate.macro_f1 - current.macro_f1
    blocks = []
    if delta < -tolerance - 1e-12:
        blocks.append(f"held-out macro-F1 fell by more than the tolerance {tolerance}")
    if net_broken > max_broken:
        blocks.append(f"{net_broken} more regression-set turn(s) broken than fixed (at most {max_broken} allowed)")
    if max_broken_heldout is not None and net_broken_heldout > max_broken_heldout:
        blocks.append(f"{net_broken_heldout} more held-out example(s) broken than fixed "
                      f"(at most {max_broken_heldout} allowed)")
    reason = (f"candidate macro-F1 {candidate.macro_f1:.4f} vs current {current.macro_f1:.4f} "
              f"({delta:+.4f}, tolerance {tolerance}): {'worse' if delta < -tolerance - 1e-12 else 'not worse'}")
    if candidate.regression_n:
        reason += (f"; regression set {candidate.regression_right}/{candidate.regression_n} right "
                   f"(current {current.regression_right})")
    if regressions:
        reason += f"; {len(regressions)} intent(s) regressed" + ("" if blocks else " (accepted: the rule holds)")
    if blocks:
        reason += "; blocked: " + "; ".join(blocks)
    return not blocks, reason, regressions


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
