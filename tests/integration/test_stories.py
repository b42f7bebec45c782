"""The shipped YAML stories, run against the real engine on a fresh demo store (stories write:
they cancel orders and open returns), plus the story loader's error handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ConfigError
from engine.stories import load_stories, run_story

STORY_DIR = Path(__file__).resolve().parent.parent / "stories"
STORIES = [s for f in sorted(STORY_DIR.glob("*.yaml")) for s in load_stories(f)]


@pytest.fixture(scope="module")
def story_engine(tmp_path_factory, data_dir):
    from engine import Engine

    eng = Engine.from_config(data_dir=data_dir, store={"root": tmp_path_factory.mktemp("story-store")},
                             tracker={"kind": "memory"})
    eng.warm_up()
    return eng


def test_there_are_enough_stories_in_both_languages():
    zh = [s for s in STORIES if any("\u4e00" <= ch <= "\u9fff" for t in s.turns for ch in t.user)]
    assert len(STORIES) >= 30 and len(zh) >= 10


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
def test_story(story_engine, story):
    result = run_story(story_engine, story)
    assert result.passed, "\n".join(result.failures)


@pytest.mark.parametrize(
    "text, message",
    [
        ("stories: []", "non-empty 'stories'"),
        ("stories:\n  - turns: [{user: hi}]", "needs a 'name'"),
        ("stories:\n  - name: x\n    turns: []", "non-empty list"),
        ("stories:\n  - name: x\n    turns: [{user: no}]", "'user' text"),
        ("stories:\n  - name: x\n    turns: [{user: hi, rout: flow}]", "unknown keys"),
        ("stories: [", "cannot read"),
    ],
)
def test_malformed_story_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_stories(path)
    assert message in str(err.value)
