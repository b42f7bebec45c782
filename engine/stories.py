"""Conversation tests: YAML stories of user turns with the expected intent, route, slots and text.

A story file::

    stories:
      - name: track an order
        customer: C001            # optional: the signed-in customer
        turns:
          - user: where is my order 100023?
            intent: track_order   # optional expectations, each checked when present
            route: flow
            slots: {order_id: "100023"}     # a value of null means "not set"
            contains: [UPS]                  # every fragment must appear in the reply
            not_contains: [Traceback]        # none may appear
            handoff: false

Each story runs in a fresh session. ``shopassist test stories FILE`` runs a file against the
configured engine; the test suite runs the shipped stories too.

Example:
    >>> results = run_stories(engine, load_stories("tests/stories/demo_en.yaml"))   # doctest: +SKIP
    >>> all(r.passed for r in results)                                               # doctest: +SKIP
    True
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import ConfigError

__all__ = ["Story", "StoryTurn", "StoryResult", "load_stories", "run_story", "run_stories"]

_TURN_KEYS = {"user", "intent", "route", "slots", "contains", "not_contains", "handoff"}


@dataclass(frozen=True)
class StoryTurn:
    user: str
    expect: dict[str, Any]


@dataclass(frozen=True)
class Story:
    name: str
    turns: tuple[StoryTurn, ...]
    customer: str | None = None


@dataclass
class StoryResult:
    story: Story
    failures: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load_stories(path: str | Path) -> list[Story]:
    """Parse a story file; malformed files raise :class:`ConfigError` naming the story."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read stories {path}: {exc}") from exc
    raw_stories = doc.get("stories") if isinstance(doc, dict) else None
    if not isinstance(raw_stories, list) or not raw_stories:
        raise ConfigError(f"{path}: expected a non-empty 'stories' list")
    stories = []
    for i, raw in enumerate(raw_stories):
        where = f"{path} story {i + 1}"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise ConfigError(f"{where}: each story needs a 'name'")
        where = f"{path} story {raw['name']!r}"
        turns = raw.get("turns")
        if not isinstance(turns, list) or not turns:
            raise ConfigError(f"{where}: 'turns' must be a non-empty list")
        parsed = []
        for j, t in enumerate(turns):
            if not isinstance(t, dict) or not isinstance(t.get("user"), str):
                raise ConfigError(f"{where} turn {j + 1}: each turn needs a 'user' text")
            unknown = set(t) - _TURN_KEYS
            if unknown:
                raise ConfigError(f"{where} turn {j + 1}: unknown keys {sorted(unknown)}")
            parsed.append(StoryTurn(t["user"], {k: v for k, v in t.items() if k != "user"}))
        customer = raw.get("customer")
        stories.append(Story(raw["name"], tuple(parsed), str(customer) if customer else None))
    return stories


def _check(expect: dict[str, Any], reply: Any) -> list[str]:
    problems = []
    for key in ("intent", "route", "handoff"):
        if key in expect and getattr(reply, key) != expect[key]:
            problems.append(f"{key}: expected {expect[key]!r}, got {getattr(reply, key)!r}")
    for name, value in (expect.get("slots") or {}).items():
        got = reply.slots.get(name)
        if value is None and got is not None:
            problems.append(f"slot {name}: expected unset, got {got!r}")
        elif value is not None and str(got) != str(value):
            problems.append(f"slot {name}: expected {value!r}, got {got!r}")
    for fragment in expect.get("contains") or ():
        if str(fragment) not in reply.text:
            problems.append(f"reply lacks {fragment!r}")
    for fragment in expect.get("not_contains") or ():
        if str(fragment) in reply.text:
            problems.append(f"reply contains {fragment!r}")
    return problems


def run_story(engine: Any, story: Story) -> StoryResult:
    """Play one story in a fresh session; collects every failed expectation."""
    session = f"story-{uuid.uuid4().hex[:12]}"
    result = StoryResult(story)
    for n, turn in enumerate(story.turns, 1):
        reply = engine.respond(session, turn.user, customer_id=story.customer)
        result.replies.append(reply.text)
        for problem in _check(turn.expect, reply):
            result.failures.append(f"turn {n} ({turn.user[:40]!r}): {problem}; reply was {reply.text[:160]!r}")
    return result


def run_stories(engine: Any, stories: list[Story]) -> list[StoryResult]:
    return [run_story(engine, s) for s in stories]
