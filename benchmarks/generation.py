"""Generation benchmark: grounding pass rate, answer correctness, latency and tokens/s per backend.

The question set (benchmarks/data/generation_questions.jsonl, 39 questions: 24 English, 15
Chinese, three of them prompt injections) is answered over the embedded demo store. Each question
goes through the real engine once (NLU, routing, FAQ retrieval, product graph) with a recording
extractive generator, so every backend then gets exactly the same passages and facts:

- ``extractive``: the default (no model);
- ``transformers``: the packaged SmolLM2-135M-Instruct, in this process;
- ``openai``: the same SmolLM2 served by engine/generation/chat_server.py on loopback and called
  through the OpenAI-compatible HTTP backend (so the difference to ``transformers`` is HTTP), or,
  with ``--base-url URL --model NAME``, any OpenAI-compatible server (llama.cpp, vLLM, Ollama...).

Every LLM backend runs with the configured generation settings (``max_new_tokens`` 160,
``max_passages``, ``history_turns``, ``min_support``: the defaults of the LLM backends, as
configs/default.yaml documents them) unless a flag overrides one. The per-turn deadline is set
by ``--deadline-s`` (default 600 s: the benchmark measures what the model writes; a turn in
service falls back to the extractive answer at ``generation.deadline_s``).

Per backend: *grounding pass rate* (LLM answers that passed the check and were used), *correct*
(the final answer, after any fallback, holds every expected fact and no forbidden one), *LLM-only
correct* (the same, counting a refused answer as wrong), latency p50/p95 of ``generate`` and
tokens/s (generated tokens / generation seconds). The grounding check is also run on the
extractive answers: they are the sources' own words, so any refusal there is a false alarm.
Refused answers are listed with the model's draft and the check's findings.

    python benchmarks/generation.py                          # all three backends
    python benchmarks/generation.py --backends extractive transformers --limit 10
    python benchmarks/generation.py --http-every 3      # the HTTP backend on every third question
    python benchmarks/generation.py --base-url http://127.0.0.1:8080/v1 --model smollm2   # a real server

Writes benchmarks/results/generation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks._common import summary_ms, write  # noqa: E402
from engine.generation import Completion, ExtractiveGenerator, GroundingChecker, LLMGenerator  # noqa: E402

QUESTIONS = Path(__file__).resolve().parent / "data" / "generation_questions.jsonl"


class _Recorder:
    """The extractive generator, remembering the last inputs it was given."""

    def __init__(self) -> None:
        self._gen = ExtractiveGenerator()
        self.last: dict[str, Any] | None = None

    def generate(self, question, passages, facts, *, language="en", history=()):
        self.last = {"question": question, "passages": list(passages), "facts": list(facts),
                     "language": language, "history": list(history)}
        return self._gen.generate(question, passages, facts, language=language, history=history)


class _Drafts:
    """A ChatModel proxy that keeps the model's last draft (to show what the check refused)."""

    def __init__(self, model) -> None:
        self._model = model
        self.name = model.name
        self.last = ""

    def complete(self, messages, *, max_new_tokens, temperature, deadline=None) -> Completion:
        completion = self._model.complete(messages, max_new_tokens=max_new_tokens, temperature=temperature,
                                          deadline=deadline)
        self.last = completion.text
        return completion

    def stream(self, messages, *, max_new_tokens, temperature, deadline=None):
        return self._model.stream(messages, max_new_tokens=max_new_tokens, temperature=temperature, deadline=deadline)


def _correct(text: str, item: dict[str, Any]) -> bool:
    return (all(any(alt in text for alt in group) for group in item["expect"])
            and not any(bad in text for bad in item.get("forbid", ())))


def _record_inputs(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], set[str]]:
    from engine.builder import _catalog_names, build_engine
    from engine.settings import load_settings
    from knowledge.demo import ensure_demo_store
    from knowledge.graph.catalog import Catalog

    recorder = _Recorder()
    engine = build_engine(load_settings(), generator=recorder)
    engine.warm_up()
    settings = load_settings()
    root = settings.store.root or settings.resolved_data_dir / "demo-store"
    names = _catalog_names(Catalog.from_file(ensure_demo_store(Path(root), seed=settings.store.seed).catalog_path))
    cases = []
    run = uuid.uuid4().hex[:8]  # fresh conversations: the tracker keeps earlier runs' sessions
    for i, item in enumerate(items):
        recorder.last = None
        reply = engine.respond(f"bench-gen-{run}-{i}", item["question"], customer_id="C001")
        if recorder.last is None:
            print(f"  {item['id']}: routed to {reply.route} ({reply.trace.get('decided_by')}), no generation")
            continue
        cases.append({**item, "inputs": recorder.last})
    return cases, names


def _run_backend(name: str, gen, cases: list[dict[str, Any]], checker: GroundingChecker,
                 drafts: _Drafts | None) -> dict[str, Any]:
    times, tokens, rows = [], 0, []
    for case in cases:
        inp = case["inputs"]
        started = time.perf_counter()
        answer = gen.generate(inp["question"], inp["passages"], inp["facts"], language=inp["language"],
                              history=inp["history"])
        elapsed = time.perf_counter() - started
        times.append(elapsed * 1000)
        tokens += answer.tokens
        sources = [f.text for f in inp["facts"]] + [f"{p.question} {p.answer}" for p in inp["passages"]]
        findings = checker.check(answer.text, sources, language=inp["language"]) if name == "extractive" else ()
        used = name == "extractive" or answer.backend == name
        rows.append({
            "id": case["id"], "lang": case["lang"], "answer": answer.text, "backend": answer.backend,
            "used_model_answer": used, "refused": list(answer.refused), "draft": drafts.last if drafts else None,
            "correct": _correct(answer.text, case), "model_correct": used and _correct(answer.text, case),
            "ms": round(elapsed * 1000, 1), "tokens": answer.tokens, "check_on_extractive": list(findings),
        })
        mark = "ok " if rows[-1]["correct"] else "BAD"
        print(f"  [{name}] {mark} {case['id']:<26} {elapsed * 1000:8.0f} ms  "
              f"{'model' if used else 'fallback: ' + ', '.join(answer.refused)[:60]}")
    n = len(rows)
    seconds = sum(times) / 1000
    by_lang = {}
    for lang in ("en", "zh"):
        sub = [r for r in rows if r["lang"] == lang]
        if sub:
            by_lang[lang] = {"n": len(sub), "grounding_pass_rate": round(sum(r["used_model_answer"] for r in sub) / len(sub), 3),
                             "correct": round(sum(r["correct"] for r in sub) / len(sub), 3),
                             "model_correct": round(sum(r["model_correct"] for r in sub) / len(sub), 3)}
    reasons = Counter(p.split(" ")[0].rstrip(":") for r in rows for p in r["refused"])
    return {
        "n": n,
        "grounding_pass_rate": round(sum(r["used_model_answer"] for r in rows) / n, 3),
        "correct": round(sum(r["correct"] for r in rows) / n, 3),
        "model_correct": round(sum(r["model_correct"] for r in rows) / n, 3),
        "by_language": by_lang,
        "refusal_reasons": dict(reasons.most_common()),
        "checker_false_alarms_on_extractive": sum(bool(r["check_on_extractive"]) for r in rows),
        "latency": summary_ms(times),
        "tokens": tokens,
        "tokens_per_s": round(tokens / seconds, 2) if tokens and seconds else None,
        "refused_examples": [{k: r[k] for k in ("id", "draft", "refused", "answer")}
                             for r in rows if r["refused"]][:12],
        "rows": rows,
    }


def _rescore() -> None:
    from benchmarks._common import RESULTS

    path = RESULTS / "generation.json"
    results = json.loads(path.read_text("utf-8"))
    items = {i["id"]: i for i in (json.loads(line) for line in QUESTIONS.read_text("utf-8").splitlines() if line.strip())}
    for name, r in results["backends"].items():
        for row in r["rows"]:
            row["correct"] = _correct(row["answer"], items[row["id"]])
            row["model_correct"] = row["used_model_answer"] and row["correct"]
        n = len(r["rows"])
        r["correct"] = round(sum(x["correct"] for x in r["rows"]) / n, 3)
        r["model_correct"] = round(sum(x["model_correct"] for x in r["rows"]) / n, 3)
        for lang, sub in r["by_language"].items():
            rows = [x for x in r["rows"] if x["lang"] == lang]
            sub["correct"] = round(sum(x["correct"] for x in rows) / len(rows), 3)
            sub["model_correct"] = round(sum(x["model_correct"] for x in rows) / len(rows), 3)
        print(f"{name}: correct {r['correct']:.1%}  model-only correct {r['model_correct']:.1%}")
    results["rescored"] = time.strftime("%Y-%m-%d %H:%M")
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    print(f"wrote {path}")


def _llm_settings(args: argparse.Namespace):
    """The LLM backends' configured settings (configs/default.yaml's documented defaults), with the flags' overrides."""
    from engine.settings import TransformersGeneration

    configured = TransformersGeneration()
    return configured.model_copy(update={"max_new_tokens": args.max_new_tokens or configured.max_new_tokens,
                                         "deadline_s": args.deadline_s})


def _generator(backend: str, model, checker: GroundingChecker, llm) -> LLMGenerator:
    return LLMGenerator(model, backend=backend, checker=checker, store="Brightcart", max_new_tokens=llm.max_new_tokens,
                        temperature=llm.temperature, max_passages=llm.max_passages, max_facts=llm.max_facts,
                        history_turns=llm.history_turns, deadline_s=llm.deadline_s)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", nargs="+", default=None, choices=["extractive", "transformers", "openai"],
                    help="default: all three; with --base-url, extractive and openai")
    ap.add_argument("--base-url", default=None,
                    help="an OpenAI-compatible server's API root (http://HOST:PORT/v1) for the openai backend; "
                         "default: the packaged SmolLM2 served on loopback")
    ap.add_argument("--model", default=None, help="the model name that server knows (with --base-url)")
    ap.add_argument("--api-key-env", default=None, help="the NAME of an environment variable holding the API key")
    ap.add_argument("--timeout-s", type=float, default=300.0, help="read timeout per request to the server")
    ap.add_argument("--limit", type=int, default=None, help="only the first N questions")
    ap.add_argument("--max-new-tokens", type=int, default=None,
                    help="default: the configured generation.max_new_tokens (160)")
    ap.add_argument("--deadline-s", type=float, default=600.0,
                    help="the per-turn deadline (default 600: measure the model, not the deadline)")
    ap.add_argument("--llm-every", type=int, default=1,
                    help="the transformers backend answers every Nth question only (for a busy CPU)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 holds up best on a shared CPU)")
    ap.add_argument("--http-every", type=int, default=1,
                    help="the openai backend answers every Nth question only (same model as transformers; "
                         "it measures the HTTP path)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rescore", action="store_true",
                    help="recompute correctness in results/generation.json from its stored answers and the "
                         "current question file (after fixing an expectation), without running any model")
    args = ap.parse_args()
    if args.rescore:
        return _rescore()
    if args.base_url and not args.model:
        ap.error("--base-url needs --model (the name the server knows the model by)")
    backends = args.backends or (["extractive", "openai"] if args.base_url else ["extractive", "transformers", "openai"])
    llm = _llm_settings(args)

    items = [json.loads(line) for line in QUESTIONS.read_text("utf-8").splitlines() if line.strip()]
    items = items[: args.limit] if args.limit else items
    print(f"recording generator inputs for {len(items)} questions through the engine ...")
    cases, names = _record_inputs(items)
    checker = GroundingChecker(names)
    results: dict[str, Any] = {"questions": len(items), "generated": len(cases), "loadavg_start": os.getloadavg(),
                               "max_new_tokens": llm.max_new_tokens, "deadline_s": llm.deadline_s,
                               "base_url": args.base_url, "model": args.model, "llm_every": args.llm_every,
                               "http_every": args.http_every, "threads": args.threads, "backends": {}}

    model = None
    local = {"transformers"} | (set() if args.base_url else {"openai"})
    if local & set(backends):
        from engine.generation.transformers_chat import TransformersChatModel
        from engine.settings import load_settings

        cache = load_settings().resolved_data_dir / "models" / "llm"
        import torch

        torch.set_num_threads(args.threads)
        model = TransformersChatModel("smollm2", device=args.device, cache_dir=cache)
        started = time.perf_counter()
        model.warm_up()
        results["model_load_s"] = round(time.perf_counter() - started, 2)
        results["device"] = model.device

    for backend in backends:
        print(f"backend {backend} ...")
        drafts = None
        server = None
        if backend == "extractive":
            gen = ExtractiveGenerator()
        elif backend == "transformers":
            drafts = _Drafts(model)
            gen = _generator("transformers", drafts, checker, llm)
        else:
            from engine.generation.chat_server import ChatCompletionsServer
            from engine.generation.openai_chat import OpenAIChatModel

            if args.base_url:
                key = os.environ.get(args.api_key_env) if args.api_key_env else None
                client = OpenAIChatModel(args.base_url, args.model, api_key=key, timeout_s=args.timeout_s)
            else:
                server = ChatCompletionsServer(model).start()
                client = OpenAIChatModel(server.base_url, "smollm2", timeout_s=args.timeout_s)
            drafts = _Drafts(client)
            gen = _generator("openai", drafts, checker, llm)
        every = {"openai": args.http_every, "transformers": args.llm_every}.get(backend, 1)
        subset = cases[::every]
        try:
            results["backends"][backend] = _run_backend(backend, gen, subset, checker, drafts)
        finally:
            if server is not None:
                server.stop()
        r = results["backends"][backend]
        print(f"  => grounding pass {r['grounding_pass_rate']:.1%}  correct {r['correct']:.1%}  "
              f"model-only correct {r['model_correct']:.1%}  p50 {r['latency']['p50_ms']:.0f} ms  "
              f"tokens/s {r['tokens_per_s']}")
    results["loadavg_end"] = os.getloadavg()
    write("generation", results)


if __name__ == "__main__":
    main()
