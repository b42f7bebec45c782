"""FAQ entries and the file formats they are read from (docs/contract.md).

Two formats: a JSON object ``{"questions": [{"question", "answer"}, ...]}`` (ids are the 0-based
position, as in the public e-commerce FAQ data set) and JSONL with ``id, question, answer`` and
optional ``lang, tags, kind, valid_from, valid_until`` (ISO dates; an entry outside its validity
window is kept in the index but never returned). Language defaults to what the text looks like
(CJK → ``zh``).

Example:
    >>> entries = load_faqs("faqs.jsonl")     # doctest: +SKIP
    >>> entries[0].question                   # doctest: +SKIP
    'How long do I have to return an item?'
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.kernel.errors import KnowledgeError
from knowledge.kernel.text import detect_language

__all__ = ["FAQEntry", "load_faqs"]


@dataclass(frozen=True)
class FAQEntry:
    id: str
    question: str
    answer: str
    lang: str = "en"
    kind: str = "faq"  # faq | policy
    tags: tuple[str, ...] = field(default_factory=tuple)
    valid_from: str | None = None  # ISO date, inclusive
    valid_until: str | None = None  # ISO date, inclusive
    alternates: tuple[str, ...] = ()  # other ways customers ask the same question (a store kit's)

    def is_valid(self, on: _dt.date | None = None) -> bool:
        """Whether the entry may be answered with on ``on`` (default: today)."""
        day = (on or _dt.date.today()).isoformat()
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )

    def content_hash(self) -> str:
        """What the index depends on: id, language and text (not tags or validity)."""
        parts = [self.id, self.lang, self.question, self.answer]
        if self.alternates:  # only then, so hashes (and indexes) of entries without them stay valid
            parts.append(list(self.alternates))
        raw = json.dumps(parts, ensure_ascii=False)
        return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _iso_date(value: object, name: str, where: str) -> str | None:
    if value is None:
        return None
    try:
        return _dt.date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise KnowledgeError(f"{where}: '{name}' must be an ISO date (YYYY-MM-DD), got {value!r}") from exc


def _entry(raw: object, default_id: str, where: str) -> FAQEntry:
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{where}: expected an object, got {type(raw).__name__}")
    question, answer = raw.get("question"), raw.get("answer")
    if not isinstance(question, str) or not question.strip():
        raise KnowledgeError(f"{where}: 'question' must be a non-empty string")
    if not isinstance(answer, str) or not answer.strip():
        raise KnowledgeError(f"{where}: 'answer' must be a non-empty string")
    lang = raw.get("lang") or detect_language(question)
    tags = raw.get("tags") or ()
    if not isinstance(tags, (list, tuple)):
        raise KnowledgeError(f"{where}: 'tags' must be a list of strings")
    faq_id = raw.get("id", default_id)
    if faq_id is None or (isinstance(faq_id, str) and not faq_id.strip()) or isinstance(faq_id, (dict, list)):
        raise KnowledgeError(f"{where}: 'id' must be a non-empty string or number")
    return FAQEntry(
        id=str(faq_id),
        question=question.strip(),
        answer=answer.strip(),
        lang=str(lang),
        kind=str(raw.get("kind", "faq")),
        tags=tuple(str(t) for t in tags),
        valid_from=_iso_date(raw.get("valid_from"), "valid_from", where),
        valid_until=_iso_date(raw.get("valid_until"), "valid_until", where),
    )


def load_faqs(path: str | Path) -> list[FAQEntry]:
    """Read FAQs from a ``{"questions": [...]}`` JSON file or a JSONL file.

    Raises:
        KnowledgeError: the file is missing, malformed, or has duplicate ids.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # tolerate a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"cannot read FAQ file {path}: {exc}") from exc
    entries: list[FAQEntry] = []
    doc = None
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError:
            doc = None  # not one object: read it as JSONL (one object per line), whatever its name
    if isinstance(doc, dict) and ("questions" in doc or ("id" not in doc and path.suffix != ".jsonl")):
        items = doc.get("questions")
        if not isinstance(items, list):
            raise KnowledgeError(f"{path}: expected an object with a 'questions' list")
        for i, raw in enumerate(items):
            entries.append(_entry(raw, str(i), f"{path} questions[{i}]"))
    else:
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise KnowledgeError(f"{path}:{lineno}: not valid JSON: {exc}") from exc
            if isinstance(raw, dict) and "id" not in raw:
                raise KnowledgeError(f"{path}:{lineno}: JSONL entries need an 'id'")
            entries.append(_entry(raw, "", f"{path}:{lineno}"))
    seen: set[str] = set()
    for e in entries:
        if e.id in seen:
            raise KnowledgeError(f"{path}: duplicate FAQ id {e.id!r}")
        seen.add(e.id)
    if not entries:
        raise KnowledgeError(f"{path}: no FAQ entries")
    return entries
