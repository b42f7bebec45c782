"""Product-search benchmark: constrained shopper queries over a generated store kit, en + zh.

Usage:
    python benchmarks/make_kit.py --products 50000 --out /tmp/kit50k
    python benchmarks/product_search.py --kit /tmp/kit50k [--queries 250] [--seed 11] [--json OUT]

Queries are generated from the kit's own catalog.csv (its categories, prices and ``attr:`` values),
``--queries`` per language, each stating one to three constraints: a product type (the category's
noun, in the query's language), a price bound or range, a numeric attribute bound with its unit
(``at least 1.5 L``, ``功率2000W以下``), a colour, and sometimes an ordering ("cheapest", "best rated",
"最轻"). The truth is computed here from the CSV cells, independently of the engine's parsing.

Reported (benchmarks/README.md, "Product search", defines the grades):

- ``constraint_precision``: of the products returned as matches (top 5), the share that meets every
  stated constraint (goal 1.0);
- ``ndcg@5`` with graded relevance: for an ordered query the true best product is 3, the true next
  four 2, any other product meeting every constraint 1; for other queries a product meeting every
  constraint is 3 when in stock and rated 4.5 or more, 2 when in stock, 1 when out of stock; else 0;
- ``empty_ok``: when the engine says nothing fits, the share of those where truly nothing does;
- ``p50_ms`` / ``p95_ms``: understanding plus search, per query, in this process (goal p95 <= 20 ms).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from make_kit import CATEGORIES  # noqa: E402  the kit's own categories, nouns and attribute ranges

_UNIT_ZH = {"L": "升", "W": "瓦", "cm": "厘米", "kg": "公斤", "g": "克", "ml": "毫升", "h": "小时", "mm": "毫米",
            "m": "米"}
_LABEL_EN = {"battery_life": "battery life", "blade_length": "blade length", "max_load": "max load",
             "comfort_temp": "comfort temperature"}


# the benchmark's own unit table (independent of the engine's): a stated "1.3 L" also bounds a "500 ml"
_FACTOR = {"L": 1000.0, "ml": 1.0, "kg": 1000.0, "g": 1.0, "m": 1000.0, "cm": 10.0, "mm": 1.0, "h": 60.0, "min": 1.0}


def _base(cell: str) -> float | None:
    m = re.match(r"(-?\d+(?:\.\d+)?)\s*([A-Za-z]*)", cell or "")
    return float(m.group(1)) * _FACTOR.get(m.group(2), 1.0) if m else None


def load_rows(kit: Path) -> list[dict]:
    with (kit / "catalog.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def make_queries(rows: list[dict], per_lang: int, seed: int, labels_zh: dict[str, str]) -> list[dict]:
    rng = random.Random(seed)
    by_cat: dict[str, list[dict]] = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(r)
    specs = {c[0]: c for c in CATEGORIES if c[0] in by_cat}
    out = []
    for lang in ("en", "zh"):
        for n in range(per_lang):
            cat = rng.choice(sorted(specs))
            _, _, noun, noun_zh, attrs = specs[cat]
            prices = sorted(float(r["price"]) for r in by_cat[cat])
            cons: dict = {"category": cat, "noun": noun if lang == "en" else noun_zh}
            parts_en, parts_zh = [], []
            kind = n % 5
            if kind in (0, 2, 4):
                p = round(prices[int(len(prices) * rng.uniform(0.05, 0.6))])
                cons["price_max"] = p
                parts_en.append(rng.choice([f"under ${p}", f"below {p} dollars", f"less than ${p}"]))
                parts_zh.append(rng.choice([f"{p}美元以内", f"{p}元以下", f"不超过{p}美元"]))
            if kind == 1:
                lo = round(prices[int(len(prices) * rng.uniform(0.1, 0.4))])
                hi = round(prices[int(len(prices) * rng.uniform(0.5, 0.9))])
                cons["price_min"], cons["price_max"] = lo, hi
                parts_en.append(f"between ${lo} and ${hi}")
                parts_zh.append(f"{lo}到{hi}美元")
            numeric = [a for a in attrs if a[1] in _UNIT_ZH]
            if kind in (1, 2, 3) and numeric:
                key, unit, low, high = rng.choice(numeric)
                v = round(low + (high - low) * rng.uniform(0.3, 0.7), 1 if isinstance(low, float) else 0)
                v = int(v) if float(v).is_integer() else v
                op = rng.choice([">=", "<="])
                cons["attr"] = (key, op, float(v))
                cons["unit"] = unit
                lab = _LABEL_EN.get(key, key.replace("_", " "))
                lab_zh = labels_zh.get(key, key)
                uz = rng.choice([unit, _UNIT_ZH.get(unit, unit)])
                if op == ">=":
                    parts_en.append(rng.choice([f"with at least {v} {unit} {lab}", f"{lab} over {v} {unit}"]))
                    parts_zh.append(rng.choice([f"{lab_zh}至少{v}{uz}", f"{lab_zh}{v}{uz}以上"]))
                else:
                    parts_en.append(rng.choice([f"with {lab} under {v} {unit}", f"{lab} at most {v} {unit}"]))
                    parts_zh.append(rng.choice([f"{lab_zh}不超过{v}{uz}", f"{lab_zh}{v}{uz}以下"]))
            if kind in (3, 4):
                colours = sorted({r["attr:colour"] for r in by_cat[cat]})
                c = rng.choice(colours)
                czh = next(r["attr:colour:zh"] for r in by_cat[cat] if r["attr:colour"] == c)
                cons["colour"] = c
                parts_en.insert(0, c)
                parts_zh.insert(0, czh)
            order = None
            if rng.random() < 0.3:
                order = rng.choice(["cheapest", "best"])
                cons["order"] = order
            if lang == "en":
                head = {"cheapest": "the cheapest ", "best": "the best rated "}.get(order, rng.choice(["", "a ", "any "]))
                colour = parts_en.pop(0) + " " if "colour" in cons else ""
                plural = "s" if not head and not noun.endswith("s") and rng.random() < 0.5 else ""
                text = f"{head}{colour}{noun.lower()}{plural} " + " ".join(parts_en)
            else:
                head = {"cheapest": "最便宜的", "best": "评分最高的"}.get(order, rng.choice(["", "推荐", "有没有"]))
                colour = parts_zh.pop(0) if "colour" in cons else ""
                text = f"{head}{'，'.join(parts_zh)}{'的' if parts_zh else ''}{colour}{noun_zh}"
            out.append({"lang": lang, "text": text.strip(), "constraints": cons})
    return out


def meets(r: dict, cons: dict) -> bool:
    if r["category"] != cons["category"]:
        return False
    price = float(r["price"])
    if "price_max" in cons and price > cons["price_max"] + 1e-9:
        return False
    if "price_min" in cons and price < cons["price_min"] - 1e-9:
        return False
    if "attr" in cons:
        key, op, v = cons["attr"]
        x = _base(r.get(f"attr:{key}", ""))
        v = v * _FACTOR.get(cons.get("unit", ""), 1.0)
        if x is None or (op == ">=" and x < v - 1e-9) or (op == "<=" and x > v + 1e-9):
            return False
    if "colour" in cons and r["attr:colour"] != cons["colour"]:
        return False
    return True


def meets_stated(r: dict, cons: dict, lang: str) -> bool:
    """``meets``, with the type read as the customer stated it: the noun in the product's own wording
    (a "水壶" may be a kettle or a bottle when the catalog calls both so)."""
    noun = cons["noun"].lower()
    names = f"{r['name']} {r['category']} {r.get('name:zh', '')} {r.get('category:zh', '')}".lower()
    return meets(dict(r, category=cons["category"]), cons) and (r["category"] == cons["category"] or noun in names)


def grades(rows: list[dict], cons: dict) -> dict[str, int]:
    ok = [r for r in rows if meets(r, cons)]
    if cons.get("order") == "cheapest":
        ok.sort(key=lambda r: (int(r["stock"]) <= 0, float(r["price"])))
        return {r["id"]: (3 if i == 0 else 2 if i < 5 else 1) for i, r in enumerate(ok)}
    if cons.get("order") == "best":
        ok.sort(key=lambda r: (int(r["stock"]) <= 0, -float(r["rating"] or 0)))
        top = float(ok[0]["rating"]) if ok else 0
        return {r["id"]: (3 if float(r["rating"]) >= top else 2 if i < 5 else 1) for i, r in enumerate(ok)}
    return {r["id"]: (3 if int(r["stock"]) > 0 and float(r["rating"] or 0) >= 4.5 else 2 if int(r["stock"]) > 0 else 1)
            for r in ok}


def ndcg5(ranked: list[str], g: dict[str, int]) -> float:
    dcg = sum((2 ** g.get(pid, 0) - 1) / math.log2(i + 2) for i, pid in enumerate(ranked[:5]))
    ideal = sorted(g.values(), reverse=True)[:5]
    idcg = sum((2 ** v - 1) / math.log2(i + 2) for i, v in enumerate(ideal))
    return dcg / idcg if idcg else (1.0 if not ranked else 0.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kit", type=Path, required=True)
    ap.add_argument("--queries", type=int, default=250, help="queries per language")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--show", type=int, default=0, help="print this many failing queries")
    args = ap.parse_args(argv)
    from knowledge.graph.query import ProductQA
    from knowledge.kit import read_kit

    t0 = time.perf_counter()
    kit = read_kit(args.kit)
    read_s = time.perf_counter() - t0
    rows = load_rows(args.kit)
    by_id = {r["id"]: r for r in rows}
    labels_zh = {k: v.get("zh", k) for k, v in (kit.profile.attribute_labels or {}).items()}
    qa = ProductQA(kit.catalog, currency_symbol=kit.profile.currency_symbol)
    t0 = time.perf_counter()
    qa.warm_up()
    vocab_s = time.perf_counter() - t0
    queries = make_queries(rows, args.queries, args.seed, labels_zh)
    per_lang: dict[str, dict] = {}
    shown = 0
    for lang in ("en", "zh"):
        times, ndcgs, returned, ok, empty, empty_ok = [], [], 0, 0, 0, 0
        for item in (q for q in queries if q["lang"] == lang):
            t = time.perf_counter()
            result = qa.search(qa.understand(item["text"], lang), 5)
            times.append((time.perf_counter() - t) * 1000)
            cons = item["constraints"]
            g = grades(rows, cons)
            if result.relaxed:
                empty += 1
                empty_ok += not g
                if g and shown < args.show:
                    shown += 1
                    print(f"[{lang}] said nothing fits: {item['text']!r} {cons} relaxed {result.relaxed}")
                ndcgs.append(1.0 if not g else 0.0)
                continue
            ids = [p.id for p in result.products]
            good = [meets_stated(by_id[i], cons, lang) for i in ids]
            returned += len(ids)
            ok += sum(good)
            ndcgs.append(ndcg5(ids, g))
            if not all(good) and shown < args.show:
                shown += 1
                print(f"[{lang}] {item['text']!r} {cons} -> {[(i, by_id[i]['name'], by_id[i]['price']) for i in ids]}")
        times.sort()
        per_lang[lang] = {
            "queries": len(times), "constraint_precision": round(ok / returned, 4) if returned else None,
            "returned": returned, "ndcg@5": round(sum(ndcgs) / len(ndcgs), 4),
            "said_nothing_fits": empty, "empty_ok": round(empty_ok / empty, 4) if empty else None,
            "p50_ms": round(times[len(times) // 2], 2), "p95_ms": round(times[int(len(times) * 0.95)], 2),
        }
    result = {"kit": str(args.kit), "products": len(kit.catalog), "read_kit_s": round(read_s, 2),
              "vocabulary_s": round(vocab_s, 2), "per_language": per_lang,
              "examples": [q["text"] for q in queries[:3]] + [q["text"] for q in queries if q["lang"] == "zh"][:3]}
    print(json.dumps(result, ensure_ascii=False, indent=1))
    from _common import write

    write("product_search", result) if args.json is None else args.json.write_text(
        json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
