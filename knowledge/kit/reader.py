"""Checking and reading a store kit folder (docs/store-kit.md): :func:`check_kit`, :func:`read_kit`.

One pass does both: every file is scanned as bytes first (size, row count, binary data, UTF-8,
line length; see :class:`KitLimits`), then parsed row by row, every problem logged with its file,
row and field, and the rows turned into the knowledge objects the engine builds from (catalog
``Product`` objects in a ``Catalog``, ``FAQEntry`` objects). :func:`check_kit` returns the
problems; :func:`read_kit` returns a :class:`Kit` only when none is an error, so a kit never
half-loads. Nothing in a kit is executed: YAML goes through a safe loader without aliases, JSON and
CSV are parsed as data.

Example:
    >>> problems = check_kit("kits/lotus-pine")                  # doctest: +SKIP
    >>> kit = read_kit("kits/lotus-pine")                        # doctest: +SKIP
    >>> kit.profile.currency, len(kit.catalog), kit.faqs[0].id   # doctest: +SKIP
    ('CNY', 120, 'zh-returns-window')
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from knowledge.faq.store import FAQEntry
from knowledge.kernel.errors import KnowledgeError
from knowledge.graph.catalog import Catalog, Product

from ._catalog import read_catalog_rows
from ._faqs import read_faq_rows
from ._files import KitLimits, read_yaml, scan
from ._log import ProblemLog
from ._overrides import check_intents, check_templates, engine_intents, engine_templates
from ._trial import read_customers, read_orders
from .content import check_content, listed_contacts
from .problems import KitInvalid, Problem
from .profile import StoreProfile, parse_profile

__all__ = ["Kit", "KitLimits", "check_kit", "read_kit", "reread", "KIT_FILES"]

log = logging.getLogger(__name__)

KIT_FILES = ("store.yaml", "faqs.jsonl", "catalog.csv", "customers.csv", "orders.jsonl",
             "templates.yaml", "intents.yaml", "catalog.json")
#: the product graph's own JSON, read in place of catalog.csv where a kit has no CSV (the demo store)
CATALOG_JSON = "catalog.json"


@dataclass
class Kit:
    """A checked kit, read into knowledge objects.

    Attributes:
        root: the kit's folder.
        profile: store.yaml.
        catalog: catalog.csv as a catalog graph (prices in ``profile.currency``).
        faqs: faqs.jsonl, one entry per FAQ and language (id ``<language>-<id>``).
        customers: customers.csv rows (column -> text); [] without the file.
        orders: orders.jsonl objects as written; [] without the file.
        templates: templates.yaml ``{key: {lang: text}}``, None without the file.
        intents: intents.yaml as parsed, None without the file.
        warnings: the problems found that did not stop the kit from loading.
        returnable: product id -> the catalog's ``returnable`` flag, where stated.
    """

    root: Path
    profile: StoreProfile
    catalog: Catalog
    faqs: list[FAQEntry]
    customers: list[dict] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    templates: dict | None = None
    intents: dict | None = None
    warnings: list[Problem] = field(default_factory=list)
    returnable: dict[str, bool] = field(default_factory=dict)

    @property
    def products(self) -> list[Product]:
        return list(self.catalog)


@dataclass
class _Pass:
    profile: StoreProfile | None = None
    products: list[Product] = field(default_factory=list)
    relations: list[tuple[str, str, str]] = field(default_factory=list)
    returnable: dict[str, bool] = field(default_factory=dict)
    faqs: list[FAQEntry] = field(default_factory=list)
    customers: list[dict] = field(default_factory=list)
    orders: list[dict] = field(default_factory=list)
    templates: dict | None = None
    intents: dict | None = None


def _answer_languages(templates: Mapping[str, Mapping[str, str]]) -> set[str]:
    """Languages every engine template has: the ones the engine answers in fully."""
    sets = [set(v) for v in templates.values() if isinstance(v, Mapping)]
    return set.intersection(*sets) if sets else set()


def _run(root: Path, limits: KitLimits, templates_base: Mapping[str, Mapping[str, str]] | None) -> tuple[_Pass, ProblemLog]:
    plog = ProblemLog()
    out = _Pass()
    if not root.is_dir():
        plog.error(str(root), None, None, "is not a folder (a kit is a folder with store.yaml, faqs.jsonl, catalog.csv)")
        return out, plog
    doc = read_yaml(root / "store.yaml", "store.yaml", plog, required=True, limits=limits)
    if doc is not None:
        out.profile = parse_profile(doc, plog)
    base = engine_templates() if templates_base is None else templates_base
    if out.profile is not None:
        fully = _answer_languages(base)
        for lang in out.profile.languages:
            if fully and lang not in fully:
                plog.warn("store.yaml", None, "languages", f"the engine's replies exist in {', '.join(sorted(fully))}; "
                                                           f"customers writing {lang!r} get its wording only from the kit")
    if not (root / "faqs.jsonl").exists():
        plog.error("faqs.jsonl", None, None, "missing (a kit needs store.yaml, faqs.jsonl and catalog.csv)")
    if not (root / "catalog.csv").exists() and not (root / CATALOG_JSON).exists():
        plog.error("catalog.csv", None, None, "missing (a kit needs store.yaml, faqs.jsonl and catalog.csv)")
    if out.profile is None:
        return out, plog  # every other file is read against the profile
    profile = out.profile

    path = root / "catalog.csv"
    product_ids: set[str] = set()
    readable: set[str] = set()  # the files whose text the content check reads (not those refused)
    if path.exists() and scan(path, "catalog.csv", plog, limits, max_rows=limits.max_products,
                              what="products", csv_rows=True):
        readable.add("catalog.csv")
        rows = read_catalog_rows(path, profile, plog)
        if rows is not None:
            out.products, out.relations, out.returnable = rows.products, rows.relations, rows.returnable
            product_ids = rows.ids
    elif not path.exists() and (root / CATALOG_JSON).exists():
        graph = _read_catalog_json(root / CATALOG_JSON, plog, limits)
        if graph is not None:
            out.products, out.relations = list(graph), graph.relations()
            product_ids = {p.id for p in out.products}
    path = root / "faqs.jsonl"
    if path.exists() and scan(path, "faqs.jsonl", plog, limits, max_rows=limits.max_faqs, what="FAQs"):
        readable.add("faqs.jsonl")
        out.faqs = read_faq_rows(path, profile, plog)

    path = root / "customers.csv"
    customer_ids: set[str] | None = None
    if path.exists() and scan(path, "customers.csv", plog, limits, max_rows=limits.max_customers,
                              what="customers", csv_rows=True):
        out.customers = read_customers(path, profile, plog)
        customer_ids = {c["id"] for c in out.customers}
    path = root / "orders.jsonl"
    if path.exists() and scan(path, "orders.jsonl", plog, limits, max_rows=limits.max_orders, what="orders"):
        out.orders = read_orders(path, profile, customer_ids, product_ids, plog)

    tdoc = read_yaml(root / "templates.yaml", "templates.yaml", plog, required=False, limits=limits)
    out.templates = check_templates(tdoc, profile, plog, base)
    idoc = read_yaml(root / "intents.yaml", "intents.yaml", plog, required=False, limits=limits)
    keys = set(base) | set(out.templates or {})
    out.intents = check_intents(idoc, profile, plog, engine_intents(), keys)
    # kit text is data: instructions and unlisted contacts are flagged (and screened out where used)
    check_content(root, listed_contacts(profile.support.email, profile.support.phone), plog, files=readable)
    return out, plog


def _read_catalog_json(path: Path, plog: ProblemLog, limits: KitLimits) -> Catalog | None:
    """``catalog.json``, the product graph's own format (a list of products with typed attribute
    values, notes and relations of any type), read where a kit has no ``catalog.csv``: what a
    generated store (the demo) writes when its catalog says more than the CSV columns hold."""
    if not scan(path, CATALOG_JSON, plog, limits, max_rows=None, what="lines"):
        return None
    try:
        graph = Catalog.from_file(path)
    except (KnowledgeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        plog.error(CATALOG_JSON, None, None, f"not a product list of the catalog format: {exc}")
        return None
    if not len(graph):
        plog.error(CATALOG_JSON, None, None, "empty: a kit needs at least one product")
        return None
    return graph


def reread(kit: Kit, changed: frozenset[str] | set[str], *, limits: KitLimits | None = None) -> Kit:
    """``kit`` after an edit of the files in ``changed``: where only ``faqs.jsonl`` changed, that file
    alone is checked again (against the kit's store.yaml; nothing else refers to FAQs), else the whole
    kit is read again. A live engine's FAQ edit so costs what its FAQs cost, not its catalog.

    Raises:
        KitInvalid: the edit has errors (every problem found).
    """
    if set(changed) != {"faqs.jsonl"}:
        return read_kit(kit.root, limits=limits)
    limits = limits or KitLimits()
    plog = ProblemLog()
    path = kit.root / "faqs.jsonl"
    faqs: list[FAQEntry] = []
    if not path.exists():
        plog.error("faqs.jsonl", None, None, "missing (a kit needs store.yaml, faqs.jsonl and catalog.csv)")
    elif scan(path, "faqs.jsonl", plog, limits, max_rows=limits.max_faqs, what="FAQs"):
        faqs = read_faq_rows(path, kit.profile, plog)
    problems = plog.problems()
    if plog.has_errors:
        raise KitInvalid(problems, kit.root)
    for p in problems:
        log.warning("store kit %s: %s", kit.root, p)
    others = [p for p in kit.warnings if p.file != "faqs.jsonl"]
    return replace(kit, faqs=faqs, warnings=others + problems)


def check_kit(root: str | Path, *, limits: KitLimits | None = None,
              templates: Mapping[str, Mapping[str, str]] | None = None) -> list[Problem]:
    """Every problem of the kit in ``root`` (errors and warnings), in file order; [] when clean.

    Args:
        root: the kit's folder.
        limits: size limits (default :class:`KitLimits`).
        templates: the engine's reply templates ``{key: {lang: text}}`` that ``templates.yaml`` may
            override (default: the packaged engine/responses/templates.yaml, read as data).
    """
    return _run(Path(root), limits or KitLimits(), templates)[1].problems()


def read_kit(root: str | Path, *, limits: KitLimits | None = None,
             templates: Mapping[str, Mapping[str, str]] | None = None) -> Kit:
    """The kit in ``root``, read whole; warnings are logged and kept in ``Kit.warnings``.

    Raises:
        KitInvalid: any error, with every problem found (the kit is not loaded at all).
    """
    root = Path(root)
    result, plog = _run(root, limits or KitLimits(), templates)
    problems = plog.problems()
    if plog.has_errors or result.profile is None:
        raise KitInvalid(problems, root)
    for p in problems:
        log.warning("store kit %s: %s", root, p)
    return Kit(root=root, profile=result.profile, catalog=Catalog(result.products, result.relations),
               faqs=result.faqs, customers=result.customers, orders=result.orders,
               templates=result.templates, intents=result.intents, warnings=problems,
               returnable=result.returnable)
