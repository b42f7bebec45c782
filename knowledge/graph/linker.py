"""Entity linking from user text to catalog products by alias matching, exact first, then fuzzy.

Aliases are the product's English and Chinese names, its listed aliases and ``brand + model``
forms. Matching is case-insensitive on normalised text with word boundaries for Latin aliases;
overlapping matches keep the longest ("X200 charging case" beats "X200"), and an alias shared by
several products resolves to the one with the shortest name (the base product, not its accessory).

Only when no alias matches exactly, a fuzzy pass (:mod:`knowledge.graph.fuzzy`) compares runs of
the text's Latin words, spaces removed, with each alias: "aurra x200" and "trailrunner5" find their
products, while model numbers must match digit for digit ("x300" is not "x200") and runs made only
of ordinary words ("I want to return my order") are never linked.

Only when neither finds anything, an optional embedding fallback
(:class:`~knowledge.graph.semantic.EmbeddingProductMatcher`, injected as ``semantic``) links a
description to at most one product: "is the hydrova bottle dishwasher safe?".

Example:
    >>> linker = ProductLinker(catalog)                                  # doctest: +SKIP
    >>> linker.link("does the X200 work with my iPhone?")                # doctest: +SKIP
    ['P1001']
"""

from __future__ import annotations

import re
from collections import defaultdict

from .catalog import Catalog
from .columns import join_texts, split_texts
from .fuzzy import FuzzyAliasMatcher
from .semantic import EmbeddingProductMatcher

__all__ = ["ProductLinker", "TABLES_VERSION"]

#: the layout of :meth:`ProductLinker.tables`; tables of another layout are not read
TABLES_VERSION = 3

_NORM_RE = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_LEAD_RE = re.compile(r"[0-9a-z]+|[\u3400-\u9fff]")
_CJK_WORD_RE = re.compile(r"[\u3400-\u9fff]{2}")


def _norm(text: str) -> str:
    return " " + _NORM_RE.sub(" ", text.lower()).strip() + " "


def _categories(product) -> list[str]:
    """The product's category in every language the catalog gives (each level of a path)."""
    cats = [str(getattr(product, "category", "") or "")]
    cats += [str(t.get("category", "")) for t in (getattr(product, "translations", {}) or {}).values()]
    return [part.strip() for c in cats for part in c.split(">") if part.strip()]


class ProductLinker:
    """Finds product mentions in text. ``link`` returns product ids in order of appearance."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        min_alias_len: int = 3,
        fuzzy_threshold: float | None = 0.85,
        semantic: EmbeddingProductMatcher | None = None,
    ) -> None:
        """
        Args:
            catalog: the products to find.
            min_alias_len: shorter aliases (normalised) are not matched at all.
            fuzzy_threshold: similarity (0-1, difflib ratio) a fuzzy match needs; ``None`` turns
                fuzzy matching off.
            semantic: the embedding fallback, used only when alias and fuzzy matching find
                nothing; ``None`` (default) turns it off.
        """
        if min_alias_len <= 0:
            raise ValueError(f"min_alias_len must be > 0, got {min_alias_len}")
        if fuzzy_threshold is not None and not 0.5 <= fuzzy_threshold <= 1.0:
            raise ValueError(f"fuzzy_threshold must be within [0.5, 1] or None, got {fuzzy_threshold}")
        self._catalog = catalog
        self._semantic = semantic
        self._min_alias_len = min_alias_len
        prebuilt = catalog.prebuilt.get("linker")
        if prebuilt is not None and prebuilt.get("version") == TABLES_VERSION \
                and prebuilt.get("min_alias_len") == min_alias_len and prebuilt.get("count") == len(catalog):
            fuzzy_entries = self._load_tables(prebuilt)  # what a store build worked out from these very products
        else:
            fuzzy_entries = None
            self._learn(catalog, min_alias_len)
        # boundary regexes are compiled on first need: a substring test rules out nearly every
        # alias first (a turn used to run ~1,300 regexes; start-up compiled them all)
        self._rx: dict[str, re.Pattern[str]] = {}
        self._fuzzy = (
            FuzzyAliasMatcher(list(self._aliases), threshold=fuzzy_threshold, entries=fuzzy_entries)
            if fuzzy_threshold is not None
            else None
        )

    def _learn(self, catalog: Catalog, min_alias_len: int) -> None:
        owners: dict[str, set[str]] = defaultdict(set)
        kinds = {_norm(c).strip() for p in catalog for c in _categories(p)}
        kinds |= {k[:-1] for k in kinds if k.endswith("s") and k.isascii()}  # "gaiwans" is the kind "gaiwan"
        listed_kinds: set[str] = set()  # aliases a store lists that are only a kind ("gaiwan" of one gaiwan)
        for p in catalog:
            names = {p.name, p.name_zh, *p.aliases}
            for a in p.aliases:
                if p.brand and not a.lower().startswith(p.brand.lower()):
                    names.add(f"{p.brand} {a}")
            own = {_norm(a).strip() for a in p.aliases}
            listed_kinds |= {a for a in own if a in kinds}
            for name in names:
                key = _norm(name).strip()
                if key in listed_kinds and key in own:
                    continue  # a kind points at no one product (its brand's form still does)
                # (a two-character Chinese word the store lists itself names a thing: "石瓢", "盖碗")
                if len(key) >= min_alias_len or (key in own and len(key) == 2 and _CJK_WORD_RE.fullmatch(key)):
                    owners[key].add(p.id)
        # a short Chinese word that names a kind -- a category, or a word in several products' names
        # ("盖碗", "龙井") -- points at no one product
        short = {k for k in owners if len(k) < min_alias_len}
        if short:
            holders: dict[str, int] = defaultdict(int)
            for p in catalog:
                names = f"{p.name} {p.name_zh}"
                for k in short:
                    if k in names:
                        holders[k] += 1
            for k in short:
                if k in kinds or holders[k] > 1 or any(k in c for c in kinds):
                    del owners[k]
        self._aliases: list[tuple[str, str]] = []
        for alias, ids in owners.items():
            best = min(ids, key=lambda i: (len(catalog.get(i).name), i))
            self._aliases.append((alias, best))
        self._aliases.sort(key=lambda a: -len(a[0]))
        # aliases by where they can start (their first Latin run, or first character): a turn checks
        # only the aliases that can start in it, not all of a large catalog's (200,000 at 50,000 products)
        self._by_lead: dict[str, list[int]] = defaultdict(list)
        for k, (alias, _) in enumerate(self._aliases):
            self._by_lead[_LEAD_RE.match(alias).group()].append(k)

    def tables(self) -> dict:
        """The alias tables as JSON data, for a store build to save (:mod:`knowledge.kit.built`)."""
        leads = [""] * len(self._aliases)
        for lead, ks in self._by_lead.items():
            for k in ks:
                leads[k] = lead
        return {"version": TABLES_VERSION, "min_alias_len": self._min_alias_len, "count": len(self._catalog),
                "aliases": join_texts([a for a, _ in self._aliases]),
                "owners": join_texts([pid for _, pid in self._aliases]), "leads": join_texts(leads),
                "fuzzy": FuzzyAliasMatcher.entries_of(self._aliases)}

    def _load_tables(self, doc: dict) -> dict | None:
        """Take the alias tables :meth:`tables` saved; returns the fuzzy matcher's part of them."""
        aliases = split_texts(doc["aliases"], None, "aliases")
        owners = split_texts(doc["owners"], len(aliases), "owners")
        leads = split_texts(doc["leads"], len(aliases), "leads")
        self._aliases = list(zip(aliases, owners))
        self._by_lead = defaultdict(list)
        for k, lead in enumerate(leads):
            self._by_lead[lead].append(k)
        return doc.get("fuzzy")

    def warm_up(self) -> None:
        """Embed (or load) the product names the embedding fallback compares against, now."""
        if self._semantic is not None:
            self._semantic.warm_up()

    def link(self, text: str) -> list[str]:
        norm = _norm(text[:2000])
        taken: list[tuple[int, int]] = []
        found: list[tuple[int, str]] = []
        leads = set(_LEAD_RE.findall(norm))
        candidates = sorted({k for lead in leads for k in self._by_lead.get(lead, ())})
        for alias, pid in (self._aliases[k] for k in candidates):
            if alias not in norm:
                continue
            rx = self._rx.get(alias)
            if rx is None:
                # Latin aliases must not sit inside a longer Latin word ("x200" in "x2000"), but
                # may touch Chinese text directly ("X200耳机")
                rx = self._rx[alias] = re.compile(rf"(?<![0-9a-z]){re.escape(alias)}(?![0-9a-z])")
            for m in rx.finditer(norm):
                s, e = m.span()
                if not any(s < te and ts < e for ts, te in taken):
                    taken.append((s, e))
                    found.append((s, pid))
                    break
        if not found and self._fuzzy is not None:
            found = self._fuzzy.match(norm)
        if not found and self._semantic is not None:
            pid = self._semantic.match(text[:2000])
            return [pid] if pid is not None else []
        seen: set[str] = set()
        ordered = []
        for _, pid in sorted(found):
            if pid not in seen:
                seen.add(pid)
                ordered.append(pid)
        return ordered
