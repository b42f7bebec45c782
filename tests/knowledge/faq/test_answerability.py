"""knowledge/faq/answerability.py and the retriever's answerability features: what a shopper
gets when the store's FAQs do or do not answer the question."""

from __future__ import annotations

import pytest

from engine.generation.extractive import drop_affirmation
from knowledge.embedders import HashEmbedder
from knowledge.faq.answerability import AnswerabilityJudge, AnswerFeatures
from knowledge.faq.index import HybridFAQRetriever
from knowledge.faq.store import FAQEntry

ENTRIES = [
    FAQEntry("en-return", "How long do I have to return an item?", "You can return items within 30 days of delivery.", "en"),
    FAQEntry("en-ship", "Is shipping free?", "Yes, shipping is free on orders over 49.", "en"),
    FAQEntry("en-pay", "Which payment methods do you accept?", "We accept Visa, Mastercard and PayPal.", "en"),
    FAQEntry("zh-return", "退货期限是多久？", "签收后30天内可以退货。", "zh"),
]


@pytest.fixture(scope="module")
def retriever() -> HybridFAQRetriever:
    return HybridFAQRetriever(ENTRIES, HashEmbedder())


def _features(score: float, coverage: float) -> AnswerFeatures:
    return AnswerFeatures(score=score, margin=0.05, cosine=score, coverage=coverage, terms=4)


def test_a_weak_best_passage_is_not_given_as_the_answer():
    verdict = AnswerabilityJudge().judge(_features(0.70, 0.9), bar=0.735)
    assert not verdict.answerable and "under" in verdict.reason


def test_nothing_retrieved_is_not_answerable():
    assert not AnswerabilityJudge().judge(None).answerable


def test_a_passage_that_holds_little_of_the_question_may_answer_but_not_say_yes():
    verdict = AnswerabilityJudge().judge(_features(0.80, 0.2), bar=0.735)
    assert verdict.answerable and not verdict.affirm


def test_a_passage_that_holds_the_question_may_say_yes():
    verdict = AnswerabilityJudge().judge(_features(0.80, 0.8), bar=0.735)
    assert verdict.answerable and verdict.affirm


@pytest.mark.parametrize("bad", [{"bar": 2.0}, {"affirm_coverage": -0.1}])
def test_bad_settings_are_refused_with_a_clear_error(bad):
    with pytest.raises(ValueError):
        AnswerabilityJudge(**bad)


def test_the_retriever_measures_its_own_answer(retriever):
    query = "how long do I have to return an item"
    passages = retriever.retrieve(query, top_k=2, language="en")
    features = retriever.answer_features(query, passages, language="en")
    assert passages[0].id == "en-return"
    assert features.coverage > 0.5 and features.margin >= 0
    assert retriever.answerable(query, passages, language="en", bar=0.0).answerable


def test_the_retriever_declines_a_question_nothing_answers(retriever):
    query = "do you have a shop in miami"
    passages = retriever.retrieve(query, top_k=2, language="en")
    verdict = retriever.answerable(query, passages, language="en", bar=0.99)
    assert not verdict.answerable


def test_no_passages_no_features(retriever):
    assert retriever.answer_features("anything", [], language="en") is None


@pytest.mark.parametrize("text,lang,expected", [
    ("Yes, shipping is free on orders over 49.", "en", "Shipping is free on orders over 49."),
    ("Yes. We ship to 30 countries.", "en", "We ship to 30 countries."),
    ("可以，结账时选择门店自提。", "zh", "结账时选择门店自提。"),
    ("We accept Visa.", "en", "We accept Visa."),
    ("Yesterday's orders ship today.", "en", "Yesterday's orders ship today."),
])
def test_an_unsure_answer_never_opens_with_yes(text, lang, expected):
    assert drop_affirmation(text, lang) == expected


def test_answer_side_rerank_is_off_by_default_and_reorders_only_the_head(tmp_path):
    plain = HybridFAQRetriever(ENTRIES, HashEmbedder(), cache_dir=tmp_path / "a")
    assert plain.retrieve("return an item", top_k=1, language="en")[0].id == "en-return"
    assert not any(p.name.startswith("faq-en-answers") for p in (tmp_path / "a").iterdir())
    with_answers = HybridFAQRetriever(ENTRIES, HashEmbedder(), cache_dir=tmp_path / "b", answer_weight=1.0,
                                      answer_depth=2)
    got = with_answers.retrieve("within 30 days of delivery", top_k=3, language="en")
    assert {p.id for p in got} <= {e.id for e in ENTRIES}
    assert any(p.name.startswith("faq-en-answers") for p in (tmp_path / "b").iterdir())
    # scores stay the fused ones: the answerability threshold's scale does not move
    fused = {p.id: p.score for p in plain.retrieve("within 30 days of delivery", top_k=3, language="en")}
    assert {p.id: p.score for p in got} == fused


@pytest.mark.parametrize("bad", [{"answer_weight": -1.0}, {"answer_depth": 0}])
def test_bad_answer_rerank_settings_are_refused(bad):
    with pytest.raises(ValueError):
        HybridFAQRetriever(ENTRIES, HashEmbedder(), **bad)
