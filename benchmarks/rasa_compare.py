"""shopassist against Rasa 3.6 (DIET) on BANKING77: intent accuracy, parse latency, REST-turn latency.

Usage: python benchmarks/rasa_compare.py [--quick] [--epochs 40] [--n 300]

Data: the NLU work's seed-0 90/10 stratified carve of ../shared/data/banking77/train.csv
(benchmarks/nlu_data.py, through benchmarks/peers/banking77.py); the official test split is never read.

Rasa: its recommended DIET pipeline (benchmarks/peers/rasa_project.py; ``--epochs``, default 40,
is recorded) in the Rasa integration test's cached Python 3.10 venv, trained once (niced) and
cached; served by ``rasa run --enable-api`` with ``shopassist actions`` as its action server.
shopassist: ``shopassist nlu train --task intent --mode head --embedder all-MiniLM-L6-v2`` on the
same rows, served in-process and over a loopback HTTP server of this script (stdlib
``ThreadingHTTPServer``: the same JSON shapes as Rasa's /model/parse and REST webhook).

Every side is timed through the same client (``_JsonClient``: http.client, keep-alive, no Nagle;
its own floor, an empty request to our server, is reported as ``client_floor``), in alternating
blocks of ``BLOCK`` requests per side, so every side sees the same machine
load (per-request interleaving, used before, charged each of our requests with the CPU that
Rasa's TensorFlow threads keep spinning after its own request: MiniLM parses measured 7.0 ms
interleaved, 3.6 ms alone):
- accuracy on the validation carve (Rasa: the top intent of /model/parse, ``nlu_fallback``
  counted wrong, and also the top non-fallback intent of its ranking);
- /model/parse latency (Rasa HTTP) vs shopassist HTTP and in-process;
- REST-turn latency: Rasa REST webhook (DIET → rule → our action server → one engine turn) vs
  shopassist's HTTP turn and ``Engine.respond`` in-process, on the scripted shop turns (after 5
  untimed turns a side; per block, Rasa first, then our two sides in alternating order, since the
  side right after Rasa's pays for its lingering threads: ``turn_latency_right_after_rasa``).
Writes benchmarks/results/rasa_compare.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import summary_ms, write  # noqa: E402
from turn_latency import SCRIPT  # noqa: E402

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.peers.banking77 import write_split  # noqa: E402
from benchmarks.peers.rasa_project import cache_root, train, write_project  # noqa: E402

__all__ = ["main"]

# shopassist's models, by the name the HTTP side takes (?model=NAME): `shopassist nlu train --embedder`
BLOCK = 20  # requests per side before the next side takes over
MODELS = {"minilm": "all-MiniLM-L6-v2", "minilm-int8": "all-MiniLM-L6-v2:onnx-int8", "tfidf": "tfidf"}
MODEL_TEXT = {"minilm": "MiniLM (ONNX Runtime, float32) + linear head, L2 by 5-fold CV on train",
              "minilm-int8": "MiniLM (ONNX Runtime, int8 products) + linear head, L2 by 5-fold CV on train",
              "tfidf": "character 1-3-gram TF-IDF + logistic regression, C on a 10% carve of train"}


class _JsonClient:
    """A keep-alive JSON-over-HTTP client on ``http.client``: the measuring instrument, the same for
    every side. httpx (used before) spent ~0.4 ms of Python per request on both sides; that constant
    sat inside every measured latency and shrank every ratio. Request line, headers and body go out
    in one write, Nagle off; a connection the server closed (keep-alive timeout) is reopened once."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        from urllib.parse import urlsplit

        u = urlsplit(base_url)
        self._host, self._port, self._timeout = u.hostname, u.port, timeout
        self._conn = None

    def _connect(self):
        import http.client

        conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def post(self, path: str, payload) -> tuple[int, object]:
        import http.client

        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = self._connect()
            try:
                self._conn.request("POST", path, body=body, headers=headers)
                resp = self._conn.getresponse()
                data = resp.read()
                return resp.status, (json.loads(data) if data else None)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    import httpx

    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited; log:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} not up after {timeout}s; log:\n{log.read_text()[-3000:]}")


class _Ours:
    """The shopassist side: trained BANKING77 models (``shopassist nlu train`` folders, by name) and a
    demo engine, in-process and over HTTP (``/model/parse?model=NAME``)."""

    def __init__(self, model_dirs: dict[str, Path], engine) -> None:
        from engine.nlu.training import TextModel

        self.models = {name: TextModel.load(d) for name, d in model_dirs.items()}
        self.engine = engine

    def parse(self, text: str, model: str) -> dict:
        probs = self.models[model].probabilities([text])[0]
        best = int(probs.argmax())
        return {"text": text, "intent": {"name": self.models[model].labels[best], "confidence": float(probs[best])}}

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        ours = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Rasa's Sanic server does for the same client
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK wait

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path == "/ping":  # the client + loopback floor, measured on its own
                    out = {}
                elif self.path.startswith("/model/parse"):
                    out = ours.parse(body["text"], self.path.partition("model=")[2] or "minilm")
                elif self.path == "/webhooks/rest/webhook":
                    meta = body.get("metadata") or {}
                    r = ours.engine.respond(body["sender"], body["message"], customer_id=meta.get("customer_id"))
                    out = [{"recipient_id": body["sender"], "text": r.text}]
                else:
                    self.send_error(404)
                    return
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"


def _shopassist() -> str:
    """The ``shopassist`` command of this interpreter's environment."""
    return str(Path(sys.executable).with_name("shopassist"))


def _rasa_venv() -> Path:
    sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
    from test_rasa_server import ensure_rasa_venv  # the integration test's cached environment

    venv, _ = ensure_rasa_venv()
    return venv


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=40, help="DIET epochs (Rasa's default is 100)")
    ap.add_argument("--n", type=int, default=300, help="timed parse requests per side")
    ap.add_argument("--turns", type=int, default=120, help="timed REST turns per side (blocks of 20)")
    ap.add_argument("--quick", action="store_true", help="fewer requests (needs a cached DIET model)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.turns = 60, 40
    args.turns = -(-args.turns // (2 * BLOCK)) * 2 * BLOCK  # whole pairs of blocks: each of our sides follows Rasa equally

    from benchmarks.peers.banking77 import carve

    cache = cache_root()
    work = Path(tempfile.mkdtemp(prefix="shopassist-rasa-bench-"))
    train_csv, valid_csv = write_split(work / "banking77")
    train_rows, valid_rows = carve()

    # -- Rasa: train once (cached by data + pipeline + epochs) ------------------------------------
    project = work / "rasa-project"
    key = write_project(project, train_rows, args.epochs)
    model_dir = cache / f"rasa-banking77-diet-{key}"
    venv = _rasa_venv()
    rasa_py = str(venv / "bin" / "python")
    rasa_env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
                    SANIC_ACCESS_LOG="false")
    if (model_dir / "train.json").exists():
        rasa_train = json.loads((model_dir / "train.json").read_text())
    elif args.quick:
        print(f"skipping Rasa: no trained DIET model in {model_dir} (run without --quick once)")
        return {}
    else:
        print(f"training Rasa DIET ({args.epochs} epochs, niced); log in {cache}", flush=True)
        rasa_train = train(rasa_py, project, model_dir, dict(rasa_env, OMP_NUM_THREADS="1"),
                           log=cache / f"train-{key}.log")

    # -- shopassist: two models trained on train only (choices by cross-validation / a carve of
    #    train, never on the validation rows scored here), cached by the split's hash ---------------
    import hashlib

    from engine.nlu.training import MODEL_FORMAT_VERSION

    digest = hashlib.sha256(train_csv.read_bytes()).hexdigest()[:12]
    model_dirs = {}
    for name, features in MODELS.items():
        d = cache / f"shopassist-banking77-{name}-v{MODEL_FORMAT_VERSION}-{digest}"
        if not (d / "meta.json").exists():
            subprocess.run([_shopassist(), "nlu", "train", "--task", "intent", "--mode", "head", "--quiet",
                            "--embedder", features, "--data", str(train_csv), "--out", str(d)],
                           check=True, cwd=HERE.parent)
        model_dirs[name] = d
    ours_train = {name: json.loads((d / "meta.json").read_text()).get("train_s") for name, d in model_dirs.items()}

    # -- servers ------------------------------------------------------------------------------------
    data_dir = work / "data"
    os.environ["SHOPASSIST_DATA_DIR"] = str(data_dir)
    os.environ["SHOPASSIST_EMBEDDER__CACHE_SIZE"] = "0"
    from engine import Engine

    engine = Engine.from_config()
    engine.warm_up()
    ours = _Ours(model_dirs, engine)
    server, ours_url = ours.serve()
    aport, rport = _free_port(), _free_port()
    (project / "endpoints.yml").write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{aport}/webhook"\n')
    (project / "credentials.yml").write_text("rest:\n")
    logs = {"actions": work / "actions.log", "rasa": work / "rasa.log"}
    procs = []
    try:
        with open(logs["actions"], "w") as alog, open(logs["rasa"], "w") as rlog:
            procs.append(subprocess.Popen([_shopassist(), "actions", "--port", str(aport)],
                                          cwd=HERE.parent, env=dict(os.environ), stdout=alog, stderr=subprocess.STDOUT))
            procs.append(subprocess.Popen([rasa_py, "-m", "rasa", "run", "--enable-api", "-m", rasa_train["model"],
                                           "-i", "127.0.0.1", "-p", str(rport), "--endpoints", "endpoints.yml",
                                           "--credentials", "credentials.yml"],
                                          cwd=project, env=rasa_env, stdout=rlog, stderr=subprocess.STDOUT))
        _wait(f"http://127.0.0.1:{aport}/health", procs[0], logs["actions"], 300)
        rasa_url = f"http://127.0.0.1:{rport}"
        _wait(f"{rasa_url}/", procs[1], logs["rasa"], 600)
        rasa_c, ours_c = _JsonClient(rasa_url), _JsonClient(ours_url)

        # accuracy on the validation carve, and parse latency (interleaved)
        texts = [t for t, _ in valid_rows]
        gold = [lab for _, lab in valid_rows]
        for t in texts[:5]:  # warm every side
            rasa_c.post("/model/parse", {"text": t})
            for name in MODELS:
                ours_c.post(f"/model/parse?model={name}", {"text": t})
        floor = []  # what the client and loopback cost alone: an empty request and reply
        for _ in range(200):
            t0 = time.perf_counter()
            ours_c.post("/ping", {})
            floor.append((time.perf_counter() - t0) * 1000)
        rasa_top, rasa_nofb = [], []
        ours_pred: dict[str, list[str]] = {name: [] for name in MODELS}
        lat: dict[str, list[float]] = {"rasa_http": []}
        for name in MODELS:
            lat[f"ours_{name}_http"], lat[f"ours_{name}_inprocess"] = [], []
        for start in range(0, len(texts), BLOCK):
            block = list(enumerate(texts[start : start + BLOCK], start))
            for i, t in block:
                t0 = time.perf_counter()
                r = rasa_c.post("/model/parse", {"text": t})[1]
                t1 = time.perf_counter()
                rasa_top.append(r["intent"]["name"])
                rasa_nofb.append(next((x["name"] for x in r.get("intent_ranking", [])
                                       if x["name"] != "nlu_fallback"), r["intent"]["name"]))
                if i < args.n:
                    lat["rasa_http"].append((t1 - t0) * 1000)
            for name in MODELS:
                for i, t in block:
                    t2 = time.perf_counter()
                    o = ours.parse(t, name)
                    t3 = time.perf_counter()
                    ours_pred[name].append(o["intent"]["name"])
                    if i < args.n:
                        ours_c.post(f"/model/parse?model={name}", {"text": t})
                        t4 = time.perf_counter()
                        lat[f"ours_{name}_inprocess"].append((t3 - t2) * 1000)
                        lat[f"ours_{name}_http"].append((t4 - t3) * 1000)

        def acc(pred):
            return round(sum(p == g for p, g in zip(pred, gold)) / len(gold), 4)

        # REST turns: the scripted shop conversation through each stack
        turn_lat = {"rasa_rest": [], "ours_http": [], "ours_inprocess": []}

        def rasa_turn(sender: str, text: str, customer: str) -> None:
            status, out = rasa_c.post("/webhooks/rest/webhook",
                                      {"sender": sender, "message": text, "metadata": {"customer_id": customer}})
            if status != 200 or not out:
                raise RuntimeError(f"Rasa REST turn failed: {status} {str(out)[:300]}")

        def http_turn(sender: str, text: str, customer: str) -> None:
            status, out = ours_c.post("/webhooks/rest/webhook",
                                      {"sender": sender, "message": text, "metadata": {"customer_id": customer}})
            if status != 200 or not out:
                raise RuntimeError(f"shopassist HTTP turn failed: {status} {str(out)[:300]}")

        def inproc_turn(sender: str, text: str, customer: str) -> None:
            engine.respond(sender, text, customer_id=customer)

        rasa_side = ("rasa_rest", "rasa", rasa_turn)
        ours_sides = (("ours_http", "http", http_turn), ("ours_inprocess", "inproc", inproc_turn))
        after_rasa: dict[str, list[float]] = {"ours_http": [], "ours_inprocess": []}
        for key, prefix, turn in (rasa_side, *ours_sides):  # warm every side: 5 turns, not timed
            for i in range(5):
                customer, text = SCRIPT[i]
                turn(f"{prefix}-warm-{customer}", text, customer)
        for b, start in enumerate(range(0, args.turns, BLOCK)):  # each side plays the script in order, block by block
            # counterbalanced: the side right after Rasa's block pays for its lingering threads and the
            # cache lines its process and our action server took (the first turns of that block were
            # ~1 ms slower), so our two sides take that place in turn
            order = (rasa_side, *(ours_sides if b % 2 == 0 else ours_sides[::-1]))
            for place, (key, prefix, turn) in enumerate(order):
                for i in range(start, min(start + BLOCK, args.turns)):
                    customer, text = SCRIPT[i % len(SCRIPT)]
                    t0 = time.perf_counter()
                    turn(f"{prefix}-{i // len(SCRIPT)}-{customer}", text, customer)
                    ms = (time.perf_counter() - t0) * 1000
                    turn_lat[key].append(ms)
                    if place == 1:
                        after_rasa[key].append(ms)
        rasa_c.close()
        ours_c.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        server.shutdown()

    parse = {k: summary_ms(v) for k, v in lat.items()}
    turns = {k: summary_ms(v) for k, v in turn_lat.items()}
    result = {
        "data": {"train": len(train_rows), "valid": len(valid_rows), "split": "banking77 train, seed-0 90/10 stratified carve (benchmarks/nlu_data.py)"},
        "rasa": {"version": "3.6.21", "pipeline": "DIET (rasa init default, no ResponseSelector)",
                 "epochs": args.epochs, **rasa_train, "accuracy": acc(rasa_top),
                 "accuracy_ignoring_fallback": acc(rasa_nofb)},
        "shopassist": {name: {"model": MODEL_TEXT[name], "train_s": ours_train[name], "accuracy": acc(ours_pred[name])}
                       for name in MODELS},
        "parse_latency": parse, "turn_latency": turns,
        "client_floor": {**summary_ms(floor), "client": "http.client keep-alive, TCP_NODELAY (the same for every side)"},
        "parse_p50_ratio_http": {name: round(parse["rasa_http"]["p50_ms"] / parse[f"ours_{name}_http"]["p50_ms"], 1)
                                 for name in MODELS},
        "parse_p50_ratio_inprocess": {name: round(parse["rasa_http"]["p50_ms"] / parse[f"ours_{name}_inprocess"]["p50_ms"], 1)
                                      for name in MODELS},
        "turn_order": "per block of the script: Rasa, then our two sides in alternating order",
        "turn_latency_right_after_rasa": {k: summary_ms(v) for k, v in after_rasa.items() if v},
        "turn_p50_ratio_http": round(turns["rasa_rest"]["p50_ms"] / turns["ours_http"]["p50_ms"], 1),
        "turn_p50_ratio_inprocess": round(turns["rasa_rest"]["p50_ms"] / turns["ours_inprocess"]["p50_ms"], 1),
        "latencies_ms": {**{f"parse_{k}": [round(x, 3) for x in v] for k, v in lat.items()},
                         **{f"turn_{k}": [round(x, 3) for x in v] for k, v in turn_lat.items()}},
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"accuracy: rasa DIET {result['rasa']['accuracy']} (ignoring fallback "
          f"{result['rasa']['accuracy_ignoring_fallback']}), shopassist "
          + ", ".join(f"{name} {v['accuracy']}" for name, v in result["shopassist"].items()))
    print(f"client + loopback floor (empty request) p50 {result['client_floor']['p50_ms']:.3f} ms")
    for k, v in parse.items():
        print(f"parse {k:<15} p50 {v['p50_ms']:.2f} ms p95 {v['p95_ms']:.2f} ms")
    for k, v in turns.items():
        print(f"turn  {k:<15} p50 {v['p50_ms']:.2f} ms p95 {v['p95_ms']:.2f} ms")
    for k, v in result["turn_latency_right_after_rasa"].items():
        print(f"turn  {k:<15} right after Rasa's block: p50 {v['p50_ms']:.2f} ms (n={v['n']})")
    print(f"p50 ratios: parse {result['parse_p50_ratio_http']}x (HTTP), {result['parse_p50_ratio_inprocess']}x "
          f"(in-process); turn {result['turn_p50_ratio_http']}x (HTTP), {result['turn_p50_ratio_inprocess']}x")
    if not args.no_write:
        write("rasa_compare", result)
    return result


if __name__ == "__main__":
    main()
