"""The default generator: composes the reply from facts and the best passage, nothing else.

It cannot invent anything: every sentence it returns is a catalog fact or an FAQ answer, cited.
It needs no model, answers in microseconds, and is what the LLM-backed generators fall back to
when their answer fails the grounding check. Kit text is data: a sentence of a fact or an answer
that gives instructions or a contact the store does not list is left out
(:func:`knowledge.kit.content.screen`).

Example:
    >>> ExtractiveGenerator().generate("q", [], [], language="en").grounded
    False
    >>> [chunk for chunk in ExtractiveGenerator().stream("q", [], [])]
    []
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from engine.types import Passage, Source
from knowledge.kit.content import screen

from .base import Answer, Fact, History

__all__ = ["ExtractiveGenerator", "drop_affirmation"]


class ExtractiveGenerator:
    """Facts first (joined), else the top passage's answer; cites what it used.

    Args:
        max_facts: at most this many facts are joined into one reply.
        contacts: the contacts the store lists (:func:`knowledge.kit.content.listed_contacts`);
            sentences with any other are left out. None: contacts are not screened (instructions are).
    """

    def __init__(self, *, max_facts: int = 6, contacts: Iterable[str] | None = None) -> None:
        if max_facts <= 0:
            raise ValueError(f"max_facts must be > 0, got {max_facts}")
        self._max_facts = max_facts
        self._contacts = None if contacts is None else frozenset(contacts)

    def shown(self, text: str) -> str:
        """``text`` as it may be shown or given to a model: without instructions or unlisted contacts."""
        return screen(text, self._contacts).text

    def generate(
        self,
        question: str,
        passages: Sequence[Passage],
        facts: Sequence[Fact],
        *,
        language: str = "en",
        history: History = (),
    ) -> Answer:
        """Facts, else the top passage; ``grounded`` is False (and the text empty) with neither."""
        used = [(f, t) for f in list(facts)[: self._max_facts] if (t := self.shown(f.text))]
        if used:
            sep = "" if language == "zh" else " "
            text = sep.join(t for _, t in used)
            sources = tuple({s.id: s for f, _ in used for s in f.sources}.values())
            return Answer(text=text, sources=sources, grounded=True)
        for top in passages:  # the best passage that has something showable to say
            text = self.shown(top.answer)
            if text:
                source = Source(id=top.id, kind="faq", title=top.question, score=top.score)
                return Answer(text=text, sources=(source,), grounded=True)
        return Answer(text="", sources=(), grounded=False)

    def stream(
        self,
        question: str,
        passages: Sequence[Passage],
        facts: Sequence[Fact],
        *,
        language: str = "en",
        history: History = (),
    ) -> "_Whole":
        """The answer in one chunk (nothing to wait for); ``.answer`` is set once iterated."""
        return _Whole(self.generate(question, passages, facts, language=language, history=history))


class _Whole:
    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        self.answer = self._answer
        if self._answer.text:
            yield self._answer.text


# an answer's opening affirmation ("Yes,", "Yes.", "可以，", "支持，") — said only when the source
# is known to say it about what was asked (knowledge.faq.answerability.Verdict.affirm)
_AFFIRM_RE = re.compile(r"^\s*(?:(?:yes|yep|sure|absolutely|of course)\b[\s,.!:;—-]*|(?:可以|支持|能|是的|有的|当然)[，,。！!：:\s]+)",
                        re.IGNORECASE)


def drop_affirmation(text: str, language: str = "en") -> str:
    """``text`` without an opening "Yes"/"可以" (the rest capitalised), for an answer given
    where the passage may not say yes to what was asked.

    Example:
        >>> drop_affirmation("Yes, we ship to 40+ countries.")
        'We ship to 40+ countries.'
        >>> drop_affirmation("可以，结账时选择门店自提。", "zh")
        '结账时选择门店自提。'
    """
    rest = _AFFIRM_RE.sub("", text, count=1)
    if not rest.strip() or rest == text:
        return text
    return rest[:1].upper() + rest[1:] if language != "zh" else rest
