"""The ``shopassist`` command: chat REPL, demo store build, store kits (:mod:`engine.store_cli`).

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
    "Commands: /reset (new conversation), /good, /bad, /correct <intent>, /handoff (feedback on the "
    "last reply; /handoff: it should have gone to a person), /debug (toggle details), /quit"
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
    who = state.get("customer")
    if cmd == "reset":
        engine.reset(session, customer_id=who)
        return "(conversation reset)"
    if cmd == "debug":
        state["debug"] = not state["debug"]
        return f"(debug {'on' if state['debug'] else 'off'})"
    try:
        if cmd == "good":
            engine.feedback(session, rating=1, customer_id=who)
        elif cmd == "bad":
            engine.feedback(session, rating=-1, customer_id=who)
        elif cmd == "correct" and arg.strip():
            engine.feedback(session, rating=-1, correction=arg.strip(), customer_id=who)
        elif cmd == "handoff":
            engine.feedback(session, handoff=True, comment=arg.strip() or None, customer_id=who)
        else:
            return f"(unknown command {line.split()[0]!r}) {_HELP}"
    except Exception as exc:  # a feedback failure must not end the chat
        return f"(feedback not saved: {exc})"
    return "(feedback saved, thank you)"


def _respond_streaming(engine, session: str, line: str, customer: str | None, console) -> tuple:
    """``engine.respond``, printing an LLM answer sentence by sentence as it is generated and
    checked (``generation.stream``); returns the reply and the text already printed."""
    gen = engine.settings.generation
    if gen.backend == "extractive" or not gen.stream:  # stream: the LLM backends' field
        return engine.respond(session, line, customer_id=customer), ""
    from engine.generation.llm import stream_to

    shown: list[str] = []

    def sink(chunk: str) -> None:
        shown.append(chunk)
        console.print(chunk, end="", markup=False, highlight=False)

    with stream_to(sink):
        reply = engine.respond(session, line, customer_id=customer)
    return reply, "".join(shown)


def _chat_tty(engine, session: str, customer: str | None, debug: bool) -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    state = {"debug": debug, "customer": customer}
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
        console.print("[bold green]bot>[/bold green] ", end="")
        reply, shown = _respond_streaming(engine, session, line, customer, console)
        rest = reply.text[len(shown):] if reply.text.startswith(shown) else "\n" + reply.text
        console.print(rest, markup=False, highlight=False)
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
            gen = reply.trace.get("generation")
            if gen:
                table.add_row("generated by", gen["backend"] + (f" (refused: {'; '.join(gen['refused'])})"
                                                                if gen.get("refused") else ""))
            console.print(table, style="dim")


def _chat_piped(engine, session: str, customer: str | None, debug: bool) -> int:
    out = sys.stdout
    state = {"debug": debug, "customer": customer}
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


def _cmd_test_stories(args: argparse.Namespace) -> int:
    from engine.stories import load_stories, run_stories

    stories = [s for f in args.files for s in load_stories(f)]  # parse all before loading models
    engine = _load_engine(args)
    results = run_stories(engine, stories)
    for r in results:
        print(f"{'PASS' if r.passed else 'FAIL'}  {r.story.name}")
        for problem in r.failures:
            print(f"      {problem}")
    passed = sum(r.passed for r in results)
    print(f"{passed}/{len(results)} stories passed")
    return 0 if passed == len(results) else 1


def _cmd_demo_build(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.settings import load_settings
    from knowledge.demo import StoreHasWrites, build_demo_store

    settings = load_settings(args.config)
    root = Path(args.root) if args.root else (settings.store.root or settings.resolved_data_dir / "demo-store")
    try:
        store = build_demo_store(Path(root), seed=settings.store.seed, progress=True, force=args.force)
    except StoreHasWrites as exc:  # the orders customers wrote are kept until asked with --force
        print(f"shopassist: {exc}", file=sys.stderr)
        return 2
    if store.backup is not None:
        print(f"the previous order database was kept as {store.backup}")
    print(f"demo store built in {store.root} (for {store.built_on}, seed {store.seed})")
    return 0


def _cmd_demo_serve(args: argparse.Namespace) -> int:
    from engine.services import run_demo_service
    from engine.settings import load_settings

    settings = load_settings(args.config)
    _setup_logging(settings.log_level)
    run_demo_service(settings, host=args.host, port=args.port, token=os.environ.get("SHOPASSIST_DEMO_TOKEN"))
    return 0


def _cmd_actions(args: argparse.Namespace) -> int:
    """The Rasa custom action server (rasa-sdk) over the engine; each worker builds one engine.
    Request bodies are limited (``http`` settings) before any handler reads or inflates them."""
    from engine.action_server import ActionServerError, run_action_server
    from engine.http_limits import BodyLimit
    from engine.settings import load_settings

    if args.config:
        os.environ["SHOPASSIST_CONFIG"] = args.config  # read by the workers, which build the engine
    settings = load_settings()  # an invalid configuration stops start-up here, naming the field
    token = settings.actions.token.get_secret_value() if settings.actions.token else None
    try:
        run_action_server(args.port, limit=BodyLimit.from_settings(settings.http), host=args.host, token=token)
    except ActionServerError as exc:
        print(f"shopassist actions: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    """The web channel (chat widget, HTTP/WebSocket API, agent console): DESIGN §3c."""
    from engine.settings import load_settings
    from engine.web.server import ServeError, serve

    if args.config:
        os.environ["SHOPASSIST_CONFIG"] = args.config
    settings = load_settings(args.config)  # an invalid configuration stops start-up here, naming the field
    _setup_logging(settings.log_level)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        serve(settings, host=args.host, port=args.port)
    except ServeError as exc:
        print(f"shopassist serve: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    """A signed customer token for the web channel, printed as the last line."""
    from engine.settings import load_settings
    from engine.web.tokens import TokenSigner, load_secret

    settings = load_settings(args.config)
    secret = settings.web.secret.get_secret_value() if settings.web.secret else None
    ttl = args.ttl if args.ttl is not None else settings.web.token_ttl_s
    if ttl <= 0:
        print("shopassist token: --ttl must be > 0", file=sys.stderr)
        return 2
    signer = TokenSigner(load_secret(secret, settings.resolved_data_dir))
    print(signer.issue(args.customer, ttl_s=ttl))
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

    test = sub.add_parser("test", help="conversation tests")
    test_sub = test.add_subparsers(dest="test_command", required=True)
    stories = test_sub.add_parser("stories", help="run YAML stories against the engine")
    stories.add_argument("files", nargs="+", help="story files (YAML)")
    stories.add_argument("--config")
    stories.set_defaults(func=_cmd_test_stories)

    demo = sub.add_parser("demo", help="the embedded demo store")
    demo_sub = demo.add_subparsers(dest="demo_command", required=True)
    build = demo_sub.add_parser("build", help="(re)build the demo store")
    build.add_argument("--config")
    build.add_argument("--root", help="folder to build into (default: from the config)")
    build.add_argument("--force", action="store_true",
                       help="replace an order database that holds customers' writes (a backup copy is kept first)")
    build.set_defaults(func=_cmd_demo_build)
    serve = demo_sub.add_parser("serve", help="run the demo order service (HTTP, OpenAPI at /openapi.json)")
    serve.add_argument("--config")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8766)
    serve.set_defaults(func=_cmd_demo_serve)

    actions = sub.add_parser("actions", help="run the Rasa custom action server (rasa-sdk) over the engine")
    actions.add_argument("--config", help="YAML config (default: configs/default.yaml or $SHOPASSIST_CONFIG)")
    actions.add_argument("--port", type=int, default=5055)
    actions.add_argument("--host", default="127.0.0.1",
                         help="address to listen on (default: loopback only; beyond it needs SHOPASSIST_ACTIONS__TOKEN)")
    actions.set_defaults(func=_cmd_actions)

    web = sub.add_parser("serve", help="run the web channel: chat widget, HTTP/WebSocket API, agent console")
    web.add_argument("--config", help="YAML config (default: configs/default.yaml or $SHOPASSIST_CONFIG)")
    web.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default: loopback only; beyond it needs SHOPASSIST_WEB__SECRET)")
    web.add_argument("--port", type=int, default=8000)
    web.set_defaults(func=_cmd_serve)

    token = sub.add_parser("token", help="print a signed web-channel token for a customer (the last line)")
    token.add_argument("--customer", required=True, help="the customer id the token names, e.g. C001")
    token.add_argument("--ttl", type=int, help="seconds the token is valid (default: web.token_ttl_s)")
    token.add_argument("--config")
    token.set_defaults(func=_cmd_token)

    from engine.learn.cli import register as register_learn
    from engine.nlu.cli import register as register_nlu
    from engine.knowledge_cli import register as register_knowledge
    from engine.store_cli import register as register_store

    register_knowledge(sub)  # shopassist knowledge build | eval
    register_store(sub)  # shopassist store init | check | build | import
    register_nlu(sub)  # shopassist nlu train | eval
    register_learn(sub)  # shopassist learn review | label | retrain | rollback | versions
    from engine.handoff import register as register_handoff

    register_handoff(sub)  # shopassist handoff list | close
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
