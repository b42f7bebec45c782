"""engine/settings.py: defaults, the shipped YAML, precedence and every kind of bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from engine.errors import ConfigError
from engine.settings import Settings, default_config_path, load_settings

DEFAULT_YAML = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No SHOPASSIST_* variable from the outer environment may leak into these tests."""
    for name in list(os.environ):
        if name.startswith("SHOPASSIST_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- defaults and the shipped file ---------------------------------------------------------------


def test_load_settings_without_arguments_equals_the_model_defaults():
    loaded = load_settings()
    assert type(loaded) is Settings
    assert loaded == Settings()


def test_default_config_path_is_the_shipped_yaml_unless_overridden(monkeypatch, tmp_path):
    assert default_config_path() == DEFAULT_YAML
    other = write(tmp_path, "log_level: ERROR\n")
    monkeypatch.setenv("SHOPASSIST_CONFIG", str(other))
    assert default_config_path() == other
    assert load_settings().log_level == "ERROR"


def test_shipped_default_yaml_documents_the_defaults_truthfully():
    data = yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))
    # parses on its own into exactly the defaults
    assert Settings(**data) == Settings()
    assert load_settings(DEFAULT_YAML) == Settings()


def _missing_keys(model: type[BaseModel], data: dict, prefix: str = "") -> list[str]:
    missing = []
    for name, info in model.model_fields.items():
        if name not in data:
            missing.append(prefix + name)
            continue
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            missing += _missing_keys(ann, data[name] or {}, f"{prefix}{name}.")
        elif isinstance(info.default, BaseModel):  # a section with one class per kind: the default kind's
            missing += _missing_keys(type(info.default), data[name] or {}, f"{prefix}{name}.")
    return missing


def test_shipped_default_yaml_lists_every_setting():
    """A field missing from the file would make it an incomplete reference of the defaults
    (unknown keys are already rejected by the model)."""
    data = yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))
    assert _missing_keys(Settings, data) == []


def test_empty_yaml_file_means_defaults(tmp_path):
    assert load_settings(write(tmp_path, "# nothing here\n")) == Settings()


# -- precedence: overrides > environment > YAML > defaults ---------------------------------------


def test_yaml_value_beats_default_and_keeps_sibling_defaults(tmp_path):
    s = load_settings(write(tmp_path, "nlu:\n  confidence_threshold: 0.8\n"))
    assert s.nlu.confidence_threshold == 0.8
    assert s.nlu.max_iter == Settings().nlu.max_iter
    assert s.retrieval == Settings().retrieval


def test_environment_beats_yaml(tmp_path, monkeypatch):
    path = write(tmp_path, "nlu:\n  confidence_threshold: 0.8\n  max_iter: 7\n")
    monkeypatch.setenv("SHOPASSIST_NLU__CONFIDENCE_THRESHOLD", "0.6")
    s = load_settings(path)
    assert s.nlu.confidence_threshold == 0.6
    assert s.nlu.max_iter == 7  # the rest of the YAML section still applies (deep merge)


def test_environment_beats_the_shipped_default_file(monkeypatch):
    monkeypatch.setenv("SHOPASSIST_NLU__CONFIDENCE_THRESHOLD", "0.6")
    monkeypatch.setenv("SHOPASSIST_LOG_LEVEL", "DEBUG")
    s = load_settings()
    assert s.nlu.confidence_threshold == 0.6
    assert s.log_level == "DEBUG"


def test_explicit_overrides_beat_environment_and_yaml(tmp_path, monkeypatch):
    path = write(tmp_path, "nlu:\n  confidence_threshold: 0.8\n  max_iter: 7\n")
    monkeypatch.setenv("SHOPASSIST_NLU__CONFIDENCE_THRESHOLD", "0.6")
    s = load_settings(path, nlu={"confidence_threshold": 0.7})
    assert s.nlu.confidence_threshold == 0.7
    assert s.nlu.max_iter == 7


def test_overrides_accept_paths_and_sections(tmp_path):
    s = load_settings(None, data_dir=tmp_path, retrieval={"top_k": 5})
    assert s.data_dir == tmp_path
    assert s.resolved_data_dir == tmp_path
    assert s.retrieval.top_k == 5


def test_resolved_data_dir_defaults_to_xdg_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert load_settings().resolved_data_dir == tmp_path / "shopassist"


def test_settings_are_frozen():
    s = load_settings()
    with pytest.raises(Exception):
        s.log_level = "DEBUG"  # type: ignore[misc]
    with pytest.raises(Exception):
        s.nlu.max_iter = 1  # type: ignore[misc]


# -- errors name the field or the file -----------------------------------------------------------


@pytest.mark.parametrize(
    "text, field",
    [
        ("nlu:\n  confidence_threshold: 1.5\n", "nlu.confidence_threshold"),
        ("retrieval:\n  top_k: 0\n", "retrieval.top_k"),
        ("tracker:\n  kind: mongo\n", "tracker.kind"),
        ("tracker:\n  kind: redis\n", "tracker.url"),  # redis without a URL
        ("tracker:\n  kind: postgres\n  url: mysql://x\n", "tracker.url"),
        ("tracker:\n  lock: redis\n", "tracker.lock_url"),  # a Redis lock with no Redis named
        ("tracker:\n  retention_events: 0\n", "tracker.retention_events"),
        ("log_level: LOUD\n", "log_level"),
        ("dialogue:\n  fallbacks_before_handoff: many\n", "dialogue.fallbacks_before_handoff"),
    ],
)
def test_invalid_yaml_value_is_a_config_error_naming_the_field(tmp_path, text, field):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert field in str(err.value)


@pytest.mark.parametrize(
    "text, field",
    [("nlu:\n  bogus: 1\n", "nlu.bogus"), ("bogus_section: 1\n", "bogus_section")],
)
def test_unknown_key_is_a_config_error_naming_it(tmp_path, text, field):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert field in str(err.value)


def test_invalid_environment_value_is_a_config_error_naming_the_field(monkeypatch):
    monkeypatch.setenv("SHOPASSIST_NLU__CONFIDENCE_THRESHOLD", "2")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "nlu.confidence_threshold" in str(err.value)


def test_unknown_environment_key_inside_a_section_is_rejected(monkeypatch):
    monkeypatch.setenv("SHOPASSIST_NLU__BOGUS", "1")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "nlu.bogus" in str(err.value)


def test_invalid_override_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_settings(None, dialogue={"fallbacks_before_handoff": 0})
    assert "dialogue.fallbacks_before_handoff" in str(err.value)


def test_malformed_yaml_is_a_config_error_naming_the_file(tmp_path):
    path = write(tmp_path, "nlu: [\n  unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value)


def test_missing_file_is_a_config_error_naming_the_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value)


def test_missing_file_named_by_environment_is_a_config_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOPASSIST_CONFIG", str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError, match="gone.yaml"):
        load_settings()


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_top_level_not_a_mapping_is_a_config_error_naming_the_file(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(path) in str(err.value)
    assert "mapping" in str(err.value)

