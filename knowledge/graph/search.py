"""Constrained product search: every stated constraint filters, then what is left is ranked.

:class:`ProductSearch` takes a :class:`~knowledge.graph.constraints.ProductQuery` and returns a
:class:`SearchResult`. Filters are vector operations over the
:class:`~knowledge.graph.vocabulary.CatalogVocabulary` arrays (type, brand, price range, numeric
attributes in base units, IP water levels, yes/no features, text values), so no product that breaks
a stated constraint is ever returned. What passes is ranked by the asked order ("cheapest",
"longest battery"), else by a soft preference ("small", "not too expensive"), else by words shared
with the question (names, categories, descriptions, both languages), rating and stock.

When nothing passes, the result says which constraint was let go to find the closest products
(``relaxed``), so a reply can be honest: "nothing under $200 with IP67; the closest is ...".

Example:
    >>> s = ProductSearch(vocab)                                                    # doctest: +SKIP
    >>> s.search(understand("earbuds under $100", "en", vocab)).products[0].name    # doctest: +SKIP
    'Aurora X200 Wireless Earbuds'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .catalog import Product
from .constraints import AttrConstraint, ProductQuery
from .vocabulary import CatalogVocabulary

__all__ = ["ProductSearch", "SearchResult"]


@dataclass
class SearchResult:
    """Products that meet the query (best first), or, with ``relaxed``, the closest ones."""

    query: ProductQuery
    products: list[Product] = field(default_factory=list)
    matches: int = 0  # how many products meet every constraint
    relaxed: list[str] = field(default_factory=list)  # what was let go: "price", an attribute key, "brand", "type"
    best: Product | None = None  # the true extreme of an asked order when out of stock and ranked below products[0]


class ProductSearch:
    """Filters and ranks the catalog for a :class:`ProductQuery` (see module docstring)."""

    def __init__(self, vocab: CatalogVocabulary) -> None:
        self.vocab = vocab

    def mask(self, q: ProductQuery, *, skip: frozenset[str] = frozenset()) -> np.ndarray:
        """Which products meet every constraint of ``q`` but those named in ``skip``."""
        v = self.vocab
        n = len(v.products)
        keep = np.ones(n, dtype=bool)
        if q.types and "type" not in skip:
            m = np.zeros(n, dtype=bool)
            m[v.rows_for_types(q.types)] = True
            keep &= m
        elif not q.types and not q.within:
            keep &= ~v.accessory  # "something under $50" means a product, not a spare part
        if q.brands and "brand" not in skip:
            m = np.zeros(n, dtype=bool)
            for b in q.brands:
                m[list(v.brands[b])] = True
            keep &= m
        if "price" not in skip:
            if q.price_min is not None:
                keep &= v.price >= q.price_min
            if q.price_max is not None:
                keep &= (v.price < q.price_max) if q.price_strict else (v.price <= q.price_max)
        for c in q.attrs:
            if c.key not in skip:
                keep &= self._attr(c)
        if q.within:
            m = np.zeros(n, dtype=bool)
            m[[v.row[i] for i in q.within if i in v.row]] = True
            keep &= m
        if q.relative_to in v.row:
            keep[v.row[q.relative_to]] = False
        if q.in_stock:
            keep &= v.stock > 0
        return keep

    def _attr(self, c: AttrConstraint) -> np.ndarray:
        v = self.vocab
        n = len(v.products)
        if c.op == "in":
            m = np.zeros(n, dtype=bool)
            for value in str(c.value).split("|"):
                m[list(v.values[c.key].get(value, ()))] = True
            return m
        col = v.numbers.get(c.key)
        if col is None:
            return np.zeros(n, dtype=bool)
        with np.errstate(invalid="ignore"):
            if c.op == "<=":
                m = col <= float(c.value) + 1e-9
            elif c.op == ">=":
                m = col >= float(c.value) - 1e-9
            else:
                m = col == float(c.value)
        same = v.dimension_mask(c.key, c.dimension)
        return m if same is None else m & same

    def search(self, q: ProductQuery, k: int = 5) -> SearchResult:
        """The ``k`` best products meeting ``q``; none meet it: the closest, with what was let go."""
        if k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        keep = self.mask(q)
        rows = np.flatnonzero(keep)
        result = SearchResult(q, matches=int(len(rows)))
        rank_q = q
        if not len(rows):
            rows, relaxed = self._closest(q)
            result.relaxed = relaxed
            rank_q = self._nearest_first(q, relaxed)
        ranked = self._rank(rank_q, rows)
        result.products = [self.vocab.products[int(i)] for i in ranked[:k]]
        if q.order is not None and not result.relaxed and len(ranked):
            # the true extreme of an asked order, when the ranking (in stock first) put it lower
            top = self._extreme(q, ranked)
            if top is not None and top != int(ranked[0]):
                result.best = self.vocab.products[top]
        return result

    def _extreme(self, q: ProductQuery, rows: np.ndarray) -> int | None:
        """The row with the most extreme value of ``q``'s order (stock aside), or None."""
        v = self.vocab
        key, direction = q.order
        col = v.price if key == "price" else v.rating if key == "rating" else v.numbers.get(key)
        if col is None:
            return None
        vals = col[rows].astype(np.float64)
        if np.all(np.isnan(vals)):
            return None
        at = int(np.nanargmin(vals) if direction == "asc" else np.nanargmax(vals))
        best = int(rows[at])
        first = int(rows[0])
        same = not np.isnan(col[first]) and col[first] == col[best]
        return None if same else best

    def _closest(self, q: ProductQuery) -> tuple[np.ndarray, list[str]]:
        """Let go of one constraint at a time (the last stated first, then price, brand, type)."""
        order = [c.key for c in reversed(q.attrs)]
        if q.price_min is not None or q.price_max is not None:
            order.append("price")
        if q.brands:
            order.append("brand")
        for name in order:
            rows = np.flatnonzero(self.mask(q, skip=frozenset({name})))
            if len(rows):
                return rows, [name]
        every = frozenset(order)
        rows = np.flatnonzero(self.mask(q, skip=every))
        if len(rows):
            return rows, list(order)
        return np.zeros(0, dtype=np.int64), [*order, "type"]

    @staticmethod
    def _nearest_first(q: ProductQuery, relaxed: list[str]) -> ProductQuery:
        """The query re-ordered so that the products nearest the let-go constraint come first."""
        from dataclasses import replace

        if relaxed == ["price"]:
            return replace(q, order=("price", "desc" if q.price_max is None else "asc"))
        for c in q.attrs:
            if relaxed == [c.key] and c.op in ("<=", ">="):
                return replace(q, order=(c.key, "asc" if c.op == "<=" else "desc"))
        return q

    def _rank(self, q: ProductQuery, rows: np.ndarray) -> np.ndarray:
        v = self.vocab
        if not len(rows):
            return rows
        in_stock = (v.stock[rows] > 0).astype(np.float64)
        order = q.order or q.soft_order
        if order is not None:
            key, direction = order
            col = v.price if key == "price" else v.rating if key == "rating" else v.numbers.get(key)
            if col is not None:
                vals = col[rows].astype(np.float64)
                vals = np.where(np.isnan(vals), np.inf if direction == "asc" else -np.inf, vals)
                primary = vals if direction == "asc" else -vals
                # in stock first, then the asked order, then rating (a soft preference: then price)
                tie = v.price[rows] if order is q.soft_order else -v.rating[rows]
                idx = np.lexsort((tie, primary, -in_stock))
                return rows[idx]
        score = v.word_scores(q.text, rows) + 0.5 * v.rating[rows] + 3.0 * in_stock
        if q.price_max is not None:
            # within a budget, the fuller use of it is usually the better product; a small nudge only
            score += 0.5 * (v.price[rows] / max(q.price_max, 1e-9))
        idx = np.lexsort((v.price[rows], -score))
        return rows[idx]
