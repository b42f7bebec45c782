"""Entity extraction: order ids (and ids of the wrong shape), product mentions, anaphora.

Order ids are six digits (``100023``, ``#100023``). A token that is clearly meant as an order
number but has the wrong shape ("order ABC12", "order 12345") is reported as malformed so the
router can say what an order number looks like instead of guessing.

Example:
    >>> RuleEntityExtractor().extract("where is order #100023?").order_ids
    ('100023',)
"""

from __future__ import annotations

import re

from engine.types import Entities
from knowledge.graph.linker import ProductLinker

__all__ = ["RuleEntityExtractor"]

_ORDER_ID_RE = re.compile(r"(?<![A-Za-z0-9_.])#?(\d{6})(?![A-Za-z0-9_]|\.\d)")
_NEAR_ORDER_RE = re.compile(
    r"(?:order|orders|订单|单号)\s*(?:number|no\.?|id|num|#|号码?)?\s*[:：#]?\s*([A-Za-z0-9][A-Za-z0-9-]{0,39})",
    re.IGNORECASE,
)
_LONG_DIGITS_RE = re.compile(r"(?<![A-Za-z0-9_.$])#?(\d{5}|\d{7,12})(?![A-Za-z0-9_]|\.\d)")
_ANAPHORA_RE = re.compile(
    r"\b(it|its|it's|that one|this one|that|this|them|those|the first one|the second one)\b|它|这个|那个|这款|那款|这件|那件",
    re.IGNORECASE,
)
_ORDER_WORD_RE = re.compile(r"order|package|parcel|shipment|tracking|订单|单号|包裹|快递", re.IGNORECASE)
_NOT_IDS = {"status", "number", "history", "is", "was", "has", "from", "to", "and", "please"}


class RuleEntityExtractor:
    """:class:`engine.nlu.base.EntityExtractor` by rules plus a product linker.

    Args:
        linker: links product mentions to catalog ids; ``None`` extracts no products.
    """

    def __init__(self, linker: ProductLinker | None = None) -> None:
        self._linker = linker

    def extract(self, text: str) -> Entities:
        text = text[:5000]
        ids = tuple(dict.fromkeys(_ORDER_ID_RE.findall(text)))
        malformed: list[str] = []
        for m in _NEAR_ORDER_RE.finditer(text):
            tok = m.group(1)
            if tok.lower() in _NOT_IDS or not any(c.isdigit() for c in tok):
                continue
            if tok.lstrip("#") not in ids:
                malformed.append(tok)
        if _ORDER_WORD_RE.search(text):  # loose digit runs only count in an order context
            malformed.extend(m for m in _LONG_DIGITS_RE.findall(text) if m not in malformed)
        products = tuple(self._linker.link(text)) if self._linker else ()
        return Entities(
            order_ids=ids,
            malformed_order_ids=tuple(dict.fromkeys(malformed)),
            product_ids=products,
            anaphora=bool(_ANAPHORA_RE.search(text)),
        )
