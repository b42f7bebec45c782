"""``faqs.jsonl`` of a kit (private): one FAQ a line, checked and turned into ``FAQEntry`` objects.

A line is ``{"id", "language", "question", "answer", "alternates": [...]}``, optionally with the
FAQ store's ``kind`` (faq | policy), ``tags``, ``valid_from`` and ``valid_until``. ``(id,
language)`` is unique; the same id in two languages is one FAQ translated. Entries get the id
``<language>-<id>`` (the retrieval index keys FAQs by id across languages, and the demo store's
FAQs are named so: ``en-returns-window``).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from knowledge.faq.store import FAQEntry

from ._files import iter_jsonl
from ._log import ProblemLog
from .profile import StoreProfile

__all__ = ["read_faq_rows", "entry_id"]

FILE = "faqs.jsonl"
_KEYS = {"id", "language", "question", "answer", "alternates", "kind", "tags", "valid_from", "valid_until"}
MAX_TEXT = 20_000


def entry_id(faq_id: str, language: str) -> str:
    """The ``FAQEntry.id`` of one language of a kit FAQ."""
    return f"{language}-{faq_id}"


def _text(obj: dict, key: str, row: int, log: ProblemLog, *, required: bool = True) -> str | None:
    v = obj.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v.strip():
        log.error(FILE, row, key, "required: non-empty text" if v is None else f"expected non-empty text, got {v!r}")
        return None
    if len(v) > MAX_TEXT:
        log.error(FILE, row, key, f"longer than {MAX_TEXT:,} characters")
        return None
    return v.strip()


def _date(obj: dict, key: str, row: int, log: ProblemLog) -> str | None:
    v = obj.get(key)
    if v is None:
        return None
    try:
        return _dt.date.fromisoformat(str(v)).isoformat()
    except ValueError:
        log.error(FILE, row, key, f"{v!r} is not an ISO date (YYYY-MM-DD)")
        return None


def _str_list(obj: dict, key: str, row: int, log: ProblemLog) -> tuple[str, ...]:
    v = obj.get(key)
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(a, str) and a.strip() for a in v):
        log.error(FILE, row, key, "expected a list of non-empty texts")
        return ()
    return tuple(dict.fromkeys(a.strip() for a in v))


def read_faq_rows(path: Path, profile: StoreProfile, log: ProblemLog) -> list[FAQEntry]:
    """Every FAQ line checked; the entries (complete only when no error was logged)."""
    out: list[FAQEntry] = []
    first: dict[tuple[str, str], int] = {}
    any_line = False
    for row, obj in iter_jsonl(path, FILE, log):
        any_line = True
        entry = _entry(row, obj, profile, log)
        if entry is None:
            continue
        faq_id, lang, e = entry
        if (faq_id, lang) in first:
            log.error(FILE, row, "id", f"duplicate FAQ {faq_id!r} in {lang!r} (first on line {first[(faq_id, lang)]})")
            continue
        first[(faq_id, lang)] = row
        out.append(e)
    if not any_line and not log.has_errors:
        log.error(FILE, None, None, "empty: a kit needs at least one FAQ")
    return out


def _entry(row: int, obj: Any, profile: StoreProfile, log: ProblemLog) -> tuple[str, str, FAQEntry] | None:
    if not isinstance(obj, dict):
        log.error(FILE, row, None, f"expected an object {{\"id\", \"language\", \"question\", \"answer\"}}, "
                                   f"got {type(obj).__name__}")
        return None
    bad = log.error_count
    for key in obj:
        if key not in _KEYS:
            hint = ' (the key is "language")' if key == "lang" else ""
            log.warn(FILE, row, str(key), f"unknown key, ignored{hint}")
    raw_id = obj.get("id")
    faq_id = str(raw_id).strip() if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else ""
    if not faq_id:
        log.error(FILE, row, "id", "required: a non-empty id (text or number)" if raw_id is None
                  else f"{raw_id!r} is not an id (non-empty text or a number)")
    lang = obj.get("language")
    if not isinstance(lang, str) or not lang:
        log.error(FILE, row, "language", "required: one of the store's languages "
                                         f"({', '.join(profile.languages)})" if lang is None else f"{lang!r} is not a language code")
        lang = None
    elif lang not in profile.languages:
        log.error(FILE, row, "language", f"{lang!r} is not one of the store's languages ({', '.join(profile.languages)})")
    question = _text(obj, "question", row, log)
    answer = _text(obj, "answer", row, log)
    alternates = _str_list(obj, "alternates", row, log)
    tags = _str_list(obj, "tags", row, log)
    kind = obj.get("kind", "faq")
    if kind not in ("faq", "policy"):
        log.error(FILE, row, "kind", f"{kind!r} is not faq or policy")
    valid_from, valid_until = _date(obj, "valid_from", row, log), _date(obj, "valid_until", row, log)
    if valid_from and valid_until and valid_from > valid_until:
        log.error(FILE, row, "valid_until", f"{valid_until} is before valid_from {valid_from}")
    if log.error_count > bad:
        return None
    assert lang is not None and question is not None and answer is not None
    alternates = tuple(a for a in alternates if a != question)
    return faq_id, lang, FAQEntry(id=entry_id(faq_id, lang), question=question, answer=answer, lang=lang,
                                  kind=kind, tags=tags, valid_from=valid_from, valid_until=valid_until,
                                  alternates=alternates)
