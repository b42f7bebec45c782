"""`shopassist nlu train | eval` on small generated CSVs (hash embedder: fast, deterministic)."""

from __future__ import annotations

import csv
import json

import pytest

from engine.cli import main

TOPICS = {
    "track": ["where is my parcel {}", "track package {}", "has my order {} shipped"],
    "refund": ["refund for purchase {}", "money back on {}", "reimburse payment {}"],
    "shoes": ["running shoes size {}", "sneakers in size {}", "trail shoes number {}"],
}
OOS = ["weather forecast tomorrow", "tell me a joke", "capital city of peru", "solve the equation"]


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "label"])
        for i, (text, label) in enumerate(rows):
            w.writerow([i, text, label])
    return path


def _rows(start, stop):
    return [(t.format(n), label) for label, ts in TOPICS.items() for t in ts for n in range(start, stop)]


@pytest.fixture
def files(tmp_path):
    train = _write(tmp_path / "train.csv", _rows(0, 8) + [(t, "oos") for t in OOS[:2]])
    valid = _write(tmp_path / "valid.csv", _rows(8, 11) + [(t, "oos") for t in OOS])
    test = _write(tmp_path / "test.csv", _rows(11, 14) + [(t, "oos") for t in OOS])
    return tmp_path, train, valid, test


def test_train_then_eval_writes_the_contract_fields(files, capsys):
    tmp, train, valid, test = files
    rc = main(["nlu", "train", "--task", "intent", "--data", str(train), "--valid", str(valid),
               "--out", str(tmp / "model"), "--oos-label", "oos", "--embedder", "hash"])
    assert rc == 0
    meta = json.loads((tmp / "model" / "meta.json").read_text())
    assert "oos" not in meta["labels"] and sorted(meta["labels"]) == ["refund", "shoes", "track"]
    assert meta["oos_score"] == "energy" and meta["threshold"] > 0.0 and len(meta["train_data_sha256"]) == 64
    rc = main(["nlu", "eval", "--model", str(tmp / "model"), "--data", str(test), "--json", str(tmp / "out.json")])
    assert rc == 0
    out = json.loads((tmp / "out.json").read_text())
    for key in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall", "per_class"):
        assert key in out
    assert out["in_scope_accuracy"] >= 0.9 and out["oos_score"] == "energy"
    assert out["energy_temperature"] == meta["energy_temperature"]


def test_the_oos_threshold_rule_defaults_to_90_percent_recall_and_can_be_balanced(files, capsys):
    tmp, train, valid, _ = files
    base = ["nlu", "train", "--task", "intent", "--data", str(train), "--valid", str(valid),
            "--oos-label", "oos", "--embedder", "hash", "--quiet"]
    assert main(base + ["--out", str(tmp / "default")]) == 0
    assert main(base + ["--out", str(tmp / "balanced"), "--min-oos-recall", "balanced"]) == 0
    assert main(base + ["--out", str(tmp / "half"), "--min-oos-recall", "0.5"]) == 0
    meta = {k: json.loads((tmp / k / "meta.json").read_text()) for k in ("default", "balanced", "half")}
    assert "OOS recall >= 0.9" in meta["default"]["threshold_choice"]
    assert "OOS recall >= 0.5" in meta["half"]["threshold_choice"]
    assert meta["balanced"]["threshold_choice"].startswith("max of (in-scope accuracy + OOS recall) / 2")
    assert meta["default"]["valid"]["oos_recall"] >= 0.9
    with pytest.raises(SystemExit) as usage:  # argparse's usage error
        main(base + ["--out", str(tmp / "bad"), "--min-oos-recall", "most"])
    assert usage.value.code == 2
    assert "expected a share in (0, 1] or 'balanced'" in capsys.readouterr().err
    assert not (tmp / "bad").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "needs columns"),
        ("text,intent\nhello,greet\n", "missing: label"),
        ("text,label\n,\n", "no rows"),
    ],
)
def test_bad_training_files_get_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    rc = main(["nlu", "train", "--task", "intent", "--data", str(path), "--out", str(tmp_path / "m"), "--embedder", "hash"])
    assert rc == 1
    assert message in capsys.readouterr().err


def test_non_utf8_and_missing_files_are_named(tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes("text,label\ncaf\xe9,x\n".encode("latin-1"))
    assert main(["nlu", "train", "--task", "intent", "--data", str(path), "--out", str(tmp_path / "m")]) == 1
    assert "not UTF-8" in capsys.readouterr().err
    assert main(["nlu", "eval", "--model", str(tmp_path / "nope"), "--data", str(path)]) == 1
    err = capsys.readouterr().err
    assert "nope is not a model folder" in err and "shopassist nlu train" in err


@pytest.mark.parametrize("mode", ["head", "finetune"])
def test_one_label_cannot_be_trained_in_either_mode(tmp_path, capsys, mode):
    one = _write(tmp_path / "one.csv", [("a b c", "x"), ("d e f", "x")])
    assert main(["nlu", "train", "--task", "intent", "--data", str(one), "--out", str(tmp_path / "m"),
                 "--embedder", "hash", "--mode", mode]) == 1
    assert "two labels" in capsys.readouterr().err
