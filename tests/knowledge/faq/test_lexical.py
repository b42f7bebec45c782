"""knowledge/faq/lexical.py: analysers and the BM25 index."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.faq import lexical
from knowledge.faq.lexical import BM25Index, analyse, stem


@pytest.mark.parametrize(
    "word, expected",
    [("returns", "return"), ("shipping", "ship"), ("shipped", "ship"), ("boxes", "box"), ("policies", "policy"),
     ("address", "address"), ("status", "status"), ("gift", "gift"), ("2024", "2024")],
)
def test_stem(word, expected):
    assert stem(word) == expected


def test_english_analysis_drops_stop_words_but_keeps_negations():
    assert analyse("Is the item NOT available for pre-order?") == ["item", "not", "available", "preorder"]
    assert analyse("back order") == analyse("backorder") == ["backorder"]


def test_chinese_analysis_yields_words_or_ngrams():
    toks = analyse("退款多久到账", "zh")
    assert "退款" in toks and "多久" in toks


def test_chinese_falls_back_to_ngrams_without_jieba(monkeypatch):
    monkeypatch.setattr(lexical, "_jieba_checked", True)
    monkeypatch.setattr(lexical, "_jieba", None)
    assert analyse("退款多久", "zh") == ["退", "款", "多", "久", "退款", "款多", "多久"]


@pytest.mark.parametrize("text", ["", "?!...", "   "])
def test_nothing_to_analyse(text):
    assert analyse(text) == []


DOCS = ["free shipping on orders over 49", "return items within 30 days", "refunds take 5 to 7 days",
        "we accept paypal and visa"]


@pytest.fixture(scope="module")
def index():
    return BM25Index([analyse(d) for d in DOCS])


@pytest.mark.parametrize("query, best", [("is shipping free", 0), ("how do I return an item", 1),
                                         ("refund time", 2), ("paypal", 3)])
def test_bm25_ranks_the_matching_document_first(index, query, best):
    scores = index.scores(analyse(query))
    assert int(np.argmax(scores)) == best and scores[best] > 0
    assert len(index) == 4


def test_bm25_rarer_terms_weigh_more(index):
    scores = index.scores(analyse("days paypal"))
    assert scores[3] > scores[1]  # "paypal" is in one document, "days" in two


def test_unknown_or_empty_query_scores_zero(index):
    assert not index.scores(analyse("xylophone")).any()
    assert not index.scores([]).any()


def test_coverage_is_bounded_and_counts_unknown_terms_against_every_document(index):
    full = index.coverage(analyse("free shipping"), [0, 1])
    assert full[0] == pytest.approx(1.0) and full[1] == 0.0
    partial = index.coverage(analyse("free shipping xylophone"), [0])
    assert 0.0 < partial[0] < 1.0


def test_a_huge_query_is_cut_not_slow(index):
    scores = index.scores(analyse("shipping " * 50_000))
    assert int(np.argmax(scores)) == 0


def test_empty_corpus_and_bad_parameters():
    assert BM25Index([[], []]).scores(["a"]).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        BM25Index([["a"]], b=2.0)
