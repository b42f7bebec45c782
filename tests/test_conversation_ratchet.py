"""The conversation benchmark's regression guard: the dev split's pass rate over turns never drops.

``benchmarks/conversations/ratchet.json`` records the figure; raise it (rounded down to two
decimals) when a change makes more dev turns right. The test split is measured and reported by
``benchmarks/conversations.py`` only, never guarded here.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _runner():
    spec = importlib.util.spec_from_file_location("bench_conversations", BENCH / "conversations.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def test_dev_split_pass_rate_does_not_drop_below_the_ratchet(data_dir):
    floor = json.loads((BENCH / "conversations" / "ratchet.json").read_text())["dev_pass_rate"]
    out = _runner().run(splits=("dev",), data_dir=data_dir)
    assert not out["problems"], "\n".join(out["problems"])
    results = out["results"]
    rate = sum(r.passed for r in results) / len(results)
    failing = "\n".join(f"{r.conversation} turn {r.n}: {r.said!r} -> {r.reply[:120]!r}: {r.failures}"
                        for r in results if not r.passed)
    assert rate >= floor, f"dev pass rate {rate:.3f} < ratchet {floor}; failing turns:\n{failing}"


def test_conversation_files_are_valid_and_their_placeholders_resolve():
    out = _runner().run(check_only=True)
    assert not out["problems"], "\n".join(out["problems"])
    assert out["conversations"] > 0
