"""The store the engine serves, the demo or a kit: :func:`open_store` gives the builder its parts.

``store.kind: demo`` builds (or reuses) the embedded demo store, a kit that
:func:`knowledge.demo.ensure_demo_store` writes, and reads it with the kit reader; its name, currency,
return window and refund days come from its store.yaml. ``store.kind: kit`` reads
the kit in ``store.root`` with :func:`knowledge.kit.read_kit`: a kit with any error refuses to load
(:class:`knowledge.kit.KitInvalid` lists every problem, file, row and field), so an engine never
serves half a kit. What the kit's ``store.yaml`` states wins over the settings: the store's name,
currency symbol, return window, reply languages, order-id form and support hours. The kit's
working files (FAQ indexes, and the SQLite order database when ``connectors.url`` names none) live
under ``<data_dir>/kits/<key>/``, keyed by the kit's folder; the indexes inside are keyed by the
FAQs' content, so an edited FAQ re-embeds only what changed. The order database is live data: it is
filled with the kit's trial data when it is first created and never rebuilt over afterwards
(``shopassist store build`` reloads it, refusing one with customers' writes).

Which languages answer fully: English and Chinese (intents, templates, retrieval). A kit listing
others loads with a warning; a customer writing in a language the kit does not list gets replies in
the kit's first language.

Example:
    >>> parts = open_store(load_settings(store={"kind": "kit", "root": "my-shop"}))   # doctest: +SKIP
    >>> parts.name, parts.currency_symbol, parts.order_id_pattern                     # doctest: +SKIP
    ('Harbor Lane Home', '$', 'HL[0-9]{5}')
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from engine.nlu.catalog import store_catalog_overrides
from engine.learn.registry import BASE, ModelRegistry
from engine.nlu.intent import IntentExample
from engine.responses.templates import Templates, read_templates
from engine.settings import Settings
from knowledge.faq.store import FAQEntry, load_faqs
from knowledge.graph.catalog import Catalog
from knowledge.graph.sources import load_catalog

__all__ = ["StoreParts", "SupportHours", "StoreCheckedRegistry", "gc_paused", "open_store", "kit_work_dir", "kit_db_url", "save_built",
           "serve_intents", "store_words", "store_intent_examples", "watch_store", "FULL_LANGUAGES"]

log = logging.getLogger("shopassist.store")

#: languages the engine answers fully in (intent examples, templates, retrieval models)
FULL_LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class StoreParts:
    """What the builder needs of a store, whichever its kind.

    Attributes:
        name: shown to customers (``{store}`` in templates).
        catalog: the products.
        faqs: the FAQ entries the hybrid index is built from.
        index_dir: where the FAQ indexes are cached.
        db_url: the SQL order database when ``connectors.url`` names none.
        currency_symbol, return_window_days: what prices and the return flows use.
        languages: the reply languages, first = default (None: reply in the customer's language).
        order_id_pattern: the shop's order-id regex (None: six digits).
        template_overrides: reply wording laid over the engine's templates.
        intent_examples: examples joined to the engine's intent training data.
        intent_catalog_overrides: the ``catalog:`` of the store's intents.yaml.
        profile: the kit's store.yaml (None for the demo, whose replies keep its own order wording
            and which is not watched: its files are generated).
        root: the store's folder.
        refund_days: ``policies.refund_business_days`` (the demo's; a kit's come with its profile).
        kit: the :class:`knowledge.kit.Kit` read (a kit's; what a live FAQ edit is checked against).
    """

    name: str
    catalog: Catalog
    faqs: list[FAQEntry]
    index_dir: Path
    db_url: str
    currency_symbol: str
    return_window_days: int
    languages: tuple[str, ...] | None = None
    order_id_pattern: str | None = None
    template_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    intent_examples: list[IntentExample] = field(default_factory=list)
    intent_catalog_overrides: dict[str, Any] = field(default_factory=dict)
    profile: Any = None
    root: Path | None = None
    refund_days: tuple[int, int] | None = None
    kit: Any = None
    support: Any = None  # the store's support contacts and hours (knowledge.kit.Support), the demo's too

    @property
    def support_profile(self) -> Any:
        """The profile that says how customers reach the store's people: a kit's, else the demo's."""
        return self.profile if self.profile is not None else self.support

    @property
    def synonyms(self) -> dict[str, str] | None:
        """store.yaml's ``synonyms`` (a shopper's word -> the catalog's word), the demo's too; None: none."""
        return dict(getattr(self.support_profile, "synonyms", None) or {}) or None

    def templates(self, settings: Settings) -> Templates:
        """The engine's templates (or ``store.templates_file``) with this store's wording over them."""
        days = self.refund_days or getattr(getattr(self.profile, "policies", None), "refund_business_days", None)
        extra = {"refund_days": f"{days[0]}–{days[1]}" if days[0] != days[1] else str(days[0])} if days else {}
        return Templates(self.template_overrides, path=settings.store.templates_file, store=self.name, **extra)


class SupportHours:
    """What a hand-off adds about the people taking over: open now or not, and their hours.

    Args:
        profile: the kit's :class:`knowledge.kit.StoreProfile` (``is_open``, ``hours_text``).
        templates: renders ``handoff_open`` / ``handoff_closed`` with ``{hours}``.
        clock: the current time (aware), injectable for tests.

    Example:
        >>> SupportHours(profile, templates).note("en")                  # doctest: +SKIP
        "Our team is offline right now. They're available Mon-Fri 09:00-17:00 ET and will pick this up then."
    """

    def __init__(self, profile: Any, templates: Templates,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc), *, tickets: Any = None) -> None:
        self._profile = profile
        self._t = templates
        self._clock = clock
        self.tickets = tickets  # engine.handoff.HandoffTickets: off duty, a customer may leave a contact

    def note(self, lang: str) -> str:
        from engine.handoff import closed_note

        hours = self._profile.hours_text(lang)
        if not hours:
            return ""
        if self._profile.is_open(self._clock()):
            return self._t.render("handoff_open", lang, hours=hours)
        return closed_note(self._profile, self._t, lang, hours, self._clock(), offer=self.tickets is not None)

    @property
    def profile(self) -> Any:
        return self._profile

    def off_duty(self) -> bool:
        """Whether support is closed now (a hand-off then offers a ticket when tickets are kept)."""
        return self.tickets is not None and bool(self._profile.hours_text()) and not self._profile.is_open(self._clock())


def open_store(settings: Settings, *, progress: bool = False, today: date | None = None) -> StoreParts:
    """The parts of the store ``settings.store`` names (see module docstring).

    Raises:
        KitInvalid: the kit has errors (every problem listed).
        StoreHasWrites: the demo store needs a rebuild that would replace customers' writes.
    """
    if settings.store.kind == "kit":
        return _kit_store(settings, today=today)
    return _demo_store(settings, progress=progress)


def _demo_store(settings: Settings, *, progress: bool) -> StoreParts:
    """The demo store: a kit that ``ensure_demo_store`` writes (and keeps), read like any kit."""
    from knowledge.demo import ensure_demo_store
    from knowledge.kit import read_kit

    data_dir = settings.resolved_data_dir
    root = Path(settings.store.root) if settings.store.root else data_dir / "demo-store"
    # built once and kept: the orders database is live data (cancellations, returns) that a
    # rebuild would throw away; `shopassist demo build` starts it afresh on purpose
    demo = ensure_demo_store(root, seed=settings.store.seed, progress=progress)
    kit = read_kit(root)  # KitInvalid: every problem, nothing loaded
    profile = kit.profile
    catalog = kit.catalog
    if settings.store.catalog_csv is not None:  # an Amazon-format CSV merged into (or replacing) it
        catalog = load_catalog(demo.catalog_path, csv_path=settings.store.catalog_csv,
                               mode=settings.store.catalog_mode, cache_dir=data_dir / "catalogs")
    faqs = load_faqs(settings.store.faqs_file) if settings.store.faqs_file else list(kit.faqs)
    return StoreParts(
        name=profile.name, catalog=catalog, faqs=faqs, index_dir=root / "indexes", db_url=demo.db_url,
        currency_symbol=profile.currency_symbol, return_window_days=profile.policies.return_window_days,
        refund_days=profile.policies.refund_business_days, template_overrides=dict(kit.templates or {}),
        intent_examples=_name_examples(profile.name) + _intent_examples(kit.intents),
        intent_catalog_overrides=store_catalog_overrides(root), root=root, support=profile)


@contextlib.contextmanager
def gc_paused() -> Iterator[Callable[[], None]]:
    """Python's cyclic garbage collector off while an engine starts; yields ``settle()``.

    Reading a large kit makes millions of objects (50,000 products, their attributes and the
    catalog's tables) that live as long as the engine. Each one the collector tracks makes every
    full collection longer, and a start triggers many (the allocations themselves, and the
    encoders' explicit ``gc.collect()`` after loading their weights): about a second and a half of
    CPU on a 50,000-product kit (benchmarks/README.md, "Store kit at scale"). ``settle()``, called
    once the store is read, leaves what exists by then out of the collections run meanwhile
    (``gc.freeze``). On exit everything goes back to the collector as it was (``gc.unfreeze``, the
    previous enabled state), so nothing is kept that a collection would have freed; a process that
    froze objects itself (before forking workers) is left as it is: no freezing then.

    Example:
        >>> with gc_paused() as settle:                     # doctest: +SKIP
        ...     store = open_store(settings); settle()
    """
    enabled, frozen = gc.isenabled(), gc.get_freeze_count()
    gc.disable()
    try:
        yield (gc.freeze if not frozen else lambda: None)
    finally:
        if not frozen:
            gc.unfreeze()
        if enabled:
            gc.enable()


def kit_work_dir(settings: Settings) -> Path:
    """``<data_dir>/kits/<name>-<hash of the kit's folder>``: the kit's indexes and order database."""
    root = Path(settings.store.root).expanduser().resolve()
    key = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", root.name).strip("-")[:40] or "kit"
    return settings.resolved_data_dir / "kits" / f"{slug}-{key}"


def save_built(settings: Settings, kit: Any) -> bool:
    """Save what starts need of ``kit`` (checked, its catalog learned) in its working folder
    (:func:`knowledge.kit.built.write_built`), under the folder's build lock; False when not saved
    (logged: starts then read the kit from its files)."""
    from knowledge.kit.built import FOLDER, write_built

    work = kit_work_dir(settings)
    try:
        with _locked(work):
            return write_built(kit, work / FOLDER)
    except OSError as exc:
        log.warning("store kit %s: cannot save its build in %s (%s); starts read the kit from its files",
                    kit.root, work / FOLDER, exc)
        return False


def kit_db_url(settings: Settings) -> str:
    """The order database a kit's engine uses: ``connectors.url``, else the kit's own SQLite file."""
    url = getattr(settings.connectors, "url", None)
    return url or f"sqlite:///{kit_work_dir(settings) / 'orders.db'}"


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".build.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _kit_store(settings: Settings, *, today: date | None) -> StoreParts:
    from knowledge.kit import read_kit
    from knowledge.kit.built import FOLDER as BUILT_FOLDER, load_built
    from knowledge.kit.trial import load_trial_data

    root = Path(settings.store.root).expanduser()
    work = kit_work_dir(settings)
    # what `shopassist store build` saved of this very kit (files unchanged, same code, intact), else
    # the kit read from its files: KitInvalid lists every problem, nothing loaded
    kit = load_built(root, work / BUILT_FOLDER) or read_kit(root)
    profile = kit.profile
    others = [lang for lang in profile.languages if lang not in FULL_LANGUAGES]
    if others:
        log.warning("store kit %s lists %s: replies in those languages use the English wording and models "
                    "(only %s answer fully)", root, ", ".join(others), " and ".join(FULL_LANGUAGES))
    db_url = kit_db_url(settings)
    if db_url.startswith("sqlite:///") and getattr(settings.connectors, "url", None) is None:
        db_path = Path(db_url.removeprefix("sqlite:///"))
        with _locked(work):
            if not db_path.exists() or db_path.stat().st_size == 0:
                # first start: the kit's trial data (none: an empty order database of the schema)
                load_trial_data(kit, db_url, today=today or date.today())
    return StoreParts(
        name=profile.name, catalog=kit.catalog, faqs=list(kit.faqs), index_dir=work / "indexes", db_url=db_url,
        currency_symbol=profile.currency_symbol, return_window_days=profile.policies.return_window_days,
        languages=tuple(profile.languages), order_id_pattern=_pattern(profile.order_id_pattern),
        template_overrides=_order_id_wording(settings, kit) | dict(kit.templates or {}),
        intent_examples=_name_examples(profile.name) + _intent_examples(kit.intents),
        intent_catalog_overrides=dict((kit.intents or {}).get("catalog") or {}), profile=profile, root=root,
        kit=kit)


def _pattern(pattern: str) -> str | None:
    from connectors.base import DEFAULT_ORDER_ID_PATTERN

    return None if pattern == DEFAULT_ORDER_ID_PATTERN else pattern


def _order_id_wording(settings: Settings, kit: Any) -> dict[str, dict[str, str]]:
    """Where the shop's order ids are not six digits, the questions asking for one show its form
    (an id of its trial orders, else none)."""
    if _pattern(kit.profile.order_id_pattern) is None:
        return {}
    example = next((str(o["id"]) for o in kit.orders), "")
    base = Templates(path=settings.store.templates_file)
    out = {}
    for key in ("ask_order_id", "malformed_order_id"):
        source = f"{key}_example" if example else f"{key}_any"
        out[key] = {lang: text.replace("{example}", example) for lang, text in base.entry(source).items()}
    return out


#: examples every store gets, made from its name: greeting the shop by name, and complaining about it
_NAME_EXAMPLES = {
    "greet": {"en": ("hi {name}", "hello {name} support"), "zh": ("{name} 你好",)},
    "complaint": {"en": ("never ordering from {name} again", "so disappointed with {name}")},
}


def _name_examples(name: str, languages: tuple[str, ...] = FULL_LANGUAGES) -> list[IntentExample]:
    """Intent examples naming the store (a greeting that names it is a greeting, not a product question)."""
    return [IntentExample(text.format(name=name), label, lang)
            for label, by_lang in _NAME_EXAMPLES.items() for lang, texts in by_lang.items()
            if lang in languages for text in texts]


def _intent_examples(doc: dict | None) -> list[IntentExample]:
    """The ``intents:`` of a kit's intents.yaml as training examples (English and Chinese)."""
    out: list[IntentExample] = []
    for label, spec in ((doc or {}).get("intents") or {}).items():
        for lang in FULL_LANGUAGES:
            for text in (spec or {}).get(lang) or ():
                if isinstance(text, str) and text.strip():
                    out.append(IntentExample(text.strip(), str(label), lang))
    return out


#: what the builder makes of a store's knowledge: ``knowledge(catalog, faqs)`` -> parts; an argument
#: given as None is unchanged and its parts are not made
Knowledge = Callable[[Catalog | None, list[FAQEntry] | None], dict[str, Any]]
_FAQ_FILES = frozenset({"faqs.jsonl", "store.yaml"})          # store.yaml: the FAQs' languages
_CATALOG_FILES = frozenset({"catalog.csv", "catalog.json", "store.yaml"})  # store.yaml: currency, labels


def watch_store(settings: Settings, store: StoreParts, knowledge: Knowledge) -> dict[str, Any]:
    """The parts ``knowledge`` makes of the store; with ``store.watch`` on a kit, stand-ins that
    follow the kit's edits while the engine runs (:class:`knowledge.kit.live.LiveKit`).

    An edited ``faqs.jsonl`` rebuilds the FAQ parts (the index re-embeds only the rows whose text
    changed), an edited ``catalog.csv`` the catalog parts; a broken edit logs every problem and the
    last good version keeps serving. Other files (templates, intents, trial data) apply at the next
    start, which is logged.
    """
    parts = knowledge(store.catalog, store.faqs)
    watch = settings.store.watch
    if store.root is None or watch is False or (watch is None and store.profile is None):
        return parts
    from knowledge.kit.live import LiveKit

    root = store.root

    def rebuild(kit: Any, changed: frozenset[str]) -> dict[str, Any]:
        later = sorted(changed - _FAQ_FILES - _CATALOG_FILES)
        if later:
            log.info("store kit %s: %s edited; that applies at the next start", root, ", ".join(later))
        return knowledge(kit.catalog if changed & _CATALOG_FILES else None,
                         list(kit.faqs) if changed & _FAQ_FILES else None)

    live = LiveKit(root, rebuild, parts, interval_s=settings.store.watch_interval_s, kit=store.kit).start()
    log.info("store kit %s: watching its files for edits (every %.1f s)", root, settings.store.watch_interval_s)
    return {name: live.part(name) for name in parts}


# -- the learning loop's promoted versions, checked against the store's own intent examples ---------
_MAX_CHECKED_EXAMPLES = 2000  # the check runs at start-up: bounded whatever a kit lists


class StoreCheckedRegistry(ModelRegistry):
    """The learning loop's registry (:class:`engine.learn.registry.ModelRegistry`) as a store's engine
    sees it: a promoted version serves only while it still answers the store's own intent examples.

    A version is promoted by ``shopassist learn`` against the base data of its day; a kit's
    ``intents.yaml`` that changed since (new examples, a new intent) makes that data another, and the
    base model the engine trains at start-up learns it. So each promoted version is checked again,
    once, against the store's examples: it must know every intent they name, and get them right
    nearly as often as the base model does (at most ``tolerance`` below it, the ``learn`` rule's own
    ``learn.promote_tolerance``). A version that fails is not served (:meth:`current` says
    ``base``), and the log says why and what to run; the registry itself is left as it is.

    Args:
        root: the registry folder.
        examples: the store's intent examples (a kit's ``intents.yaml``).
        tolerance: how far below the base model's accuracy on them a version may be.
    """

    def __init__(self, root: str | Path, examples: list[IntentExample], *, tolerance: float = 0.05) -> None:
        super().__init__(root)
        if not 0.0 <= tolerance <= 1.0:
            raise ValueError(f"tolerance must be in [0, 1], got {tolerance}")
        self.examples = list(examples)[:_MAX_CHECKED_EXAMPLES]
        self.tolerance = tolerance
        self.verdicts: dict[str, tuple[bool, str]] = {}
        self._serving: Any = None
        self._base_accuracy: float | None = None

    def bind(self, serving: Any) -> None:
        """The :class:`engine.learn.reload.ReloadingClassifier` that serves this registry's versions
        (its ``base`` and ``classifier_for`` make the classifiers that are checked)."""
        self._serving = serving

    def current(self) -> str:
        version = super().current()
        if version == BASE or not self.examples or self._serving is None:
            return version
        if version not in self.verdicts:
            self.verdicts[version] = self._check(version)
            ok, why = self.verdicts[version]
            if not ok:
                log.warning("intent model %s is not served: %s; the base model serves until `shopassist learn "
                            "retrain` makes and promotes a version that has learnt the store's examples", version, why)
        return version if self.verdicts[version][0] else BASE

    def _check(self, version: str) -> tuple[bool, str]:
        try:
            classifier = self._serving.classifier_for(version)
        except Exception as exc:  # ModelError: the reloader logs it and keeps serving what it has
            return True, f"not checked ({exc})"
        missing = sorted({e.label for e in self.examples} - set(classifier.labels))
        if missing:
            return False, f"it does not know the store's intent{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        if self._base_accuracy is None:
            self._base_accuracy = _accuracy(self._serving.base, self.examples)
        got = _accuracy(classifier, self.examples)
        if got < self._base_accuracy - self.tolerance:
            return False, (f"it gets {got:.0%} of the store's {len(self.examples)} intent examples right, the base "
                           f"model {self._base_accuracy:.0%}")
        return True, f"{got:.0%} of the store's intent examples right (base {self._base_accuracy:.0%})"


def _accuracy(classifier: Any, examples: list[IntentExample]) -> float:
    return sum(classifier.classify(e.text).intent == e.label for e in examples) / len(examples)


def serve_intents(settings: Settings, store: StoreParts, base: Any) -> Any:
    """``base`` (the start-up intent model) behind the learning loop's reloader; with a store that has
    its own intent examples, the promoted versions are checked against them (:class:`StoreCheckedRegistry`)."""
    from engine.learn.reload import ReloadingClassifier

    registry = StoreCheckedRegistry(settings.resolved_registry_dir, store.intent_examples,
                                    tolerance=settings.learn.promote_tolerance)
    serving = ReloadingClassifier(registry, base, interval_s=settings.learn.reload_interval_s)
    registry.bind(serving)
    if registry.examples:
        serving.refresh(force=True)  # the promoted version is checked now, not in a customer's first turn
    return serving


def store_intent_examples(settings: Settings) -> list[IntentExample]:
    """The intent examples a store adds to the engine's base data (those naming the store, and a
    kit's intents.yaml): what ``shopassist learn retrain`` trains on beside the base examples."""
    if settings.store.kind != "kit":
        from knowledge.demo.build import PROFILE

        return _name_examples(PROFILE["name"])
    from knowledge.kit import read_kit

    kit = read_kit(Path(settings.store.root).expanduser())
    return _name_examples(kit.profile.name) + _intent_examples(kit.intents)


# -- the store's words (small talk is read against them), kept between starts --------------------
_WORDS_FILE = "store-words.json"


def store_words(store: StoreParts, texts: Iterable[str]) -> Any:
    """:func:`engine.dialogue.store_vocabulary` of ``texts`` (every text of the store), read from the
    store's index folder when the same texts were read by the same code before, else worked out and
    saved there. Keyed by a digest of the texts and of the reading code's source, so an edited kit
    or another version of the code reads them again; a damaged file is read again too."""
    import dataclasses
    import json
    import os
    import sys

    from engine.dialogue import store_vocabulary

    texts = list(texts)
    digest = hashlib.sha256()
    for name in ("engine.dialogue.understand", "engine.dialogue.references", "knowledge.kernel.text"):
        module = sys.modules.get(name)
        try:
            digest.update(Path(module.__file__).read_bytes() if module is not None else name.encode())
        except (OSError, TypeError):
            return store_vocabulary(texts)  # no source to key the file by: nothing is kept
    for text in texts:
        digest.update(b"\0" + text.encode("utf-8", "surrogatepass"))
    key = digest.hexdigest()
    path = store.index_dir / _WORDS_FILE
    empty = store_vocabulary(())
    keeps = dataclasses.is_dataclass(empty) and isinstance(getattr(empty, "tokens", None), frozenset)
    if keeps:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            tokens = doc["tokens"]
            if doc.get("key") == key and doc.get("sha256") == _tokens_digest(tokens):
                return dataclasses.replace(empty, tokens=frozenset(tokens))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    vocabulary = store_vocabulary(texts)
    if keeps:
        tokens = sorted(vocabulary.tokens)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
            tmp.write_text(json.dumps({"key": key, "sha256": _tokens_digest(tokens), "tokens": tokens},
                                      ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:  # a read-only folder costs the reading at the next start, nothing more
            log.info("cannot keep the store's words in %s: %s", path, exc)
    return vocabulary


def _tokens_digest(tokens: Any) -> str:
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise TypeError("tokens must be a list of texts")
    return hashlib.sha256("\0".join(tokens).encode("utf-8", "surrogatepass")).hexdigest()
