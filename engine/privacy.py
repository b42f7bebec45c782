"""PII masking for every log line and trace: emails, phone numbers, card numbers, addresses.

Example:
    >>> mask_pii("mail alice@example.com or call +1 555-201-3344")
    'mail [email] or call [phone]'
"""

from __future__ import annotations

import logging
import re

__all__ = ["mask_pii", "PiiMaskingFilter"]

_PATTERNS = [
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b\d(?:[ -]?\d){12,18}\b"), "[card]"),
    (re.compile(r"(?<![\w])(?:\+?\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{3,4}[ .-]?\d{3,4}(?:[ .-]?\d{2,4})?(?![\w])"), "[phone]"),
    (re.compile(r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s){1,3}(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Lane|Ln|Dr|Drive|Way|Court|Ct)\b\.?", re.I), "[address]"),
    (re.compile(r"[\u4e00-\u9fff]{2,}(?:路|街|道)\d+号"), "[address]"),
]


# six-digit order numbers (alone or several in a row) are not personal data
_ORDER_IDS_RE = re.compile(r"#?\d{6}(?:[ ,]+#?\d{6})*")


def mask_pii(text: str) -> str:
    """Replace emails, card numbers, phone numbers and street addresses with placeholders.

    Six-digit order numbers are left alone (they are not personal data and are needed to debug).
    """
    out = str(text)
    for rx, repl in _PATTERNS:
        out = rx.sub(lambda m, r=repl: m.group(0) if _ORDER_IDS_RE.fullmatch(m.group(0).strip()) else r, out)
    return out


class PiiMaskingFilter(logging.Filter):
    """A logging filter that masks PII in the rendered message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record still gets logged, masked
            message = str(record.msg)
        record.msg, record.args = mask_pii(message), ()
        return True
