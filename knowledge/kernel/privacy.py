"""PII masking for every log line, trace and stored text: emails, phone numbers, national ids,
card numbers, addresses.

Emails and phone numbers are found by :mod:`knowledge.kernel.contacts`, the patterns the entity
extractor uses, so a number the bot reads as a phone is exactly one the logs mask.

National ids are the Chinese resident id (18 characters, the last a checksum digit or ``X``;
all-digit ones checked) and the US social security number (``078-05-1120``, ``078 05 1120``). Tracker stores mask
what they keep with the same function (:mod:`engine.state.sealing`), so placeholders, not
deletions, reach the learning loop.

Example:
    >>> mask_pii("mail alice@example.com or call +1 555-201-3344")
    'mail [email] or call [phone]'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from .contacts import ContactMatch, find_emails, find_phones

__all__ = ["mask_pii", "PiiMaskingFilter", "PLACEHOLDERS"]

#: every placeholder :func:`mask_pii` writes
PLACEHOLDERS = ("[email]", "[phone]", "[national_id]", "[card]", "[address]")

_CN_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"
# area 000, 666 and 9xx, group 00 and serial 0000 are never issued
_SSN_RE = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])")

# after emails and phone numbers (engine.nlu.contacts) are masked
_PATTERNS = [
    # not \b: Chinese text touches the number directly ("卡号4111111111111111")
    (re.compile(r"(?<![0-9A-Za-z_])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z_])"), "[card]"),
    (re.compile(r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s){1,3}(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Lane|Ln|Dr|Drive|Way|Court|Ct)\b\.?", re.I), "[address]"),
    # starts only where a run of Chinese starts (a later start in the same run cannot match either;
    # without this, a long run of Chinese text takes quadratic time)
    (re.compile(r"(?<![\u4e00-\u9fff])[\u4e00-\u9fff]{2,}(?:路|街|道)\d+号"), "[address]"),
]


# six-digit order numbers (alone or several in a row) are not personal data
_ORDER_IDS_RE = re.compile(r"#?\d{6}(?:[ ,]+#?\d{6})*")


def _cn_id_valid(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:17], _CN_ID_WEIGHTS))
    return _CN_ID_CHECK[total % 11] == number[17].upper()


def mask_pii(text: str, *, order_ids: re.Pattern[str] | None = None) -> str:
    """Replace emails, national ids, phone numbers, card numbers and street addresses with placeholders.

    Six-digit order numbers are left alone (they are not personal data and are needed to debug), and
    so is any whole match of ``order_ids`` (a store's own order-id form, e.g. ``order_id_regex(pattern)``
    of :mod:`connectors.base`) that a phone or card pattern would otherwise take.
    """
    if order_ids is None:
        return _mask(str(text), lambda s: bool(_ORDER_IDS_RE.fullmatch(s)), lambda s: False)
    store_id = lambda s: bool(order_ids.fullmatch(s) or order_ids.fullmatch(s.lstrip("#")))  # noqa: E731
    return _mask(str(text), lambda s: bool(_ORDER_IDS_RE.fullmatch(s)) or store_id(s), store_id)


def _mask(text: str, is_order_id: Callable[[str], bool], is_store_id: Callable[[str], bool]) -> str:
    out = _replace(str(text), find_emails(str(text)), "[email]")
    # an id ending in X is one whatever its checksum (a typo is still the customer's id); an
    # all-digit one with a wrong checksum is left to the card pattern, which masks it too
    out = _CN_ID_RE.sub(lambda m: "[national_id]" if m.group(0)[-1] in "Xx" or _cn_id_valid(m.group(0))
                        else m.group(0), out)
    out = _SSN_RE.sub("[national_id]", out)
    out = _replace(out, [m for m in find_phones(out) if not is_store_id(m.text.strip())], "[phone]")
    for rx, repl in _PATTERNS:
        out = rx.sub(lambda m, r=repl: m.group(0) if is_order_id(m.group(0).strip()) else r, out)
    return out


def _replace(text: str, matches: list[ContactMatch], placeholder: str) -> str:
    for m in reversed(matches):
        text = text[: m.start] + placeholder + text[m.end :]
    return text


class PiiMaskingFilter(logging.Filter):
    """A logging filter that masks PII in the rendered message of every record, and in the
    traceback of one logged with ``exc_info`` (an exception's text may quote the customer)."""

    def __init__(self, name: str = "", *, order_ids: re.Pattern[str] | None = None) -> None:
        super().__init__(name)
        self._order_ids = order_ids

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record still gets logged, masked
            message = str(record.msg)
        record.msg, record.args = mask_pii(message, order_ids=self._order_ids), ()
        if record.exc_info and not record.exc_text:
            # formatters print a record's cached exc_text instead of formatting exc_info again
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_pii(record.exc_text, order_ids=self._order_ids)
        return True
