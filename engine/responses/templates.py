"""Reply templates, one YAML file, English and Chinese; ``render`` fills ``{placeholders}``.

The packaged ``templates.yaml`` is the default; configuration may replace it with another file
(``store.templates_file``) and a store kit's ``templates.yaml`` overrides single keys, per
language (:meth:`Templates.from_files`), so a shop changes its wording without touching code.

A missing key or placeholder is a programming error and raises at render time in tests; at run
time the engine maps it to its generic error reply like any other internal error.

Example:
    >>> Templates().render("ask_order_id", "en")
    'Which order is it about? Order numbers have six digits, like 123456.'
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from engine.errors import ConfigError
from engine.yamlio import safe_load as yaml_safe_load

__all__ = ["Templates", "read_templates"]


def read_templates(path: str | Path) -> dict[str, dict[str, str]]:
    """A templates file (``key: {en: ..., zh: ...}``), checked for shape.

    Raises:
        ConfigError: the file cannot be read or is not a mapping of key -> language -> text.
    """
    try:
        doc = yaml_safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read templates {path}: {exc}") from exc
    if not isinstance(doc, dict) or not all(
            isinstance(v, dict) and all(isinstance(t, str) for t in v.values()) for v in doc.values()):
        raise ConfigError(f"templates {path}: expected `key: {{language: text}}` entries")
    return {str(k): {str(lang): t for lang, t in v.items()} for k, v in doc.items()}


class Templates:
    """Reply templates.

    Args:
        overrides: ``{key: {language: text}}`` replacing single languages of keys, or adding keys.
        path: a templates file replacing the packaged one (None: the packaged ``templates.yaml``).
        **defaults: values every template may use (``store``; ``refund_days``, default "5–7").
    """

    def __init__(self, overrides: dict[str, dict[str, str]] | None = None, *, path: str | Path | None = None,
                 **defaults: Any) -> None:
        if path is None:
            text = resources.files("engine.responses").joinpath("templates.yaml").read_text("utf-8")
            self._t: dict[str, dict[str, str]] = yaml_safe_load(text)
        else:
            self._t = read_templates(path)
        for key, langs in (overrides or {}).items():
            self._t.setdefault(key, {}).update(langs)
        # refund time in business days, as a store's policies state it (store kit: refund_business_days)
        self._defaults = {"refund_days": "5–7", **defaults}

    @classmethod
    def from_files(cls, path: str | Path | None = None, store_root: str | Path | None = None,
                   **defaults: Any) -> "Templates":
        """``path`` (or the packaged file) with a store kit's ``templates.yaml`` keys laid over it."""
        kit = Path(store_root) / "templates.yaml" if store_root is not None else None
        overrides = read_templates(kit) if kit is not None and kit.is_file() else None
        return cls(overrides, path=path, **defaults)

    def has(self, key: str) -> bool:
        return key in self._t

    def entry(self, key: str) -> dict[str, str]:
        """A copy of one template's texts by language (``KeyError`` when there is no such key)."""
        return dict(self._t[key])

    def render(self, key: str, lang: str = "en", **values: Any) -> str:
        entry = self._t[key]
        template = entry.get(lang) or entry["en"]
        return template.format(**{**self._defaults, **values}).strip()
