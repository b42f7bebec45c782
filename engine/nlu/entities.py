"""Entity extraction: order ids (and ids of the wrong shape), products and brands, sizes, colors,
quantities, dates, emails, phone numbers, anaphora and ordinals, English and Chinese.

Order ids are six digits (``100023``, ``#100023``) unless the store's ``order_id_pattern`` gives
their own form (``LP[0-9]{5}``; typed in lower case they are still found). A token that is clearly meant as an order
number but has the wrong shape ("order ABC12", "order 12345") is reported as malformed so the
router can say what an order number looks like instead of guessing. Products and brands come
from the catalog (:class:`~knowledge.graph.linker.ProductLinker`,
:class:`~knowledge.graph.brands.BrandLinker`); the other slots from :mod:`engine.nlu.attributes`,
:mod:`engine.nlu.dates` and :mod:`engine.nlu.contacts` (the patterns PII masking uses too).
None of them needs Chinese word segmentation: every Chinese form is anchored on its own
characters (码, 色, 件, 月...日, 上周), so jieba is not used here.

Example:
    >>> from datetime import date
    >>> ents = RuleEntityExtractor().extract("order #100023: two pairs in 42码, black", today=date(2026, 11, 12))
    >>> ents.order_ids, ents.quantities, ents.sizes, ents.colors
    (('100023',), (2,), ('EU 42',), ('black',))
    >>> RuleEntityExtractor().extract("昨天到的", today=date(2026, 11, 12)).dates
    ('2026-11-11',)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from engine.types import Entities
from knowledge.graph.brands import BrandLinker
from knowledge.graph.linker import ProductLinker

from .attributes import find_colors, find_quantities, find_sizes
from .contacts import find_emails, find_phones
from .dates import find_dates

__all__ = ["RuleEntityExtractor"]

_ORDER_ID_RE = re.compile(r"(?<![A-Za-z0-9_.$€£¥])#?([0-9]{6})(?![A-Za-z0-9_]|\.\d)")
_MAX_PATTERN = 200


def _order_id_finder(pattern: str | None) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """The regex finding order ids in text, and the whole-id regex (None: the default six digits).

    A store's pattern is found where no letter, digit or price sign touches it; ASCII-only (full-width
    digits are not ids) and case-blind (the id is then upper-cased when only that form is whole)."""
    if pattern is None or pattern == "[0-9]{6}":
        return _ORDER_ID_RE, None
    if len(pattern) > _MAX_PATTERN:
        raise ValueError(f"order_id_pattern is longer than {_MAX_PATTERN} characters")
    try:
        whole = re.compile(f"(?:{pattern})", re.ASCII)
        found = re.compile(rf"(?<![A-Za-z0-9_.$€£¥])#?({pattern})(?![A-Za-z0-9_]|\.\d)", re.ASCII | re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"order_id_pattern {pattern!r} is not a regular expression: {exc}") from exc
    return found, whole
# Chinese postcodes have six digits too: "邮编是200120" is not an order number
_POSTCODE_LEAD_RE = re.compile(r"(?:邮编|邮政编码|zip(?:\s*code)?|post(?:al)?\s*code|postcode)\s*(?:是|为|is|[:：])?\s*$",
                               re.IGNORECASE)
# ... and close an address: "漕溪北路1号 200030", "Pine St, Seattle WA 98101" (a postcode after the street)
_ADDRESS_BEFORE_RE = re.compile(r"(?:[路街道弄巷室楼区市省县镇村]|(?<![单编账型])号|\b(?:st|ave|rd|road|street|blvd|lane|ln|dr|"
                                r"drive|way|court|ct|pl|place|sq|square)\.?|,\s*[a-z][a-z .'-]{1,30}\s+(?-i:[A-Z]{2}))"
                                r"\s*[,，]?\s*$", re.IGNORECASE)
_NEAR_ORDER_RE = re.compile(
    r"(?:order|orders|订单|单号)\s*(?:number|no\.?|id|num|#|号码?)?\s*(?:is|was|是|为)?\s*[:：#]?\s*"
    r"([A-Za-z0-9][A-Za-z0-9-]{0,39})",
    re.IGNORECASE,
)
_BARE_NUMBER_RE = re.compile(r"\s*#?([0-9]{4,12})\s*[.?!。？！]?\s*")
_ANAPHORA_RE = re.compile(
    r"\b(it|its|it's|that one|this one|that|this|them|those|the first one|the second one)\b|它|这个|那个|这款|那款|这件|那件",
    re.IGNORECASE,
)
_ORDINAL_RE = re.compile(
    r"\b(?:the\s+)?(first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)\b(?:\s+(?:one|order|item|product))?"
    r"|第\s*([一二三四五1-5])\s*[个款件单]|(最后)一?[个款件单]",
    re.IGNORECASE,
)
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
             "fifth": 5, "5th": 5, "last": -1, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
             "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "最后": -1}
_NOT_IDS = {"status", "number", "history", "is", "was", "has", "from", "to", "and", "please"}


class RuleEntityExtractor:
    """:class:`engine.nlu.base.EntityExtractor` by rules plus a product linker.

    Args:
        linker: links product mentions to catalog ids; ``None`` extracts no products.
        brands: finds the catalog's brand names; ``None`` extracts no brands.
        clock: gives the day relative dates count from, when :meth:`extract` is not told.
        order_id_pattern: the store's order-id regex (None: six digits).

    Raises:
        ValueError: ``order_id_pattern`` is not a regular expression (or longer than 200 characters).
    """

    def __init__(
        self,
        linker: ProductLinker | None = None,
        *,
        brands: BrandLinker | None = None,
        clock: Callable[[], date] = date.today,
        order_id_pattern: str | None = None,
    ) -> None:
        self._order_ids, self._whole_id = _order_id_finder(order_id_pattern)
        self._linker = linker
        self._brands = brands
        self._clock = clock

    def warm_up(self) -> None:
        """Load what product linking needs now rather than on the first product mention."""
        if self._linker is not None and hasattr(self._linker, "warm_up"):
            self._linker.warm_up()

    def _as_id(self, found: str) -> str:
        """A found id in the store's own case: as typed when whole, else upper-cased when that is."""
        if self._whole_id is None or self._whole_id.fullmatch(found):
            return found
        upper = found.upper()
        return upper if self._whole_id.fullmatch(upper) else found

    def extract(self, text: str, *, today: date | None = None) -> Entities:
        """The entities of one message; relative dates count from ``today`` (default: the clock)."""
        text = text[:5000]
        ids = tuple(dict.fromkeys(self._as_id(m.group(1)) for m in self._order_ids.finditer(text)
                                  if not _POSTCODE_LEAD_RE.search(text, 0, m.start())
                                  and not _ADDRESS_BEFORE_RE.search(text, max(0, m.start() - 24), m.start())))
        known = {i.lstrip("#").upper() for i in ids}
        malformed: list[str] = []
        for m in _NEAR_ORDER_RE.finditer(text):
            tok = m.group(1)
            if tok.lower() in _NOT_IDS or not any(c.isdigit() for c in tok):
                continue
            if tok.lstrip("#").upper() not in known:
                malformed.append(tok)
        bare = _BARE_NUMBER_RE.fullmatch(text)  # a message that is only a number: an order id attempt
        if bare and bare.group(1) not in known and bare.group(1) not in malformed:
            malformed.append(bare.group(1))
        products = tuple(self._linker.link(text)) if self._linker else ()
        om = _ORDINAL_RE.search(text)
        ordinal = _ORDINALS.get(next(g for g in om.groups() if g).lower()) if om else None
        return Entities(
            ordinal=ordinal,
            order_ids=ids,
            malformed_order_ids=tuple(dict.fromkeys(malformed)),
            product_ids=products,
            anaphora=bool(_ANAPHORA_RE.search(text)),
            brands=tuple(self._brands.link(text)) if self._brands else (),
            sizes=tuple(find_sizes(text)),
            colors=tuple(find_colors(text)),
            quantities=tuple(find_quantities(text)),
            dates=tuple(d.isoformat() for d in find_dates(text, today or self._clock())),
            emails=tuple(dict.fromkeys(m.value for m in find_emails(text))),
            phones=tuple(dict.fromkeys(m.value for m in find_phones(text))),
        )
