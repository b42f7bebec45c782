"""knowledge/faq/evaluate.py: the queries CSV and the metrics."""

from __future__ import annotations

import pytest

from engine.errors import KnowledgeError
from engine.types import Passage
from knowledge.faq.evaluate import EvalQuery, evaluate, load_queries


def test_queries_csv_with_alternatives_and_extra_columns(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('query,faq_id,note\n"can i return it, please",3|25,x\nwhere is it,2,\n', encoding="utf-8")
    assert load_queries(path, known_ids={"2", "3", "25"}) == [
        EvalQuery("can i return it, please", frozenset({"3", "25"})),
        EvalQuery("where is it", frozenset({"2"})),
    ]


@pytest.mark.parametrize(
    "text, message",
    [("text,label\na,b\n", "'query' and 'faq_id'"), ("query,faq_id\n,1\n", ":2: empty query"),
     ("query,faq_id\nq,\n", "empty faq_id"), ("query,faq_id\n", "no queries"),
     ("query,faq_id\nq,99\n", "unknown FAQ id")],
)
def test_bad_queries_files(tmp_path, text, message):
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=message):
        load_queries(path, known_ids={"1"})


def test_missing_queries_file(tmp_path):
    with pytest.raises(KnowledgeError, match="nope.csv"):
        load_queries(tmp_path / "nope.csv")


class Ranked:
    """Returns a fixed ranking per query."""

    def __init__(self, rankings):
        self.rankings = rankings

    def retrieve(self, query, *, top_k=3, language=None):
        return [Passage(i, "q", "a", "en", 1.0) for i in self.rankings[query][:top_k]]


def test_metrics_count_any_acceptable_id():
    r = Ranked({"a": ["1", "2"], "b": ["9", "8", "7", "6", "5", "2"], "c": ["3", "4"], "d": ["4", "5"]})
    queries = [EvalQuery("a", frozenset({"1"})), EvalQuery("b", frozenset({"2"})),
               EvalQuery("c", frozenset({"4", "3"})), EvalQuery("d", frozenset({"5"}))]
    res = evaluate(r, queries)
    assert res["recall@1"] == 0.5  # a, c
    assert res["recall@5"] == 0.75  # b is at rank 6
    assert res["mrr"] == pytest.approx((1 + 1 / 6 + 1 + 1 / 2) / 4, abs=1e-4)
    assert res["p50_ms"] >= 0 and res["n"] == 4
    assert [m["query"] for m in res["misses"]] == ["b", "d"]


def test_evaluate_rejects_nothing_to_do():
    with pytest.raises(ValueError):
        evaluate(Ranked({}), [])
