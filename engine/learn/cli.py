"""``shopassist learn review | label | retrain | rollback | versions``: learning from feedback.

Every command reads the configured tracker store (where feedback and labels live) and the model
registry (``learn.registry_dir``). All of them are scriptable; ``review --interactive`` asks for
labels one turn at a time on a terminal.

Example:
    $ shopassist learn review --limit 10
    $ shopassist learn label 42 track_order --by ana
    $ shopassist learn retrain --json decision.json
    $ shopassist learn rollback
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from typing import Any

from engine.errors import ShopAssistError

__all__ = ["register", "LabelError"]


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
    from engine.nlu.base import OUT_OF_SCOPE
    from engine.nlu.intent import load_intent_examples

    return {e.label for e in load_intent_examples(settings.nlu.intents_file)} | {OUT_OF_SCOPE}


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
    from .review import group_turns, label_record

    intent = intent.strip()
    if intent not in known:
        raise LabelError(f"unknown intent {intent!r}; one of: {', '.join(sorted(known))}")
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


def _cmd_retrain(args: argparse.Namespace) -> int:
    from engine.nlu.intent import load_intent_examples

    from .retrain import retrain

    settings = _settings(args)
    tolerance = settings.learn.promote_tolerance if args.tolerance is None else args.tolerance
    embedder = _intent_embedder(settings)
    result = retrain(
        embedder, load_intent_examples(settings.nlu.intents_file), _store(settings).feedback(),
        _registry(settings), nlu=settings.nlu, tolerance=tolerance, author=_who(args), dry_run=args.dry_run,
        fast_embedder=None if args.dry_run else _fast_embedder(settings, embedder),
    )
    cur, cand = result.current, result.candidate
    d = result.data
    print(f"training data: {d['base_train']} base + {d['labels_used']} reviewed labels; held-out {d['heldout']}")
    print(f"current   {cur.version:>9}  macro-F1 {cur.macro_f1:.4f}  accuracy {cur.accuracy:.4f}")
    if cand is not None:
        print(f"candidate {cand.version:>9}  macro-F1 {cand.macro_f1:.4f}  accuracy {cand.accuracy:.4f}")
    for c, before, after in result.regressions:
        print(f"  regressed: {c} F1 {before:.3f} -> {after:.3f}")
    verdict = "PROMOTED" if result.promoted and not args.dry_run and cand else "not promoted"
    print(f"{verdict}: {result.reason}")
    if result.report:
        print(f"report: {result.report}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result.to_dict(), f, indent=1, ensure_ascii=False)
    return 0


def _cmd_rollback(args: argparse.Namespace) -> int:
    registry = _registry(_settings(args))
    was = registry.current()
    now = registry.rollback(by=_who(args))
    print(f"now serving {now} (was {was}); running engines switch at their next check")
    return 0


def _cmd_versions(args: argparse.Namespace) -> int:
    registry = _registry(_settings(args))
    current = registry.current()
    print(f"serving: {current}   rollback history: {' -> '.join(registry.history()) or '-'}")
    for v in registry.versions():
        card = v.card
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(card.get("created_at", 0)))
        f1 = f"{v.macro_f1:.4f}" if v.macro_f1 is not None else "-"
        mark = "*" if v.version == current else " "
        print(f"{mark} {v.version}  {when}  macro-F1 {f1}  {card.get('decision', '-'):8}  "
              f"labels {(card.get('data') or {}).get('labels_used', 0)}  by {card.get('by') or '-'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``learn review | label | retrain | rollback | versions`` to the ``shopassist`` parser."""
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
    retrain.add_argument("--json", help="write the decision and its figures here")
    retrain.add_argument("--by", help="who retrains (default: the login name)")
    retrain.set_defaults(func=_cmd_retrain)

    rollback = lsub.add_parser("rollback", help="serve the previously serving model version again")
    rollback.add_argument("--config", help=config_help)
    rollback.add_argument("--by", help="who rolls back (default: the login name)")
    rollback.set_defaults(func=_cmd_rollback)

    versions = lsub.add_parser("versions", help="registered model versions with their metrics")
    versions.add_argument("--config", help=config_help)
    versions.set_defaults(func=_cmd_versions)
