"""The order flows' own wording, under the engine's and the store's.

The item-level flows (which items, what they refund, why a refund was partial) need sentences the
engine's packaged templates do not have. They live beside the flows in ``templates.yaml`` and are
read only for keys the engine's templates (with a store kit's ``templates.yaml`` laid over them)
lack, so a shop rewords any of them the usual way.

Example:
    >>> FlowTemplates(Templates()).has("return_items_confirm")   # doctest: +SKIP
    True
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from engine.responses.templates import Templates
from engine.yamlio import safe_load as yaml_safe_load

__all__ = ["FlowTemplates"]


@lru_cache(maxsize=1)
def _own() -> dict[str, dict[str, str]]:
    text = resources.files("engine.flows").joinpath("templates.yaml").read_text("utf-8")
    return yaml_safe_load(text)


class FlowTemplates:
    """``templates`` first; the flows' own wording for keys it lacks (same ``render`` contract)."""

    def __init__(self, templates: Templates) -> None:
        self._t = templates
        self._fallback = Templates(_own(), path=None)
        self._fallback._defaults = templates._defaults  # the store's refund days and name apply here too

    def has(self, key: str) -> bool:
        return self._t.has(key) or key in _own()

    def entry(self, key: str) -> dict[str, str]:
        return self._t.entry(key) if self._t.has(key) else dict(_own()[key])

    def render(self, key: str, lang: str = "en", **values: Any) -> str:
        if self._t.has(key):
            return self._t.render(key, lang, **values)
        return self._fallback.render(key, lang, **values)
