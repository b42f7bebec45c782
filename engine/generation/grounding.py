"""The grounding check: every claim of a generated answer must be supported by one source sentence.

An answer is split into claims (:func:`engine.generation.claims.split_claims`: sentences, then
clauses, in English and Chinese). Each claim is matched with the source unit (a clause or a whole
sentence of one source) that shares most of its words; in that one unit the claim must find

- every number with its unit (a "24-month warranty" is refused where the matching sentence says
  12 months, and where 24 months is said of something else in another source);
- the same polarity (negations counted in both languages: a flipped "not" / "不" is refused);
- every e-mail address, URL and phone number (and, when the store's contacts are given, only
  those), every date word and every promise-widening word ("every", "free", "worldwide", "所有",
  "免费"...: an injected promise is refused);
- most of its content words (``min_support``).

Product names, brands and model codes must occur in the same source as that unit (a product's
facts name it once). An answer must also not state an order's status (those come only from the
connectors) and each sentence must be in the customer's language. :meth:`GroundingChecker.check`
lists what failed; an empty tuple means the answer is grounded. The check of a whole answer is the
union of the checks of its claims, so a stream that releases claim by claim
(:mod:`engine.generation.llm`) never shows what the whole-answer check refuses.

Example:
    >>> checker = GroundingChecker()
    >>> checker.check("Returns are accepted within 45 days.", ["Return within 30 days of delivery."])
    ('number 45',)
    >>> checker.check("You can return it within thirty days of delivery.", ["Return within 30 days of delivery."])
    ()
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from engine.text import detect_language

from .claims import (CITATION_RE, answer_word, claim_words, contacts, negations, promises, quantities, says_nothing,
                     split_claims, split_sentences, take_sentences)

__all__ = ["GroundingChecker", "CITATION_RE", "split_sentences", "take_sentences", "split_claims"]

_DATE_WORDS = re.compile(
    r"\b(january|february|march|april|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekends?|weekdays?|tomorrow|yesterday|tonight)\b",
    re.IGNORECASE,
)
_ZH_DATE_RE = re.compile(r"(?:星期|周|礼拜)[一二三四五六日天]|明天|后天|昨天|今天|周末")
# model codes: letters and digits together (X200, IPX4, S5, 2E) — but not plain numbers or units ("30h")
_CODE_RE = re.compile(r"(?<![\w.@/])(?=[A-Za-z0-9-]*[A-Za-z])(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9](?![\w@.]\w)")
_UNIT_SUFFIX_RE = re.compile(r"^\d+(?:h|hrs?|mah|w|gb|tb|mm|cm|kg|g|ml|l|am|pm|st|nd|rd|th|k|x|p|hz|khz|mhz|ghz|v)$", re.I)
# an order's status is the connectors' to tell, never the generator's
_ORDER_STATUS_RE = re.compile(
    r"\b(?:your|the|this|that)\s+(?:order|package|parcel|shipment)\b[^.!?\n]{0,60}?\b(?:has|have|is|was|were|'s)\s+"
    r"(?:now\s+|already\s+|just\s+|been\s+|being\s+|currently\s+|still\s+)*"
    r"(?:shipped|delivered|dispatched|cancell?ed|processing|processed|in transit|out for delivery|on (?:its|the) way|"
    r"delayed|lost|returned|refunded|ready for pickup)\b"
    r"|\border\s*(?:number\s*|no\.?\s*|#\s*)?\d{5,}\b",
    re.IGNORECASE,
)
_ZH_ORDER_STATUS_RE = re.compile(
    r"(?:您|你)的(?:订单|包裹)[^。！？\n]{0,20}?(?:已发货|已经发货|已送达|已签收|运输中|配送中|派送中|处理中|已取消|已退款)"
    r"|订单(?:号)?\s*\d{5,}"
)


_LATIN_RE = re.compile(r"[A-Za-z][A-Za-z0-9'-]*[A-Za-z0-9]")
_CAPITAL_RE = re.compile(r"\b[A-Z][A-Za-z0-9'-]*\b")
_CAPS_RE = re.compile(r"\b[A-Z][A-Z0-9]{1,}\b")
_COMMON_CAPITALS = {"i", "i'm", "i'll", "i've", "i'd", "ok"}
_PROMISE_SUPPORT = 0.7
_WIDENING = frozenset({"every", "forever", "world", "instant", "free", "extra"})
_QUESTION_RE = re.compile(r"[?？]\s*$")


def _squash(text: str) -> str:
    return re.sub(r"[\s\-_]+", "", text.lower())


def _dates(text: str) -> set[str]:
    words = {w.lower()[:3] for w in _DATE_WORDS.findall(text)}
    return words | set(_ZH_DATE_RE.findall(text))


@dataclass(frozen=True)
class _Unit:
    """One clause or sentence of one source, read once."""

    source: int
    text: str
    words: frozenset[str]
    numbers: frozenset[tuple[str, str | None]]
    negations: int
    answer: str | None
    contacts: frozenset[str]
    dates: frozenset[str]
    promises: frozenset[str]
    status: frozenset[str]  # the order statuses it states ("your order is on its way")
    squashed: str
    terms: frozenset[str]
    clauses: tuple["_Unit", ...] = ()  # a sentence's clauses (polarity is compared clause to clause)


def _unit(source: int, text: str, bare: str | None = None, terms: set[str] | None = None) -> _Unit:
    """``text`` read as a support unit; ``bare`` is the text without product names (their words
    and numbers are the name's, not claims)."""
    bare = text if bare is None else bare
    return _Unit(source, text, frozenset(claim_words(bare)), frozenset(quantities(bare)), negations(bare) % 2,
                 answer_word(bare)[0], frozenset(contacts(text)), frozenset(_dates(bare)), frozenset(promises(bare)),
                 frozenset(_squash(m.group(0)) for rx in (_ORDER_STATUS_RE, _ZH_ORDER_STATUS_RE)
                           for m in rx.finditer(text)), _squash(text),
                 frozenset(_terms(bare) if terms is None else {t for t in terms if _says_term(t, bare)}))


def _spans(unit: _Unit) -> list[_Unit]:
    """Every run of consecutive clauses of a sentence, as one unit (words joined, negations added)."""
    parts = unit.clauses
    out = list(parts)
    for i in range(len(parts)):
        for j in range(i + 2, len(parts) + 1):
            run = parts[i:j]
            out.append(replace(run[0], words=frozenset().union(*(c.words for c in run)),
                               negations=sum(c.negations for c in run) % 2, clauses=()))
    return out


def _has_number(unit: _Unit, number: tuple[str, str | None]) -> bool:
    """The unit states ``number`` with the same unit (a number said without one matches any)."""
    value, unit_name = number
    return any(v == value and (unit_name is None or u == unit_name) for v, u in unit.numbers)


def _says_term(term: str, text: str) -> bool:
    """``text`` holds ``term`` as a word ("W" of "1900 W" is not in "Warranty")."""
    return re.search(r"(?<![A-Za-z0-9])" + re.escape(term) + r"(?![A-Za-z0-9])", text) is not None


def _terms(text: str) -> set[str]:
    """Proper names the lexicon does not know: capitalised words inside a sentence, all-capital
    words, and Latin words inside Chinese text ("UPS", "PayPal", "Account > My Orders")."""
    if detect_language(text) == "zh":
        return {w for w in _LATIN_RE.findall(text)}
    out = set()
    for part in re.split(r"(?<=[.!?:;\"“(])\s+", text):
        lead = len(part) - len(part.lstrip(" \"'“‘(["))
        out |= {m.group(0) for m in _CAPITAL_RE.finditer(part) if m.start() > lead}
        out |= set(_CAPS_RE.findall(part))
    return {w for w in out if w.lower() not in _COMMON_CAPITALS}


class GroundingChecker:
    """Checks that every claim of an answer is supported by one source sentence.

    Args:
        names: product and brand names the store knows (from the catalog): any of them in an
            answer must appear in the source that supports the claim.
        min_support: the share of a claim's content words that its supporting unit must hold.
        contacts: the contact details the store lists (store.yaml's support e-mail and phone,
            its web addresses); when given, an answer may carry no other, even one a source holds.

    Example:
        >>> GroundingChecker(names=["Aurora X200"]).check("Try the Aurora X200.", ["Nimbus S5: 24 h."])
        ('name Aurora X200', 'support 0.00')
        >>> GroundingChecker().check("Your order has shipped.", ["Orders ship in 1-2 days."])
        ('order status',)
    """

    def __init__(self, names: Iterable[str] = (), *, min_support: float = 0.4,
                 contacts: Iterable[str] | None = None) -> None:
        if not 0.0 <= min_support <= 1.0:
            raise ValueError(f"min_support must be in [0, 1], got {min_support}")
        self._min_support = min_support
        # longest first, so "Aurora X200 Charging Case" is matched before "Aurora X200"
        cleaned = sorted({n.strip() for n in names if n and len(n.strip()) >= 3}, key=len, reverse=True)
        self._names_re = (re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, cleaned)) + r")(?![A-Za-z0-9]|\.\d)",
                                     re.IGNORECASE)
                          if cleaned else None)
        self._listed = None if contacts is None else {c for raw in contacts for c in _contacts_of(raw)}

    # -- public ---------------------------------------------------------------------------------
    def check(self, answer: str, sources: Sequence[str], *, language: str | None = None) -> tuple[str, ...]:
        """What in ``answer`` is not supported by ``sources`` (empty: grounded).

        Args:
            answer: the generated text (citation markers are ignored).
            sources: the texts the answer was generated from (passages, facts).
            language: the customer's language; each sentence must be in it (None: not checked).
        """
        text = CITATION_RE.sub("", answer).strip()
        if not text:
            return ("empty answer",)
        units = self.units(sources)
        problems: list[str] = []
        for sentence in split_sentences(text):
            if language is not None and detect_language(sentence) != language:
                problems.append(f"language {detect_language(sentence)}")
        terms = _terms(self._strip(text))
        for claim in split_claims(text):
            problems += self._claim(claim, units, sources, terms)
        if not problems:
            problems += self._one_source_per_sentence(text, sources, terms)
        return tuple(dict.fromkeys(problems))

    def _one_source_per_sentence(self, text: str, sources: Sequence[str], terms: set[str]) -> list[str]:
        """A sentence that names no product speaks of one thing: its clauses must all come from one
        source ("capacity: 5.5 L; power: 700 W" is refused when 700 W is another product's power)."""
        out: list[str] = []
        for sentence in split_sentences(text):
            claims = split_claims(sentence)
            if len(claims) < 2 or self._names(sentence) or len(sources) < 2:
                continue
            if not any(all(not self._claim(c, self.units([source]), [source], terms) for c in claims)
                       for source in sources):
                out.append("sources mixed in one sentence")
        return out

    def units(self, sources: Sequence[str]) -> list[_Unit]:
        """The sources as support units: every sentence, and every clause of a longer sentence."""
        out: list[_Unit] = []
        for i, source in enumerate(sources):
            # proper names are found in the whole source: a clause or a sentence may start with one
            # ("Affirm shows your rate" where another sentence says "choose Affirm at checkout")
            terms = _terms(self._strip(CITATION_RE.sub("", source)))
            for sentence in split_sentences(CITATION_RE.sub("", source)):
                if _QUESTION_RE.search(sentence):
                    continue  # a question claims nothing (an FAQ's own question is no support)
                clauses = split_claims(sentence)
                parts = tuple(_unit(i, c, self._strip(c), terms) for c in clauses) if len(clauses) > 1 else ()
                out.append(replace(_unit(i, sentence, self._strip(sentence), terms), clauses=parts))
                out += parts
        return out

    # -- one claim -----------------------------------------------------------------------------
    def _names(self, text: str) -> list[str]:
        return list(dict.fromkeys(self._names_re.findall(text))) if self._names_re is not None else []

    def _strip(self, text: str) -> str:
        """``text`` without product and brand names (entities, checked on their own)."""
        return self._names_re.sub(" ", text) if self._names_re is not None else text

    def _claim(self, claim: str, units: list[_Unit], sources: Sequence[str], answer_terms: set[str]) -> list[str]:
        names = self._names(claim)
        bare = self._strip(claim)
        codes = [c for c in dict.fromkeys(_CODE_RE.findall(bare)) if not _UNIT_SUFFIX_RE.match(c)]
        terms = sorted({t for t in answer_terms if _says_term(t, bare)} - set(codes))
        found = _unit(-1, claim, bare)
        said = contacts(claim)
        problems: list[str] = []
        if self._listed is not None:
            problems += [f"contact {c} not listed by the store" for c in sorted(said - self._listed)]
        if not units:
            return problems + ["no sources"]
        squashed = [_squash(s) for s in sources]

        def overlap(unit: _Unit) -> float:
            return len(found.words & unit.words) / len(found.words) if found.words else 1.0

        def precision(unit: _Unit) -> float:
            return len(found.words & unit.words) / len(unit.words) if unit.words else 0.0

        def missing(unit: _Unit) -> list[str]:
            out = list(dict.fromkeys(f"number {v}" for v, u in sorted(found.numbers, key=str)
                                     if not _has_number(unit, (v, u))))
            out += [f"name {n}" for n in names if _squash(n) not in squashed[unit.source]]
            out += [f"code {c}" for c in codes if _squash(c) not in squashed[unit.source]]
            out += [f"term {t}" for t in terms if t not in unit.terms]
            if any(st not in unit.squashed for st in found.status):
                out.append("order status")  # only a source may say it (an order's facts, an FAQ's words)
            out += [f"contact {c}" for c in sorted(said - unit.contacts)]
            out += [f"date {d}" for d in sorted(found.dates - unit.dates)]
            out += [f"promise {p}" for p in sorted(found.promises - unit.promises)]
            # polarity against the run of the unit's clauses the claim matches best (a claim may
            # join two clauses: "若还是有一只没声音，可能是产品缺陷" is two clauses of its source)
            clause = max(_spans(unit), key=lambda c: (overlap(c), precision(c))) if unit.clauses else unit
            if found.negations != clause.negations:
                out.append("polarity")
            elif found.answer is not None and found.answer != (unit.answer or ("no" if clause.negations else "yes")):
                out.append(f"polarity {found.answer}")
            return out

        # the unit the claim is about: one of the source naming its products; the most of its
        # words; then the tightest (a clause before its sentence); then the fewest misses
        def named(unit: _Unit) -> bool:  # a claim about a product is supported by that product's source
            return all(_squash(n) in squashed[unit.source] for n in names)

        best = max(units, key=lambda u: (named(u), round(overlap(u), 6), round(precision(u), 6), -len(missing(u))))
        misses = missing(best)
        # a closing "Yes." / "可以。" answers the question, which only a source's own answer can do
        closing = split_sentences(claim)
        word = answer_word(closing[-1])[0] if len(closing) > 1 else None
        if word is not None and says_nothing(closing[-1]) and not any(u.answer == word for u in units):
            misses.append(f"answer {word}")
        support = overlap(best)
        # a claim anchored by its numbers (all found in the unit) may say the rest in its own words
        anchored = bool(found.numbers) and not any(m.startswith("number ") for m in misses)
        needed = self._min_support / 2 if anchored else self._min_support
        if found.promises & _WIDENING:  # "every", "always", "worldwide", "所有": nearly word for word or not at all
            needed = max(needed, _PROMISE_SUPPORT)
            # measured on words, not single Chinese characters ("赠送礼品" is not "免费礼品包装"
            # because both hold 礼 and 品)
            whole = {w for w in found.words if len(w) > 1}
            if whole:
                support = min(support, len(whole & best.words) / len(whole))
        # one word is enough to need support when no number anchors the claim ("Sorry about that!")
        if len(found.words) >= (2 if found.numbers else 1) and support < needed:
            misses.append(f"support {support:.2f}")
        return problems + misses


def _contacts_of(raw: str) -> set[str]:
    found = contacts(raw)
    return found or {raw.strip().lower()}
