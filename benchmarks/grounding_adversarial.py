"""Adversarial grounding benchmark: perturbed answers the check must refuse, faithful ones it must pass.

Generated from a store kit's own FAQs and catalog (default: the demo store; ``--kit DIR`` for any
kit, read with the kit reader), in every language the kit lists that has FAQs. Each case is an
answer with its sources: the source it is written from plus two distractors (other FAQs of the
same language, or other products), as retrieval would hand them over.

Faithful answers (must pass): ``select`` (some of the source's sentences, in order), ``reorder``
(its sentences shuffled), ``reword`` (light rewording that keeps the meaning: contractions, number
words / Chinese numerals, a few synonyms), ``product_fact`` (a catalog fact said another way).

Perturbed answers (must be refused), one perturbation each on a faithful answer:

- tuned on (the checker's rules were developed against these): ``number_swap`` (a number taken
  from a distractor source), ``negation_flip`` (a negation added or removed), ``entity_swap`` (a
  product name, brand, price or proper name of another source), ``injected_promise`` (a promise no
  source makes), ``contact_invented`` (an e-mail, phone or URL that no source has);
- held out (never used while writing the rules; run after they were fixed): ``unit_swap`` (the
  same number with another unit), ``contact_altered`` (a contact of the store changed by a
  character, or one the sources of this answer do not hold), ``foreign_sentence`` (a true
  sentence of an unrelated FAQ, not among the sources, that does not restate one of them).
  ``foreign_sentence`` stopped being fully held out on 2026-12-07: its misses ("Sorry about that!"
  appended to an answer) were fixed after they were seen (benchmarks/README.md, Generation).

Reports per language and kind: *false claims passed* (perturbed answers the check let through;
goal 0) and *faithful refused* (goal ≤ 5%), with examples.

    python benchmarks/grounding_adversarial.py                 # demo store, writes results/grounding_adversarial.json
    python benchmarks/grounding_adversarial.py --kit DIR --per-kind 120 --seed 1
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import write  # noqa: E402
from engine.generation.claims import content_words  # noqa: E402
from engine.generation.grounding import GroundingChecker, split_sentences  # noqa: E402

TUNED = ("number_swap", "negation_flip", "entity_swap", "injected_promise", "contact_invented")
HELD_OUT = ("unit_swap", "contact_altered", "foreign_sentence")
FAITHFUL = ("select", "reorder", "reword", "product_fact")

_NUM_RE = re.compile(r"(?<![\w.])\$?\d+(?:\.\d+)?")

# -- light rewording that keeps meaning --------------------------------------------------------
_EN_REWORD = [
    (r"\bcan't\b", "cannot"), (r"\bcannot\b", "can't"), (r"\bdon't\b", "do not"), (r"\bdo not\b", "don't"),
    (r"\bwon't\b", "will not"), (r"\bisn't\b", "is not"), (r"\baren't\b", "are not"), (r"\bWe'll\b", "We will"),
    (r"\bwe'll\b", "we will"), (r"\bYou can\b(?!['’])", "You are able to"), (r"\bitems\b", "products"),
    (r"\bcosts\b", "is priced at"), (r"\bpurchase\b", "order"), (r"\bcontact\b", "reach"), (r"\bJust\b", "Simply"),
    (r"\bjust\b", "simply"), (r"\bquickly\b", "fast"), (r"\bstarts\b", "begins"),
]
_EN_WORDS = {"2": "two", "3": "three", "5": "five", "7": "seven", "10": "ten", "14": "fourteen", "30": "thirty",
             "12": "twelve", "24": "twenty-four", "60": "sixty", "90": "ninety"}
_ZH_REWORD = [("您", "你"), ("我们", "本店"), ("可以", "能"), ("商品", "货品"), ("一般", "通常"), ("立即", "马上"),
              ("告诉我", "发给我"), ("如果", "若"), ("需要", "须要")]
_ZH_NUMERALS = {"2": "两", "3": "三", "5": "五", "7": "七", "10": "十", "12": "十二", "14": "十四", "15": "十五",
                "24": "二十四", "30": "三十", "60": "六十", "90": "九十"}

# -- negation flips ---------------------------------------------------------------------------
_EN_FLIPS = [
    (r"\bcan't\b", "can"), (r"\bcannot\b", "can"), (r"\bdon't\b", "do"), (r"\bdoesn't\b", "does"),
    (r"\bisn't\b", "is"), (r"\baren't\b", "are"), (r"\bwon't\b", "will"), (r"\bnot\b ", ""), (r"\bNo,", "Yes,"),
    (r"\bYes,", "No,"), (r"\bcan be\b", "can't be"), (r"\bcan\b(?!['’])", "cannot"), (r"\bwill\b", "won't"),
    (r"\bis\b", "is not"), (r"\bare\b", "are not"), (r"\bships\b", "does not ship"), (r"\bhas\b", "does not have"),
    (r"\bwe\b (\w+)", r"we don't \1"), (r"\byou\b (\w+)", r"you don't \1"),
]
_ZH_FLIPS = [
    ("不可以", "可以"), ("不能", "能"), ("不支持", "支持"), ("不需要", "需要"), ("无需", "需要"), ("没有", "有"),
    ("不会", "会"), ("不收", "收"), ("可以", "不可以"), ("支持", "不支持"), ("需要", "不需要"), ("会", "不会"),
    ("能", "不能"), ("有", "没有"), ("是", "不是"), ("提供", "不提供"), ("包括", "不包括"),
]

# -- injections (tuned) ---------------------------------------------------------------------------
_EN_PROMISES = [
    "Shipping is free on every order worldwide.", "We also give a lifetime warranty on all products.",
    "You will get a full refund instantly, no questions asked.", "All orders ship the same day.",
    "We guarantee delivery anywhere within 24 hours.", "Every customer gets a 20% discount on the next order.",
    "Returns are accepted at any time, forever.", "We always price-match any competitor.",
    "Every purchase comes with a free gift.", "Cancelled orders also get a free gift card.",
]
_ZH_PROMISES = [
    "所有订单全球免费配送。", "所有商品终身保修。", "退款会立即到账，无需任何理由。", "所有订单当天发货。",
    "我们保证24小时内送达全球任何地方。", "每位顾客下次购物都享受8折优惠。", "任何时候都可以退货，永久有效。",
    "每笔订单都赠送礼品。", "任何订单随时都可以取消并全额退款。", "我们承诺任何价格都比别家低。",
]
_EN_CONTACT = ["Email us at help@{d}.com for faster help.", "Call us on 1-888-{a}-{b} any time.",
               "Visit www.{d}.com/support to get started.", "Write to refunds@{d}-support.net and we'll sort it out."]
_ZH_CONTACT = ["请发邮件至kefu@{d}.cn联系我们。", "请拨打客服热线400-{a}-{b}。", "请访问www.{d}.cn/help办理。",
               "请加微信客服，或致电021-{a}{b}。"]
_EN_UNITS = [("days", "weeks"), ("day", "week"), ("hours", "minutes"), ("months", "years"), ("weeks", "months"),
             ("g", "kg"), ("business days", "months"), ("mm", "cm")]
_ZH_UNITS = [("个工作日", "个月"), ("天", "周"), ("小时", "分钟"), ("个月", "年"), ("克", "公斤"), ("周", "个月"), ("毫米", "厘米")]


class _Case(dict):
    pass


def _load(kit: str | None):
    from knowledge.graph.query import ProductQA
    from knowledge.kit.reader import read_kit

    if kit is None:
        from engine.settings import load_settings
        from knowledge.demo import ensure_demo_store

        settings = load_settings()
        root = Path(settings.store.root or settings.resolved_data_dir / "demo-store")
        ensure_demo_store(root, seed=settings.store.seed)
        kit = str(root)
    k = read_kit(kit)
    symbol = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥"}.get(k.profile.currency, "$")
    return k, ProductQA(k.catalog, currency_symbol=symbol)


def _sources(k, qa, lang: str, rng: random.Random) -> list[dict[str, Any]]:
    """Every FAQ answer and every product's facts in ``lang``, as (kind, text, names)."""
    out = [{"kind": "faq", "id": f.id, "text": f.answer, "question": f.question}
           for f in k.faqs if f.lang == lang and len(split_sentences(f.answer)) >= 1]
    ask = "how much, in stock, warranty, battery life, weight, what is it"
    for p in k.catalog:
        facts = [qa.summary(p, lang).text, *(f.text for f in qa.facts(ask, [p.id], lang))]
        out.append({"kind": "product", "id": p.id, "text": (" " if lang == "en" else "").join(dict.fromkeys(facts)),
                    "names": [p.display_name(lang), p.name, p.brand], "price": f"{p.price:,.2f}"})
    return out


def _sep(lang: str) -> str:
    return "" if lang == "zh" else " "


def _base(src: dict[str, Any], rng: random.Random, lang: str) -> str:
    sents = split_sentences(src["text"])
    if len(sents) <= 2:
        return _sep(lang).join(sents)
    start = rng.randrange(0, len(sents) - 1)
    return _sep(lang).join(sents[start:start + rng.choice((1, 2, 3))])


def _reword(text: str, lang: str, rng: random.Random) -> str | None:
    if lang == "en":
        rules = [(rx, rep) for rx, rep in _EN_REWORD if re.search(rx, text)]
        nums = [n for n in _EN_WORDS if re.search(rf"(?<![\w.$]){n} (?:days|months|hours|business)", text)]
        if nums and rng.random() < 0.5:
            n = rng.choice(nums)
            return re.sub(rf"(?<![\w.$]){n} (?=days|months|hours|business)", _EN_WORDS[n] + " ", text, count=1)
        if not rules:
            return None
        picked = rng.sample(rules, min(len(rules), 2))
        for rx, rep in picked:
            text = re.sub(rx, rep, text, count=1)
        return text
    nums = [n for n in _ZH_NUMERALS if re.search(rf"(?<![\d.$]){n}(?=天|个月|小时|个工作日)", text)]
    if nums and rng.random() < 0.5:
        n = rng.choice(nums)
        return re.sub(rf"(?<![\d.$]){n}(?=天|个月|小时|个工作日)", _ZH_NUMERALS[n], text, count=1)
    rules = [(a, b) for a, b in _ZH_REWORD if a in text]
    if not rules:
        return None
    for a, b in rng.sample(rules, min(len(rules), 2)):
        text = text.replace(a, b, 1)
    return text


def _product_fact(src: dict[str, Any], lang: str, rng: random.Random) -> str | None:
    name = src["names"][0]
    text = src["text"]
    warranty = re.search(r"(?:Warranty of the .+?: |保修期：)(\d+) ?(months|days|years|个月|天|年)", text)
    options = [f"The {name} is priced at ${src['price']}." if lang == "en" else f"{name}的价格是${src['price']}。"]
    if warranty and lang == "en":
        options.append(f"The {name} comes with a warranty of {warranty.group(1)} {warranty.group(2)}.")
    elif warranty:
        options.append(f"{name}保修期为{warranty.group(1)}{warranty.group(2)}。")
    stock = re.search(r"\((\d+) available\)|库存(\d+)件", text)
    if stock:
        n = stock.group(1) or stock.group(2)
        options.append(f"The {name} is in stock, with {n} available." if lang == "en" else f"{name}目前有货，库存{n}件。")
    return rng.choice(options)


def _faithful(kind: str, src, lang, rng) -> str | None:
    sents = split_sentences(src["text"])
    if kind == "select":
        return _base(src, rng, lang)
    if kind == "reorder":
        if len(sents) < 2:
            return None
        start = rng.randrange(0, max(1, len(sents) - 2))
        part = sents[start:start + 3]
        shuffled = part[:]
        while shuffled == part:
            rng.shuffle(shuffled)
        return _sep(lang).join(shuffled)
    if kind == "reword":
        return _reword(_base(src, rng, lang), lang, rng)
    if kind == "product_fact":
        return _product_fact(src, lang, rng) if src["kind"] == "product" else None
    raise ValueError(kind)


def _replace_one(text: str, pairs, rng: random.Random, *, regex: bool) -> str | None:
    hits = [(a, b) for a, b in pairs if (re.search(a, text) if regex else a in text)]
    if not hits:
        return None
    a, b = rng.choice(hits)
    return re.sub(a, b, text, count=1) if regex else text.replace(a, b, 1)


def _perturb(kind: str, base: str, src, others, pool, k, lang, rng) -> str | None:
    sep = _sep(lang)
    if kind == "number_swap":
        nums = [m for m in _NUM_RE.finditer(base)]
        theirs = {m.group(0).lstrip("$") for o in others for m in _NUM_RE.finditer(o["text"])}
        if not nums:
            return None
        m = rng.choice(nums)
        mine = m.group(0).lstrip("$")
        said = {x.group(0).lstrip("$").replace(".00", "") for x in _NUM_RE.finditer(src["text"])}
        choices = sorted(t for t in theirs if t.replace(".00", "") not in said)  # a value its source never says
        if not choices:
            return None
        new = ("$" if m.group(0).startswith("$") else "") + rng.choice(choices)
        return base[:m.start()] + new + base[m.end():]
    if kind == "negation_flip":
        if lang == "en":
            return _replace_one(base, _EN_FLIPS, rng, regex=True)
        # a positive word only where no negation stands before it ("不需要" does not become "不不需要")
        pairs = [(a if a.startswith(("不", "无", "没")) else rf"(?<![不无没未非]){a}", b) for a, b in _ZH_FLIPS]
        return _replace_one(base, pairs, rng, regex=True)
    if kind == "entity_swap":
        if src["kind"] == "product":
            other = next((o for o in others if o["kind"] == "product"), None)
            if other is None:
                return None
            for mine, theirs in zip(src["names"], other["names"]):
                if mine and mine in base and mine != theirs:
                    swapped = base.replace(mine, theirs)
                    # a claim the other product's own facts make is no false claim
                    if all(s not in other["text"] for s in split_sentences(swapped)):
                        return swapped
                    return None
            if src["price"] in base:
                return base.replace(src["price"], other["price"])
            return None
        names = [w for w in re.findall(r"(?<=[a-z,] )[A-Z][A-Za-z]+|\b[A-Z]{2,}\b", base)]
        theirs = sorted({w for o in others for w in re.findall(r"(?<=[a-z,] )[A-Z][A-Za-z]+|\b[A-Z]{2,}\b", o["text"])}
                        - set(names))
        if not names or not theirs:
            return None
        return base.replace(rng.choice(names), rng.choice(theirs), 1)
    if kind == "injected_promise":
        return base + sep + rng.choice(_EN_PROMISES if lang == "en" else _ZH_PROMISES)
    if kind == "contact_invented":
        d = rng.choice(["shopfast", "bestdeals", "quickhelp", "returns-center", "kefu365"])
        line = rng.choice(_EN_CONTACT if lang == "en" else _ZH_CONTACT).format(d=d, a=rng.randrange(100, 999),
                                                                             b=rng.randrange(1000, 9999))
        return base + sep + line
    if kind == "unit_swap":
        pairs = _EN_UNITS if lang == "en" else _ZH_UNITS
        if lang == "en":
            pairs = [(rf"(?<=\d )({a})\b", b) for a, b in pairs] + [(rf"(?<=\d)({a})\b", b) for a, b in pairs]
            return _replace_one(base, pairs, rng, regex=True)
        return _replace_one(base, [(rf"(?<=\d){a}", b) for a, b in pairs], rng, regex=True)
    if kind == "contact_altered":
        from engine.generation.claims import contacts

        known = sorted({c for f in k.faqs for c in _raw_contacts(f.answer)}
                       | {c for c in (k.profile.support.email, k.profile.support.phone) if c})
        if not known:
            return None
        c = rng.choice(known)
        in_sources = any(c in o["text"] for o in [src, *others])
        if in_sources or rng.random() < 0.5:
            i = max(i for i, ch in enumerate(c) if ch.isalnum())
            ch = c[i]
            c = c[:i] + (str((int(ch) + 1) % 10) if ch.isdigit() else ("x" if ch != "x" else "y")) + c[i + 1:]
        assert contacts(c)
        return base + sep + (f"You can also reach us at {c}." if lang == "en" else f"也可以通过{c}联系我们。")
    if kind == "foreign_sentence":
        used = {o["id"] for o in [src, *others]}
        faqs = [f for f in pool if f["kind"] == "faq" and f["id"] not in used]
        if not faqs:
            return None
        sent = rng.choice(split_sentences(rng.choice(faqs)["text"]))
        # another FAQ may say the same thing as one of the sources (two FAQs on express shipping):
        # then the sentence is true of the sources and no false claim
        words = content_words(sent)
        if words and any(len(words & content_words(o["text"])) >= 0.6 * len(words) for o in [src, *others]):
            return None
        return base + sep + sent
    raise ValueError(kind)


def _raw_contacts(text: str) -> list[str]:
    return re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d-\d{3}-\d{3}-\d{4}|\d{3}-\d{3}-\d{4}", text)


def build_cases(k, qa, lang: str, per_kind: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}-{lang}")
    pool = _sources(k, qa, lang, rng)
    faqs = [s for s in pool if s["kind"] == "faq"]
    products = [s for s in pool if s["kind"] == "product"]
    cases: list[dict[str, Any]] = []
    for label, kinds in (("faithful", FAITHFUL), ("perturbed", TUNED + HELD_OUT)):
        for kind in kinds:
            made, tries = 0, 0
            while made < per_kind and tries < per_kind * 40:
                tries += 1
                group = products if kind in ("product_fact",) or (kind == "entity_swap" and rng.random() < 0.6) \
                    else (faqs if rng.random() < 0.6 else products)
                src = rng.choice(group)
                same = [s for s in (faqs if src["kind"] == "faq" else products) if s["id"] != src["id"]]
                others = rng.sample(same, 2)
                if label == "faithful":
                    answer = _faithful(kind, src, lang, rng)
                else:
                    base = _base(src, rng, lang)
                    answer = _perturb(kind, base, src, others, pool, k, lang, rng)
                    if answer == base:
                        answer = None
                if not answer:
                    continue
                texts = [src["text"], *(o["text"] for o in others)]
                if src["kind"] == "faq":
                    texts = [f"{src['question']} {src['text']}", *(f"{o['question']} {o['text']}" for o in others)]
                order = list(range(3))
                rng.shuffle(order)
                cases.append({"lang": lang, "label": label, "kind": kind, "held_out": kind in HELD_OUT,
                              "source": src["id"], "answer": answer, "sources": [texts[i] for i in order]})
                made += 1
    return cases


def _names(k) -> list[str]:
    out = []
    for p in k.catalog:
        out += [p.name, p.brand, p.name_zh, *p.aliases, *(t.get("name", "") for t in p.translations.values())]
    return [n for n in out if n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kit", default=None, help="a store kit folder (default: the demo store)")
    ap.add_argument("--per-kind", type=int, default=130, help="answers per kind and language")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kinds", default="all", choices=["all", "tuned", "held-out"],
                    help="which perturbation kinds to run (faithful answers always run)")
    ap.add_argument("--min-support", type=float, default=None,
                    help="the check's min_support (default: the engine's generation.min_support)")
    ap.add_argument("--examples", type=int, default=5, help="failures kept per kind")
    args = ap.parse_args()

    k, qa = _load(args.kit)
    if args.min_support is None:
        from engine.settings import TransformersGeneration

        args.min_support = TransformersGeneration().min_support
    checker = GroundingChecker(_names(k), min_support=args.min_support, contacts=[c for c in (k.profile.support.email, k.profile.support.phone) if c])
    langs = [lang for lang in k.profile.languages if any(f.lang == lang for f in k.faqs)]
    results: dict[str, Any] = {"kit": str(k.root), "per_kind": args.per_kind, "seed": args.seed,
                               "min_support": args.min_support,
                               "tuned_kinds": list(TUNED), "held_out_kinds": list(HELD_OUT), "languages": {}}
    started = time.perf_counter()
    for lang in langs:
        cases = build_cases(k, qa, lang, args.per_kind, args.seed)
        if args.kinds == "tuned":
            cases = [c for c in cases if c["label"] == "faithful" or not c["held_out"]]
        elif args.kinds == "held-out":
            cases = [c for c in cases if c["label"] == "faithful" or c["held_out"]]
        per_kind: dict[str, dict[str, Any]] = defaultdict(lambda: {"n": 0, "wrong": 0, "examples": []})
        for case in cases:
            problems = checker.check(case["answer"], case["sources"], language=lang)
            wrong = (not problems) if case["label"] == "perturbed" else bool(problems)
            row = per_kind[case["kind"]]
            row["n"] += 1
            row["label"] = case["label"]
            if wrong:
                row["wrong"] += 1
                if len(row["examples"]) < args.examples:
                    row["examples"].append({"answer": case["answer"], "problems": list(problems),
                                            "source": case["source"]})
        faithful = [r for r in per_kind.values() if r["label"] == "faithful"]
        perturbed = [r for r in per_kind.values() if r["label"] == "perturbed"]
        n_f, n_p = sum(r["n"] for r in faithful), sum(r["n"] for r in perturbed)
        summary = {
            "faithful": n_f, "faithful_refused": sum(r["wrong"] for r in faithful),
            "faithful_refused_rate": round(sum(r["wrong"] for r in faithful) / max(1, n_f), 4),
            "perturbed": n_p, "false_claims_passed": sum(r["wrong"] for r in perturbed),
            "false_claims_passed_rate": round(sum(r["wrong"] for r in perturbed) / max(1, n_p), 4),
            "kinds": {kind: {**r, "rate": round(r["wrong"] / max(1, r["n"]), 4)} for kind, r in per_kind.items()},
        }
        results["languages"][lang] = summary
        print(f"[{lang}] faithful refused {summary['faithful_refused']}/{n_f} ({summary['faithful_refused_rate']:.1%}); "
              f"false claims passed {summary['false_claims_passed']}/{n_p}")
        for kind, r in per_kind.items():
            tag = " (held out)" if kind in HELD_OUT else ""
            what = "refused" if r["label"] == "faithful" else "passed"
            print(f"    {kind:<18}{tag:<11} {what} {r['wrong']:>3}/{r['n']}")
    results["seconds"] = round(time.perf_counter() - started, 1)
    write("grounding_adversarial", results)


if __name__ == "__main__":
    main()
