"""The product catalog as a knowledge graph (networkx).

Nodes are products, brands and categories; edges carry a ``rel`` of ``brand``, ``category``,
``accessory_of``, ``compatible_with``, ``similar_to`` or ``bundle``. Products keep typed
attributes (value + unit + labels) so answers can state facts exactly as the catalog has them.

Example:
    >>> cat = Catalog.from_file("catalog.json")            # doctest: +SKIP
    >>> [p.name for p in cat.accessories("P1001")]          # doctest: +SKIP
    ['Aurora X200 Charging Case']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from engine.errors import KnowledgeError

__all__ = ["Attribute", "Product", "Catalog", "RELATIONS"]

RELATIONS = ("accessory_of", "compatible_with", "similar_to", "bundle")


@dataclass(frozen=True)
class Attribute:
    key: str
    value: Any
    unit: str | None = None
    label: str = ""
    label_zh: str = ""
    note: str = ""

    def render(self, lang: str = "en") -> str:
        """The value as a customer reads it: ``30 h``, ``iOS and Android``, ``yes``."""
        v = self.value
        if isinstance(v, bool):
            text = ("是" if v else "否") if lang == "zh" else ("yes" if v else "no")
        elif isinstance(v, list):
            items = [str(x) for x in v]
            if lang == "zh":
                text = "、".join(items)
            else:
                text = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
        elif isinstance(v, float) and v.is_integer():
            text = str(int(v))
        else:
            text = str(v)
        unit = {"h": " hours", "months": " months", "g": " g", "kg": " kg"}.get(self.unit or "", f" {self.unit}" if self.unit else "")
        if lang == "zh":
            unit = {"h": "小时", "months": "个月"}.get(self.unit or "", unit)
        return f"{text}{unit}"


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    brand: str
    category: str
    price: float
    currency: str = "USD"
    stock: int = 0
    rating: float = 0.0
    description: str = ""
    name_zh: str = ""
    aliases: tuple[str, ...] = ()
    attributes: dict[str, Attribute] = field(default_factory=dict)

    def display_name(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" and self.name_zh else self.name


def _product(raw: Any) -> Product:
    if not isinstance(raw, dict):
        raise KnowledgeError(f"malformed product: expected an object, got {type(raw).__name__}")
    try:
        attrs = {
            key: Attribute(
                key=key,
                value=a.get("value"),
                unit=a.get("unit"),
                label=a.get("label") or key.replace("_", " "),
                label_zh=a.get("label_zh") or "",
                note=a.get("note") or "",
            )
            for key, a in (raw.get("attributes") or {}).items()
        }
        return Product(
            id=str(raw["id"]),
            name=str(raw["name"]),
            brand=str(raw.get("brand", "")),
            category=str(raw.get("category", "")),
            price=float(raw.get("price", 0.0)),
            currency=str(raw.get("currency", "USD")),
            stock=int(raw.get("stock", 0)),
            rating=float(raw.get("rating", 0.0)),
            description=str(raw.get("description", "")),
            name_zh=str(raw.get("name_zh", "")),
            aliases=tuple(str(a) for a in raw.get("aliases") or ()),
            attributes=attrs,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise KnowledgeError(f"malformed product {raw.get('id', '?')!r}: {exc}") from exc


class Catalog:
    """Products plus the relation graph, with the lookups the router needs."""

    def __init__(self, products: list[Product], relations: list[tuple[str, str, str]]) -> None:
        self._products = {p.id: p for p in products}
        if len(self._products) != len(products):
            raise KnowledgeError("duplicate product ids in catalog")
        g = nx.MultiDiGraph()
        for p in products:
            g.add_node(p.id, kind="product")
            g.add_node(f"brand:{p.brand}", kind="brand", name=p.brand)
            g.add_node(f"category:{p.category}", kind="category", name=p.category)
            g.add_edge(p.id, f"brand:{p.brand}", rel="brand")
            g.add_edge(p.id, f"category:{p.category}", rel="category")
        for src, rel, dst in relations:
            if src in self._products and dst in self._products and rel in RELATIONS:
                g.add_edge(src, dst, rel=rel)
        self.graph = g

    @classmethod
    def from_file(cls, path: str | Path) -> "Catalog":
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise KnowledgeError(f"cannot read catalog {path}: {exc}") from exc
        if not isinstance(raw, list):
            raise KnowledgeError(f"{path}: expected a list of products")
        products = [_product(r) for r in raw]
        relations = []
        for r in raw:
            rels = r.get("relations") or []
            if not isinstance(rels, list):
                raise KnowledgeError(f"{path}: relations of product {r.get('id')!r} must be a list")
            relations.extend(
                (str(r["id"]), str(rel.get("type")), str(rel.get("target")))
                for rel in rels
                if isinstance(rel, dict)
            )
        return cls(products, relations)

    def __len__(self) -> int:
        return len(self._products)

    def __iter__(self):
        return iter(self._products.values())

    def get(self, product_id: str) -> Product | None:
        return self._products.get(product_id)

    def related(self, product_id: str, rel: str, *, incoming: bool = False) -> list[Product]:
        """Products linked to ``product_id`` by ``rel`` (outgoing edges, or incoming ones)."""
        if product_id not in self.graph:
            return []
        edges = (
            self.graph.in_edges(product_id, data=True)
            if incoming
            else self.graph.out_edges(product_id, data=True)
        )
        ids = sorted({(u if incoming else v) for u, v, d in edges if d.get("rel") == rel})
        return [self._products[i] for i in ids if i in self._products]

    def accessories(self, product_id: str) -> list[Product]:
        """Products that are accessories *of* this product."""
        return self.related(product_id, "accessory_of", incoming=True)

    def compatible(self, product_id: str) -> list[Product]:
        out = self.related(product_id, "compatible_with") + self.related(
            product_id, "compatible_with", incoming=True
        )
        return list({p.id: p for p in out}.values())

    def similar(self, product_id: str) -> list[Product]:
        """Similar products, whichever direction the relation was declared in (each once)."""
        out = self.related(product_id, "similar_to") + self.related(product_id, "similar_to", incoming=True)
        return list({p.id: p for p in out}.values())

    def is_accessory(self, product_id: str) -> bool:
        """True when the product is an accessory of another product."""
        return bool(self.related(product_id, "accessory_of"))

    def categories(self) -> list[str]:
        return sorted({p.category for p in self._products.values()})

    def in_category(self, category: str) -> list[Product]:
        return [p for p in self._products.values() if p.category == category]
