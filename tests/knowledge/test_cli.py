"""engine/knowledge_cli.py: `shopassist knowledge eval | build` on small generated data (hash embedder)."""

from __future__ import annotations

import json

import pytest

from engine.cli import main

FAQS = {"questions": [
    {"question": "How can I create an account?", "answer": "Click Sign Up and follow the steps."},
    {"question": "What payment methods do you accept?", "answer": "Credit cards, debit cards and PayPal."},
    {"question": "How can I track my order?", "answer": "Open Order History to see tracking."},
    {"question": "Do you offer international shipping?", "answer": "Yes, to select countries."},
    {"question": "Can I order a product for delivery to a different country?", "answer": "Yes, we ship abroad."},
]}


@pytest.fixture()
def files(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\nembedder:\n  model: hash\nretrieval:\n  zh_embedder: default\n  ensemble_embedder: null\n")
    faq = tmp_path / "faq.json"
    faq.write_text(json.dumps(FAQS))
    queries = tmp_path / "q.csv"
    queries.write_text("query,faq_id\nhow do i create an account,0\nwhat payment methods do you take,1\n"
                       "track my order,2\ninternational shipping,3|4\nsomething unrelated entirely,0\n")
    return cfg, faq, queries, tmp_path


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_eval_writes_the_contract_metrics(files, mode, capsys):
    cfg, faq, queries, tmp = files
    out = tmp / "res" / "out.json"
    assert main(["knowledge", "eval", "--config", str(cfg), "--faq", str(faq), "--queries", str(queries),
                 "--json", str(out), "--mode", mode]) == 0
    res = json.loads(out.read_text())
    for key in ("recall@1", "recall@5", "mrr", "p50_ms"):
        assert isinstance(res[key], float)
    assert res["recall@1"] == pytest.approx(0.8)  # the unrelated query cannot be found at rank 1
    if mode == "bm25":  # BM25 returns only FAQs sharing a term: nothing for the unrelated query
        assert res["recall@5"] == res["mrr"] == pytest.approx(0.8)
    else:  # 5 FAQs: every one is in the top 5
        assert 0.8 < res["mrr"] < 1.0 and res["recall@5"] == 1.0
    assert "recall@1" in capsys.readouterr().out


def test_eval_reads_jsonl_faqs(files):
    cfg, _, _, tmp = files
    faq = tmp / "faq.jsonl"
    faq.write_text('{"id": "ship", "question": "Is shipping free?", "answer": "Over 49."}\n'
                   '{"id": "pay", "question": "Do you take PayPal?", "answer": "Yes."}\n')
    queries = tmp / "q2.csv"
    queries.write_text("query,faq_id\nis shipping free,ship\npaypal,pay|ship\n")
    out = tmp / "o.json"
    assert main(["knowledge", "eval", "--config", str(cfg), "--faq", str(faq), "--queries", str(queries),
                 "--json", str(out)]) == 0
    assert json.loads(out.read_text())["recall@1"] == 1.0


@pytest.mark.parametrize("bad", ["faq", "queries"])
def test_eval_bad_input_is_a_clear_error(files, bad, capsys):
    cfg, faq, queries, tmp = files
    broken = tmp / "broken"
    broken.write_text("{not json" if bad == "faq" else "query,faq_id\nq,42\n")
    args = ["knowledge", "eval", "--config", str(cfg), "--faq", str(broken if bad == "faq" else faq),
            "--queries", str(broken if bad == "queries" else queries)]
    assert main(args) == 1
    assert str(broken) in capsys.readouterr().err


def test_build_persists_indexes_with_a_manifest(files, capsys):
    cfg, faq, _, tmp = files
    out = tmp / "idx"
    assert main(["knowledge", "build", "--config", str(cfg), "--faq", str(faq), "--out", str(out)]) == 0
    manifest = json.loads((out / "faq-en.json").read_text())
    assert manifest["count"] == 5 and manifest["model"].startswith("hash") and manifest["index_kind"] == "flat"
    assert "5 FAQs" in capsys.readouterr().out
