"""benchmarks/run_all.py's report: plots and the README table come from the JSON results."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

RUN_ALL = Path(__file__).resolve().parent.parent / "benchmarks" / "run_all.py"


@pytest.fixture
def run_all(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_run_all", RUN_ALL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(mod, "README", tmp_path / "README.md")
    (tmp_path / "results").mkdir()
    return mod


def _write(folder: Path, name: str, data: dict) -> None:
    (folder / f"{name}.json").write_text(json.dumps(data))


def test_report_writes_plots_and_replaces_only_the_marked_table(run_all, tmp_path):
    pytest.importorskip("matplotlib")
    res = tmp_path / "results"
    machine = {"python": "3.11", "cpus": 2, "platform": "linux", "loadavg": [3.5, 3, 2], "date": "2026-11-28"}
    _write(res, "turn_latency", {"machine": machine, "turns": {"n": 4, "p50_ms": 8.25, "p95_ms": 20.5},
                                 "cold_start_s": {"faq_en": [1.5, 1.2, 1.9]}, "latencies_ms": [5, 8, 9, 21]})
    _write(res, "throughput", {"levels": [
        {"concurrency": 1, "turns_per_s": 50.0, "p50_ms": 9.0, "errors": 0, "loadavg": [1, 1, 1]},
        {"concurrency": 32, "turns_per_s": 160.0, "p50_ms": 180.0, "errors": 0, "loadavg": [2, 1, 1]}]})
    _write(res, "retrieval_scaling", {"scaling": [
        {"n": 10000, "index": "flat", "value": None, "p50_ms": 0.5, "recall@10": 1.0},
        {"n": 10000, "index": "hnsw", "value": 32, "p50_ms": 0.1, "recall@10": 0.98}]})
    (tmp_path / "README.md").write_text("# B\n\nintro\n\n<!-- results:start -->\nSTALE ROW\n<!-- results:end -->\n\nafter\n")
    run_all.report()
    text = (tmp_path / "README.md").read_text()
    assert "STALE ROW" not in text and text.startswith("# B\n\nintro") and text.rstrip().endswith("after")
    assert "| Full turn latency (p50 / p95), cache off | ≤ 10 / ≤ 25 ms | 8.2 / 20.5 ms" in text
    assert "1.50 s (median of 3)" in text
    assert "160.0 turns/s, 0 errors" in text
    for png in ("latency_histogram", "throughput_concurrency", "recall_latency_index"):
        assert (res / f"{png}.png").stat().st_size > 1000


def test_report_without_results_still_writes_an_empty_table(run_all, tmp_path):
    run_all.report()
    text = (tmp_path / "README.md").read_text()
    assert "<!-- results:start -->" in text and "| measure | goal | result |" in text
