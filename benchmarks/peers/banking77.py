"""The BANKING77 split every intent comparison uses: the NLU work's seed-0 90/10 stratified carve.

One source of truth: :func:`benchmarks.nlu_data.load` (``"banking77"``: 10% of each intent of
../shared/data/banking77/train.csv held out, seed 0). The official test split is reserved for
outside evaluation and never read here. :func:`write_split` writes ``train.csv`` and
``valid.csv`` (``text,label``) into a folder.
"""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["carve", "write_split"]


def carve() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train_rows, valid_rows), rows as (text, label)."""
    from benchmarks.nlu_data import load

    return load("banking77")


def write_split(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    train, valid = carve()
    out = []
    for name, rows in (("train", train), ("valid", valid)):
        p = folder / f"{name}.csv"
        with open(p, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label"])
            w.writerows(rows)
        out.append(p)
    return out[0], out[1]
