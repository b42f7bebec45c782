"""``shopassist learn review | label | unlabel | retrain | promote | rollback | versions``.

Every command reads the configured tracker store (where feedback and labels live) and the model
registry (``learn.registry_dir``). All of them are scriptable; ``review --interactive`` asks for
labels one turn at a time on a terminal. Intents are checked against the intent catalog (an
unknown one is refused with the closest name). ``retrain`` exits 0 when it promoted, 3 when it
did not (rejected, nothing new, already decided), 1 on errors; ``--json -`` writes the decision
to standard output (the human summary then goes to standard error). Long steps show progress on a
terminal.

Example:
    $ shopassist learn review --limit 10
    $ shopassist learn label 42 track_order --by ana
    $ shopassist learn unlabel 42 --by ana
    $ shopassist learn retrain --json decision.json
    $ shopassist learn promote v0003 --reason "accepted: the drop is on a retired intent" --by ana
    $ shopassist learn rollback --reason "customers report wrong answers"
    $ shopassist learn versions
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from typing import Any

from engine.errors import ShopAssistError

__all__ = ["register", "LabelError", "NOT_PROMOTED"]

#: ``learn retrain``'s exit status when it registered or promoted nothing new.
NOT_PROMOTED = 3


class LabelError(ShopAssistError):
    """A label that cannot be stored as given (unknown turn or intent)."""


def _who(args: argparse.Namespace) -> str:
    if getattr(args, "by", None):
        return args.by
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "unknown"


def _settings(args: argparse.Namespace):
    from engine.settings import load_settings

    return load_settings(args.config)


def _store(settings):
    from engine.state.factory import build_tracker

    store, _ = build_tracker(settings.tracker, settings.resolved_data_dir, privacy=settings.privacy)
    return store


def _registry(settings):
    from .registry import ModelRegistry

    return ModelRegistry(settings.resolved_registry_dir)


def _known_intents(settings) -> set[str]:
    """The intent catalog's names (the store's overrides included) and every intent with examples."""
    from engine.nlu.base import OUT_OF_SCOPE
    from engine.nlu.catalog import load_intent_catalog, store_catalog_overrides
    from engine.nlu.intent import load_intent_examples

    store = settings.store
    catalog = load_intent_catalog(getattr(store, "intent_catalog_file", None),
                                  overrides=store_catalog_overrides(getattr(store, "root", None)))
    return set(catalog) | {e.label for e in load_intent_examples(settings.nlu.intents_file)} | {OUT_OF_SCOPE}


def _settings_embedder(settings, name: str):
    """The model ``name`` names in the settings' model registry (``"default"``: ``embedder.model``)."""
    from knowledge.models import ModelRegistry

    return ModelRegistry.from_settings(settings).embedder(name)


def _intent_embedder(settings):
    """The embedder the engine's intent classifier uses (as :mod:`engine.builder` picks it)."""
    return _settings_embedder(settings, settings.nlu.embedder)


def _fast_embedder(settings, intent_embedder):
    """The fast intent stage's embedder (as :mod:`engine.builder` picks it), or None: no fast stage
    configured, the same model as the full stage, or the model cannot load (the candidate is then
    served by its full head alone)."""
    from engine.errors import ModelError

    if not settings.nlu.fast_embedder:
        return None
    emb = _settings_embedder(settings, settings.nlu.fast_embedder)
    if emb.name == intent_embedder.name:
        return None
    try:
        if hasattr(emb, "warm_up"):
            emb.warm_up()
    except ModelError as exc:
        print(f"fast intent stage left out: {exc}", file=sys.stderr)
        return None
    return emb


def _fmt_item(item: Any) -> str:
    conf = "-" if item.confidence is None else f"{item.confidence:.2f}"
    extra = f" corrected to {'/'.join(item.corrections)}" if item.corrections else ""
    label = f" [labelled {item.label.intent} by {item.label.author}]" if item.label else ""
    return (f"#{item.id:<5} score {item.score:4.2f}  {item.intent or '-'} ({conf}) via {item.route or '-'}"
            f" model {item.model_version or '-'}  [{', '.join(item.reasons) or '-'}]{extra}{label}\n"
            f"       {item.text[:160]!r}")


def _store_label(store, records: list[dict], item_id: int, intent: str, author: str, known: set[str]) -> int:
    from .capture import UnknownIntent, check_intent
    from .review import group_turns, label_record

    try:
        intent = check_intent(intent, known)
    except UnknownIntent as exc:
        raise LabelError(str(exc)) from None
    item = next((i for i in group_turns(records) if item_id in i.record_ids), None)
    if item is None:
        raise LabelError(f"no reviewable turn with feedback record #{item_id}")
    return store.add_feedback(label_record(item, intent, author=author))


def _cmd_review(args: argparse.Namespace) -> int:
    from .review import rank_for_review

    settings = _settings(args)
    learn = settings.learn
    store = _store(settings)
    records = store.feedback()
    days = args.days if args.days is not None else learn.review_days
    since = time.time() - days * 86400 if days else None
    items = rank_for_review(records, limit=args.limit or learn.review_limit, since=since,
                            include_labelled=args.all, low_below=learn.capture_below)
    if args.json:
        text = json.dumps([i.to_dict() for i in items], ensure_ascii=False, indent=1, default=str)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(text)
    if not args.interactive:
        if args.json != "-":
            for item in items:
                print(_fmt_item(item))
            print(f"{len(items)} turn(s) to review; label one with: shopassist learn label ID INTENT")
        return 0
    known, author = _known_intents(settings), _who(args)
    print(f"Labelling as {author}. Type an intent, '=' to accept the customer's correction, "
          "Enter to skip, q to stop.")
    saved = 0
    for item in items:
        print(_fmt_item(item))
        try:
            answer = input("label> ").strip()
        except EOFError:
            break
        if answer.lower() in ("q", "quit"):
            break
        if answer == "=" and item.corrections:
            answer = item.corrections[-1]
        if not answer or answer == "=":
            continue
        try:
            _store_label(store, records, item.id, answer, author, known)
            saved += 1
        except LabelError as exc:
            print(f"  (not saved: {exc})")
    print(f"{saved} label(s) saved")
    return 0


def _cmd_label(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = _store(settings)
    author = _who(args)
    record = _store_label(store, store.feedback(), args.id, args.intent, author, _known_intents(settings))
    print(f"turn #{args.id} labelled {args.intent.strip()} by {author} (record {record})")
    return 0


class _Progress:
    """A rich progress display on a terminal (standard error); one line per finished step otherwise."""

    def __init__(self) -> None:
        self._bar = None
        self._tasks: dict[str, int] = {}

    def __enter__(self) -> "_Progress":
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def __call__(self, step: str, done: int, total: int) -> None:
        if self._bar is None:
            if done == total:
                print(f"{step}: {done}/{total}", file=sys.stderr)
            return
        if step not in self._tasks:
            self._tasks[step] = self._bar.add_task(step, total=total)
        self._bar.update(self._tasks[step], completed=done, total=total)


def _cmd_retrain(args: argparse.Namespace) -> int:
    from engine.nlu.intent import load_intent_examples
    from engine.store import store_intent_examples

    from .retrain import retrain

    settings = _settings(args)
    tolerance = settings.learn.promote_tolerance if args.tolerance is None else args.tolerance
    out = sys.stderr if args.json == "-" else sys.stdout  # standard output holds the JSON alone
    with _Progress() as progress:
        embedder = _intent_embedder(settings)
        result = retrain(
            # a store kit's intents.yaml examples join the base data, as in the engine
            embedder, load_intent_examples(settings.nlu.intents_file) + store_intent_examples(settings),
            _store(settings).feedback(),
            _registry(settings), nlu=settings.nlu, tolerance=tolerance, regression_min=settings.learn.regression_min,
            strict_without_turns=args.tolerance is None, author=_who(args), dry_run=args.dry_run,
            fast_embedder=None if args.dry_run else _fast_embedder(settings, embedder), progress=progress,
        )
    cur, cand = result.current, result.candidate
    d = result.data
    print(f"training data: {d['base_train']} base + {d['labels_used']} reviewed labels; compared on "
          f"{d['heldout']} held-out + {d['regression']} regression-set turns", file=out)
    if cand is not None:
        print(f"current   {cur.version:>9}  macro-F1 {cur.macro_f1:.4f}  accuracy {cur.accuracy:.4f}  "
              f"regression {cur.regression_right}/{cur.regression_n}  threshold {cur.threshold}", file=out)
        print(f"candidate {cand.version:>9}  macro-F1 {cand.macro_f1:.4f}  accuracy {cand.accuracy:.4f}  "
              f"regression {cand.regression_right}/{cand.regression_n}  threshold {cand.threshold}", file=out)
        if result.candidate_version:
            print(f"{result.candidate_version} trained on all {d['trained_on']} examples (held-out and "
                  "regression set included)", file=out)
    for c, before, after in result.regressions:
        texts = [f for f in result.flipped if f.gold == c and f.broken]
        print(f"  regressed: {c} F1 {before:.3f} -> {after:.3f}"
              + "".join(f"\n    {f.text[:80]!r}: {f.before} -> {f.after}" for f in texts[:5]), file=out)
    for f in (f for f in result.flipped if f.source == "regression" and f.broken):
        print(f"  regression-set turn broken: {f.text[:80]!r} {f.before} -> {f.after}", file=out)
    for b in result.blamed:
        print(f"  caused by label #{b.record_id} {b.text[:60]!r} -> {b.intent} (by {b.author or '-'}): {b.why}",
              file=out)
    promoted = result.promoted and not args.dry_run and cand is not None
    verdict = "PROMOTED" if promoted else ("would promote" if result.promoted and args.dry_run else "not promoted")
    print(f"{verdict}: {result.reason}", file=out)
    if result.override and not result.decided:
        print(f"to promote it anyway: {result.override}", file=out)
    if result.report:
        print(f"report: {result.report}", file=out)
    if args.json:
        text = json.dumps(result.to_dict(), indent=1, ensure_ascii=False)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(text)
    if args.dry_run:
        return 0 if result.promoted else NOT_PROMOTED
    return 0 if promoted else NOT_PROMOTED


def _cmd_promote(args: argparse.Namespace) -> int:
    from engine.errors import ModelError

    registry = _registry(_settings(args))
    reason = (args.reason or "").strip()
    if not reason:
        raise ModelError("say why with --reason: it is logged with the promotion")
    was = registry.current()
    if args.version == was:
        print(f"{was} already serves")
        return 0
    card = registry.get(args.version).card if args.version != "base" else {}
    decision = card.get("decision")
    note = reason if decision != "rejected" else f"override of the rejection ({card.get('reason', '-')}): {reason}"
    registry.promote(args.version, by=_who(args), note=note)
    action = registry.log()[-1]["action"]
    print(f"now serving {args.version} (was {was}; {action}, logged with the reason); running engines switch "
          "at their next check")
    return 0


def _cmd_unlabel(args: argparse.Namespace) -> int:
    from .review import group_turns, unlabel_record

    store = _store(_settings(args))
    item = next((i for i in group_turns(store.feedback()) if args.id in i.record_ids), None)
    if item is None:
        raise LabelError(f"no reviewable turn with feedback record #{args.id}")
    if item.label is None:
        raise LabelError(f"turn #{item.id} has no label to withdraw")
    author = _who(args)
    store.add_feedback(unlabel_record(item, author=author))
    print(f"turn #{item.id}: label {item.label.intent} (by {item.label.author or '-'}) withdrawn by {author}; "
          "it is back in the review queue and out of the next retrain")
    return 0


def _cmd_rollback(args: argparse.Namespace) -> int:
    registry = _registry(_settings(args))
    was = registry.current()
    now = registry.rollback(by=_who(args), note=(args.reason or "").strip())
    print(f"now serving {now} (was {was}); running engines switch at their next check; "
          f"serve {was} again with: shopassist learn promote {was} --reason '...'")
    return 0


def _cmd_versions(args: argparse.Namespace) -> int:
    registry = _registry(_settings(args))
    current = registry.current()
    print(f"serving: {current}   rollback goes to: {(registry.history() or ['-'])[-1]}")
    print("versions:")
    for v in registry.versions():
        card = v.card
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(card.get("created_at", 0)))
        f1 = f"{v.macro_f1:.4f}" if v.macro_f1 is not None else "-"
        mark = "*" if v.version == current else " "
        data = card.get("data") or {}
        print(f"{mark} {v.version}  {when}  macro-F1 {f1}  {card.get('decision', '-'):8}  "
              f"labels {data.get('labels_used', 0)}  trained on {data.get('trained_on', '-')}  "
              f"by {card.get('by') or '-'}")
    log = registry.log()
    print("history:" if log else "history: nothing promoted yet")
    for e in log:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.get("at", 0)))
        print(f"  {when}  {e.get('action', '-'):10} {e.get('from') or '-':>6} -> {e.get('version', '-'):6}  "
              f"by {e.get('by') or '-'}: {str(e.get('note') or '-')[:160]}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``learn review | label | unlabel | retrain | promote | rollback | versions`` to the parser."""
    learn = sub.add_parser("learn", help="learn from feedback: review, label, retrain, promote, roll back")
    lsub = learn.add_subparsers(dest="learn_command", required=True)
    config_help = "YAML config (default: configs/default.yaml or $SHOPASSIST_CONFIG)"

    review = lsub.add_parser("review", help="the most informative recent turns, for labelling")
    review.add_argument("--config", help=config_help)
    review.add_argument("--limit", type=int, help="turns to list (default: learn.review_limit)")
    review.add_argument("--days", type=float, help="only turns this recent (default: learn.review_days)")
    review.add_argument("--all", action="store_true", help="include turns already labelled")
    review.add_argument("--json", help="write the list as JSON here ('-': stdout only)")
    review.add_argument("--interactive", action="store_true", help="ask for a label for each turn")
    review.add_argument("--by", help="the reviewer's name (default: the login name)")
    review.set_defaults(func=_cmd_review)

    label = lsub.add_parser("label", help="label a reviewed turn with its correct intent")
    label.add_argument("id", type=int, help="the turn's id from `learn review`")
    label.add_argument("intent", help="the correct intent (out_of_scope: none fits)")
    label.add_argument("--by", help="the reviewer's name (default: the login name)")
    label.add_argument("--config", help=config_help)
    label.set_defaults(func=_cmd_label)

    retrain = lsub.add_parser("retrain", help="train a candidate on base data + labels; promote it if not worse")
    retrain.add_argument("--config", help=config_help)
    retrain.add_argument("--tolerance", type=float, help="promote when macro-F1 >= current - this "
                         "(default: learn.promote_tolerance)")
    retrain.add_argument("--dry-run", action="store_true", help="compare only: register and promote nothing")
    retrain.add_argument("--json", help="write the decision and its figures here ('-': standard output)")
    retrain.add_argument("--by", help="who retrains (default: the login name)")
    retrain.set_defaults(func=_cmd_retrain)

    promote = lsub.add_parser("promote", help="serve a registered version (again, or over a rejection), with a reason")
    promote.add_argument("version", help="the version (`learn versions`), or base")
    promote.add_argument("--reason", required=True, help="why: logged with the promotion")
    promote.add_argument("--by", help="who promotes (default: the login name)")
    promote.add_argument("--config", help=config_help)
    promote.set_defaults(func=_cmd_promote)

    unlabel = lsub.add_parser("unlabel", help="withdraw a turn's label (it returns to the review queue)")
    unlabel.add_argument("id", type=int, help="the turn's id from `learn review --all`")
    unlabel.add_argument("--by", help="who withdraws it (default: the login name)")
    unlabel.add_argument("--config", help=config_help)
    unlabel.set_defaults(func=_cmd_unlabel)

    rollback = lsub.add_parser("rollback", help="serve the previously serving model version again")
    rollback.add_argument("--config", help=config_help)
    rollback.add_argument("--by", help="who rolls back (default: the login name)")
    rollback.add_argument("--reason", help="why: logged with the rollback")
    rollback.set_defaults(func=_cmd_rollback)

    versions = lsub.add_parser("versions", help="what serves, the registered versions and the serving history")
    versions.add_argument("--config", help=config_help)
    versions.set_defaults(func=_cmd_versions)
