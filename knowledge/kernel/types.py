"""Typed values that flow between stages and out of the engine.

``Reply`` and ``Source`` are the public contract of docs/contract.md; the others are what one stage
hands the next. All are frozen: a stage returns new values, it does not mutate its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Route",
    "SentimentLabel",
    "SourceKind",
    "Source",
    "IntentPrediction",
    "SentimentPrediction",
    "Entities",
    "NLUResult",
    "Passage",
    "Fact",
    "Reply",
]

Route = Literal["template", "flow", "retrieval", "handoff", "fallback"]
SentimentLabel = Literal["negative", "neutral", "positive"]
SourceKind = Literal["faq", "product", "graph", "order"]


@dataclass(frozen=True)
class Source:
    """Something a reply is grounded on."""

    id: str
    kind: SourceKind
    title: str
    score: float = 1.0


@dataclass(frozen=True)
class IntentPrediction:
    """The intent classifier's decision; ``intent`` is ``"out_of_scope"`` when none fits."""

    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()
    oos_reason: str | None = None
    model: str = ""  # the model version that made it (a registry version, "base"; "" unversioned)
    stage: str = ""  # a two-stage classifier's stage that made it ("fast", "full"); "" single-stage


@dataclass(frozen=True)
class SentimentPrediction:
    label: SentimentLabel
    score: float  # in [-1, 1]; negative below zero


@dataclass(frozen=True)
class Entities:
    """What the entity extractor found in one turn (values normalised, in order of appearance)."""

    order_ids: tuple[str, ...] = ()
    malformed_order_ids: tuple[str, ...] = ()
    product_ids: tuple[str, ...] = ()
    anaphora: bool = False  # "it", "that one", "它", "这个"
    ordinal: int | None = None  # "the second one" -> 2, "the last one" -> -1, "第一个" -> 1
    brands: tuple[str, ...] = ()  # as the catalog spells them: "Aurora"
    sizes: tuple[str, ...] = ()  # "9", "US 10", "EU 42" (42码), "M", "XL"
    colors: tuple[str, ...] = ()  # English names: "black" (also for 黑色), "navy", "grey"
    quantities: tuple[int, ...] = ()  # "two pairs" -> 2, "x3" -> 3, "两个" -> 2
    dates: tuple[str, ...] = ()  # ISO days, relative ones resolved: "yesterday", "上周五" -> "2026-11-06"
    emails: tuple[str, ...] = ()  # lower-cased
    phones: tuple[str, ...] = ()  # digits, with a leading "+" when written: "+8613812345678"


@dataclass(frozen=True)
class NLUResult:
    text: str
    language: str  # "en" | "zh"
    intent: IntentPrediction
    sentiment: SentimentPrediction
    entities: Entities


@dataclass(frozen=True)
class Passage:
    """One retrieved FAQ entry."""

    id: str
    question: str
    answer: str
    language: str
    score: float
    kind: str = "faq"


@dataclass
class Reply:
    """What the engine answers for one turn (docs/contract.md)."""

    text: str
    intent: str
    confidence: float
    route: Route
    sources: list[Source] = field(default_factory=list)
    sentiment: SentimentLabel = "neutral"
    slots: dict[str, Any] = field(default_factory=dict)
    trace: dict[str, Any] = field(default_factory=dict)
    session_id: str = ""
    handoff: bool = False
    handoff_reason: str | None = None  # why a human should take over (for the agent, not the customer)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": self.confidence,
            "route": self.route,
            "sources": [s.__dict__ for s in self.sources],
            "sentiment": self.sentiment,
            "slots": dict(self.slots),
            "trace": dict(self.trace),
            "session_id": self.session_id,
            "handoff": self.handoff,
            "handoff_reason": self.handoff_reason,
        }


@dataclass(frozen=True)
class Fact:
    """One statement from the knowledge graph or catalog, with where it comes from."""

    text: str
    sources: tuple[Source, ...]
