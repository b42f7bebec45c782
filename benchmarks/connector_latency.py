"""Latency per connector call per backend: SQL on SQLite, SQL on PostgreSQL, REST over loopback.

Usage: python benchmarks/connector_latency.py [--n 200] [--postgres-url URL] [--data-dir DIR]

Each backend runs over a fresh copy of the demo store (PostgreSQL: the rows copied into the
database at ``--postgres-url`` or ``$SHOPASSIST_TEST_POSTGRES_URL``, whose tables are dropped and
recreated; skipped when neither is set). REST is the demo service (uvicorn in a thread on
127.0.0.1) over SQLite, called through :class:`connectors.rest.RestBackend`. Writes: every
``change_address`` is a new key (a full write: claim, update, audit); ``cancel_order_replay``
repeats one key (the idempotent replay path). Prints p50/p95 and writes results/connectors.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import summary_ms, write  # noqa: E402

TOKEN = "benchmark-token-0001"


def _calls(svc):
    from connectors.auth import Actor

    alice, bob = Actor.customer("C001"), Actor.customer("C002")
    svc.cancel_order(bob, "100031", idempotency_key="bench-cancel-0001")
    counter = iter(range(10**9))
    return {
        "get_order": lambda: svc.get_order(alice, "100023"),
        "get_order_foreign": lambda: _swallow(lambda: svc.get_order(bob, "100023")),
        "list_orders": lambda: svc.list_orders(alice, limit=5),
        "track_shipment": lambda: svc.track_shipment(alice, "100023"),
        "check_return": lambda: svc.check_return(alice, "100024"),
        "get_refund": lambda: svc.get_refund(alice, "100024"),
        "get_stock": lambda: svc.get_stock(alice, "P1001"),
        "get_customer": lambda: svc.get_customer(alice),
        "change_address": lambda: svc.change_address(alice, f"{next(counter)} Main Street, Seattle, WA 98101",
                                                     idempotency_key=f"bench-addr-{time.time_ns()}"),
        "cancel_order_replay": lambda: svc.cancel_order(bob, "100031", idempotency_key="bench-cancel-0001"),
    }


def _swallow(fn):
    from connectors.base import OrderNotFound

    try:
        fn()
    except OrderNotFound:
        pass


def _measure(svc, n: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, call in _calls(svc).items():
        for _ in range(min(10, n)):  # warm-up: connections, caches
            call()
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            call()
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = summary_ms(times)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200, help="timed calls per call type")
    ap.add_argument("--postgres-url", default=os.environ.get("SHOPASSIST_TEST_POSTGRES_URL"))
    ap.add_argument("--data-dir", type=Path, default=None, help="demo store folder (default: a temporary one)")
    args = ap.parse_args()

    from sqlalchemy import create_engine

    from connectors import schema
    from connectors.demo_service import ServerThread, create_app
    from connectors.rest import RestBackend
    from connectors.sql import SqlBackend
    from knowledge.demo import ensure_demo_store

    work = Path(tempfile.mkdtemp(prefix="shopassist-bench-"))
    store = ensure_demo_store(args.data_dir or work / "demo-store")

    def fresh_sqlite(name: str) -> str:
        shutil.copy(store.db_path, work / name)
        return f"sqlite:///{work / name}"

    results: dict[str, dict] = {}
    results["sqlite"] = _measure(SqlBackend(fresh_sqlite("sqlite.db")), args.n)
    if args.postgres_url:
        pg = create_engine(args.postgres_url)
        schema.metadata.drop_all(pg)
        schema.create_or_migrate(pg)
        schema.copy_rows(create_engine(store.db_url), pg)
        results["postgres"] = _measure(SqlBackend(args.postgres_url), args.n)
    else:
        print("postgres: skipped (no --postgres-url / SHOPASSIST_TEST_POSTGRES_URL)")
    with ServerThread(create_app(SqlBackend(fresh_sqlite("rest.db")), api_token=TOKEN)) as server:
        with RestBackend(server.url, TOKEN) as rest:
            results["rest"] = _measure(rest, args.n)
    shutil.rmtree(work, ignore_errors=True)

    print(f"{'call':<22}" + "".join(f"{b + ' p50/p95 ms':>26}" for b in results))
    for call in next(iter(results.values())):
        print(f"{call:<22}" + "".join(f"{r[call]['p50_ms']:>15.2f} /{r[call]['p95_ms']:>8.2f}" for r in results.values()))
    write("connectors", {"n": args.n, "backends": results,
                         "notes": "REST = demo service (FastAPI+uvicorn, one worker thread pool) over SQLite, "
                                  "loopback; PostgreSQL 15 local, fsync off"})


if __name__ == "__main__":
    main()
