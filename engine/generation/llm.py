"""Grounded generation with a chat model: prompt, generate, check, cite — or fall back.

:class:`LLMGenerator` turns passages and facts into numbered sources, asks a :class:`ChatModel`
(local transformers or an OpenAI-compatible server) for an answer, and runs the grounding check
on it. An answer that states anything its sources do not (a number, date, product name, an
order status), or that comes in the wrong language, is replaced by the extractive answer, and the
findings are kept in ``Answer.refused``. A model that is down, fails, answers in a shape we do not
know, or has not finished by the turn's deadline (``deadline_s``: one per turn, covering tries,
retries and streams; :mod:`engine.generation.deadline`) gives the extractive answer too: the
customer always gets a grounded reply. Sources are screened first
(:func:`knowledge.kit.content.screen`): a kit sentence that gives instructions or an unlisted
contact never reaches the prompt.

Streaming releases a sentence only once the answer so far, that sentence included, passes the very
check a whole answer gets (:meth:`GroundingChecker.check` on the prefix: claims glued across
sentences and names read from the whole text are judged as they would be in the whole answer; a
sentence that is no claim alone, such as "Yes." or "可以。", waits for the one it answers). The
stream stops at the first sentence that fails, and its answer is exactly the text shown, so what a
customer saw always passes the whole-answer check; when no sentence passed, the extractive answer
is given instead. The chat CLI and the web channel receive the chunks through :func:`stream_to`.

Example:
    >>> gen = LLMGenerator(model, backend="openai", store="Brightcart")     # doctest: +SKIP
    >>> gen.generate("how long do refunds take?", passages, []).text          # doctest: +SKIP
    'Refunds reach your original payment method 5–7 business days after the return arrives.'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace

from engine.errors import GeneratorUnavailable, ModelError
from engine.types import Passage, Source
from knowledge.kit.content import screen

from .base import Answer, ChatModel, Fact, Generator, History
from .deadline import Deadline, call_within, stream_within, takes_deadline
from .extractive import ExtractiveGenerator
from .claims import says_nothing
from .grounding import CITATION_RE, GroundingChecker, split_claims, split_sentences, take_sentences
from .prompting import build_prompt

__all__ = ["LLMGenerator", "stream_to"]

log = logging.getLogger("shopassist.generation")

_SINK: ContextVar[Callable[[str], None] | None] = ContextVar("shopassist_generation_sink", default=None)
_MARKER_RE = re.compile(r"\d+")


@contextmanager
def stream_to(sink: Callable[[str], None]) -> Iterator[None]:
    """While inside, streaming generators hand each checked chunk of their answer to ``sink``.

    The chat CLI wraps ``engine.respond`` in it to print an answer as it is generated; the reply
    that ``respond`` returns still holds the whole text.

    Example:
        >>> with stream_to(print):                                            # doctest: +SKIP
        ...     reply = engine.respond("s1", "how long do refunds take?")
    """
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


def _sep(language: str) -> str:
    return "" if language == "zh" else " "


_MARKUP_RE = re.compile(r"</?\s*[A-Za-z_]{1,20}\s*>|<\|[^|>]{0,40}\|>|\ufffd")
_FINISHED_RE = re.compile(r"[.!?。！？…)\]）」\"'”]\s*$")


def _display(sentence: str) -> str:
    """What the customer sees of a generated sentence: no citation markers, no echoed tags."""
    return " ".join(_MARKUP_RE.sub(" ", CITATION_RE.sub("", sentence)).split())


def _finished(sentences: list[str]) -> list[str]:
    """Drop a last sentence that the token limit cut off."""
    if sentences and not _FINISHED_RE.search(sentences[-1]):
        return sentences[:-1]
    return sentences


_NO_ANSWER = "no answer (only questions, echoes or an unfinished sentence)"
_OFF_ANCHOR = "off the best source (no claim from the facts or the top passage)"
_QUESTION_END_RE = re.compile(r"[?？]\s*$")
_NON_WORD_RE = re.compile(r"\W+")
# talk about the prompt rather than the store ("the customer has...", "as an AI...", "根据资料")
_META_RE = re.compile(r"\bthe (?:customer|sources?|question)\b|\bas an ai\b|\blanguage model\b|顾客|资料|编号",
                      re.IGNORECASE)


class _Echoes:
    """Sentences that say nothing: questions, and copies of the customer's question, an FAQ's
    question or the prompt itself (small models parrot them). They are left out of answers."""

    def __init__(self, question: str, passages: Sequence[Passage], system: str) -> None:
        self._texts = [_NON_WORD_RE.sub("", t.lower()) for t in (question, system, *(p.question for p in passages))]

    def __contains__(self, sentence: str) -> bool:
        if _QUESTION_END_RE.search(sentence) or _META_RE.search(sentence):
            return True
        key = _NON_WORD_RE.sub("", _display(sentence).lower())
        return len(key) >= 4 and any(key in t for t in self._texts)


class _Sources:
    """The numbered sources of one prompt: their texts and what each cites."""

    def __init__(self, passages: Sequence[Passage], facts: Sequence[Fact], max_passages: int, max_facts: int,
                 contacts: frozenset[str] | None = None) -> None:
        self.texts: list[str] = []
        self.cites: list[tuple[Source, ...]] = []
        for f in list(facts)[:max_facts]:
            text = screen(f.text, contacts).text  # kit text is data: no instructions, no unlisted contacts
            if text:
                self.texts.append(text)
                self.cites.append(f.sources)
        # what the extractive answer is made of: every fact, else the best passage
        self.anchor = list(self.texts) if self.texts else []
        for p in list(passages)[:max_passages]:
            answer = screen(p.answer, contacts).text
            if answer:
                self.texts.append(f"{screen(p.question, contacts).text} {answer}".strip())
                self.cites.append((Source(id=p.id, kind="faq", title=p.question, score=p.score),))
                if not self.anchor:
                    self.anchor = [self.texts[-1]]

    def cited(self, raw: str, shown: str) -> tuple[Source, ...]:
        """The sources ``raw`` cites as ``[n]``; without markers, those sharing most words with ``shown``."""
        picked = [int(n) - 1 for m in CITATION_RE.finditer(raw) for n in _MARKER_RE.findall(m.group(0))]
        picked = [i for i in picked if 0 <= i < len(self.texts)]
        if not picked:
            words = set(re.findall(r"\w+", shown.lower()))
            overlap = [len(words & set(re.findall(r"\w+", t.lower()))) for t in self.texts]
            best = max(overlap, default=0)
            picked = [i for i, o in enumerate(overlap) if best and o * 2 >= best] or [0]
        return tuple({s.id: s for i in dict.fromkeys(picked) for s in self.cites[i]}.values())


class LLMGenerator:
    """A :class:`Generator` over a :class:`ChatModel`, with the grounding check and a fallback.

    Args:
        model: the chat model (local or remote).
        backend: its name in ``Answer.backend`` ("transformers", "openai").
        fallback: answers when the model's answer is refused or the model fails (default:
            :class:`ExtractiveGenerator`).
        checker: the grounding check (give it the catalog's product and brand names).
        store: the store's name, for the system prompt.
        max_passages: FAQ passages put in the prompt.
        max_facts: catalog facts put in the prompt.
        max_new_tokens: the answer's length limit.
        temperature: sampling temperature (0: greedy).
        history_turns: earlier turns put in the prompt.
        deadline_s: one deadline per turn for the model (every try, retry and stream); past it the
            extractive answer is given.
        contacts: the contacts the store lists (:func:`knowledge.kit.content.listed_contacts`):
            source sentences with others are left out of prompts. None: only instructions are.

    Example:
        >>> LLMGenerator(model, backend="transformers").generate("q", [], []).grounded  # doctest: +SKIP
        False
    """

    def __init__(
        self,
        model: ChatModel,
        *,
        backend: str,
        fallback: Generator | None = None,
        checker: GroundingChecker | None = None,
        store: str = "our store",
        max_passages: int = 3,
        max_facts: int = 6,
        max_new_tokens: int = 160,
        temperature: float = 0.0,
        history_turns: int = 4,
        deadline_s: float = 5.0,
        contacts: Iterable[str] | None = None,
    ) -> None:
        for name, value in (("max_passages", max_passages), ("max_facts", max_facts),
                            ("max_new_tokens", max_new_tokens), ("deadline_s", deadline_s)):
            if value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if history_turns < 0:
            raise ValueError(f"history_turns must be >= 0, got {history_turns}")
        self.model = model
        self.backend = backend
        self._contacts = None if contacts is None else frozenset(contacts)
        self._fallback = fallback if fallback is not None else ExtractiveGenerator(max_facts=max_facts,
                                                                                   contacts=self._contacts)
        self._checker = checker if checker is not None else GroundingChecker()
        self._store = store
        self._max_passages, self._max_facts = max_passages, max_facts
        self._max_new_tokens, self._temperature = max_new_tokens, temperature
        self._history_turns = history_turns
        self.deadline_s = deadline_s

    def warm_up(self) -> None:
        """Load the model now (a local model) rather than on the first question."""
        warm = getattr(self.model, "warm_up", None)
        if warm is not None:
            warm()

    # -- the public verbs ---------------------------------------------------------------------
    def generate(
        self,
        question: str,
        passages: Sequence[Passage],
        facts: Sequence[Fact],
        *,
        language: str = "en",
        history: History = (),
    ) -> Answer:
        """A checked, cited answer; streamed to the sink of :func:`stream_to` when one is set."""
        sink = _SINK.get()
        if sink is not None:
            stream = self.stream(question, passages, facts, language=language, history=history)
            for chunk in stream:
                sink(chunk)
            assert stream.answer is not None
            return stream.answer
        sources = self._sources(passages, facts)
        if not sources.texts:  # nothing to ground an answer on
            return self._fallback.generate(question, passages, facts, language=language, history=history)
        deadline = Deadline(self.deadline_s)
        messages = self._prompt(question, sources, language, history)
        options = self._options(self.model.complete, deadline)
        try:
            completion = call_within(lambda: self.model.complete(messages, **options), deadline)
            if not isinstance(completion.text, str):
                raise GeneratorUnavailable(f"the model answered a {type(completion.text).__name__}, not text")
        except (GeneratorUnavailable, ModelError) as exc:
            return self._refuse(question, passages, facts, language, history, (_unavailable(exc),), 0)
        tokens = completion.tokens if isinstance(completion.tokens, int) else 0
        echoes = self._echoes(question, passages)
        kept = _finished(_dedupe([x for x in split_sentences(completion.text) if _display(x) and x not in echoes]))
        raw = _sep(language).join(kept)
        text = _sep(language).join(_display(s) for s in kept)
        problems = self._checker.check(text, sources.texts, language=language) if text else (_NO_ANSWER,)
        if not problems and not self._anchored(text, sources):
            problems = (_OFF_ANCHOR,)
        if problems:
            return self._refuse(question, passages, facts, language, history, problems, tokens)
        return Answer(text, sources.cited(raw, text), True, backend=self.backend, tokens=tokens)

    def stream(
        self,
        question: str,
        passages: Sequence[Passage],
        facts: Sequence[Fact],
        *,
        language: str = "en",
        history: History = (),
    ) -> "_CheckedStream":
        """The answer as checked chunks (one sentence each); ``.answer`` holds it all at the end."""
        return _CheckedStream(self, question, passages, facts, language, history)

    # -- helpers --------------------------------------------------------------------------------
    def _sources(self, passages: Sequence[Passage], facts: Sequence[Fact]) -> _Sources:
        return _Sources(passages, facts, self._max_passages, self._max_facts, self._contacts)

    def _options(self, method: Callable[..., object], deadline: Deadline) -> dict[str, object]:
        options: dict[str, object] = {"max_new_tokens": self._max_new_tokens, "temperature": self._temperature}
        if takes_deadline(method):  # the model stops its own retries and generation at the deadline too
            options["deadline"] = deadline.at
        return options

    def _anchored(self, text: str, sources: _Sources) -> bool:
        """Whether a claim of ``text`` comes from what the extractive answer is made of (the facts,
        else the best passage): an answer built only on the other sources is unsure of the question."""
        return any(not self._checker.check(claim, sources.anchor) for claim in split_claims(text))

    def _prompt(self, question: str, sources: _Sources, language: str, history: History):
        recent = list(history)[-self._history_turns:] if self._history_turns else []
        return build_prompt(question, sources.texts, language=language, history=recent, store=self._store)

    def _echoes(self, question: str, passages: Sequence[Passage]) -> _Echoes:
        return _Echoes(question, list(passages)[: self._max_passages],
                       build_prompt("", [], store=self._store)[0].content + build_prompt(
                           "", [], language="zh", store=self._store)[0].content)

    def _refuse(self, question: str, passages: Sequence[Passage], facts: Sequence[Fact], language: str,
                history: History, problems: tuple[str, ...], tokens: int) -> Answer:
        log.info("%s answer not used (%s); answering extractively", self.backend, ", ".join(problems))
        fallback = self._fallback.generate(question, passages, facts, language=language, history=history)
        return replace(fallback, refused=problems, tokens=tokens)


def _unavailable(exc: Exception) -> str:
    text = str(exc)
    return text if text.startswith("deadline") else f"unavailable: {text}"


def _dedupe(sentences: list[str]) -> list[str]:
    """Sentences up to the first repeat (small models loop)."""
    seen: set[str] = set()
    kept = []
    for s in sentences:
        key = " ".join(_display(s).lower().split())
        if key in seen:
            break
        seen.add(key)
        kept.append(s)
    return kept


def _sentences(chunks: Iterator[str], count: list[int]) -> Iterator[tuple[str, bool]]:
    """(sentence, is the unfinished tail) as the model's text deltas complete them; counts deltas."""
    buffer = ""
    for delta in chunks:
        count[0] += 1
        done, buffer = take_sentences(buffer + delta)
        yield from ((x, False) for x in done if _display(x))
    yield from ((x, True) for x in split_sentences(buffer) if _display(x))


class _CheckedStream:
    """Iterates over an answer sentence by sentence; each is released once the answer so far passes
    the whole-answer check, before the turn's deadline."""

    def __init__(self, gen: LLMGenerator, question: str, passages: Sequence[Passage], facts: Sequence[Fact],
                 language: str, history: History) -> None:
        self._gen, self._question, self._passages, self._facts = gen, question, passages, facts
        self._language, self._history = language, history
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        gen, lang = self._gen, self._language
        sources = gen._sources(self._passages, self._facts)
        if not sources.texts:
            self.answer = gen._fallback.generate(self._question, self._passages, self._facts, language=lang,
                                                 history=self._history)
            if self.answer.text:
                yield self.answer.text
            return
        deadline = Deadline(gen.deadline_s)
        shown: list[str] = []
        raw: list[str] = []
        pending: list[str] = []  # sentences that wait for the claim they belong to ("Yes." before its clause)
        seen: set[str] = set()
        problems: tuple[str, ...] = ()
        deltas = [0]
        messages = gen._prompt(self._question, sources, lang, self._history)
        options = gen._options(gen.model.stream, deadline)
        chunks = stream_within(lambda: gen.model.stream(messages, **options), deadline)
        try:
            echoes = gen._echoes(self._question, self._passages)
            for sentence, tail in _sentences(chunks, deltas):
                if tail and not _FINISHED_RE.search(sentence):
                    break  # cut off by the token limit: leave it out
                if sentence in echoes:
                    continue
                key = " ".join(_display(sentence).lower().split())
                if key in seen:
                    problems = ("repeat",)
                    break
                seen.add(key)
                pending.append(sentence)
                if says_nothing(_display(sentence)) and not tail:
                    continue  # released with the sentence it answers, checked with it
                problems = self._check(pending, shown, sources)
                if problems:
                    break
                if not shown and not gen._anchored(_sep(lang).join(_display(x) for x in pending), sources):
                    continue  # held until a claim from the facts or the top passage comes with it
                yield (_sep(lang) if shown else "") + _sep(lang).join(_display(x) for x in pending)
                shown += [_display(x) for x in pending]
                raw += pending
                pending = []
        except (GeneratorUnavailable, ModelError) as exc:
            problems = (_unavailable(exc),)
        finally:
            chunks.close()  # stops the model (or the HTTP response) early
        if problems == ("repeat",):
            problems = ()  # a loop after good sentences: the answer simply ends there
        if pending and not shown and not problems:
            problems = (_OFF_ANCHOR,)
        if shown:
            text = _sep(lang).join(shown)
            self.answer = Answer(text, sources.cited(_sep(lang).join(raw), text), True, backend=gen.backend,
                                 refused=problems, tokens=deltas[0])
            return
        self.answer = gen._refuse(self._question, self._passages, self._facts, lang, self._history,
                                  problems or (_NO_ANSWER,), deltas[0])
        if self.answer.text:
            yield self.answer.text

    def _check(self, sentences: list[str], shown: list[str], sources: _Sources) -> tuple[str, ...]:
        """The whole-answer check on what would be shown with ``sentences`` added."""
        prefix = _sep(self._language).join([*shown, *(_display(x) for x in sentences)])
        return self._gen._checker.check(prefix, sources.texts, language=self._language)
