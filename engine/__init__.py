"""shopassist engine: a hybrid retrieval-augmented dialogue engine for e-commerce service.

Public names are imported lazily, so ``import engine.text`` (used by ``knowledge``) does not
pull in the whole engine, and start-up only pays for what it uses.

Example:
    >>> from engine import Engine
    >>> engine = Engine.from_config()                                              # doctest: +SKIP
    >>> engine.respond("s1", "where is my order 100023?", customer_id="C001").text  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Engine", "Reply", "Source", "Settings", "load_settings", "ShopAssistError", "ConfigError"]

_WHERE = {
    "Engine": "engine.engine",
    "Reply": "engine.types",
    "Source": "engine.types",
    "Settings": "engine.settings",
    "load_settings": "engine.settings",
    "ShopAssistError": "engine.errors",
    "ConfigError": "engine.errors",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
