"""The NLU stage: language, intent (with out-of-scope), sentiment and entities for one turn.

Example:
    >>> nlu = NLUPipeline(classifier, LexiconSentimentAnalyzer(), RuleEntityExtractor(linker))  # doctest: +SKIP
    >>> nlu.parse("where is my order 100023?").intent.intent                                    # doctest: +SKIP
    'track_order'
"""

from __future__ import annotations

import time
from typing import Any

from engine.text import detect_language, without_opener
from engine.types import IntentPrediction, NLUResult

from .base import EntityExtractor, IntentClassifier, SentimentAnalyzer

__all__ = ["NLUPipeline"]


class NLUPipeline:
    def __init__(
        self,
        classifier: IntentClassifier,
        sentiment: SentimentAnalyzer,
        entities: EntityExtractor,
        *,
        languages: tuple[str, ...] | None = None,
    ) -> None:
        self._languages = tuple(languages) if languages else None
        self.classifier = classifier
        self.sentiment = sentiment
        self.entities = entities

    def reply_language(self, detected: str) -> str:
        """``detected`` when the store lists it (or lists none), else the store's first language."""
        if self._languages is None or detected in self._languages:
            return detected
        return self._languages[0]

    def _classify(self, text: str) -> IntentPrediction:
        """The intent of ``text``, read without an opening acknowledgement when that reads surer.

        "cool. when is it arriving anyway" is a delivery question: the "cool." only thanks the
        last answer, yet it pulls the whole message towards small talk and under the threshold.
        """
        intent = self.classifier.classify(text)
        rest = without_opener(text)
        if rest == text or (len(rest.split()) < 2 and len(rest) < 4):  # nothing, or next to nothing, after it
            return intent
        plain = self.classifier.classify(rest)
        return plain if plain.confidence > intent.confidence else intent

    def parse(self, text: str, trace: dict[str, Any] | None = None) -> NLUResult:
        """Analyse ``text``; per-stage milliseconds go into ``trace`` when given."""
        t0 = time.perf_counter()
        intent = self._classify(text)
        t1 = time.perf_counter()
        sentiment = self.sentiment.analyze(text)
        t2 = time.perf_counter()
        entities = self.entities.extract(text)
        t3 = time.perf_counter()
        if trace is not None:
            trace["intent_ms"] = round((t1 - t0) * 1000, 3)
            trace["sentiment_ms"] = round((t2 - t1) * 1000, 3)
            trace["entities_ms"] = round((t3 - t2) * 1000, 3)
        return NLUResult(
            text=text,
            language=self.reply_language(detect_language(text)),
            intent=intent,
            sentiment=sentiment,
            entities=entities,
        )
