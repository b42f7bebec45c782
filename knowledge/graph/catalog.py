"""The product catalog as a knowledge graph (networkx).

Nodes are products, brands and categories; edges carry a ``rel`` of ``brand``, ``category``,
``accessory_of``, ``compatible_with``, ``similar_to`` or ``bundle``. Products keep typed
attributes (value + unit + labels) so answers can state facts exactly as the catalog has them.
A category written as a path (``"Toys & Games > Hobbies > Model Kits"``, joined by
:data:`CATEGORY_SEP`) becomes one node per level, each linked to its parent by ``subcategory_of``.
A built catalog is saved and loaded as versioned JSON (:meth:`Catalog.save` / :meth:`Catalog.load`).

Example:
    >>> cat = Catalog.from_file("catalog.json")            # doctest: +SKIP
    >>> [p.name for p in cat.accessories("P1001")]          # doctest: +SKIP
    ['Aurora X200 Charging Case']
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.kernel.errors import KnowledgeError

if TYPE_CHECKING:  # networkx is imported where the graph is first built: most starts never need it
    import networkx as nx

__all__ = ["Attribute", "Product", "Catalog", "RELATIONS", "CATEGORY_SEP", "FORMAT_VERSION"]

RELATIONS = ("accessory_of", "compatible_with", "similar_to", "bundle")
CATEGORY_SEP = " > "
FORMAT = "shopassist.catalog"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Attribute:
    key: str
    value: Any
    unit: str | None = None
    label: str = ""
    label_zh: str = ""
    note: str = ""
    value_zh: str = ""  # the value as the catalog words it in Chinese, when it does

    def render(self, lang: str = "en") -> str:
        """The value as a customer reads it: ``30 h``, ``iOS and Android``, ``yes``."""
        if lang == "zh" and self.value_zh:
            return self.value_zh
        v = self.value
        if lang == "zh":  # colour and material names in the reply's language
            from .meaning import value_zh

            if isinstance(v, str) and value_zh(self.key, v):
                return value_zh(self.key, v)
            if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
                v = [value_zh(self.key, x) or x for x in v]
        if isinstance(v, bool):
            text = ("是" if v else "否") if lang == "zh" else ("yes" if v else "no")
        elif isinstance(v, list):
            items = [str(x) for x in v]
            if lang == "zh":
                text = "、".join(items)
            else:
                text = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
        elif isinstance(v, tuple) and v and all(isinstance(x, (int, float)) for x in v):
            # dimensions: (length, width, height)
            text = " x ".join(_num(x) for x in v)
        elif isinstance(v, float) and v.is_integer():
            text = str(int(v))
        else:
            text = str(v)
        unit = {"h": " hours", "months": " months", "g": " g", "kg": " kg"}.get(self.unit or "", f" {self.unit}" if self.unit else "")
        if lang == "zh":
            unit = {"h": "小时", "months": "个月"}.get(self.unit or "", unit)
        return f"{text}{unit}"


_CJK_RE = re.compile(r"[\u3400-\u9fff]")
_CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,}")


def _num(x: float) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


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
    # other languages' wording: {lang: {"name" | "brand" | "category" | "description": text}}
    translations: dict[str, dict[str, str]] = field(default_factory=dict)
    # the category's Chinese name given beside it (the demo catalog's ``category_zh``): shown in
    # replies, not learnt as product words like a translated category
    category_zh: str = ""

    def display_name(self, lang: str = "en") -> str:
        if lang == "zh" and self.name_zh:
            return self.name_zh
        return self.translations.get(lang, {}).get("name") or self.name

    def without_names(self, text: str) -> str:
        """``text`` without the words of this product's names (what is left is what it asks):
        whole names first, then their Chinese words ("充电盒" of "Sonique Air 3 充电盒"), then the
        Latin words of its name and aliases, bounded by anything but a letter or digit ("有卖Voltix
        Cell 50吗")."""
        out = text
        names = {self.name, self.name_zh, *self.aliases,
                 *(t.get(k, "") for t in self.translations.values() for k in ("name", "category"))}
        runs = {r for n in names if n for r in _CJK_RUN_RE.findall(n)}
        for name in sorted({n for n in names if n and _CJK_RE.search(n)} | runs, key=len, reverse=True):
            out = out.replace(name, " ")
        words = {w for n in (self.name, *self.aliases) for w in re.findall(r"[a-z0-9]+", n.lower()) if len(w) > 1}
        if words:
            out = re.sub(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
                         + r")s?(?![a-z0-9])", " ", out, flags=re.IGNORECASE)
        return out

    def text(self, field_name: str, lang: str = "en") -> str:
        """``name``, ``brand``, ``category`` or ``description`` in ``lang`` when the catalog has it."""
        said = self.translations.get(lang, {}).get(field_name)
        if not said and field_name == "category" and lang == "zh" and self.category_zh:
            return self.category_zh
        return said or getattr(self, field_name)


def _product(raw: Any) -> Product:
    if not isinstance(raw, dict):
        raise KnowledgeError(f"malformed product: expected an object, got {type(raw).__name__}")
    try:
        attrs = {
            key: Attribute(
                key=key,
                value=tuple(a["value"]) if a.get("value_type") == "tuple" else a.get("value"),
                unit=a.get("unit"),
                label=a.get("label") or key.replace("_", " "),
                label_zh=a.get("label_zh") or "",
                note=a.get("note") or "",
                value_zh=a.get("value_zh") or "",
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
            category_zh=str(raw.get("category_zh", "")),
            aliases=tuple(str(a) for a in raw.get("aliases") or ()),
            attributes=attrs,
            translations={str(lang): {str(k): str(v) for k, v in texts.items()}
                          for lang, texts in (raw.get("translations") or {}).items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise KnowledgeError(f"malformed product {raw.get('id', '?')!r}: {exc}") from exc


class Catalog:
    """Products plus the relation graph, with the lookups the router needs."""

    def __init__(self, products: list[Product], relations: list[tuple[str, str, str]]) -> None:
        self._products = {p.id: p for p in products}
        if len(self._products) != len(products):
            raise KnowledgeError("duplicate product ids in catalog")
        # product relations as plain adjacency (what the lookups read); the networkx graph with
        # brand and category nodes is built on first use of :attr:`graph` (a second on 50,000 products)
        self._relations = [(src, rel, dst) for src, rel, dst in relations
                           if src in self._products and dst in self._products and rel in RELATIONS]
        self._out: dict[tuple[str, str], list[str]] = {}
        self._in: dict[tuple[str, str], list[str]] = {}
        for src, rel, dst in self._relations:
            self._out.setdefault((src, rel), []).append(dst)
            self._in.setdefault((dst, rel), []).append(src)
        self._graph: nx.MultiDiGraph | None = None
        self._graph_lock = threading.Lock()
        #: tables derived from exactly these products, loaded from a store build (see
        #: :mod:`knowledge.kit.built`): ``{"vocabulary": ..., "linker": ..., "names": ...}``; each
        #: consumer checks its own table against its parameters and computes it itself without one
        self.prebuilt: dict[str, Any] = {}

    @property
    def graph(self) -> nx.MultiDiGraph:
        """Products, brands and categories as a networkx graph (see the module docstring)."""
        if self._graph is None:
            with self._graph_lock:
                if self._graph is None:
                    self._graph = self._build_graph()
        return self._graph

    def _build_graph(self) -> nx.MultiDiGraph:
        import networkx as nx

        g = nx.MultiDiGraph()
        for p in self._products.values():
            g.add_node(p.id, kind="product")
            if p.brand:  # imported catalogs often lack one; no shared "brand:" node for them
                g.add_node(f"brand:{p.brand}", kind="brand", name=p.brand)
                g.add_edge(p.id, f"brand:{p.brand}", rel="brand")
            g.add_edge(p.id, f"category:{p.category}", rel="category")
            _add_category_path(g, p.category)
        for src, rel, dst in self._relations:
            g.add_edge(src, dst, rel=rel)
        return g

    def relations(self) -> list[tuple[str, str, str]]:
        """Every ``(source, relation, target)`` product relation, sorted."""
        return sorted(self._relations)

    def save(self, path: str | Path) -> Path:
        """Write products and relations as versioned JSON; :meth:`load` rebuilds the graph."""
        relations = self.relations()
        doc = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "products": [_product_dict(p) for p in self._products.values()],
            "relations": [list(r) for r in relations],
        }
        path = Path(path)
        try:
            path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        except OSError as exc:
            raise KnowledgeError(f"cannot write catalog {path}: {exc}") from exc
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Catalog":
        """Read a file written by :meth:`save`; a file of another format version is refused."""
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise KnowledgeError(f"cannot read saved catalog {path}: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise KnowledgeError(f"{path} is not a saved shopassist catalog (no {FORMAT!r} header)")
        if doc.get("version") != FORMAT_VERSION:
            raise KnowledgeError(
                f"{path} was saved as catalog format version {doc.get('version')!r}; this shopassist "
                f"reads version {FORMAT_VERSION} - rebuild the catalog"
            )
        products, relations = doc.get("products"), doc.get("relations")
        if not isinstance(products, list) or not isinstance(relations, list):
            raise KnowledgeError(f"{path}: saved catalog lacks its products or relations list")
        try:
            rels = [(str(s), str(r), str(d)) for s, r, d in relations]
        except (TypeError, ValueError) as exc:
            raise KnowledgeError(f"{path}: malformed relation: {exc}") from exc
        return cls([_product(p) for p in products], rels)

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
        ids = sorted(set((self._in if incoming else self._out).get((product_id, rel), ())))
        return [self._products[i] for i in ids]

    def accessories(self, product_id: str) -> list[Product]:
        """Products that are accessories *of* this product."""
        return self.related(product_id, "accessory_of", incoming=True)

    def goes_with(self, product_id: str) -> list[Product]:
        """What goes with a product: its accessories and compatible products, what it is an
        accessory of, and that product's other accessories (a screen protector beside a tablet's
        keyboard cover). Each once, in that order."""
        owners = self.related(product_id, "accessory_of")
        out = [*self.accessories(product_id), *self.compatible(product_id), *owners,
               *(a for o in owners for a in self.accessories(o.id))]
        return [p for p in {p.id: p for p in out}.values() if p.id != product_id]

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

    def in_category(self, category: str, *, subcategories: bool = False) -> list[Product]:
        """Products filed under ``category``; with ``subcategories``, also those under its descendants."""
        if not subcategories:
            return [p for p in self._products.values() if p.category == category]
        prefix = category + CATEGORY_SEP
        return [p for p in self._products.values() if p.category == category or p.category.startswith(prefix)]

    def category_path(self, product_id: str) -> list[str]:
        """The product's category from the top level down, e.g. ``["Toys & Games", "Hobbies"]``."""
        p = self._products.get(product_id)
        return [] if p is None or not p.category else p.category.split(CATEGORY_SEP)


def _add_category_path(g: nx.MultiDiGraph, category: str) -> None:
    """One node per level of a category path, each child pointing at its parent."""
    parts = category.split(CATEGORY_SEP)
    for depth in range(len(parts), 0, -1):
        path = CATEGORY_SEP.join(parts[:depth])
        node = f"category:{path}"
        if node in g and g.nodes[node].get("kind") == "category":
            return  # this level and everything above it are already in place
        g.add_node(node, kind="category", name=parts[depth - 1], path=tuple(parts[:depth]))
        if depth > 1:
            g.add_edge(node, f"category:{CATEGORY_SEP.join(parts[:depth - 1])}", rel="subcategory_of")


def _product_dict(p: Product) -> dict[str, Any]:
    attrs = {}
    for key, a in p.attributes.items():
        d: dict[str, Any] = {"value": list(a.value) if isinstance(a.value, tuple) else a.value}
        if isinstance(a.value, tuple):
            d["value_type"] = "tuple"
        d.update({k: v for k, v in (("unit", a.unit), ("label", a.label), ("label_zh", a.label_zh),
                                     ("note", a.note), ("value_zh", a.value_zh)) if v})
        attrs[key] = d
    return {
        "id": p.id, "name": p.name, "brand": p.brand, "category": p.category, "price": p.price,
        "currency": p.currency, "stock": p.stock, "rating": p.rating, "description": p.description,
        "name_zh": p.name_zh, "aliases": list(p.aliases), "attributes": attrs,
        **({"translations": p.translations} if p.translations else {}),
        **({"category_zh": p.category_zh} if p.category_zh else {}),
    }
