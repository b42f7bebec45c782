"""YAML reading with libyaml's C loader when PyYAML has it, the pure-Python one otherwise.

The engine parses its intent examples, lexicons, templates and configuration at start-up, so the
loader is part of every cold start; one function picks the fastest safe loader once, and every
reader goes through it. Same safe subset of YAML either way (``CSafeLoader`` is ``SafeLoader`` in
C); what the choice saves is measured in benchmarks/README.md (cold start).

Example:
    >>> safe_load("a: [1, 2]")
    {'a': [1, 2]}
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["safe_load"]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` through the C loader when available (raises ``yaml.YAMLError`` alike)."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
