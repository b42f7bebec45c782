"""Brand mentions in user text, from the catalog's brands: exact first, then fuzzy.

The gazetteer is every brand the catalog sells. A brand matches as a whole word,
case-insensitively ("do you sell aurora headphones?"), and also when it is written inside a
product name ("Trailrunner 5 shoes" mentions the brand Trailrunner). Only when no brand matches
exactly, :class:`~knowledge.graph.fuzzy.FuzzyAliasMatcher` (the product linker's typo matcher,
with its guards against ordinary words) looks for near misses of brands of six letters or more
("Stridewel", "Sonqiue").

Example:
    >>> brands = BrandLinker(catalog)                                   # doctest: +SKIP
    >>> brands.link("anything from Aurora or Stridewel under $100?")    # doctest: +SKIP
    ['Aurora']
    >>> brands.link("anything from Stridewel?")                         # doctest: +SKIP
    ['Stridewell']
"""

from __future__ import annotations

import re

from .catalog import Catalog
from .fuzzy import FuzzyAliasMatcher
from .linker import _norm

__all__ = ["BrandLinker"]


class BrandLinker:
    """Finds brand names in text; ``link`` returns them as the catalog spells them, in order of
    appearance.

    Args:
        catalog: the products whose brands are looked for.
        fuzzy_threshold: similarity (0.5-1, difflib ratio) a fuzzy match needs; ``None`` turns
            fuzzy matching off.
    """

    def __init__(self, catalog: Catalog, *, fuzzy_threshold: float | None = 0.85) -> None:
        if fuzzy_threshold is not None and not 0.5 <= fuzzy_threshold <= 1.0:
            raise ValueError(f"fuzzy_threshold must be within [0.5, 1] or None, got {fuzzy_threshold}")
        names: dict[str, str] = {}
        for p in catalog:
            key = _norm(p.brand).strip() if p.brand else ""
            if len(key) >= 2:
                names.setdefault(key, p.brand)
        self._brands = [(key, name, re.compile(rf"(?<![0-9a-z]){re.escape(key)}(?![0-9a-z])"))
                        for key, name in sorted(names.items(), key=lambda kv: -len(kv[0]))]
        self._fuzzy = (
            FuzzyAliasMatcher([(key, name) for key, name in names.items()], threshold=fuzzy_threshold)
            if fuzzy_threshold is not None
            else None
        )

    @property
    def brands(self) -> list[str]:
        """Every brand in the gazetteer."""
        return sorted(name for _, name, _ in self._brands)

    def link(self, text: str) -> list[str]:
        norm = _norm(text[:2000])
        taken: list[tuple[int, int]] = []
        found: list[tuple[int, str]] = []
        for key, name, rx in self._brands:
            if key not in norm:  # a substring test first: most brands are not there
                continue
            for m in rx.finditer(norm):
                s, e = m.span()
                if not any(s < te and ts < e for ts, te in taken):
                    taken.append((s, e))
                    found.append((s, name))
        if not found and self._fuzzy is not None:
            found = self._fuzzy.match(norm)
        return list(dict.fromkeys(name for _, name in sorted(found)))
