"""The default generator: composes the reply from facts and the best passage, nothing else.

It cannot invent anything: every sentence it returns is a catalog fact or an FAQ answer, cited.

Example:
    >>> ExtractiveGenerator().generate("q", [], [], language="en").grounded
    False
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.types import Passage, Source

from .base import Answer, Fact

__all__ = ["ExtractiveGenerator"]


class ExtractiveGenerator:
    """Facts first (joined), else the top passage's answer; cites what it used."""

    def __init__(self, *, max_facts: int = 6) -> None:
        if max_facts <= 0:
            raise ValueError(f"max_facts must be > 0, got {max_facts}")
        self._max_facts = max_facts

    def generate(
        self,
        question: str,
        passages: Sequence[Passage],
        facts: Sequence[Fact],
        *,
        language: str = "en",
    ) -> Answer:
        if facts:
            used = list(facts)[: self._max_facts]
            sep = "" if language == "zh" else " "
            text = sep.join(f.text for f in used)
            sources = tuple({s.id: s for f in used for s in f.sources}.values())
            return Answer(text=text, sources=sources, grounded=True)
        if passages:
            top = passages[0]
            source = Source(id=top.id, kind="faq", title=top.question, score=top.score)
            return Answer(text=top.answer, sources=(source,), grounded=True)
        return Answer(text="", sources=(), grounded=False)
