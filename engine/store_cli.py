"""``shopassist store init | check | build | import``: a shop's own store kit (docs/store-kit.md).

- ``init DIR`` writes the small bilingual starter kit a shop edits into its own;
- ``check DIR`` prints every problem as ``file:row: field: message`` (warnings marked) and exits 1
  when any is an error, 0 with warnings only;
- ``build [--config F]`` reads the kit of ``store.root`` (``store.kind: kit``), loads its trial
  customers and orders into the SQL order database (refusing one that holds customers' writes
  unless ``--force``), saves the checked kit and what its catalog teaches (vocabulary, linking
  tables; :mod:`knowledge.kit.built`), then builds the FAQ indexes and the intent model with a
  progress bar, so the next engine start is quick;
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


def _cmd_build(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from engine.settings import load_settings
    from engine.store import kit_db_url
    from knowledge.kit import KitInvalid, read_kit
    from knowledge.kit.trial import TrialDataHasWrites, load_trial_data

    overrides = {"store": {"kind": "kit", "root": args.root}} if args.root else {}
    settings = load_settings(args.config, **overrides)
    if settings.store.kind != "kit":
        print("shopassist: store build needs a store kit: set store.kind: kit and store.root: DIR in the config "
              "(or pass --root DIR); the demo store is built by `shopassist demo build`", file=sys.stderr)
        return 2
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
    from engine.builder import build_engine
    from engine.store import save_built

    # the kit as checked, its catalog's vocabulary and linking tables: what every start would
    # otherwise work out again (the engine built below reads them back, which checks them)
    products, entries, name, languages = len(kit.catalog), len(kit.faqs), kit.profile.name, kit.profile.languages
    built = save_built(settings, kit)
    del kit  # its catalog is read back from the build: one copy in memory, not two
    bar, report = _rich_progress()
    with bar:
        report("intent model", 0, 1)
        engine = build_engine(settings, progress=True, index_progress=report)
        report("intent model", 1, 1)
        engine.warm_up()  # builds (or verifies) the FAQ indexes and the product links
    print(f"store kit {root} built: {products} products, {entries} FAQ entries ({name}, {', '.join(languages)})"
          + ("" if built else "; its data is read from the kit's files at each start"))
    return 0


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
    build.set_defaults(func=_cmd_build)

    imp = store_sub.add_parser("import", help="catalog.csv rows from a Shopify CSV or a Merchant Center feed")
    imp.add_argument("format", choices=("shopify", "merchant"))
    imp.add_argument("file")
    imp.add_argument("--into", required=True, help="the kit's folder (its store.yaml gives the currency)")
    imp.set_defaults(func=_cmd_import)
