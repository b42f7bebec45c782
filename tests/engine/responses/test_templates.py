"""engine/responses/templates.py + templates.yaml: complete, bilingual, consistent placeholders."""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path

import pytest
import yaml

from engine.responses.templates import Templates

RAW: dict[str, dict[str, str]] = yaml.safe_load(
    resources.files("engine.responses").joinpath("templates.yaml").read_text("utf-8")
)
ENGINE_DIR = Path(__file__).resolve().parents[3] / "engine"


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


@pytest.mark.parametrize("key", sorted(RAW))
def test_every_key_has_english_and_chinese(key):
    assert set(RAW[key]) == {"en", "zh"}
    assert all(isinstance(t, str) and t.strip() for t in RAW[key].values())


@pytest.mark.parametrize("key", sorted(RAW))
def test_english_and_chinese_use_the_same_placeholders(key):
    assert placeholders(RAW[key]["en"]) == placeholders(RAW[key]["zh"])


@pytest.mark.parametrize("key", sorted(RAW))
def test_every_template_renders_in_both_languages(key):
    t = Templates(store="Brightcart")
    values = {name: f"<{name}>" for name in placeholders(RAW[key]["en"])}
    for lang in ("en", "zh"):
        text = t.render(key, lang, **values)
        assert "{" not in text and "}" not in text
        for v in values.values():
            assert v in text


def _rendered_keys_in_code() -> set[str]:
    keys: set[str] = set()
    for path in ENGINE_DIR.rglob("*.py"):
        keys |= set(re.findall(r"""\.render\(\s*["']([a-z_]+)["']""", path.read_text("utf-8")))
    return keys


def test_every_key_the_engine_renders_exists():
    missing = _rendered_keys_in_code() - set(RAW)
    assert not missing, f"templates rendered in code but missing from templates.yaml: {sorted(missing)}"


@pytest.mark.parametrize(
    "key",
    # keys built at run time: router intents, order statuses, hand-off reasons
    ["greet", "goodbye", "thanks", "affirm", "deny", "complaint", "fallback", "no_answer", "handoff",
     "handoff_stuck", "handoff_upset", "order_processing", "order_shipped", "order_delivered",
     "order_cancelled", "order_returned", "internal_error", "service_unavailable"],
)
def test_dynamically_chosen_keys_exist(key):
    assert key in RAW


def test_render_fills_values_and_defaults():
    t = Templates(store="Brightcart")
    assert "Brightcart" in t.render("greet", "en")
    assert "Brightcart" in t.render("greet", "zh")
    text = t.render("order_not_found", "en", order_id="100023")
    assert "100023" in text
    assert t.render("too_long", "zh", length=5000, limit=2000).count("2000") == 1


def test_explicit_values_beat_defaults():
    assert "Othershop" in Templates(store="Brightcart").render("greet", "en", store="Othershop")


def test_unknown_language_falls_back_to_english():
    t = Templates(store="X")
    assert t.render("thanks", "fr") == t.render("thanks", "en")


def test_missing_key_or_placeholder_raises():
    t = Templates()
    with pytest.raises(KeyError):
        t.render("no_such_template", "en")
    with pytest.raises(KeyError):
        t.render("order_not_found", "en")  # order_id not given


def test_overrides_replace_one_language_and_add_keys():
    t = Templates({"thanks": {"en": "Cheers!"}, "custom": {"en": "Hi {name}"}})
    assert t.render("thanks", "en") == "Cheers!"
    assert t.render("thanks", "zh") == RAW["thanks"]["zh"]
    assert t.has("custom") and t.render("custom", "en", name="Ann") == "Hi Ann"
    assert not Templates().has("custom")  # overrides do not leak into other instances
