"""A kit's optional ``templates.yaml`` and ``intents.yaml`` (private), checked against the engine's own.

The engine's reply templates (engine/responses/templates.yaml) and intent catalog
(engine/nlu/data/intent_catalog.yaml) are read here as data files, never imported: a kit may only
override template keys the engine has, and its ``{placeholders}`` must be ones the engine fills for
that key (those of the engine's own wording, plus ``store``).
"""

from __future__ import annotations

import importlib.util
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ._log import ProblemLog
from .profile import StoreProfile

__all__ = ["engine_templates", "engine_intents", "check_templates", "check_intents", "placeholders"]

TEMPLATES, INTENTS = "templates.yaml", "intents.yaml"
ALWAYS = frozenset({"store"})  # filled for every template (Templates(store=...))
ROUTES = ("template", "order", "product", "retrieval", "handoff")


def _engine_file(*parts: str) -> Path | None:
    """A data file of the engine package, found without importing the engine."""
    try:
        spec = importlib.util.find_spec("engine")
    except (ImportError, ValueError):
        spec = None
    roots = list(spec.submodule_search_locations or []) if spec else []
    roots.append(str(Path(__file__).resolve().parents[2] / "engine"))
    for root in roots:
        path = Path(root, *parts)
        if path.is_file():
            return path
    return None


def _load(parts: tuple[str, ...]) -> Any:
    path = _engine_file(*parts)
    if path is None:
        return None
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def engine_templates() -> dict[str, dict[str, str]]:
    """The engine's packaged templates ``{key: {lang: text}}`` ({} when the engine is not installed)."""
    doc = _load(("responses", "templates.yaml"))
    return doc if isinstance(doc, dict) else {}


def engine_intents() -> set[str]:
    """Intent names of the engine's packaged intent catalog."""
    doc = _load(("nlu", "data", "intent_catalog.yaml"))
    intents = doc.get("intents") if isinstance(doc, dict) else None
    return set(intents) if isinstance(intents, dict) else set()


def placeholders(text: str) -> set[str]:
    """Field names of a ``str.format`` template (``{order_id}`` -> ``order_id``).

    Raises:
        ValueError: unbalanced braces.
    """
    out = set()
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None:
            out.add(name.split(".")[0].split("[")[0])
    return out


def check_templates(doc: Any, profile: StoreProfile, log: ProblemLog,
                    base: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]] | None:
    if doc is None:
        return None
    if not isinstance(doc, dict):
        log.error(TEMPLATES, None, None, "expected a mapping of template key -> {language: text}")
        return None
    out: dict[str, dict[str, str]] = {}
    for key, langs in doc.items():
        key = str(key)
        if base and key not in base:
            log.error(TEMPLATES, None, key, "not a template key of the engine (engine/responses/templates.yaml)")
            continue
        if not isinstance(langs, dict):
            log.error(TEMPLATES, None, key, "expected a mapping of language -> text")
            continue
        allowed = set(ALWAYS)
        for text in (base.get(key) or {}).values():
            try:
                allowed |= placeholders(text)
            except ValueError:
                pass
        for lang, text in langs.items():
            where = f"{key}.{lang}"
            if not isinstance(text, str) or not text.strip():
                log.error(TEMPLATES, None, where, f"expected non-empty text, got {text!r}")
                continue
            if lang not in profile.languages:
                log.warn(TEMPLATES, None, where, f"language {lang!r} is not one of the store's languages; ignored")
                continue
            try:
                used = placeholders(text)
            except ValueError as exc:
                log.error(TEMPLATES, None, where, f"malformed braces: {exc} (write {{{{ and }}}} for literal braces)")
                continue
            unknown = sorted(used - allowed) if base else []
            for name in unknown:
                log.error(TEMPLATES, None, where, f"placeholder {{{name}}} does not exist for {key!r} "
                                                  f"(known: {', '.join('{' + n + '}' for n in sorted(allowed))})")
            if not unknown:
                out.setdefault(key, {})[str(lang)] = text
    return out


def check_intents(doc: Any, profile: StoreProfile, log: ProblemLog, base: set[str],
                  templates: set[str]) -> dict[str, Any] | None:
    if doc is None:
        return None
    if not isinstance(doc, dict):
        log.error(INTENTS, None, None, "expected a mapping with `intents:` (examples) and/or `catalog:` (routing)")
        return None
    for key in doc:
        if key not in ("version", "intents", "catalog"):
            log.warn(INTENTS, None, str(key), "unknown key, ignored")
    catalog = doc.get("catalog") or {}
    if not isinstance(catalog, dict):
        log.error(INTENTS, None, "catalog", "expected a mapping of intent -> entry")
        catalog = {}
    for name, entry in catalog.items():
        where = f"catalog.{name}"
        if not isinstance(entry, dict):
            log.error(INTENTS, None, where, "expected a mapping (route, template, ...)")
            continue
        route = entry.get("route")
        if route is None and name not in base:
            log.error(INTENTS, None, f"{where}.route", f"required for a new intent: one of {', '.join(ROUTES)}")
        elif route is not None and route not in ROUTES:
            log.error(INTENTS, None, f"{where}.route", f"{route!r} is not one of {', '.join(ROUTES)}")
        tpl = entry.get("template")
        if tpl is not None and templates and tpl not in templates:
            log.error(INTENTS, None, f"{where}.template", f"{tpl!r} is not a template key")
    intents = doc.get("intents") or {}
    if not isinstance(intents, dict):
        log.error(INTENTS, None, "intents", "expected a mapping of intent -> {language: [examples]}")
        intents = {}
    for name, spec in intents.items():
        where = f"intents.{name}"
        if base and name not in base and name not in catalog:
            log.error(INTENTS, None, where, "not an intent of the engine; add a `catalog:` entry saying how to answer it")
        if not isinstance(spec, dict):
            log.error(INTENTS, None, where, "expected a mapping of language -> list of examples")
            continue
        for lang, examples in spec.items():
            if lang == "description":
                continue
            w = f"{where}.{lang}"
            if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
                log.error(INTENTS, None, w, "expected a list of non-empty example texts")
            elif lang not in profile.languages:
                log.warn(INTENTS, None, w, f"language {lang!r} is not one of the store's languages; ignored")
    return doc
