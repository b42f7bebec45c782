"""engine/generation/factory.py: generation.backend picks the generator; the default stays torch-free."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.errors import ConfigError
from engine.generation import ExtractiveGenerator, LLMGenerator, build_generator
from engine.generation.openai_chat import OpenAIChatModel
from engine.generation.transformers_chat import TransformersChatModel
from engine.settings import GenerationSettings, load_settings


def test_the_default_is_extractive(tmp_path):
    assert load_settings().generation.backend == "extractive"
    assert isinstance(build_generator(GenerationSettings(), data_dir=tmp_path), ExtractiveGenerator)


def test_openai_backend_reads_the_key_from_the_named_variable(tmp_path, monkeypatch):
    settings = GenerationSettings(backend="openai", base_url="http://127.0.0.1:9/v1", model="m",
                                  api_key_env="SHOPASSIST_TEST_LLM_KEY", max_new_tokens=42)
    with pytest.raises(ConfigError, match="SHOPASSIST_TEST_LLM_KEY"):
        build_generator(settings, data_dir=tmp_path)
    monkeypatch.setenv("SHOPASSIST_TEST_LLM_KEY", "sk-secret")
    gen = build_generator(settings, data_dir=tmp_path)
    assert isinstance(gen, LLMGenerator) and isinstance(gen.model, OpenAIChatModel)
    assert gen.model.url == "http://127.0.0.1:9/v1/chat/completions"
    assert gen.model._client.headers["Authorization"] == "Bearer sk-secret"


def test_transformers_backend_is_built_without_loading_anything(tmp_path):
    gen = build_generator(GenerationSettings(backend="transformers"), data_dir=tmp_path)
    assert isinstance(gen.model, TransformersChatModel) and gen.model.name == "smollm2"
    assert gen.model._model is None  # loaded by warm_up or the first question


@pytest.mark.parametrize("section, field", [
    ({"backend": "openai", "model": "m"}, "generation.base_url"),
    ({"backend": "openai", "base_url": "http://x/v1"}, "generation.model"),
    ({"backend": "llama"}, "generation.backend"),
    ({"temperature": 5}, "generation.temperature"),
])
def test_invalid_generation_settings_name_the_field(section, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_settings(generation=section)


def test_the_example_openai_config_loads():
    settings = load_settings("configs/openai-compatible.yaml")
    assert settings.generation.backend == "openai" and settings.generation.base_url.startswith("http")


def test_the_default_generator_does_not_import_torch():
    code = ("import sys; from engine.generation import build_generator; from engine.settings import load_settings; "
            "from pathlib import Path; build_generator(load_settings().generation, data_dir=Path('.')); "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
