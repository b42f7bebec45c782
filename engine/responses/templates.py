"""Reply templates, one YAML file, English and Chinese; ``render`` fills ``{placeholders}``.

A missing key or placeholder is a programming error and raises at render time in tests; at run
time the engine maps it to its generic error reply like any other internal error.

Example:
    >>> Templates().render("ask_order_id", "en")
    'Which order is it about? Order numbers have six digits, like 123456.'
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from engine.yamlio import safe_load as yaml_safe_load

__all__ = ["Templates"]


class Templates:
    def __init__(self, overrides: dict[str, dict[str, str]] | None = None, **defaults: Any) -> None:
        text = resources.files("engine.responses").joinpath("templates.yaml").read_text("utf-8")
        self._t: dict[str, dict[str, str]] = yaml_safe_load(text)
        for key, langs in (overrides or {}).items():
            self._t.setdefault(key, {}).update(langs)
        self._defaults = defaults

    def has(self, key: str) -> bool:
        return key in self._t

    def render(self, key: str, lang: str = "en", **values: Any) -> str:
        entry = self._t[key]
        template = entry.get(lang) or entry["en"]
        return template.format(**{**self._defaults, **values}).strip()
