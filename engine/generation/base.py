"""The generator protocols: question, passages, facts and history in; a cited answer out.

:class:`Generator` is what the router calls; :class:`ChatModel` is what an LLM-backed generator
talks to (a local transformers model or an OpenAI-compatible server), one chat completion at a
time, whole or streamed.

Example:
    >>> gen: Generator = ExtractiveGenerator()                                  # doctest: +SKIP
    >>> gen.generate("how long do refunds take?", passages, [], language="en").text  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from engine.types import Fact, Passage, Source

__all__ = ["Fact", "Answer", "Generator", "StreamingGenerator", "AnswerStream", "ChatMessage", "Completion", "ChatModel",
           "History"]

History = Sequence[tuple[str, str]]  # (speaker "user" | "bot", text), newest last


@dataclass(frozen=True)
class Answer:
    """A generated reply and what it is grounded on.

    Attributes:
        text: what the customer sees ("" when there is nothing grounded to say).
        sources: the citations: the passages and facts the text states.
        grounded: True when every claim in ``text`` comes from ``sources``.
        backend: who wrote ``text`` ("extractive", "transformers", "openai").
        refused: why a model's answer was not used (the grounding check's findings, or the
            model being unavailable); ``text`` then is the extractive answer.
        tokens: tokens the model generated (0 for the extractive backend).
    """

    text: str
    sources: tuple[Source, ...]
    grounded: bool
    backend: str = "extractive"
    refused: tuple[str, ...] = ()
    tokens: int = 0


@runtime_checkable
class Generator(Protocol):
    def generate(
        self,
        question: str,
        passages: Sequence[Passage],
        facts: Sequence[Fact],
        *,
        language: str = "en",
        history: History = (),
    ) -> Answer: ...


@runtime_checkable
class StreamingGenerator(Generator, Protocol):
    """A generator that can also hand its answer over piece by piece (for the chat CLI)."""

    def stream(
        self,
        question: str,
        passages: Sequence[Passage],
        facts: Sequence[Fact],
        *,
        language: str = "en",
        history: History = (),
    ) -> "AnswerStream": ...


class AnswerStream(Protocol):
    """Iterates over text chunks (each already grounding-checked); ``answer`` is set at the end."""

    answer: Answer | None

    def __iter__(self) -> Iterator[str]: ...


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    tokens: int  # generated tokens (the server's count, or the tokenizer's)


@runtime_checkable
class ChatModel(Protocol):
    """One chat completion, whole or streamed (text deltas)."""

    name: str

    def complete(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, temperature: float) -> Completion: ...

    def stream(self, messages: Sequence[ChatMessage], *, max_new_tokens: int, temperature: float) -> Iterator[str]: ...
