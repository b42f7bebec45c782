"""The grounding check: a generated answer may only state what its sources say.

Every number (prices, durations, percentages, years; digits, English number words and Chinese
numerals before a unit), every date word (months, weekdays), every model code (``X200``, ``IPX4``)
and every catalog product or brand name in an answer must appear in the sources or facts it was
given. An answer must not state an order's status at all (those come only from the connectors),
must not open with "Yes" where the sources say "No" (or the reverse), must be in the customer's
language and must share most of its content words with the sources.
:meth:`GroundingChecker.check` lists what failed; an empty list means the answer is grounded.

Example:
    >>> checker = GroundingChecker()
    >>> checker.check("Returns are accepted within 45 days.", ["Return within 30 days of delivery."])
    ('number 45',)
    >>> checker.check("You can return it within thirty days.", ["Return within 30 days of delivery."])
    ()
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation

from engine.text import detect_language, lexical_tokens

__all__ = ["GroundingChecker", "CITATION_RE", "split_sentences", "take_sentences"]

CITATION_RE = re.compile(r"\s*[\[【]\s*\d+(?:\s*[,，、]\s*\d+)*\s*[\]】]")
_NUMBER_RE = re.compile(r"(?<![A-Za-z\d])\d+(?:,\d{3})*(?:\.\d+)?")  # not inside codes ("X200")
_EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
            "eighty": 80, "ninety": 90}
_EN_WORD_RE = re.compile(
    r"\b(" + "|".join([*_EN_TENS, *_EN_UNITS, "hundred", "dozen"]) + r")(?:[- ](" + "|".join(_EN_UNITS) + r"))?\b",
    re.IGNORECASE,
)
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
# a Chinese numeral counts as a claim before a unit or classifier ("七天", "三十个工作日", "第二"),
# not inside ordinary words ("一般", "统一")
_ZH_NUM_RE = re.compile(
    r"(第)?([零〇一二两三四五六七八九十百千万]+)(?=(?:个)?(?:天|日|周|星期|月|年|小时|分钟|秒|元|美元|块|次|期|件|倍|种|家|层|%|％|工作日|折|寸|米|克|升))"
    r"|(第)([零〇一二两三四五六七八九十百千万]+)"
)
_DATE_WORDS = re.compile(
    r"\b(january|february|march|april|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekends?|weekdays?|tomorrow|yesterday|tonight)\b",
    re.IGNORECASE,
)
_ZH_DATE_RE = re.compile(r"(?:星期|周|礼拜)[一二三四五六日天]|明天|后天|昨天|今天|周末")
# model codes: letters and digits together (X200, IPX4, S5, 2E) — but not plain numbers or units ("30h")
_CODE_RE = re.compile(r"(?<![\w.])(?=[A-Za-z0-9-]*[A-Za-z])(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9](?![\w])")
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
# an answer that opens with "Yes" where the sources say "No" (or the reverse) contradicts them,
# however many of their words it borrows
_POLARITY_RE = re.compile(r"(?:^|(?<=[.!?]\s))(yes|no)\b", re.IGNORECASE)
# a sentence ends at . ! ? before white space (not inside "5.3" or "$129.99"), or at 。！？ or a newline
_BOUNDARY_RE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？\n])")
_STEM = 5  # English words compare on their first letters ("returns" ~ "returned")
_MIN_WORDS = 3  # shorter answers are judged on their numbers and names alone


def _norm_number(text: str) -> str | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return format(value.normalize(), "f")


def _zh_value(numeral: str) -> int | None:
    total, section, digit = 0, 0, None
    for ch in numeral:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            unit = _ZH_UNITS[ch]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    return total + section + (digit or 0)


def _numbers(text: str) -> set[str]:
    """Every number ``text`` states, normalised (``$1,299.00`` → ``1299``, ``thirty`` → ``30``)."""
    found = {n for n in (_norm_number(m) for m in _NUMBER_RE.findall(text)) if n is not None}
    for m in _EN_WORD_RE.finditer(text):
        head, tail = m.group(1).lower(), (m.group(2) or "").lower()
        if head == "hundred":
            found.add("100")
        elif head == "dozen":
            found.add("12")
        else:
            found.add(str(_EN_TENS.get(head, _EN_UNITS.get(head, 0)) + _EN_UNITS.get(tail, 0)))
    for m in _ZH_NUM_RE.finditer(text):
        value = _zh_value(m.group(2) or m.group(4))
        if value is not None:
            found.add(str(value))
    return found


def _dates(text: str) -> set[str]:
    words = {w.lower()[:3] for w in _DATE_WORDS.findall(text)}
    return words | set(_ZH_DATE_RE.findall(text))


def _squash(text: str) -> str:
    return re.sub(r"[\s\-_]+", "", text.lower())


def take_sentences(buffer: str) -> tuple[list[str], str]:
    """The finished sentences at the start of ``buffer`` and the unfinished rest.

    Example:
        >>> take_sentences("One. Two 5.")
        (['One.'], 'Two 5.')
    """
    end = 0
    for m in _BOUNDARY_RE.finditer(buffer):
        end = m.end()
    return split_sentences(buffer[:end]), buffer[end:]


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` with their end punctuation (English or Chinese); the last one may
    be unfinished (streaming keeps it until more text arrives).

    Example:
        >>> split_sentences("It costs $129.99. Bluetooth 5.3! 好的。再见")
        ['It costs $129.99.', 'Bluetooth 5.3!', '好的。', '再见']
    """
    return [s.strip() for s in _BOUNDARY_RE.split(text) if s.strip()]


def _content(tokens: Iterable[str]) -> set[str]:
    out = set()
    for t in tokens:
        if t.isascii():
            if len(t) >= 3 and not any(c.isdigit() for c in t):  # numbers have their own check
                out.add(t[:_STEM])
        elif len(t) == 2:  # CJK bigrams carry the meaning; unigrams are too common
            out.add(t)
    return out


class GroundingChecker:
    """Checks that an answer states nothing its sources do not.

    Args:
        names: product and brand names the store knows (from the catalog): any of them in an
            answer must appear in the sources too.
        min_support: the share of the answer's content words that must occur in the sources.

    Example:
        >>> GroundingChecker(names=["Aurora X200"]).check("Try the Aurora X200.", ["Nimbus S5: 24 h."])
        ('name Aurora X200', 'code X200')
        >>> GroundingChecker().check("Your order has shipped.", ["Orders ship in 1-2 days."])
        ('order status',)
    """

    def __init__(self, names: Iterable[str] = (), *, min_support: float = 0.4) -> None:
        if not 0.0 <= min_support <= 1.0:
            raise ValueError(f"min_support must be in [0, 1], got {min_support}")
        self._min_support = min_support
        # longest first, so "Aurora X200 Charging Case" is matched before "Aurora X200"
        cleaned = sorted({n.strip() for n in names if n and len(n.strip()) >= 3}, key=len, reverse=True)
        self._names_re = (re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, cleaned)) + r")(?!\w)")
                          if cleaned else None)

    def check(self, answer: str, sources: Sequence[str], *, language: str | None = None) -> tuple[str, ...]:
        """What in ``answer`` is not supported by ``sources`` (empty: grounded).

        Args:
            answer: the generated text (citation markers are ignored).
            sources: the texts the answer was generated from (passages, facts).
            language: the customer's language; the answer must be in it (None: not checked).
        """
        text = CITATION_RE.sub("", answer).strip()
        if not text:
            return ("empty answer",)
        joined = "\n".join(sources)
        problems: list[str] = []
        if _ORDER_STATUS_RE.search(text) or _ZH_ORDER_STATUS_RE.search(text):
            problems.append("order status")
        have = _numbers(joined)
        problems += [f"number {n}" for n in sorted(_numbers(text) - have)]
        problems += [f"date {d}" for d in sorted(_dates(text) - _dates(joined))]
        squashed = _squash(joined)
        if self._names_re is not None:
            for name in dict.fromkeys(self._names_re.findall(text)):
                if _squash(name) not in squashed:
                    problems.append(f"name {name}")
        for code in dict.fromkeys(_CODE_RE.findall(text)):
            if not _UNIT_SUFFIX_RE.match(code) and _squash(code) not in squashed:
                problems.append(f"code {code}")
        said = {m.lower() for m in _POLARITY_RE.findall(text)}
        stated = {m.lower() for m in _POLARITY_RE.findall(joined)}
        problems += [f"polarity {p}" for p in sorted(said) if stated and p not in stated]
        if language is not None and detect_language(text) != language:
            problems.append(f"language {detect_language(text)}")
        words = _content(lexical_tokens(text))
        if len(words) >= _MIN_WORDS:
            known = _content(lexical_tokens(joined))
            support = len(words & known) / len(words)
            if support < self._min_support:
                problems.append(f"support {support:.2f}")
        return tuple(problems)
