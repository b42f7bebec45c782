"""Answerability: does the best FAQ passage answer this question? A decision of its own.

The retriever ranks; this module decides whether the top passage may be given as the answer,
and whether it may be given *as a yes*. It reads a few features of the top passage
(:class:`AnswerFeatures`, measured by :meth:`knowledge.faq.index.HybridFAQRetriever.answer_features`):

- ``score``/``margin``: the fused score and its lead over the runner-up;
- ``cosine``: the dense similarity of the question and the passage (alternates included);
- ``coverage``: the idf-weighted share of the question's terms the passage holds.

A passage is answerable when its score clears the language's bar. An answer that opens with an
affirmation ("Yes", "可以") is only given as such when the passage also holds most of what was
asked (``coverage`` at least ``affirm_coverage``): an adjacent FAQ that shares the topic but not
the question's subject ("a shop in Miami?" → the store-locations FAQ) must not say "yes" to it.

What this does not do yet (measured in benchmarks/faq_fresh.py, reported in benchmarks/README.md):
separate right from adjacent answers whose scores overlap; a learned judge is the next step.

Example:
    >>> f = AnswerFeatures(score=0.9, margin=0.1, cosine=0.9, coverage=0.8, terms=4)
    >>> AnswerabilityJudge().judge(f, bar=0.7).answerable
    True
    >>> AnswerabilityJudge().judge(f, bar=0.95).reason
    'score 0.900 under 0.950'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AnswerFeatures", "Verdict", "AnswerabilityJudge"]


@dataclass(frozen=True)
class AnswerFeatures:
    """What the decision reads about one question and its best passage (see the module doc)."""

    score: float
    margin: float
    cosine: float
    coverage: float
    terms: int


@dataclass(frozen=True)
class Verdict:
    """The decision on one question's best passage.

    Attributes:
        answerable: the passage may be given as the answer.
        probability: how sure, in [0, 1] (today the fused score).
        affirm: the passage may open with its own "yes" (else a leading affirmation is dropped).
        reason: why, for traces.
    """

    answerable: bool
    probability: float
    affirm: bool = False
    reason: str = ""


class AnswerabilityJudge:
    """Decides :class:`Verdict` from :class:`AnswerFeatures`.

    Args:
        bar: the default answer threshold on the fused score (callers pass the language's).
        affirm_coverage: the share of the question's information the passage must hold before
            its answer may open with "yes".
    """

    def __init__(self, *, bar: float = 0.735, affirm_coverage: float = 0.5) -> None:
        if not -1.0 <= bar <= 1.0:
            raise ValueError(f"bar must be in [-1, 1], got {bar}")
        if not 0.0 <= affirm_coverage <= 1.0:
            raise ValueError(f"affirm_coverage must be in [0, 1], got {affirm_coverage}")
        self._bar, self._affirm = bar, affirm_coverage

    def judge(self, features: AnswerFeatures | None, *, bar: float | None = None) -> Verdict:
        """The verdict for one question (``features`` None: nothing was retrieved)."""
        if features is None:
            return Verdict(False, 0.0, reason="no passage")
        bar = self._bar if bar is None else bar
        p = max(0.0, min(1.0, features.score))
        if features.score < bar:
            return Verdict(False, p, reason=f"score {features.score:.3f} under {bar:.3f}")
        affirm = features.coverage >= self._affirm
        return Verdict(True, p, affirm=affirm, reason=f"score {features.score:.3f}, coverage {features.coverage:.2f}")
