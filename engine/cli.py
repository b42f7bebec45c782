"""The ``shopassist`` command: chat REPL, demo store build.

``shopassist chat`` is a rich REPL on a terminal; when stdin is not a terminal it reads one user
turn per line and prints one reply per line (``--debug`` then prints one JSON object per line).

Example:
    $ echo "where is my order 100023?" | shopassist chat --customer C001
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import uuid
from collections.abc import Sequence

__all__ = ["main"]

_HELP = (
    "Commands: /reset (new conversation), /good, /bad, /correct <intent> (feedback on the last "
    "reply), /debug (toggle details), /quit"
)


def _setup_logging(level: str) -> None:
    from engine.privacy import PiiMaskingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(PiiMaskingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _load_engine(args: argparse.Namespace):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from engine.settings import load_settings

    settings = load_settings(args.config)
    _setup_logging(settings.log_level)
    from engine.builder import build_engine

    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status("Loading the shopassist engine..."):
            engine = build_engine(settings, progress=True)
            engine.warm_up()
    else:
        engine = build_engine(settings, progress=False)
        engine.warm_up()
    return engine


def _command(engine, session: str, line: str, state: dict) -> str | None:
    """Handle a /command; returns the text to show, or None when ``line`` is not a command."""
    if not line.startswith("/"):
        return None
    cmd, _, arg = line[1:].partition(" ")
    cmd = cmd.lower()
    if cmd in ("quit", "exit"):
        raise EOFError
    if cmd == "help":
        return _HELP
    if cmd == "reset":
        engine.reset(session)
        return "(conversation reset)"
    if cmd == "debug":
        state["debug"] = not state["debug"]
        return f"(debug {'on' if state['debug'] else 'off'})"
    try:
        if cmd == "good":
            engine.feedback(session, rating=1)
        elif cmd == "bad":
            engine.feedback(session, rating=-1)
        elif cmd == "correct" and arg.strip():
            engine.feedback(session, rating=-1, correction=arg.strip())
        else:
            return f"(unknown command {line.split()[0]!r}) {_HELP}"
    except Exception as exc:  # a feedback failure must not end the chat
        return f"(feedback not saved: {exc})"
    return "(feedback saved, thank you)"


def _chat_tty(engine, session: str, customer: str | None, debug: bool) -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    state = {"debug": debug}
    who = f"customer {customer}" if customer else "a guest (use --customer C001 to see orders)"
    console.print(f"[bold]shopassist[/bold] demo chat as {who}. {_HELP}")
    while True:
        try:
            line = console.input("[bold cyan]you>[/bold cyan] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            return 0
        try:
            shown = _command(engine, session, line.strip(), state)
        except EOFError:
            return 0
        if shown is not None:
            console.print(f"[dim]{shown}[/dim]")
            continue
        reply = engine.respond(session, line, customer_id=customer)
        console.print("[bold green]bot>[/bold green] ", end="")
        console.print(reply.text, markup=False, highlight=False)
        if state["debug"]:
            table = Table(show_header=False, box=None, padding=(0, 1))
            table.add_row("intent", f"{reply.intent} ({reply.confidence:.2f})")
            table.add_row("route", reply.route + (" [hand-off]" if reply.handoff else ""))
            table.add_row("sentiment", reply.sentiment)
            table.add_row("sources", ", ".join(f"{s.kind}:{s.id} {s.score:.2f}" for s in reply.sources) or "-")
            table.add_row("slots", json.dumps(reply.slots, ensure_ascii=False))
            timings = {k: v for k, v in reply.trace.items() if k.endswith("_ms")}
            table.add_row("timings", ", ".join(f"{k[:-3]} {v:.1f}ms" for k, v in timings.items()))
            table.add_row("decided by", str(reply.trace.get("decided_by", "")))
            console.print(table, style="dim")


def _chat_piped(engine, session: str, customer: str | None, debug: bool) -> int:
    out = sys.stdout
    state = {"debug": debug}
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        try:
            shown = _command(engine, session, line.strip(), state)
        except EOFError:
            break
        if shown is not None:
            out.write(shown + "\n")
        else:
            reply = engine.respond(session, line, customer_id=customer)
            if state["debug"]:
                out.write(json.dumps(reply.to_dict(), ensure_ascii=False, default=str) + "\n")
            else:
                out.write(" ".join(reply.text.split()) + "\n")
        out.flush()
    return 0


def _cmd_chat(args: argparse.Namespace) -> int:
    engine = _load_engine(args)
    session = args.session or f"cli-{uuid.uuid4().hex[:12]}"
    if sys.stdin.isatty():
        return _chat_tty(engine, session, args.customer, args.debug)
    return _chat_piped(engine, session, args.customer, args.debug)


def _cmd_demo_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.settings import load_settings
    from knowledge.demo import build_demo_store

    settings = load_settings(args.config)
    root = Path(args.root) if args.root else (settings.store.root or settings.resolved_data_dir / "demo-store")
    store = build_demo_store(Path(root), seed=settings.store.seed, progress=True)
    print(f"demo store built in {store.root} (for {store.built_on}, seed {store.seed})")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shopassist", description="E-commerce customer-service dialogue engine")
    sub = p.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="chat with the engine (REPL on a terminal, one reply per line when piped)")
    chat.add_argument("--config", help="YAML config (default: configs/default.yaml or $SHOPASSIST_CONFIG)")
    chat.add_argument("--customer", help="act as this signed-in customer, e.g. C001")
    chat.add_argument("--session", help="conversation id (default: a new one)")
    chat.add_argument("--debug", action="store_true", help="show intent, confidence, route, sources, timings")
    chat.set_defaults(func=_cmd_chat)

    demo = sub.add_parser("demo", help="the embedded demo store")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True)
    build = demo_sub.add_parser("build", help="(re)build the demo store")
    build.add_argument("--config")
    build.add_argument("--root", help="folder to build into (default: from the config)")
    build.set_defaults(func=_cmd_demo_build)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from engine.errors import ConfigError, ShopAssistError

    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"shopassist: {exc}", file=sys.stderr)
        return 2
    except ShopAssistError as exc:
        print(f"shopassist: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
