"""Review: which recent turns are most worth a person's label, and the labels they give.

Feedback records of one turn (a customer's ``/bad``, the automatic low-confidence capture, ...)
are grouped into one :class:`ReviewItem` and scored by how much a label would teach the model:
negative feedback first, then disagreement (a correction that differs from the prediction, or
feedback that contradicts itself), hand-offs, and low confidence (lower ranks higher); recent
turns break ties. A label is another feedback record (``kind="label"``) that refers to the
item's id and names the reviewer, so labels are as durable as the store and carry who and when;
a withdrawal (``kind="unlabel"``, :func:`unlabel_record`) takes the turn's label back, naming who
withdrew it. Records of one turn are one item whatever their source wrote (the same session and
turn number, the same text once masked and width-folded), so the queue holds each turn once.
Texts are shown and labelled masked (placeholders such as ``[email]``, :func:`engine.privacy.mask_pii`),
also those of records stored before the stores masked them.

Example:
    >>> items = rank_for_review(store.feedback(), limit=10)            # doctest: +SKIP
    >>> store.add_feedback(label_record(items[0], "track_order", author="ana"))  # doctest: +SKIP
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.nlu.base import OUT_OF_SCOPE
from engine.privacy import mask_pii

from .capture import parse_sources

__all__ = ["ReviewItem", "Label", "group_turns", "rank_for_review", "label_record", "unlabel_record",
           "reviewed_labels", "confirmed_turns"]


@dataclass(frozen=True)
class Label:
    """A reviewer's label of one turn."""

    intent: str
    author: str
    at: float
    record_id: int


@dataclass(frozen=True)
class ReviewItem:
    """One turn with everything recorded about it; ``id`` is what ``learn label`` takes."""

    id: int
    session_id: str
    turn: int | None
    text: str
    intent: str | None
    confidence: float | None
    route: str | None
    model_version: str | None
    sources: tuple[str, ...]
    ratings: tuple[int, ...]
    corrections: tuple[str, ...]
    reasons: tuple[str, ...]
    score: float
    last_at: float
    record_ids: tuple[int, ...]
    label: Label | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "label"}
        out["label"] = None if self.label is None else vars(self.label)
        return out


def _key(r: dict[str, Any]) -> tuple:
    # session + turn number + text: a reset conversation numbers its turns from 1 again; the text
    # compared masked and width-folded, as a record stored before masking (or by another source)
    # may hold it unmasked or with full-width punctuation
    text = unicodedata.normalize("NFKC", mask_pii(str(r.get("text") or ""))).casefold()
    return (r.get("session_id"), r.get("turn"), " ".join(text.split()))


def _labels(records: list[dict[str, Any]]) -> dict[int, tuple[int, Label | None]]:
    """The latest word per referenced record id: (its record id, the label, or None: withdrawn)."""
    out: dict[int, tuple[int, Label | None]] = {}
    for r in sorted((r for r in records if r.get("kind") in ("label", "unlabel") and r.get("ref") is not None),
                    key=lambda r: int(r["id"])):
        label = None if r.get("kind") == "unlabel" else Label(
            str(r.get("correction")), str(r.get("author") or ""), float(r.get("created_at") or 0.0), int(r["id"]))
        out[int(r["ref"])] = (int(r["id"]), label)
    return out


def _score(intent: str | None, confidence: float | None, ratings: list[int], corrections: list[str],
           auto_reasons: set[str], low_below: float) -> tuple[float, tuple[str, ...]]:
    reasons: list[str] = []
    score = 0.0
    if -1 in ratings:
        score += 3.0
        reasons.append("negative_feedback")
    if any(c != intent for c in corrections) or len(set(corrections)) > 1 or {1, -1} <= set(ratings):
        score += 2.0
        reasons.append("disagreement")
    if auto_reasons & {"handoff", "handoff_requested"}:
        score += 1.0
        reasons.append("handoff")
    if confidence is not None:
        score += 2.0 * (1.0 - min(1.0, max(0.0, float(confidence))))
        if confidence < low_below or intent == OUT_OF_SCOPE:
            reasons.append("low_confidence")
    if ratings and all(r == 1 for r in ratings) and not corrections:
        score -= 1.0  # the customer was happy: least to learn
        reasons.append("positive_feedback")
    return round(score, 4), tuple(reasons)


def group_turns(records: Iterable[dict[str, Any]], *, low_below: float = 0.5) -> list[ReviewItem]:
    """Feedback records grouped per turn, with their labels and informativeness score."""
    records = list(records)
    labels = _labels(records)
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        if r.get("kind") in ("label", "unlabel") or not r.get("text"):
            continue  # labels are attached below; feedback on no turn has nothing to learn from
        groups.setdefault(_key(r), []).append(r)
    items = []
    for group in groups.values():
        group.sort(key=lambda r: int(r["id"]))
        first = group[0]
        ratings = [int(r["rating"]) for r in group if r.get("rating") is not None]
        corrections = [str(r["correction"]) for r in group if r.get("correction")]
        auto = {part for r in group for part in str(r.get("reason") or "").split(",") if part}
        conf = next((float(r["confidence"]) for r in group if r.get("confidence") is not None), None)
        score, reasons = _score(first.get("intent"), conf, ratings, corrections, auto, low_below)
        ids = tuple(int(r["id"]) for r in group)
        latest = max((labels[i] for i in ids if i in labels), key=lambda w: w[0], default=(0, None))
        label = latest[1]
        items.append(ReviewItem(
            id=ids[0], session_id=str(first.get("session_id")), turn=first.get("turn"),
            text=mask_pii(str(first["text"])),
            intent=first.get("intent"), confidence=conf, route=first.get("route"),
            model_version=next((r["model_version"] for r in group if r.get("model_version")), None),
            sources=next((parse_sources(r["sources"]) for r in group if r.get("sources")), ()),
            ratings=tuple(ratings), corrections=tuple(corrections), reasons=reasons, score=score,
            last_at=max(float(r.get("created_at") or 0.0) for r in group), record_ids=ids, label=label,
        ))
    return items


def rank_for_review(
    records: Iterable[dict[str, Any]],
    *,
    limit: int = 20,
    since: float | None = None,
    include_labelled: bool = False,
    low_below: float = 0.5,
) -> list[ReviewItem]:
    """The ``limit`` most informative turns (newer than ``since``, a UNIX time), best first."""
    if limit <= 0:
        raise ValueError(f"limit must be > 0, got {limit}")
    items = [i for i in group_turns(records, low_below=low_below)
             if (include_labelled or i.label is None) and (since is None or i.last_at >= since)]
    items.sort(key=lambda i: (-i.score, -i.last_at))
    return items[:limit]


def label_record(item: ReviewItem, intent: str, *, author: str) -> dict[str, Any]:
    """The feedback record that stores ``author``'s label ``intent`` for ``item`` (the store
    stamps ``created_at``: the when)."""
    if not intent or not intent.strip():
        raise ValueError("a label needs an intent")
    if not author:
        raise ValueError("a label needs its author")
    return {"session_id": item.session_id, "turn": item.turn, "kind": "label", "ref": item.id,
            "text": item.text, "intent": item.intent, "confidence": item.confidence,
            "model_version": item.model_version, "correction": intent.strip(), "author": author}


def unlabel_record(item: ReviewItem, *, author: str) -> dict[str, Any]:
    """The feedback record that withdraws ``item``'s label, naming who withdrew it.

    Raises:
        ValueError: the item has no label to withdraw, or no author is given.
    """
    if item.label is None:
        raise ValueError(f"turn #{item.id} has no label to withdraw")
    if not author:
        raise ValueError("a withdrawal needs its author")
    return {"session_id": item.session_id, "turn": item.turn, "kind": "unlabel", "ref": item.id,
            "text": item.text, "intent": item.intent, "correction": None, "author": author,
            "comment": f"withdrew {item.label.intent} (labelled by {item.label.author or '-'})"}


def reviewed_labels(records: Iterable[dict[str, Any]]) -> list[tuple[str, Label]]:
    """(text, label) for every labelled turn: the latest label of each, oldest turn first."""
    return [(i.text, i.label) for i in sorted(group_turns(records), key=lambda i: i.id) if i.label is not None]


def confirmed_turns(records: Iterable[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(text, intent, source) of the turns known to be answered right, for the regression set: a
    reviewer's label agreeing with the prediction (``label``), or a customer's ``/good`` on an
    in-scope answer nobody corrected or labelled otherwise (``good``). Oldest first."""
    out = []
    for i in sorted(group_turns(records), key=lambda i: i.id):
        if not i.intent or i.intent == OUT_OF_SCOPE:
            continue
        if i.label is not None:
            if i.label.intent == i.intent:
                out.append((i.text, i.intent, "label"))
        elif i.ratings and all(r == 1 for r in i.ratings) and not i.corrections:
            out.append((i.text, i.intent, "good"))
    return out
