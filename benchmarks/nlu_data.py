"""The NLU benchmark data sets as ``text,label`` CSV splits (DESIGN.md §3), carved reproducibly.

The official test splits of these sets are held out for outside evaluation, so every figure we
tune on comes from a validation split carved here from what ``../shared/data`` holds:

- ``banking77``: 90/10 of train.csv, stratified by intent, seed 0.
- ``clinc150``: the given ``train`` (no out-of-scope rows) and ``val`` + ``oos_val`` (label ``oos``).
- ``bitext``: 90/10 of the 20k sample, stratified by intent, seed 0.
- ``shopping_zh``: online_shopping_10_cats, 90/10 stratified by label, seed 0; labels
  ``negative``/``positive``.

Example:
    $ python benchmarks/nlu_data.py --out /tmp/nlu-data      # writes <set>/train.csv and valid.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections import defaultdict
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = ("banking77", "clinc150", "bitext", "shopping_zh")

Rows = list[tuple[str, str]]


def stratified_split(rows: Rows, *, frac: float = 0.1, seed: int = 0) -> tuple[Rows, Rows]:
    """Hold out ``frac`` of each label (at least one row), the rest trains."""
    by: dict[str, Rows] = defaultdict(list)
    for r in rows:
        by[r[1]].append(r)
    rng = random.Random(seed)
    train, valid = [], []
    for label in sorted(by):
        items = by[label][:]
        rng.shuffle(items)
        k = max(1, round(len(items) * frac))
        valid += items[:k]
        train += items[k:]
    return train, valid


def _csv_rows(path: Path, text_col: str, label_col: str) -> Rows:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [((r.get(text_col) or "").replace("\ufeff", "").strip(), (r.get(label_col) or "").strip())
                for r in csv.DictReader(f) if (r.get(text_col) or "").strip()]


def load(name: str, data: Path = DATA) -> tuple[Rows, Rows]:
    """``(train, valid)`` rows of one set; ``clinc150`` validation carries ``oos`` rows."""
    if name == "banking77":
        return stratified_split(_csv_rows(data / "banking77" / "train.csv", "text", "category"))
    if name == "clinc150":
        doc = json.loads((data / "clinc150" / "data_full_train_val.json").read_text(encoding="utf-8"))
        return [tuple(r) for r in doc["train"]], [tuple(r) for r in doc["val"] + doc["oos_val"]]
    if name == "bitext":
        path = data / "bitext_customer_support" / "bitext_customer_support_20k.csv"
        return stratified_split(_csv_rows(path, "utterance", "intent"))
    if name == "shopping_zh":
        rows = _csv_rows(data / "online_shopping_10_cats" / "online_shopping_10_cats.csv", "review", "label")
        names = {"0": "negative", "1": "positive"}
        return stratified_split([(t, names[lab]) for t, lab in rows if lab in names])
    raise ValueError(f"unknown data set {name!r}; choose from {', '.join(SETS)}")


def write_csv(rows: Rows, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--sets", nargs="*", default=list(SETS))
    args = ap.parse_args()
    for name in args.sets:
        train, valid = load(name)
        write_csv(train, Path(args.out) / name / "train.csv")
        write_csv(valid, Path(args.out) / name / "valid.csv")
        print(f"{name}: train {len(train)}, valid {len(valid)}")


if __name__ == "__main__":
    main()
