"""The CLI as a customer uses it: turns piped through ``shopassist chat``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _run(args, stdin: bytes, demo_store, data_dir, extra_env=None):
    env = dict(os.environ, SHOPASSIST_DATA_DIR=str(data_dir), SHOPASSIST_STORE__ROOT=str(demo_store.root),
               HF_HUB_OFFLINE="1", **(extra_env or {}))
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args], input=stdin, capture_output=True, env=env, timeout=300
    )


def test_piped_chat_prints_one_reply_per_turn(demo_store, data_dir, engine):
    turns = [
        "hi",
        "where is my order 100023?",
        "does the X200 work with my iPhone?",
        "",
        "你们支持七天无理由退货吗",
        "where is order 100031?",
    ]
    proc = _run(["chat", "--customer", "C001"], ("\n".join(turns) + "\n").encode(), demo_store, data_dir)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == len(turns)
    assert "Brightcart" in lines[0]
    assert "100023" in lines[1] and "UPS" in lines[1]
    assert "iOS" in lines[2]
    assert "didn't catch" in lines[3]
    assert "30天" in lines[4]
    assert "couldn't find order 100031" in lines[5]
    assert "Traceback" not in proc.stderr.decode()


def test_piped_debug_prints_json_and_survives_invalid_utf8(demo_store, data_dir, engine):
    proc = _run(["chat", "--debug", "--session", "cli-dbg"], b"hello\n\xff\xfe\xfd\nbye\n", demo_store, data_dir)
    assert proc.returncode == 0, proc.stderr.decode()
    replies = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["intent"] for r in replies][0] == "greet"
    assert len(replies) == 3
    for r in replies:
        assert {"text", "intent", "confidence", "route", "sources", "trace", "slots"} <= r.keys()


def test_invalid_config_fails_at_start_naming_the_field(demo_store, data_dir):
    proc = _run(["chat"], b"hi\n", demo_store, data_dir, {"SHOPASSIST_NLU__CONFIDENCE_THRESHOLD": "7"})
    assert proc.returncode == 2
    assert "nlu.confidence_threshold" in proc.stderr.decode()
    assert "Traceback" not in proc.stderr.decode()
