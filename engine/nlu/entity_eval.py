"""Scores an entity extractor on a labelled set: precision, recall and F1 per entity type and language.

The set (``engine/nlu/data/entities_eval.yaml`` by default) is YAML with a ``today`` (the day
relative dates count from) and one list of items per language; each item is a ``text`` plus the
gold values of the types it mentions (a missing type means none). Values are compared after
normalisation, as multisets per item: an extra value is a false positive, a missed one a false
negative, so negatives (prices, ZIP codes, years...) count against precision when mistaken.

Example:
    >>> eval_set = load_entity_eval()                                   # doctest: +SKIP
    >>> report = evaluate_entities(extractor, eval_set)                 # doctest: +SKIP
    >>> report["by_type"]["dates"]["all"]["f1"]                         # doctest: +SKIP
    0.97
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from engine.errors import KnowledgeError

from .entities import RuleEntityExtractor

__all__ = ["ENTITY_TYPES", "EvalItem", "EntityEvalSet", "load_entity_eval", "evaluate_entities"]

ENTITY_TYPES = ("order_ids", "product_ids", "brands", "sizes", "colors", "quantities", "dates", "emails", "phones")


@dataclass(frozen=True)
class EvalItem:
    text: str
    lang: str
    gold: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class EntityEvalSet:
    today: date
    items: tuple[EvalItem, ...]


def _norm(value: Any) -> str:
    return str(value)


def load_entity_eval(path: str | Path | None = None) -> EntityEvalSet:
    """Read a labelled set; the packaged store set when ``path`` is None.

    Raises:
        KnowledgeError: the file is missing, not UTF-8 YAML, or an item is malformed (the
            message names the file and the item).
    """
    name = str(path) if path is not None else "engine/nlu/data/entities_eval.yaml"
    try:
        raw = (Path(path).read_text("utf-8") if path is not None
               else resources.files("engine.nlu").joinpath("data/entities_eval.yaml").read_text("utf-8"))
        doc = yaml.safe_load(raw)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"cannot read entity set {name}: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("today"), date):
        raise KnowledgeError(f"{name}: expected a mapping with `today: YYYY-MM-DD` and lists per language")
    items = []
    for lang in ("en", "zh"):
        for i, it in enumerate(doc.get(lang) or []):
            if not isinstance(it, dict) or not isinstance(it.get("text"), str) or not it["text"].strip():
                raise KnowledgeError(f"{name}: {lang} item {i} needs a non-empty `text`")
            unknown = set(it) - {"text", *ENTITY_TYPES}
            if unknown:
                raise KnowledgeError(f"{name}: {lang} item {i} ({it['text']!r}) has unknown types {sorted(unknown)}; "
                                     f"known: {', '.join(ENTITY_TYPES)}")
            gold = {}
            for t in ENTITY_TYPES:
                values = it.get(t) or []
                if not isinstance(values, list):
                    raise KnowledgeError(f"{name}: {lang} item {i} ({it['text']!r}): `{t}` must be a list")
                gold[t] = tuple(_norm(v) for v in values)
            items.append(EvalItem(it["text"], lang, gold))
    if not items:
        raise KnowledgeError(f"{name}: no items under `en` or `zh`")
    return EntityEvalSet(doc["today"], tuple(items))


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "tp": tp, "fp": fp, "fn": fn}


def evaluate_entities(extractor: RuleEntityExtractor, eval_set: EntityEvalSet) -> dict[str, Any]:
    """Per type and language (``en``, ``zh``, ``all``) P/R/F1, micro totals, and every error.

    A type with neither gold nor predicted values in a slice scores 1.0 (nothing to get wrong).
    """
    counts: dict[tuple[str, str], list[int]] = {}
    errors = []
    for item in eval_set.items:
        ents = extractor.extract(item.text, today=eval_set.today)
        for t in ENTITY_TYPES:
            pred = Counter(_norm(v) for v in getattr(ents, t))
            gold = Counter(item.gold[t])
            tp = sum((pred & gold).values())
            fp, fn = sum(pred.values()) - tp, sum(gold.values()) - tp
            for key in ((t, item.lang), (t, "all"), ("micro", item.lang), ("micro", "all")):
                c = counts.setdefault(key, [0, 0, 0])
                c[0], c[1], c[2] = c[0] + tp, c[1] + fp, c[2] + fn
            if fp or fn:
                errors.append({"text": item.text, "lang": item.lang, "type": t,
                               "missed": sorted((gold - pred).elements()),
                               "spurious": sorted((pred - gold).elements())})
    by_type = {t: {lang: _prf(*counts.get((t, lang), [0, 0, 0])) for lang in ("en", "zh", "all")}
               for t in (*ENTITY_TYPES, "micro")}
    return {
        "today": eval_set.today.isoformat(),
        "items": {lang: sum(i.lang == lang for i in eval_set.items) for lang in ("en", "zh")},
        "by_type": by_type,
        "errors": errors,
    }
