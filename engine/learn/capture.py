"""Capture: the feedback records that link a turn to what the engine did with it.

One record shape for every source, stored by the tracker store (``FEEDBACK_FIELDS``): a customer's
rating or correction (``kind="user"``), a turn captured automatically because it was handed off
or classified with low confidence (``kind="auto"``, committed with the turn itself), and a
reviewer's label (``kind="label"``, see :mod:`engine.learn.review`). Each names the turn (session,
turn number, text), what the engine predicted (intent, confidence, route, sources) and the intent
model version that predicted it.

Example:
    >>> capture_reason(LearnSettings(), intent="track_order", confidence=0.2, handoff=False)
    'low_confidence'
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from engine.settings import LearnSettings

__all__ = ["UnknownIntent", "check_intent", "capture_reason", "turn_record", "parse_sources"]


class UnknownIntent(ValueError):
    """A correction or label naming no intent of the catalog (the message suggests the closest)."""


def check_intent(intent: str, known: Iterable[str]) -> str:
    """``intent`` stripped, when it is one of ``known`` (the intent catalog's names).

    Raises:
        UnknownIntent: it is not; the message names the closest known intent, if one is close.

    Example:
        >>> check_intent("trak_order", ["track_order", "greet"])
        Traceback (most recent call last):
        ...
        engine.learn.capture.UnknownIntent: unknown intent 'trak_order'; did you mean track_order?
    """
    import difflib

    name = (intent or "").strip()
    names = sorted(set(known))
    if name in names:
        return name
    close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else f"one of: {', '.join(names)}"
    raise UnknownIntent(f"unknown intent {name!r}; {hint}")


def capture_reason(settings: LearnSettings, *, intent: str, confidence: float, handoff: bool) -> str | None:
    """Why a turn is captured for review automatically (``handoff``, ``low_confidence``, both), or None.

    ``intent`` is empty for turns the classifier never saw (empty or too long input, errors):
    those are captured only when handed off.
    """
    reasons = []
    if handoff and settings.capture_handoffs:
        reasons.append("handoff")
    if intent and confidence < settings.capture_below:
        reasons.append("low_confidence")
    return ",".join(reasons) or None


def turn_record(
    session_id: str,
    turn: int,
    *,
    kind: str,
    text: str | None,
    intent: str | None,
    confidence: float | None,
    route: str | None,
    sources: Iterable[str] = (),
    model_version: str | None = None,
    reason: str | None = None,
    rating: int | None = None,
    correction: str | None = None,
    comment: str | None = None,
) -> dict[str, Any]:
    """A feedback record for ``turn`` of ``session_id`` (the columns of ``FEEDBACK_FIELDS``)."""
    ids = [str(s) for s in sources]
    return {
        "session_id": session_id,
        "turn": turn,
        "kind": kind,
        "reason": reason,
        "rating": rating,
        "correction": correction,
        "comment": (comment or "")[:2000] or None,
        "text": text,
        "intent": intent or None,
        "confidence": None if confidence is None else round(float(confidence), 4),
        "route": route,
        "sources": json.dumps(ids, ensure_ascii=False) if ids else None,
        "model_version": model_version or None,
    }


def parse_sources(value: Any) -> tuple[str, ...]:
    """The source ids of a stored record (a JSON list; tolerant of older and foreign rows)."""
    if not value:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return (str(value),)
    return tuple(str(v) for v in data) if isinstance(data, list) else (str(data),)
