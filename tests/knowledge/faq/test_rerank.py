"""knowledge/faq/rerank.py: the lexical reranker, the cross-encoder wrapper, the factory."""

from __future__ import annotations

import pytest

from engine.errors import ModelError
from engine.types import Passage
from knowledge.faq.rerank import (
    CrossEncoderReranker,
    LexicalReranker,
    NoReranker,
    Reranker,
    build_reranker,
)


def P(id: str, question: str, score: float) -> Passage:
    return Passage(id, question, "answer", "en", score)


CANDIDATES = [
    P("sale", "Can I return a product bought during a sale?", 0.62),
    P("gift-card", "Can I return a product bought with a gift card?", 0.60),
    P("store-credit", "Can I return a product bought with store credit?", 0.59),
]


def test_lexical_reranker_promotes_the_candidate_with_the_distinguishing_words():
    out = LexicalReranker(0.3).rerank("return something paid with a gift card", CANDIDATES, language="en")
    assert out[0].id == "gift-card"
    assert isinstance(LexicalReranker(), Reranker)


def test_lexical_reranker_scores_stay_bounded_and_sorted():
    out = LexicalReranker(0.1).rerank("gift card", CANDIDATES, language="en")
    scores = [p.score for p in out]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)


def test_weight_zero_or_no_terms_keeps_the_fused_order():
    assert [p.id for p in LexicalReranker(0.0).rerank("gift card", CANDIDATES, language="en")] == \
        ["sale", "gift-card", "store-credit"]
    assert [p.score for p in LexicalReranker(0.5).rerank("???", CANDIDATES, language="en")] == [0.62, 0.60, 0.59]
    assert NoReranker().rerank("x", list(reversed(CANDIDATES)), language="en")[0].id == "sale"


def test_factory_and_validation():
    assert isinstance(build_reranker("lexical"), LexicalReranker)
    assert isinstance(build_reranker("none"), NoReranker)
    assert isinstance(build_reranker("cross-encoder", model="some/model"), CrossEncoderReranker)
    for bad in (lambda: build_reranker("cross-encoder"), lambda: build_reranker("bogus"),
                lambda: LexicalReranker(1.5), lambda: CrossEncoderReranker(""),
                lambda: CrossEncoderReranker("m", weight=-1)):
        with pytest.raises(ValueError):
            bad()


@pytest.mark.slow  # imports sentence-transformers
def test_a_missing_cross_encoder_is_a_model_error(tmp_path):
    rr = CrossEncoderReranker(str(tmp_path / "no-such-model"), device="cpu")
    with pytest.raises(ModelError):
        rr.rerank("q", CANDIDATES, language="en")
