"""``kill -9`` during writes, for benchmarks/adversarial.py: no write lost, none applied twice, and
the conversation tells the truth afterwards.

Each fault runs one customer's cancellation or address change on its own copy of the order
database, over a SQLite tracker all faults share. A worker process (forked from the benchmark's
warm engine, so a fault costs milliseconds instead of a model load; it opens its own tracker store
and order connection, and the parent never touches either) takes the conversation to the
confirmation question, and the parent sends the clear yes. The worker then dies by ``SIGKILL``:
either from the parent after a random delay of 0 to 1.5x a measured yes turn (anywhere in the
turn: before the write, between the order system's commit and the tracker's, after both), or
from inside itself at an exact point (just before the order system's write call, or just after it
returned, before the tracker records the turn). A fresh worker then continues the same
conversation with "did it work?", "yes" or "no" (then, for "no", the customer asks again and
says yes), and the parent checks the order database:

* duplicated: more than one audit or idempotency row for the order's write;
* lost: no write after the customer's final clear yes, or a reply the customer saw saying done
  while nothing was written;
* misreported: a write that happened, told afterwards as not done (the "kept" reply, or the
  confirmation question asked again).

Example:
    >>> result = run_kills(engine, shop, pristine, workdir, n=50)   # doctest: +SKIP
    >>> result["lost"], result["duplicated"], result["misreported"]  # doctest: +SKIP
    (0, 0, 0)
"""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import sqlite3
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["run_kills"]

MODES = ("timer", "timer", "timer", "timer", "hook:before_write", "hook:after_write")
_SAY = {
    "en": dict(cancel="please cancel order {o}", address="I need to change the delivery address of order {o}",
               yes="yes", no="no", check="did it work?", done=("is cancelled", "will be delivered to"),
               kept=("haven't cancelled", "stays as it was")),
    "zh": dict(cancel="帮我取消订单{o}", address="我要修改订单{o}的收货地址", yes="确认", no="不要", check="成功了吗？",
               done=("已为您取消", "将配送至"), kept=("没有取消", "地址保持不变")),
}


class _Worker:
    """A forked worker: the engine's stages around its own tracker store and order connection,
    answering one JSON turn per line."""

    def __init__(self, engine, db: Path, tracker: Path, hook: str | None = None) -> None:
        cmd_r, self._cmd = os.pipe()
        self._out, rep_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the worker; never returns
            code = 1
            try:
                os.close(self._cmd)
                os.close(self._out)
                _serve(engine, db, tracker, hook, cmd_r, rep_w)
                code = 0
            finally:
                os._exit(code)
        os.close(cmd_r)
        os.close(rep_w)
        self._buf = b""

    def read(self, timeout_s: float = 60.0) -> dict | None:
        """The next reply, or None when the worker died (or said nothing in ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._out], [], [], left)[0]:
                return None
            chunk = os.read(self._out, 65536)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self) -> int:
        """Wait for the worker; its exit status (negative: killed by that signal)."""
        for fd in (self._cmd, self._out):
            try:
                os.close(fd)
            except OSError:
                pass
        _, status = os.waitpid(self.pid, 0)
        return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _serve(engine, db: Path, tracker: Path, hook: str | None, cmd_r: int, rep_w: int) -> None:
    from attacks import tracker_store
    from connectors.sql import SqlBackend
    from engine.flows.specs import FLOWS
    from tests.adversarial.conftest import assemble

    backend = SqlBackend(f"sqlite:///{db}")
    if hook is not None:  # SIGKILL at an exact point of the write
        for spec in FLOWS.values():
            original = getattr(backend, spec.method)

            def wrapped(*args, _original=original, **kwargs):
                if hook == "hook:before_write":
                    os.kill(os.getpid(), signal.SIGKILL)
                result = _original(*args, **kwargs)
                os.kill(os.getpid(), signal.SIGKILL)  # after the order system committed, before the tracker
                return result

            setattr(backend, spec.method, wrapped)
    eng = assemble(engine, orders=backend, store=tracker_store(tracker, engine))
    with os.fdopen(cmd_r, "rb") as commands:
        for line in commands:
            ask = json.loads(line)
            if ask.get("state"):
                state = eng.state(ask["session"], customer_id=ask["customer"])
                out = {"active_flow": state.active_flow, "flow_step": state.slots.get("flow_step")}
            else:
                reply = eng.respond(ask.get("session", "s"), ask["text"], customer_id=ask["customer"])
                out = {"text": reply.text, "route": reply.route, "decided_by": reply.trace.get("decided_by"),
                       "turn_recorded": reply.trace.get("turn_recorded", True)}
            os.write(rep_w, (json.dumps(out, ensure_ascii=False) + "\n").encode())


class _Conversation:
    """One session through successive workers."""

    def __init__(self, session: str, customer: str) -> None:
        self.session, self.customer = session, customer

    def say(self, worker: _Worker, text: str) -> dict | None:
        os.write(worker._cmd, (json.dumps({"session": self.session, "customer": self.customer, "text": text},
                                          ensure_ascii=False) + "\n").encode())
        return worker.read()

    def state(self, worker: _Worker) -> dict | None:
        os.write(worker._cmd, (json.dumps({"state": True, "session": self.session, "customer": self.customer})
                               + "\n").encode())
        return worker.read()


def _writes(db: Path, order_id: str) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        audit = conn.execute("SELECT COUNT(*) FROM audit WHERE target = ?", (order_id,)).fetchone()[0]
        idem = conn.execute("SELECT COUNT(*) FROM idempotency WHERE result LIKE ?", (f'%"{order_id}"%',)).fetchone()[0]
    return audit, idem


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def run_kills(engine, shop, pristine: Path, workdir: Path, n: int, *, seed: int = 5,
              progress: bool = True) -> dict[str, Any]:
    """``n`` faults; see the module docstring for what is counted."""
    rng = random.Random(seed)
    workdir.mkdir(parents=True, exist_ok=True)
    tracker = workdir / "kill-tracker.db"
    able = [(c, o) for c in shop.customers for o in shop.orders_of(c, "processing")]
    yes_ms = _calibrate(engine, shop, pristine, workdir, able[0])
    counts: Counter = Counter()
    examples: dict[str, list] = {k: [] for k in ("lost", "duplicated", "misreported", "hung")}
    when: Counter = Counter()

    def fail(kind: str, detail: dict) -> None:
        counts[kind] += 1
        if len(examples[kind]) < 8:
            examples[kind].append(detail)

    for i in range(n):
        customer, order = able[i % len(able)]
        lang, mode = ("en", "zh")[i % 2], MODES[i % len(MODES)]
        flow = "cancel" if rng.random() < 0.5 else "address"
        say = _SAY[lang]
        db = workdir / f"kill-{i}.db"
        shutil.copy(pristine, db)
        conv = _Conversation(f"kill-{i}-{uuid.uuid4().hex[:6]}", customer)
        detail: dict[str, Any] = {"fault": i, "mode": mode, "flow": flow, "lang": lang, "order": order}
        first = _Worker(engine, db, tracker, hook=mode if mode.startswith("hook") else None)
        asked = conv.say(first, say[flow].format(o=order))
        if flow == "address":
            asked = conv.say(first, f"{rng.randrange(10, 990)} Harbour Road, Apt {i + 1}, Portland, OR 97201")
        if asked is None or "(yes / no)" not in asked["text"] and "（是/否）" not in asked["text"]:
            first.kill()
            first.close()
            counts["not_at_confirmation"] += 1
            detail["reply"] = asked
            examples.setdefault("not_at_confirmation", []).append(detail) if counts["not_at_confirmation"] <= 3 else None
            db.unlink()
            continue
        delay = rng.uniform(0, 1.5 * yes_ms) / 1000 if mode == "timer" else None
        conv_line = json.dumps({"session": conv.session, "customer": customer, "text": say["yes"]}) + "\n"
        os.write(first._cmd, conv_line.encode())
        if delay is not None:
            time.sleep(delay)
            first.kill()
        seen = first.read(timeout_s=0.05 if delay is not None else 60.0)  # what reached the customer, if anything
        first.kill()
        status = first.close()
        counts["killed"] += status == -signal.SIGKILL
        audit, idem = _writes(db, order)
        when["written_before_restart" if audit else "not_written_before_restart"] += 1
        if seen is not None:
            when["reply_seen_before_kill"] += 1
        detail.update(delay_ms=None if delay is None else round(delay * 1000, 1), seen=seen and seen["text"],
                      written=audit)
        if _integrity(tracker) != "ok" or _integrity(db) != "ok":
            counts["corrupt_database"] += 1
        # a fresh process continues the conversation
        second = _Worker(engine, db, tracker)
        before = conv.state(second)
        follow = rng.choice(["check", "yes", "no"])
        reply = conv.say(second, say[follow])
        detail.update(state_after_kill=before, follow=say[follow], reply=reply and reply["text"])
        recorded = bool(before) and before.get("active_flow") is None
        when[f"{'written' if audit else 'not_written'}_{'recorded' if recorded else 'not_recorded'}"] += 1
        if reply is None:
            fail("hung", detail)
            second.kill()
            second.close()
            continue
        if audit:
            told_not_done = any(k in reply["text"] for k in say["kept"]) or "(yes / no)" in reply["text"] \
                or "（是/否）" in reply["text"]
            if told_not_done:
                fail("misreported", detail)
            again = conv.say(second, say["yes"])  # a further yes writes nothing more
            detail["again"] = again and again["text"]
        else:
            if seen is not None and any(k in seen["text"] for k in say["done"]):
                fail("lost", {**detail, "why": "told done, nothing written"})
            if follow == "no":
                conv.say(second, say[flow].format(o=order))
                if flow == "address":
                    conv.say(second, f"{rng.randrange(10, 990)} Harbour Road, Apt {i + 1}, Portland, OR 97201")
            if follow != "yes":
                reply = conv.say(second, say["yes"])
                detail["final"] = reply and reply["text"]
        audit, idem = _writes(db, order)
        detail["writes_at_end"] = [audit, idem]
        if audit == 0:
            fail("lost", {**detail, "why": "a clear yes, no write"})
        if audit > 1 or idem > 1:
            fail("duplicated", detail)
        second.close()  # its input ends: it exits
        counts["faults"] += 1
        db.unlink()
        if progress and (i + 1) % 10 == 0:
            print(f"  kills: {i + 1}, lost {counts['lost']}, duplicated {counts['duplicated']}, "
                  f"misreported {counts['misreported']}, {dict(when)}", flush=True)
    return {"faults": counts["faults"], "killed_by_sigkill": counts["killed"], "yes_turn_ms": round(yes_ms, 1),
            "modes": dict(Counter(MODES[i % len(MODES)] for i in range(n))), "timing": dict(when),
            "lost": counts["lost"], "duplicated": counts["duplicated"], "misreported": counts["misreported"],
            "hung": counts["hung"], "corrupt_database": counts["corrupt_database"],
            "not_at_confirmation": counts["not_at_confirmation"], "examples": examples}


def _calibrate(engine, shop, pristine: Path, workdir: Path, pick: tuple[str, str]) -> float:
    """Median ms of a confirmed cancellation turn in this process (the timer's range)."""
    from attacks import tracker_store
    from connectors.sql import SqlBackend
    from tests.adversarial.conftest import assemble

    times = []
    for k in range(5):
        db = workdir / f"calibrate-{k}.db"
        shutil.copy(pristine, db)
        backend = SqlBackend(f"sqlite:///{db}")
        eng = assemble(engine, orders=backend, store=tracker_store(workdir / "calibrate-tracker.db", engine))
        session = f"cal-{uuid.uuid4().hex[:6]}"
        eng.respond(session, _SAY["en"]["cancel"].format(o=pick[1]), customer_id=pick[0])
        t = time.perf_counter()
        eng.respond(session, "yes", customer_id=pick[0])
        times.append((time.perf_counter() - t) * 1000)
        backend.close()
        db.unlink()
    return sorted(times)[len(times) // 2]
