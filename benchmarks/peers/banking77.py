"""The BANKING77 split every intent comparison uses: a seeded (seed 0) 90/10 carve of train.

The official test split is reserved for outside evaluation and never read here. Writes
``train.csv`` and ``valid.csv`` (``text,label``) into a folder and returns their paths.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

__all__ = ["BANKING77", "carve", "write_split"]

BANKING77 = Path(__file__).resolve().parents[3] / "shared" / "data" / "banking77" / "train.csv"


def carve(path: Path = BANKING77, *, seed: int = 0, valid_share: float = 0.1) -> tuple[list, list]:
    """(train_rows, valid_rows), rows as (text, label): a seeded permutation, the first 10% held out."""
    with open(path, encoding="utf-8") as fh:
        rows = [(r["text"].strip(), r["category"].strip()) for r in csv.DictReader(fh) if r["text"].strip()]
    order = np.random.default_rng(seed).permutation(len(rows))
    n_valid = int(round(len(rows) * valid_share))
    valid = [rows[i] for i in order[:n_valid]]
    train = [rows[i] for i in order[n_valid:]]
    return train, valid


def write_split(folder: Path, *, seed: int = 0) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    train, valid = carve(seed=seed)
    out = []
    for name, rows in (("train", train), ("valid", valid)):
        p = folder / f"{name}.csv"
        with open(p, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label"])
            w.writerows(rows)
        out.append(p)
    return out[0], out[1]
