"""Protocols of the NLU stage: one verb each.

Example:
    >>> clf: IntentClassifier = ...          # doctest: +SKIP
    >>> clf.classify("where is my order?").intent   # doctest: +SKIP
    'track_order'
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from engine.types import Entities, IntentPrediction, SentimentPrediction

__all__ = ["IntentClassifier", "SentimentAnalyzer", "EntityExtractor", "OUT_OF_SCOPE"]

OUT_OF_SCOPE = "out_of_scope"


@runtime_checkable
class IntentClassifier(Protocol):
    def classify(self, text: str) -> IntentPrediction: ...


@runtime_checkable
class SentimentAnalyzer(Protocol):
    def analyze(self, text: str) -> SentimentPrediction: ...


@runtime_checkable
class EntityExtractor(Protocol):
    def extract(self, text: str) -> Entities: ...
