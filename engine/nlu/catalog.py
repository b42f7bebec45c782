"""The intent catalog: how the router answers each intent, as data.

Each intent is one entry of ``engine/nlu/data/intent_catalog.yaml`` (its route, its template and
its flags, documented at the top of that file); the router reads nothing else to know which
intents are templates, order look-ups, write flows, product questions or digressions. Keeping it
out of Python means a new template intent or flow is a catalog line, and a store can change how
an intent is answered (``catalog:`` in its own ``intents.yaml``) without touching the engine.

Example:
    >>> catalog = load_intent_catalog()
    >>> catalog["cancel_order"].route, catalog["cancel_order"].order
    ('order', 'write')
    >>> "greet" in catalog.template_intents
    True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from engine.errors import ConfigError
from engine.yamlio import safe_load as yaml_safe_load

__all__ = ["IntentEntry", "IntentCatalog", "load_intent_catalog", "store_catalog_overrides"]

IntentRoute = Literal["template", "order", "product", "retrieval", "handoff"]
_ROUTES = ("template", "order", "product", "retrieval", "handoff")


@dataclass(frozen=True)
class IntentEntry:
    """One intent's routing.

    Attributes:
        name: the intent label the classifier predicts.
        route: ``template`` | ``order`` | ``product`` | ``retrieval`` | ``handoff``.
        template: the reply template (template and handoff routes).
        order: ``read`` (a look-up) or ``write`` (a flow spec of the same name), order route only.
        digression: may be asked while a flow waits; the flow's question is repeated after the answer.
        continues_flow: while a flow waits for an order, this intent hands the turn to the flow.
        stops_flow: ends a waiting flow (never at its confirmation question).
        escalates_when_upset: a strongly negative customer saying it is handed to a human.
        faq_for_customers: a signed-in customer's request may be answered from the FAQs first.
        reason: what a human agent is told (handoff route).
        with_order_id: the intent a turn of this intent naming an order id is read as.
        with_product: the intent a turn of this intent naming a product is read as.
        classified: False for an intent the classifier never predicts: the dialogue-understanding
            stage (engine/dialogue) reads it from the turn in context, so it has no training examples.
    """

    name: str
    route: IntentRoute
    template: str | None = None
    order: Literal["read", "write"] | None = None
    digression: bool = False
    continues_flow: bool = False
    stops_flow: bool = False
    escalates_when_upset: bool = False
    faq_for_customers: bool = True
    reason: str | None = None
    with_order_id: str | None = None
    with_product: str | None = None
    classified: bool = True

    def __post_init__(self) -> None:
        if self.route not in _ROUTES:
            raise ConfigError(f"intent {self.name!r}: route must be one of {', '.join(_ROUTES)}, got {self.route!r}")
        if self.route in ("template", "handoff") and not self.template:
            raise ConfigError(f"intent {self.name!r}: a {self.route} route needs a template")
        if (self.route == "order") != (self.order in ("read", "write")):
            raise ConfigError(f"intent {self.name!r}: `order: read|write` goes with `route: order` (and only there)")


_FIELDS = {f.name for f in fields(IntentEntry)} - {"name"}


class IntentCatalog(Mapping[str, IntentEntry]):
    """Every intent's :class:`IntentEntry`, with the sets the router asks about.

    An intent the catalog does not know is answered like ``out_of_scope`` would be, by retrieval
    (:meth:`entry`).
    """

    def __init__(self, entries: Mapping[str, IntentEntry]) -> None:
        self._e = dict(entries)
        for entry in self._e.values():
            for target in (entry.with_order_id, entry.with_product):
                if target is not None and target not in self._e:
                    raise ConfigError(f"intent {entry.name!r} points to unknown intent {target!r}")

    def __getitem__(self, name: str) -> IntentEntry:
        return self._e[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._e)

    def __len__(self) -> int:
        return len(self._e)

    def entry(self, name: str) -> IntentEntry:
        """``name``'s entry; an unknown intent is a retrieval question."""
        return self._e.get(name) or IntentEntry(name, "retrieval")

    def _where(self, **want: Any) -> frozenset[str]:
        return frozenset(n for n, e in self._e.items() if all(getattr(e, k) == v for k, v in want.items()))

    @property
    def template_intents(self) -> frozenset[str]:
        return self._where(route="template")

    @property
    def order_intents(self) -> frozenset[str]:
        return self._where(route="order")

    @property
    def read_order_intents(self) -> frozenset[str]:
        return self._where(route="order", order="read")

    @property
    def write_order_intents(self) -> frozenset[str]:
        return self._where(route="order", order="write")

    @property
    def product_intents(self) -> frozenset[str]:
        return self._where(route="product")

    @property
    def digression_intents(self) -> frozenset[str]:
        return self._where(digression=True)

    def merged(self, overrides: Mapping[str, Mapping[str, Any]]) -> "IntentCatalog":
        """A copy with ``overrides`` applied: per intent, the fields given replace the catalog's;
        a new intent is added (it must then name its route)."""
        entries = dict(self._e)
        for name, values in overrides.items():
            base = {f: getattr(entries[name], f) for f in _FIELDS} if name in entries else {}
            entries[name] = _entry(str(name), {**base, **_fields_of(name, values)})
        return IntentCatalog(entries)


def _fields_of(name: Any, values: Any) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise ConfigError(f"intent catalog entry {name!r} must be a mapping, got {type(values).__name__}")
    unknown = set(values) - _FIELDS
    if unknown:
        raise ConfigError(f"intent catalog entry {name!r}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    return dict(values)


def _entry(name: str, values: dict[str, Any]) -> IntentEntry:
    if "route" not in values:
        raise ConfigError(f"intent catalog entry {name!r} needs a route")
    return IntentEntry(name, **values)


def _read(path: Path | None) -> Any:
    try:
        if path is None:
            text = resources.files("engine.nlu").joinpath("data/intent_catalog.yaml").read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return yaml_safe_load(text)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the intent catalog {path or 'intent_catalog.yaml'}: {exc}") from exc


def store_catalog_overrides(store_root: Path | None) -> dict[str, Any]:
    """The ``catalog:`` mapping of a store kit's ``intents.yaml`` (empty when there is none)."""
    path = Path(store_root) / "intents.yaml" if store_root is not None else None
    if path is None or not path.is_file():
        return {}
    doc = _read(path)
    catalog = doc.get("catalog") if isinstance(doc, dict) else None
    if catalog is None:
        return {}
    if not isinstance(catalog, dict):
        raise ConfigError(f"{path}: `catalog` must be a mapping of intent -> entry")
    return catalog


def load_intent_catalog(path: str | Path | None = None, *,
                        overrides: Mapping[str, Mapping[str, Any]] | None = None) -> IntentCatalog:
    """The catalog in ``path`` (default: the packaged one), with a store's ``overrides`` merged.

    Raises:
        ConfigError: the file cannot be read, or an entry is malformed.
    """
    doc = _read(Path(path) if path is not None else None)
    intents = doc.get("intents") if isinstance(doc, dict) else None
    if not isinstance(intents, dict) or not intents:
        raise ConfigError("the intent catalog needs a non-empty 'intents' mapping")
    catalog = IntentCatalog({str(n): _entry(str(n), _fields_of(n, v)) for n, v in intents.items()})
    return catalog.merged(overrides) if overrides else catalog
