"""The NLU benchmark data sets as ``text,label`` CSV splits (DESIGN.md §3), carved reproducibly.

The official test splits of these sets are held out for outside evaluation, so every figure we
tune on comes from a validation split carved here from what ``../shared/data`` holds:

- ``banking77``: 90/10 of train.csv, stratified by intent, seed 0.
- ``clinc150``: the given ``train`` (no out-of-scope rows) and ``val`` + ``oos_val`` (label ``oos``).
- ``bitext``: 90/10 of the 20k sample, stratified by intent, seed 0.
- ``clinc150_tune``: the same training rows; validation is half of ``val`` + ``oos_val``
  (stratified, seed 0) to choose the out-of-scope threshold on — evaluate on ``clinc150_half``,
  the other half, never tuned on.
- ``shopping_zh``: online_shopping_10_cats, 90/10 stratified by label, seed 0; labels
  ``negative``/``positive``.
- ``sentiment3_zh``: ``shopping_zh`` plus a ``neutral`` class built from plain questions and
  requests: utterances of the ECD Taobao dialogue sample (spaces removed, 4-30 characters, none
  of the sentiment lexicon's words) and the store's Chinese intent examples except complaints and
  thanks; 90/10 stratified, seed 0.

Example:
    $ python benchmarks/nlu_data.py --out /tmp/nlu-data      # writes <set>/train.csv and valid.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = ("banking77", "clinc150", "clinc150_tune", "clinc150_half", "bitext", "shopping_zh", "sentiment3_zh")
NOT_NEUTRAL_INTENTS = ("complaint", "thanks")

Rows = list[tuple[str, str]]


def stratified_split(rows: Rows, *, frac: float = 0.1, seed: int = 0) -> tuple[Rows, Rows]:
    """Hold out ``frac`` of each label (at least one row), the rest trains: the same carving
    ``shopassist nlu train`` does without ``--valid``."""
    from engine.nlu.training import carve_validation

    tr, va = carve_validation([r[1] for r in rows], frac=frac, seed=seed)
    return [rows[i] for i in tr], [rows[i] for i in va]


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
    if name in ("clinc150_tune", "clinc150_half"):
        train, valid = load("clinc150", data)
        tune, half = stratified_split(valid, frac=0.5, seed=0)
        return train, (tune if name == "clinc150_tune" else half)
    if name == "sentiment3_zh":
        train, valid = load("shopping_zh", data)
        ntrain, nvalid = stratified_split(neutral_zh(data), frac=0.1, seed=0)
        return train + ntrain, valid + nvalid
    if name == "bitext":
        path = data / "bitext_customer_support" / "bitext_customer_support_20k.csv"
        return stratified_split(_csv_rows(path, "utterance", "intent"))
    if name == "shopping_zh":
        rows = _csv_rows(data / "online_shopping_10_cats" / "online_shopping_10_cats.csv", "review", "label")
        names = {"0": "negative", "1": "positive"}
        return stratified_split([(t, names[lab]) for t, lab in rows if lab in names])
    raise ValueError(f"unknown data set {name!r}; choose from {', '.join(SETS)}")


def neutral_zh(data: Path = DATA) -> Rows:
    """Plain Chinese questions and requests, labelled ``neutral`` (see the module docstring)."""
    import yaml

    from engine.nlu.sentiment import LexiconSentimentAnalyzer

    lexicon = LexiconSentimentAnalyzer()
    seen: set[str] = set()
    out: Rows = []
    with (data / "ecd_ecommerce_dialogue_sample" / "valid_sample.tsv").open(encoding="utf-8") as f:
        for line in f:
            for utt in line.rstrip("\n").split("\t")[1:]:
                t = utt.replace(" ", "")
                if 4 <= len(t) <= 30 and t not in seen:
                    if lexicon.analyze(t).label == "neutral":
                        seen.add(t)
                        out.append((t, "neutral"))
    root = Path(__file__).resolve().parents[1]
    intents = yaml.safe_load((root / "engine" / "nlu" / "data" / "intents.yaml").read_text(encoding="utf-8"))["intents"]
    for name, spec in intents.items():
        if name in NOT_NEUTRAL_INTENTS:
            continue
        for t in (spec or {}).get("zh") or ():
            if t not in seen:
                seen.add(t)
                out.append((t, "neutral"))
    return out


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
