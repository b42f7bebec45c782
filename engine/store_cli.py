"""``shopassist store init | check | build | import``: a shop's own store kit (docs/store-kit.md).

- ``init DIR`` writes the small bilingual starter kit a shop edits into its own;
- ``check DIR`` prints every problem as ``file:row: field: message`` (warnings marked) and exits 1
  when any is an error, 0 with warnings only;
- ``build [--config F]`` reads the kit of ``store.root`` (``store.kind: kit``), loads its trial
  customers and orders into the SQL order database (refusing one that holds customers' writes
  unless ``--force``), saves the checked kit and what its catalog teaches (vocabulary, linking
  tables; :mod:`knowledge.kit.built`), then trains the intent model and builds the FAQ indexes
  with a progress bar, so the next engine start is quick. The three stages (:data:`_STAGES`) run
  one after another, each in a fresh process: a build's memory peak is one stage's, not their sum;
- ``import shopify|merchant FILE --into DIR`` turns a Shopify product CSV or a Google Merchant
  Center feed into ``DIR/catalog.csv`` rows, prices checked against ``DIR/store.yaml``'s currency.

Exit codes: 0 done, 1 the kit or the file has errors, 2 a refusal (writes in the order database,
a wrong configuration).

Example:
    $ shopassist store init my-shop && shopassist store check my-shop
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

__all__ = ["register"]


def _print_problems(problems, out=None) -> tuple[int, int]:
    errors = sum(p.level == "error" for p in problems)
    for p in problems:
        print(str(p), file=out or sys.stdout)
    return errors, len(problems) - errors


def _cmd_init(args: argparse.Namespace) -> int:
    from knowledge.kit.starter import init_kit

    try:
        root = init_kit(Path(args.dir), overwrite=args.force)
    except FileExistsError as exc:
        print(f"shopassist: {exc}: the folder already holds a kit (use --force to overwrite it)", file=sys.stderr)
        return 1
    print(f"starter kit written to {root}\n  check it:  shopassist store check {root}\n"
          f"  use it:    store: {{kind: kit, root: {root}}} in your config (or SHOPASSIST_STORE__KIND=kit "
          f"SHOPASSIST_STORE__ROOT={root})")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from knowledge.kit import check_kit

    root = Path(args.dir)
    if not root.is_dir():
        print(f"shopassist: {root} is not a folder", file=sys.stderr)
        return 1
    problems = check_kit(root)
    errors, warnings = _print_problems(problems)
    if errors:
        print(f"{root}: {errors} error(s), {warnings} warning(s): the engine refuses to load this kit",
              file=sys.stderr)
        return 1
    print(f"{root}: ok" + (f" ({warnings} warning(s))" if warnings else ""), file=sys.stderr)
    return 0


def _rich_progress():
    """A rich progress bar and the ``(stage, done, total)`` callback that drives it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   transient=False, disable=not sys.stderr.isatty())
    tasks: dict[str, int] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=max(total, 1))
        bar.update(tasks[stage], completed=done, total=max(total, 1))

    return bar, report


#: ``store build`` runs these one after another, each in a process of its own, so no process holds
#: more than one stage's memory: reading a 50,000-row kit leaves its parse behind in the heap, and
#: training the intent model imports torch; neither is needed while the FAQ indexes are embedded
_STAGES = ("kit", "intents", "indexes")


def _cmd_build(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from engine.settings import load_settings

    overrides = {"store": {"kind": "kit", "root": args.root}} if args.root else {}
    settings = load_settings(args.config, **overrides)
    if settings.store.kind != "kit":
        print("shopassist: store build needs a store kit: set store.kind: kit and store.root: DIR in the config "
              "(or pass --root DIR); the demo store is built by `shopassist demo build`", file=sys.stderr)
        return 2
    if args.stage is not None:
        return {"kit": _build_kit, "intents": _build_intents, "indexes": _build_indexes}[args.stage](args, settings)
    for stage in _STAGES:
        code = _run_stage(stage, args)
        if code != 0:
            return code
    _print_built(settings)
    return 0


def _run_stage(stage: str, args: argparse.Namespace) -> int:
    """``store build --stage STAGE`` with the same arguments, in a fresh Python process."""
    import subprocess

    import engine

    argv = [sys.executable, "-m", "engine.cli", "store", "build", "--stage", stage]
    argv += [*(["--config", args.config] if args.config else []), *(["--root", args.root] if args.root else []),
             *(["--force"] if args.force else [])]
    env = dict(os.environ)
    home = str(Path(engine.__file__).resolve().parent.parent)  # where this shopassist is imported from
    env["PYTHONPATH"] = os.pathsep.join([home, *filter(None, [env.get("PYTHONPATH")])])
    if stage == "indexes" and not any(k.upper() == "SHOPASSIST_EMBEDDER__THREADS" for k in env):
        # embedding every FAQ is the long part of a build, and nothing else runs then: every core
        env["SHOPASSIST_EMBEDDER__THREADS"] = str(os.cpu_count() or 1)
    return subprocess.call(argv, env=env)


def _build_kit(args: argparse.Namespace, settings) -> int:
    """Stage 1: check the kit, load its trial data, save what starts read (:mod:`knowledge.kit.built`)."""
    from engine.store import kit_db_url, save_built
    from knowledge.kit import KitInvalid, read_kit
    from knowledge.kit.trial import TrialDataHasWrites, load_trial_data

    root = Path(settings.store.root).expanduser()
    try:
        kit = read_kit(root)
    except KitInvalid as exc:
        _print_problems(exc.problems, out=sys.stderr)
        print(f"{root}: the kit has errors; nothing was built", file=sys.stderr)
        return 1
    if kit.customers or kit.orders:
        if settings.connectors.kind != "sql":
            print(f"trial data not loaded: connectors.kind is {settings.connectors.kind} (orders come from that "
                  "service)", file=sys.stderr)
        else:
            url = kit_db_url(settings)
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            try:
                counts = load_trial_data(kit, url, today=date.today(), force=args.force)
            except TrialDataHasWrites as exc:
                print(f"shopassist: {exc}", file=sys.stderr)
                return 2
            if counts.backup is not None:
                print(f"the previous order database was kept as {counts.backup}")
            print(f"trial data loaded: {counts.customers} customers, {counts.orders} orders, "
                  f"{counts.shipments} shipments, {counts.returns} returns")
    # the kit as checked, its catalog's vocabulary and linking tables: what every start would
    # otherwise work out again (the next stages' engines read them back, which checks them)
    save_built(settings, kit)
    return 0


def _build_intents(args: argparse.Namespace, settings) -> int:
    """Stage 2: an engine's start trains (and caches) the intent model with the kit's examples."""
    from engine.builder import build_engine

    build_engine(settings)
    return 0


def _build_indexes(args: argparse.Namespace, settings) -> int:
    """Stage 3: an engine's warm-up embeds the FAQs into their indexes, with a progress bar."""
    from engine.builder import build_engine

    bar, report = _rich_progress()
    with bar:
        engine = build_engine(settings, progress=True, index_progress=report)
        engine.warm_up()  # builds (or verifies) the FAQ indexes and the product links
    return 0


def _print_built(settings) -> None:
    import json

    from engine.store import kit_work_dir
    from knowledge.kit import load_profile
    from knowledge.kit.built import FOLDER, MANIFEST, kit_fingerprint

    root = Path(settings.store.root).expanduser()
    profile = load_profile(root / "store.yaml")
    counts = "its data is read from the kit's files at each start"
    try:
        manifest = json.loads((kit_work_dir(settings) / FOLDER / MANIFEST).read_text(encoding="utf-8"))
        if manifest["kit"] == kit_fingerprint(root):
            counts = f"{manifest['products']} products, {manifest['faqs']} FAQ entries"
    except (OSError, ValueError, KeyError, TypeError):
        pass
    print(f"store kit {root} built: {counts} ({profile.name}, {', '.join(profile.languages)})")


def _cmd_import(args: argparse.Namespace) -> int:
    from knowledge.kit import KitInvalid, load_profile
    from knowledge.kit.importers import import_merchant, import_shopify, write_catalog_rows

    kit = Path(args.into)
    try:
        profile = load_profile(kit / "store.yaml")
    except KitInvalid as exc:
        _print_problems(exc.problems, out=sys.stderr)
        print(f"shopassist: {kit / 'store.yaml'} is needed for the store's currency and languages", file=sys.stderr)
        return 1
    except FileNotFoundError:
        print(f"shopassist: no {kit / 'store.yaml'}: create the kit first (shopassist store init {kit})",
              file=sys.stderr)
        return 1
    read = import_shopify if args.format == "shopify" else import_merchant
    try:
        result = read(Path(args.file), currency=profile.currency, languages=tuple(profile.languages))
    except KitInvalid as exc:
        _print_problems(exc.problems, out=sys.stderr)
        return 1
    errors, warnings = _print_problems(result.problems, out=sys.stderr)
    if not result.rows:
        print(f"shopassist: no product could be imported from {args.file}", file=sys.stderr)
        return 1
    merged = write_catalog_rows(result.rows, kit)
    print(f"{merged.path}: {merged.added} added, {merged.replaced} replaced, {merged.total} products"
          + (f"; {errors} row(s) skipped for errors" if errors else "")
          + (f", {warnings} warning(s)" if warnings else ""))
    print(f"check the kit with: shopassist store check {kit}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``shopassist store ...`` to the top-level command parser."""
    store = sub.add_parser("store", help="a shop's own store kit: init, check, build, import")
    store_sub = store.add_subparsers(dest="store_command", required=True)

    init = store_sub.add_parser("init", help="write a small, working, bilingual starter kit into DIR")
    init.add_argument("dir")
    init.add_argument("--force", action="store_true", help="overwrite the kit files already in DIR")
    init.set_defaults(func=_cmd_init)

    check = store_sub.add_parser("check", help="list every problem of the kit in DIR (exit 1 on errors)")
    check.add_argument("dir")
    check.set_defaults(func=_cmd_check)

    build = store_sub.add_parser("build", help="load the kit's trial data and build its indexes")
    build.add_argument("--config", help="YAML config (default: configs/default.yaml or $SHOPASSIST_CONFIG)")
    build.add_argument("--root", help="the kit's folder (default: store.root of the config)")
    build.add_argument("--force", action="store_true",
                       help="replace an order database that holds customers' writes (a SQLite one is backed up first)")
    build.add_argument("--stage", choices=_STAGES, help=argparse.SUPPRESS)  # one stage, in this process
    build.set_defaults(func=_cmd_build)

    imp = store_sub.add_parser("import", help="catalog.csv rows from a Shopify CSV or a Merchant Center feed")
    imp.add_argument("format", choices=("shopify", "merchant"))
    imp.add_argument("file")
    imp.add_argument("--into", required=True, help="the kit's folder (its store.yaml gives the currency)")
    imp.set_defaults(func=_cmd_import)
