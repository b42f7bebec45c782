"""The generator protocol: question, passages and facts in; a cited answer out.

Example:
    >>> gen: Generator = ExtractiveGenerator()                                  # doctest: +SKIP
    >>> gen.generate("how long do refunds take?", passages, [], language="en").text  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from engine.types import Passage, Source

__all__ = ["Fact", "Answer", "Generator"]


@dataclass(frozen=True)
class Fact:
    """One statement from the knowledge graph or catalog, with where it comes from."""

    text: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Answer:
    text: str
    sources: tuple[Source, ...]
    grounded: bool


@runtime_checkable
class Generator(Protocol):
    def generate(
        self,
        question: str,
        passages: Sequence[Passage],
        facts: Sequence[Fact],
        *,
        language: str = "en",
    ) -> Answer: ...
