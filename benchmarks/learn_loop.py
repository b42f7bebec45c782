"""A worked learning run with the real default models: traffic → feedback → review → label →
retrain → promote or reject → a running ``shopassist chat`` hot-reloads.

Usage: python benchmarks/learn_loop.py [--per-intent 30] [--review 80] [--keep DIR]

Traffic is Bitext customer-support utterances (../shared/data/bitext_customer_support) whose
intents map onto the store's; a fresh data folder and demo store are built in a temporary
directory. Each utterance is one engine turn; when the engine's intent differs from Bitext's the
simulated customer types ``/bad`` (negative feedback); low-confidence turns are captured by the
engine itself. A simulated reviewer then labels the turns ``shopassist learn review`` lists with
Bitext's intent (``shopassist learn label``), and ``shopassist learn retrain`` decides. Figures:
macro-F1 of current vs candidate on the fixed held-out split (what the decision uses), plus
accuracy on a separate Bitext slice that was never labelled (how much the feedback helped on
traffic like it), and the model version a long-running ``shopassist chat --debug`` process names
before and after the decision. Results go to benchmarks/results/learn_loop.json.
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
import subprocess
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
}
PROBE = "I have to see where my refund is, can you check?"


def bitext_slices(per_intent: int, seed: int = 0) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(traffic, unseen evaluation) slices of mapped Bitext utterances, ``per_intent`` each."""
    by: dict[str, list[str]] = defaultdict(list)
    with open(BITEXT, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["intent"] in MAP:
                text = re.sub(r"\{\{Order Number\}\}", "100023", row["utterance"])
                text = re.sub(r"\{\{[^}]*\}\}", "it", text).strip()
                by[MAP[row["intent"]]].append(text)
    rng = random.Random(seed)
    traffic, unseen = [], []
    for label in sorted(by):
        texts = sorted(set(by[label]))
        rng.shuffle(texts)
        traffic += [(t, label) for t in texts[:per_intent]]
        unseen += [(t, label) for t in texts[per_intent:2 * per_intent]]
    return traffic, unseen


def cli(*args: str) -> str:
    """``shopassist ARGS`` in this process (same settings: SHOPASSIST_* environment); its stdout."""
    from engine.cli import main as shopassist

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = shopassist(list(args))
    if rc != 0:
        raise SystemExit(f"shopassist {' '.join(args)} failed ({rc})")
    return buf.getvalue()


class RunningChat:
    """A long-running ``shopassist chat --debug`` process: one JSON reply per line written."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "chat", "--debug", "--session", "probe"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)

    def say(self, text: str) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(60)


def accuracy(classifier, data: list[tuple[str, str]]) -> float:
    return round(sum(classifier.classify(t).intent == g for t, g in data) / len(data), 4)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-intent", type=int, default=30, help="traffic turns (and unseen ones) per intent")
    ap.add_argument("--review", type=int, default=80, help="turns the simulated reviewer labels")
    ap.add_argument("--keep", help="use this data folder (kept) instead of a temporary one")
    ap.add_argument("--then-tolerance", type=float,
                    help="after a rejection, retrain again with this tolerance (an operator accepting a small "
                         "held-out loss), so the hot reload and rollback are shown too")
    args = ap.parse_args()
    traffic, unseen = bitext_slices(args.per_intent)
    gold = {" ".join(t.split()): g for t, g in traffic}
    data_dir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="learn-loop-"))
    env = dict(os.environ, SHOPASSIST_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    os.environ.update(SHOPASSIST_DATA_DIR=str(data_dir))
    out: dict = {"data_dir": str(data_dir), "traffic_turns": len(traffic), "unseen_turns": len(unseen),
                 "load_before": os.getloadavg()}
    t0 = time.time()

    from engine import Engine
    from engine.learn.reload import ReloadingClassifier

    engine = Engine.from_config()  # builds the demo store and the base intent head in data_dir
    engine.warm_up()
    out["build_s"] = round(time.time() - t0, 1)
    chat = RunningChat(env)
    first = chat.say(PROBE)
    out["probe_before"] = {"intent": first["intent"], "confidence": first["confidence"],
                           "model_version": first["trace"]["model_version"]}

    wrong = 0
    for i, (text, label) in enumerate(traffic):
        reply = engine.respond(f"traffic-{i}", text, customer_id="C001")
        if reply.intent != label:
            wrong += 1
            engine.feedback(f"traffic-{i}", rating=-1)  # the customer's /bad
    records = engine.store.feedback()
    out["traffic_accuracy"] = round(1 - wrong / len(traffic), 4)
    out["feedback_records"] = {"user": sum(r["kind"] == "user" for r in records),
                               "auto": sum(r["kind"] == "auto" for r in records)}

    items = json.loads(cli("learn", "review", "--limit", str(args.review), "--json", "-"))
    items = [i for i in items if " ".join(i["text"].split()) in gold]  # traffic only, not the probe
    for item in items:
        cli("learn", "label", str(item["id"]), gold[" ".join(item["text"].split())], "--by", "reviewer-sim")
    out["labelled"] = len(items)
    out["labelled_reasons"] = {r: sum(r in i["reasons"] for i in items)
                               for r in ("negative_feedback", "low_confidence", "handoff", "disagreement")}

    t1 = time.time()
    print(cli("learn", "retrain", "--json", str(data_dir / "decision.json"), "--by", "learn-loop"))
    out["retrain_s"] = round(time.time() - t1, 1)
    decision = json.loads((data_dir / "decision.json").read_text())
    out["decision"] = {k: decision[k] for k in ("promoted", "reason", "candidate_version", "data", "report", "chart")}
    out["heldout_macro_f1"] = {"current": decision["current"]["macro_f1"],
                               "candidate": decision["candidate"]["macro_f1"] if decision["candidate"] else None}
    out["heldout_accuracy"] = {"current": decision["current"]["accuracy"],
                               "candidate": decision["candidate"]["accuracy"] if decision["candidate"] else None}
    out["regressions"] = decision["regressions"]

    clf = engine.nlu.classifier
    assert isinstance(clf, ReloadingClassifier)
    out["unseen_bitext_accuracy"] = {"base": accuracy(clf.base, unseen)}
    version = decision["candidate_version"]
    if version:
        # served as the engine would serve it: two-stage when retrain gave it a fast-stage head
        out["unseen_bitext_accuracy"]["candidate"] = accuracy(clf.classifier_for(version), unseen)

    def probe(key: str) -> str:
        time.sleep(engine.settings.learn.reload_interval_s + 0.5)  # the chat process checks this often
        reply = chat.say(PROBE)
        out[key] = {"intent": reply["intent"], "confidence": reply["confidence"],
                    "model_version": reply["trace"]["model_version"]}
        return reply["trace"]["model_version"]

    promoted = version if decision["promoted"] else None
    probe("probe_after_decision")
    if promoted is None and args.then_tolerance is not None:
        print(cli("learn", "retrain", "--tolerance", str(args.then_tolerance), "--json",
                  str(data_dir / "decision2.json"), "--by", "learn-loop"))
        second = json.loads((data_dir / "decision2.json").read_text())
        out["second_decision"] = {k: second[k] for k in ("promoted", "reason", "candidate_version", "tolerance")}
        promoted = second["candidate_version"] if second["promoted"] else None
        probe("probe_after_second_decision")
    if promoted:
        out["reload_observed"] = out.get("probe_after_second_decision", out["probe_after_decision"])[
            "model_version"] == promoted
        print(cli("learn", "rollback", "--by", "learn-loop"))
        out["rollback_observed"] = probe("probe_after_rollback") == out["probe_before"]["model_version"]
    chat.close()
    out["total_s"] = round(time.time() - t0, 1)
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=1, ensure_ascii=False))
    write("learn_loop", out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
