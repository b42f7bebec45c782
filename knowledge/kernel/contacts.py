"""Email addresses and phone numbers (English and Chinese formats): one set of patterns for the
entity extractor and for PII masking (:mod:`engine.privacy`), so what is extracted as a phone
number is exactly what logs mask as one.

Phone formats: North American (``+1 555-201-3344``, ``(206) 555-0142``, ``206.555.0142``,
``1 800 555 0199``, a local ``555-0142``), Chinese mobiles (``13812345678``, ``+86 138 1234 5678``,
``138-1234-5678``), Chinese landlines (``010-12345678``, ``0755 1234 5678``) and any number written
with a ``+`` country code (8-15 digits). A number never starts or ends inside a longer run of
digits, so order numbers, card numbers, prices, ZIP codes, years and ISO dates are not phones.

Example:
    >>> [m.value for m in find_phones("call +1 555-201-3344 or 13812345678")]
    ['+15552013344', '13812345678']
    >>> [m.value for m in find_emails("mail Alice@Example.com")]
    ['alice@example.com']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ContactMatch", "EMAIL_RE", "PHONE_RE", "find_emails", "find_phones"]

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

_SEP = r"[ .-]?"
_PHONE_FORMS = (
    # Chinese mobile, optional +86 / 0086
    r"(?:(?:\+|00)86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}",
    # Chinese landline: 0 + area code (2-3 digits) + 7-8 digits, or (010) 12345678
    r"(?:0\d{2,3}|\(0\d{2,3}\))[ -]?\d{3,4}[ -]?\d{4}",
    # North American: optional +1 / 1, area code, exchange, line
    rf"(?:\+?1{_SEP})?(?:\(\d{{3}}\)|\d{{3}}){_SEP}\d{{3}}{_SEP}\d{{4}}",
    # international with an explicit country code
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)|\d{1,4})(?:[ .-]?\d{2,4}){1,4}",
    # a local seven-digit number needs its separator ("555-0142"; "1234567" is not a phone)
    r"\d{3}[ .-]\d{4}",
)
# never begin or end inside a longer number, a Latin word, a price or a decimal (Chinese text may
# touch the number directly: "电话13812345678谢谢")
PHONE_RE = re.compile(
    r"(?<![A-Za-z0-9_$€£¥#+/.,-])(?<!\d[ .-])(?:" + "|".join(_PHONE_FORMS) + r")(?![A-Za-z0-9_/])(?![ .,:-]?\d)"
)


@dataclass(frozen=True)
class ContactMatch:
    """One email or phone number in a text: its span and its normalised value."""

    start: int
    end: int
    text: str
    value: str


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def find_emails(text: str) -> list[ContactMatch]:
    """Email addresses in ``text``; values are lower-cased."""
    return [ContactMatch(m.start(), m.end(), m.group(), m.group().lower()) for m in EMAIL_RE.finditer(text)]


def find_phones(text: str) -> list[ContactMatch]:
    """Phone numbers in ``text``; values are the digits, with a leading ``+`` when one was written."""
    out = []
    for m in PHONE_RE.finditer(text):
        raw = m.group()
        digits = _digits(raw)
        if not 7 <= len(digits) <= 15:
            continue
        out.append(ContactMatch(m.start(), m.end(), raw, ("+" if raw.startswith("+") else "") + digits))
    return out
