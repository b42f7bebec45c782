"""knowledge/numpy_encoder.py: MiniLM in numpy or ONNX Runtime gives sentence-transformers' vectors, without torch."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from engine.errors import ModelError
from knowledge.embedders import E5Embedder, SentenceTransformerEmbedder, resolve_model_path
from knowledge.numpy_encoder import NumpySentenceEncoder, read_safetensors, supports

TEXTS = [
    "where is my order 100023?",
    "Is shipping free?",
    "你们支持七天无理由退货吗",
    "compare the Aurora X200 and the Trailrunner 5 " * 3,
    "a " * 400,  # past the 256-token limit: truncated like sentence-transformers
    "x",
]


def test_supports_only_bert_mean_pooling_folders(tmp_path):
    assert supports(resolve_model_path("all-MiniLM-L6-v2"))
    assert not supports(tmp_path)
    with pytest.raises(ModelError):
        NumpySentenceEncoder(tmp_path)


@pytest.mark.slow  # imports sentence-transformers
def test_a_folder_the_installed_sentence_transformers_saves_runs_without_torch(tmp_path):
    # a tuned model (nlu train --objective contrastive) is saved by whatever sentence-transformers
    # is installed; 6.x writes other module paths and one pooling_mode: still BERT + mean + Normalize
    from sentence_transformers import SentenceTransformer

    SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu").save(str(tmp_path / "m"))
    assert supports(tmp_path / "m")
    emb = SentenceTransformerEmbedder(str(tmp_path / "m"), cache_size=0)
    vecs = emb.embed(TEXTS[:3])
    assert emb.backend in ("numpy", "onnx")
    ref = SentenceTransformerEmbedder(device="cpu", backend="sentence-transformers", cache_size=0).embed(TEXTS[:3])
    assert np.abs(vecs - ref).max() < 1e-5
    pooling = tmp_path / "m" / json.loads((tmp_path / "m" / "modules.json").read_text())[1]["path"] / "config.json"
    cfg = json.loads(pooling.read_text())
    cfg.update({"pooling_mode": "cls"} if "pooling_mode" in cfg else
               {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    pooling.write_text(json.dumps(cfg))
    assert not supports(tmp_path / "m")  # another pooling: sentence-transformers' own code path


def test_read_safetensors_reads_shapes_and_values(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    header = json.dumps({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
                         "__metadata__": {"format": "pt"}}).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + a.tobytes())
    got = read_safetensors(path)
    assert list(got) == ["a"] and np.array_equal(got["a"], a)


@pytest.mark.slow  # imports sentence-transformers
def test_numpy_vectors_match_sentence_transformers_single_and_batched():
    st = SentenceTransformerEmbedder(device="cpu", backend="sentence-transformers", cache_size=0)
    ref = st.embed(TEXTS)
    assert st.backend == "sentence-transformers"
    for runtime in ("numpy", "onnx"):
        enc = NumpySentenceEncoder(resolve_model_path("all-MiniLM-L6-v2"), runtime=runtime)
        batched = enc.encode(TEXTS)
        single = np.concatenate([enc.encode([t]) for t in TEXTS])
        small_batches = enc.encode(TEXTS, batch_size=2)  # length-sorted batches, order restored
        for got in (batched, single, small_batches):
            assert got.shape == ref.shape and got.dtype == np.float32
            assert np.abs(got - ref).max() < 1e-5, runtime
        assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_auto_backend_on_cpu_is_onnx_else_numpy_and_never_imports_torch():
    code = (
        "import sys\n"
        "from knowledge import onnx_encoder\n"
        "if sys.argv[1] == 'no-onnx': onnx_encoder._AVAILABLE = False\n"
        "from knowledge.embedders import SentenceTransformerEmbedder\n"
        "e = SentenceTransformerEmbedder(device='cpu', cache_size=0)\n"
        "v = e.embed(['where is my order?'])\n"
        "print(e.backend, v.shape, 'torch' in sys.modules)\n"
    )
    for arg, backend in (("-", "onnx"), ("no-onnx", "numpy")):
        out = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True, check=True)
        assert out.stdout.split() == [backend, "(1,", "384)", "False"]


def test_cpu_backends_refuse_a_gpu_and_bad_backend_names():
    with pytest.raises(ValueError):
        SentenceTransformerEmbedder(backend="tensorrt")
    with pytest.raises(ValueError):
        SentenceTransformerEmbedder("all-MiniLM-L6-v2:onnx-int8", backend="numpy")
    for backend in ("numpy", "onnx"):
        with pytest.raises(ModelError):
            SentenceTransformerEmbedder(device="cuda", backend=backend).warm_up()


def test_e5_embeds_concurrently_with_the_same_vectors():
    emb = E5Embedder(num_threads=1, cache_size=0)
    texts = ["where is my order?", "退款多久到账", "do you ship to Canada?", "I want a refund"]
    serial = [emb.embed([t])[0] for t in texts]
    got: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(3):
            got[i] = emb.embed([texts[i]])[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, v in enumerate(serial):
        assert np.allclose(got[i], v, atol=1e-6)


def test_e5_reuses_the_threads_latest_vector_even_with_the_cache_off():
    emb = E5Embedder(num_threads=1, cache_size=0)
    a = emb.embed(["退款多久到账"])
    calls = []
    real = emb._vectors
    emb._vectors = lambda texts, kind: calls.append(texts) or real(texts, kind)
    b = emb.embed(["退款多久到账"])  # same text, same kind: no second model call
    assert calls == [] and np.array_equal(a, b)
    b[0, 0] = 42.0  # callers get copies
    assert emb.embed(["退款多久到账"])[0, 0] != 42.0
    emb.embed(["退款多久到账"], kind="passage")  # another kind is another vector
    emb.embed(["where is my order?"])
    assert calls == [["退款多久到账"], ["where is my order?"]]  # the passage, then the new query
