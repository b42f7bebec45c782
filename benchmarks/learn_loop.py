"""The learning benchmark: generated feedback in English and Chinese through the operator's commands,
with the real default models; does a retrain on default settings learn what it should and refuse
what it should not?

Usage: python benchmarks/learn_loop.py [--corrections 40] [--regression 100] [--wrong 20] [--keep DIR]

Messages: English ones are Bitext customer-support utterances (../shared/data/bitext_customer_support)
whose intents map onto the store's; Chinese ones are composed from phrase lists below (an opening,
a request, a closing), none equal to a training example. Every message is classified by the
serving model (base) first, then sorted into:

* **genuine corrections**: messages base gets wrong; the customer types ``/correct <intent>`` and
  a reviewer labels the turn with it (``shopassist learn label``);
* **unlabelled paraphrases**: the same request reworded (another opening or closing), never
  labelled: does the correction generalise?
* **regression set**: messages base gets right that customers rated ``/good``; retrain freezes
  them as the regression set (acknowledgements and product-advice questions in both languages
  included);
* **unguarded past traffic**: more messages base gets right, never rated: what breaks where
  nothing guards it;
* **deliberately wrong labels**: messages base gets right, labelled with another intent.

Scenario A (a fresh data folder, through the CLI): genuine corrections + the rated regression set
→ ``learn retrain`` on default settings → rates before/after with the version as the engine
serves it (two-stage), and the running engine's next turn names the new version. Scenario B (the
same folder rolled back to base, a second tracker store): the wrong labels alone → must be
refused, and the rejection must name them. Results go to benchmarks/results/learn_loop.json.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
BITEXT = REPO.parent / "shared" / "data" / "bitext_customer_support" / "bitext_customer_support_20k.csv"

# Bitext intent -> the store's intent (only those that mean the same thing)
MAP = {
    "track_order": "track_order", "track_refund": "refund_status", "cancel_order": "cancel_order",
    "change_shipping_address": "change_address", "complaint": "complaint",
    "contact_human_agent": "human_agent", "check_refund_policy": "policy_question",
    "check_payment_methods": "policy_question", "delivery_options": "policy_question",
    "get_refund": "return_item",
}

# Chinese requests per intent; a message is OPENING + request + CLOSING
ZH = {
    "track_order": ["我买的东西到哪儿了", "包裹怎么还没送到", "帮忙看看物流走到哪了", "快递几天能到", "订单发货没有",
                    "我的货现在在哪里", "物流好几天没更新了", "什么时候能收到货"],
    "refund_status": ["退的钱怎么还没到账", "退款处理到哪一步了", "钱退回来了吗", "退款要等多久才到",
                      "我的退款现在什么状态", "退款一直没收到"],
    "cancel_order": ["这单我不要了，取消掉", "刚下的单能撤销吗", "帮我把订单取消", "不想要了，能退订吗", "订单取消一下"],
    "change_address": ["收货地址写错了要改", "能把送货地址换成公司吗", "我搬家了，地址要更新", "帮我改下收件地址"],
    "return_item": ["买的东西不合适想退", "这个我想退回去", "质量不好，申请退货", "没拆封可以退吗", "怎么把东西寄回去退掉"],
    "human_agent": ["我要跟客服本人说", "给我转个真人客服", "机器人听不懂，找人工", "有没有人工服务"],
    "complaint": ["你们的服务太让人失望了", "等了这么久太过分了", "这体验真的很糟糕", "我非常不满意"],
    "policy_question": ["你们的退换货规定是怎样的", "运费谁来出", "几天之内能退", "买多少钱免运费"],
    "recommend": ["有什么适合跑步的耳机推荐", "送女朋友什么好", "哪款适合学生用", "预算不多买哪个好", "帮我挑一个性价比高的"],
    "product_question": ["这个防水吗", "电池能用多长时间", "支持安卓手机吗", "这款现在有库存吗", "尺寸是多大的"],
    "thanks": ["太感谢了", "谢谢你的帮助", "多谢帮忙", "辛苦了，谢谢"],
    "affirm": ["好的，没问题", "可以的", "行，就这样", "嗯嗯，对的"],
}
ZH_OPEN = ["", "你好，", "请问", "麻烦问下，", "亲，", "客服，"]
ZH_CLOSE = ["", "？", "，谢谢", "，急", "呢", "，麻烦了"]
EN_OPEN = ["", "hey, ", "hi there, ", "quick question: ", "hello, "]
EN_CLOSE = ["", " please", " thanks", "?", " asap"]
# English acknowledgements and product questions (Bitext has none that map)
EN_MORE = {
    "thanks": ["thanks a lot for the help", "thank you so much", "cheers, that helps", "many thanks"],
    "affirm": ["yes, that's right", "sure, go ahead", "ok sounds good", "yep, correct"],
    "recommend": ["which headphones are good for running", "what would you suggest as a gift", "any good laptop for a student",
                  "recommend something under 50"],
    "product_question": ["is this one waterproof", "how long does the battery last", "does it work with android",
                         "is it in stock right now"],
}


def en_messages(per_intent: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(text, intent, family) from Bitext, ``per_intent`` each."""
    by: dict[str, list[str]] = defaultdict(list)
    with open(BITEXT, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["intent"] in MAP:
                text = re.sub(r"\{\{Order Number\}\}", "100023", row["utterance"])
                text = re.sub(r"\{\{[^}]*\}\}", "it", text).strip()
                by[MAP[row["intent"]]].append(text)
    out = []
    for label in sorted(by):
        texts = sorted(set(by[label]))
        rng.shuffle(texts)
        out += [(t, label, t) for t in texts[:per_intent]]
    for label, texts in EN_MORE.items():
        out += [(o + t + c, label, t) for t in texts for o, c in ((rng.choice(EN_OPEN), rng.choice(EN_CLOSE)),)]
    return out


def zh_messages(rng: random.Random) -> list[tuple[str, str, str]]:
    """(text, intent, family: the request) composed from the phrase lists, two per request."""
    out = []
    for label, cores in ZH.items():
        for core in cores:
            for o, c in rng.sample([(o, c) for o in ZH_OPEN for c in ZH_CLOSE], 2):
                out.append((o + core + c, label, core))
    return out


def paraphrase(text: str, family: str, rng: random.Random, taken: set[str]) -> str | None:
    """The same request reworded: another opening or closing (Chinese: around the same request)."""
    zh = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    opens, closes = (ZH_OPEN, ZH_CLOSE) if zh else (EN_OPEN, EN_CLOSE)
    core = family if zh else text.rstrip("?.! ")
    options = [o + core + c for o in opens for c in closes]
    rng.shuffle(options)
    return next((p for p in options if p not in taken and p.casefold() != text.casefold()), None)


def cli(*args: str, ok: tuple[int, ...] = (0,)) -> tuple[int, str]:
    """``shopassist ARGS`` in this process (same settings: SHOPASSIST_* environment): (rc, stdout)."""
    from engine.cli import main as shopassist

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = shopassist(list(args))
    if rc not in ok:
        raise SystemExit(f"shopassist {' '.join(args)} failed ({rc})")
    return rc, buf.getvalue()


def rate(classifier, data: list[tuple[str, str]]) -> float | None:
    return round(sum(classifier.classify(t).intent == g for t, g in data) / len(data), 4) if data else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corrections", type=int, default=40, help="genuine corrections (half per language at most)")
    ap.add_argument("--regression", type=int, default=100, help="rated-good past turns (the regression set)")
    ap.add_argument("--wrong", type=int, default=20, help="deliberately wrong labels (scenario B)")
    ap.add_argument("--per-intent", type=int, default=40, help="Bitext messages per intent")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", help="use this data folder (kept) instead of a temporary one")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    data_dir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="learn-loop-"))
    os.environ.update(SHOPASSIST_DATA_DIR=str(data_dir), TOKENIZERS_PARALLELISM="false",
                      SHOPASSIST_LEARN__RELOAD_INTERVAL_S="0")
    out: dict = {"data_dir": str(data_dir), "load_before": os.getloadavg()}
    t0 = time.time()

    from engine import Engine
    from engine.learn.reload import ReloadingClassifier
    from engine.nlu.intent import load_intent_examples

    engine = Engine.from_config()  # builds the demo store and the base intent head in data_dir
    engine.warm_up()
    clf = engine.nlu.classifier
    assert isinstance(clf, ReloadingClassifier)
    out["build_s"] = round(time.time() - t0, 1)

    base_texts = {e.text.casefold() for e in load_intent_examples()}
    pool = [m for m in en_messages(args.per_intent, rng) + zh_messages(rng) if m[0].casefold() not in base_texts]
    seen: set[str] = set()
    pool = [m for m in pool if not (m[0] in seen or seen.add(m[0]))]
    t1 = time.time()
    preds = {t: clf.base.classify(t) for t, _, _ in pool}
    out["classify_pool_s"] = round(time.time() - t1, 1)
    wrong = [m for m in pool if preds[m[0]].intent != m[1]]
    right = [m for m in pool if preds[m[0]].intent == m[1]]
    rng.shuffle(wrong)
    rng.shuffle(right)

    def zh(m) -> bool:
        return any("\u4e00" <= ch <= "\u9fff" for ch in m[0])

    half = args.corrections // 2
    zh_wrong, en_wrong = [m for m in wrong if zh(m)], [m for m in wrong if not zh(m)]
    corrections = zh_wrong[:half] + en_wrong[:args.corrections - min(half, len(zh_wrong))]
    taken = {m[0] for m in pool}
    paraphrases = []
    for m in corrections:
        p = paraphrase(m[0], m[2], rng, taken)
        if p:
            taken.add(p)
            paraphrases.append((p, m[1]))
    # the regression set: acknowledgements and product advice first, then the rest, both languages
    keep_first = [m for m in right if m[1] in ("thanks", "affirm", "recommend", "product_question")]
    others = [m for m in right if m not in keep_first]
    ordered = keep_first[:args.regression // 3] + others
    regression = ordered[:args.regression]
    rest = [m for m in right if m not in regression]
    wrong_labels = rest[:args.wrong]
    unguarded = rest[args.wrong:args.wrong + args.regression]
    intents = sorted({m[1] for m in pool})
    out["sets"] = {"pool": len(pool), "base_wrong_in_pool": len(wrong), "corrections": len(corrections),
                   "corrections_zh": sum(zh(m) for m in corrections), "paraphrases": len(paraphrases),
                   "regression": len(regression), "regression_zh": sum(zh(m) for m in regression),
                   "unguarded": len(unguarded), "wrong_labels": len(wrong_labels)}

    # scenario A: customers correct and rate, a reviewer labels the corrections, retrain decides
    for i, (text, label, _) in enumerate(corrections):
        engine.respond(f"corr-{i}", text, customer_id="C001")
        engine.feedback(f"corr-{i}", rating=-1, correction=label, customer_id="C001")
    for i, (text, _, _) in enumerate(regression):
        engine.respond(f"good-{i}", text, customer_id="C001")
        engine.feedback(f"good-{i}", rating=1, customer_id="C001")
    _, listing = cli("learn", "review", "--limit", "10000", "--days", "1", "--json", "-")
    by_text = {i["text"]: i for i in json.loads(listing)}
    labelled = 0
    for text, label, _ in corrections:
        item = by_text.get(text)
        if item:
            cli("learn", "label", str(item["id"]), label, "--by", "reviewer-a")
            labelled += 1
    out["labelled"] = labelled

    corr = [(t, g) for t, g, _ in corrections]
    reg = [(t, g) for t, g, _ in regression]
    ung = [(t, g) for t, g, _ in unguarded]
    before = {"corrected": rate(clf.base, corr), "paraphrases": rate(clf.base, paraphrases),
              "regression": rate(clf.base, reg), "unguarded": rate(clf.base, ung)}
    t2 = time.time()
    rc, text = cli("learn", "retrain", "--json", "-", "--by", "learn-loop", ok=(0, 3))
    out["retrain_a_s"] = round(time.time() - t2, 1)
    decision = json.loads(text)
    version = decision["candidate_version"]
    after = {}
    if version:
        served = clf.classifier_for(version)  # as the engine serves it: two-stage with its fast head
        after = {"corrected": rate(served, corr), "paraphrases": rate(served, paraphrases),
                 "regression": rate(served, reg), "unguarded": rate(served, ung)}
    out["scenario_a"] = {
        "exit_status": rc, "promoted": decision["promoted"], "reason": decision["reason"],
        "candidate_version": version, "data": decision["data"],
        "current": {k: decision["current"][k] for k in ("macro_f1", "accuracy", "threshold", "oos_recall",
                                                        "regression_right", "regression_n")},
        "candidate": {k: decision["candidate"][k] for k in ("macro_f1", "accuracy", "threshold", "oos_recall",
                                                            "regression_right", "regression_n")}
        if decision["candidate"] else None,
        "regressions": decision["regressions"], "flipped": len(decision["flipped"]),
        "before": before, "after": after,
        "regression_broken": round(1 - after["regression"] / before["regression"], 4) if after else None,
        "unguarded_broken": round(1 - after["unguarded"] / before["unguarded"], 4) if after else None,
        "still_wrong_corrected": [(t, g, served.classify(t).intent) for t, g in corr
                                  if served.classify(t).intent != g] if version else [],
        "report": decision["report"],
    }
    if decision["promoted"]:
        reply = engine.respond("probe", corrections[0][0], customer_id="C001")
        out["scenario_a"]["engine_serves"] = reply.trace["model_version"]
    cli("learn", "retrain", "--json", str(data_dir / "again.json"), ok=(0, 3))  # registers what is new, if anything
    t3 = time.time()
    cli("learn", "retrain", "--json", str(data_dir / "again.json"), ok=(0, 3))
    out["scenario_a"]["decided_retrain_s"] = round(time.time() - t3, 2)

    # scenario B: wrong labels alone, judged against base (rolled back), on a second tracker store
    from engine.learn.capture import turn_record
    from engine.learn.registry import ModelRegistry
    from engine.learn.retrain import retrain
    from engine.learn.review import group_turns, label_record
    from engine.settings import load_settings
    from engine.state.stores import InMemoryTrackerStore

    settings = load_settings()
    registry = ModelRegistry(settings.resolved_registry_dir)
    if registry.current() != "base":
        registry.rollback(by="learn-loop", note="scenario B starts from base")
    store = InMemoryTrackerStore()
    wrong_given = {}
    for i, (text, label, _) in enumerate(wrong_labels):
        other = rng.choice([x for x in intents if x != label])
        rid = store.add_feedback(turn_record(f"w-{i}", 1, kind="user", text=text, intent=label, confidence=0.9,
                                             route="template", rating=-1, correction=other))
        [item] = [it for it in group_turns(store.feedback()) if rid in it.record_ids]
        store.add_feedback(label_record(item, other, author="reviewer-b"))
        wrong_given[text] = other
    for i, (text, label, _) in enumerate(regression):  # the same customers' /good ratings
        store.add_feedback(turn_record(f"g-{i}", 1, kind="user", text=text, intent=label, confidence=0.9,
                                       route="template", rating=1))
    t4 = time.time()
    result = retrain(clf.base.embedder, load_intent_examples(settings.nlu.intents_file), store.feedback(), registry,
                     nlu=settings.nlu, tolerance=settings.learn.promote_tolerance,
                     regression_min=settings.learn.regression_min, strict_without_turns=True, author="learn-loop")
    out["retrain_b_s"] = round(time.time() - t4, 1)
    named = {b.text for b in result.blamed}
    out["scenario_b"] = {"promoted": result.promoted, "reason": result.reason,
                         "candidate_version": result.candidate_version,
                         "wrong_labels": len(wrong_given), "named_in_rejection": len(named & set(wrong_given)),
                         "blamed": [b.to_dict() for b in result.blamed][:10],
                         "current": result.current.to_dict() if result.current else None,
                         "candidate": result.candidate.to_dict() if result.candidate else None}
    a, b = out["scenario_a"], out["scenario_b"]
    out["goals"] = {
        "corrected_after >= 0.95": (a["after"] or {}).get("corrected"),
        "paraphrases_after >= 0.85": (a["after"] or {}).get("paraphrases"),
        "regression_broken <= 0.01": a["regression_broken"],
        "genuine_promoted": a["promoted"], "wrong_refused": not b["promoted"],
    }
    out["met"] = bool(a["promoted"] and not b["promoted"] and a["after"] and a["after"]["corrected"] >= 0.95
                      and a["after"]["paraphrases"] >= 0.85 and a["regression_broken"] <= 0.01)
    out["total_s"] = round(time.time() - t0, 1)
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=1, ensure_ascii=False))
    write("learn_loop", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
