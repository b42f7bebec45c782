"""The operator dashboard at ``/agent/dashboard`` (agents only): turns, containment, hand-off rate
and reasons, negative feedback, the intents and FAQs that fail most, reply latency; charts are
inline SVG bars, every label escaped.

Numbers come from two places: the board's counters (turns, routes, hand-offs and their reasons,
latencies of web turns, shared by all workers) and the tracker store's feedback records (ratings
from customers and agents, turns captured for review), the same records ``learn review`` reads.
Containment is the share of customer turns the bot answered without a person: turns neither
handed off nor answered by an agent.

Example:
    >>> summarize({"turns": 10, "handoffs": 2}, [], [120.0, 80.0])["containment"]
    0.8
"""

import asyncio
import html
import json
from collections import Counter
from typing import Any

from engine.web.auth import AGENT_COOKIE, Unauthorized

__all__ = ["add_dashboard", "summarize", "render"]

_TOP = 8


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _sources(record: dict[str, Any]) -> list[str]:
    try:
        ids = json.loads(record.get("sources") or "[]")
    except (TypeError, ValueError):
        return []
    return [str(i) for i in ids] if isinstance(ids, list) else []


def summarize(counters: dict[str, int], feedback: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
    """The dashboard's figures from the board's counters, feedback records and latencies (ms)."""
    turns = counters.get("turns", 0)
    handoffs = counters.get("handoffs", 0)
    to_agent = counters.get("to_agent", 0)
    negative = [r for r in feedback if (r.get("rating") or 0) < 0]
    failing = Counter(r.get("intent") or "unknown" for r in feedback
                      if (r.get("rating") or 0) < 0 or "handoff" in (r.get("reason") or ""))
    faqs = Counter(s for r in negative for s in _sources(r) if r.get("route") == "retrieval")
    return {
        "turns": turns,
        "handoffs": handoffs,
        "handoff_rate": round(handoffs / turns, 3) if turns else 0.0,
        "containment": round((turns - handoffs - to_agent) / turns, 3) if turns else 1.0,
        "agent_turns": to_agent,
        "reasons": Counter({k[len("reason:"):]: v for k, v in counters.items() if k.startswith("reason:")}).most_common(_TOP),
        "routes": sorted((k[len("route:"):], v) for k, v in counters.items() if k.startswith("route:")),
        "negative_feedback": len(negative),
        "agent_ratings": {"good": counters.get("agent_good", 0), "bad": counters.get("agent_bad", 0)},
        "failing_intents": failing.most_common(_TOP),
        "failing_faqs": faqs.most_common(_TOP),
        "latency_ms": {"p50": _percentile(latencies, 0.50), "p95": _percentile(latencies, 0.95),
                       "max": _percentile(latencies, 1.0), "n": len(latencies)},
        "latency_histogram": _histogram(latencies),
    }


def _histogram(latencies: list[float]) -> list[tuple[str, int]]:
    edges = (50, 100, 200, 400, 800, 1600)
    counts = Counter()
    for ms in latencies:
        label = next((f"<{e} ms" for e in edges if ms < e), f"≥{edges[-1]} ms")
        counts[label] += 1
    return [(label, counts.get(label, 0)) for label in [f"<{e} ms" for e in edges] + [f"≥{edges[-1]} ms"]]


def _bars(title: str, rows: list[tuple[str, int]]) -> str:
    """A horizontal bar chart as inline SVG (labels escaped)."""
    esc = html.escape
    if not rows:
        return f'<section class="chart"><h2>{esc(title)}</h2><p class="empty">none yet</p></section>'
    top = max(v for _, v in rows) or 1
    height = 24 * len(rows) + 8
    bars = []
    for i, (label, value) in enumerate(rows):
        y = 4 + 24 * i
        width = round(300 * value / top)
        bars.append(f'<text x="0" y="{y + 15}">{esc(str(label)[:40])}</text>'
                    f'<rect x="260" y="{y + 2}" width="{width}" height="16" rx="2"></rect>'
                    f'<text x="{266 + width}" y="{y + 15}">{value}</text>')
    return (f'<section class="chart"><h2>{esc(title)}</h2><svg role="img" aria-label="{esc(title)}" '
            f'viewBox="0 0 620 {height}" width="620" height="{height}">{"".join(bars)}</svg></section>')


def render(summary: dict[str, Any], agent: str) -> str:
    """The dashboard page."""
    esc = html.escape
    lat = summary["latency_ms"]
    tiles = [("Turns", summary["turns"]), ("Containment", f"{summary['containment']:.0%}"),
             ("Hand-off rate", f"{summary['handoff_rate']:.1%}"), ("Negative feedback", summary["negative_feedback"]),
             ("Latency p50", f"{lat['p50']} ms" if lat["p50"] is not None else "-"),
             ("Latency p95", f"{lat['p95']} ms" if lat["p95"] is not None else "-")]
    tile_html = "".join(f'<div class="tile"><span class="label">{esc(k)}</span><span class="value">{esc(str(v))}</span></div>'
                        for k, v in tiles)
    charts = "".join([
        _bars("Hand-off reasons", summary["reasons"]),
        _bars("Intents that fail most (negative feedback or hand-off)", summary["failing_intents"]),
        _bars("FAQs with negative feedback", summary["failing_faqs"]),
        _bars("Routes", summary["routes"]),
        _bars("Reply latency", summary["latency_histogram"]),
    ])
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>shopassist dashboard</title>"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<link rel=\"stylesheet\" href=\"/static/agent.css\"></head><body class=\"dashboard\">"
            f"<header><h1>Dashboard</h1><p>Signed in as {esc(agent)} · <a href=\"/agent\">console</a></p></header>"
            f"<main><div class=\"tiles\">{tile_html}</div>{charts}</main></body></html>")


def add_dashboard(app: Any, state: Any) -> None:
    """Add ``/agent/dashboard`` (HTML) and ``/agent/api/dashboard`` (JSON) to ``app``."""
    from fastapi import Request
    from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

    from engine.web.app import _page_headers
    from engine.web.wire import error_body

    async def figures() -> dict[str, Any]:
        channel = state.ready()
        feedback = await asyncio.to_thread(channel.engine.store.feedback)
        return summarize(await channel.board.counters(), feedback, await channel.board.latencies())

    @app.get("/agent/dashboard")
    async def dashboard(request: Request) -> Any:
        try:
            agent = state.auth.agent(request.cookies.get(AGENT_COOKIE))
        except Unauthorized:
            return RedirectResponse("/agent", status_code=303)
        return HTMLResponse(render(await figures(), agent), headers=_page_headers())

    @app.get("/agent/api/dashboard")
    async def dashboard_json(request: Request) -> Any:
        try:
            state.auth.agent(request.cookies.get(AGENT_COOKIE))
        except Unauthorized as exc:
            return JSONResponse(error_body("unauthorized", str(exc)), status_code=401)
        return await figures()
