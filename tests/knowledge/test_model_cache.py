"""knowledge/onnx_encoder.py ModelCache: finished ONNX graphs (and E5's tokenizer) kept between starts.

A graph read back from the cache gives exactly the vectors of one written afresh; a stale or damaged
file is never used (it is rebuilt, and the reason logged); a warm start does not import ``onnx``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from knowledge.e5_onnx import OnnxE5
from knowledge.embedders import SentenceTransformerEmbedder, resolve_model_path
from knowledge.models import MODEL_CACHE_DIR, ModelRegistry
from knowledge.numpy_encoder import NumpySentenceEncoder
from knowledge.onnx_encoder import ModelCache

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["where is my order 100023?", "你们支持七天无理由退货吗", "compare the two blenders " * 20, "x"]


def _payload_files(folder: Path, kind: str) -> list[Path]:
    return sorted(folder.glob(f"{kind}-*.bin"))


@pytest.fixture
def minilm() -> Path:
    return Path(resolve_model_path("all-MiniLM-L6-v2"))


@pytest.mark.parametrize("int8", [False, True])
def test_minilm_from_the_cache_gives_exactly_the_fresh_graphs_vectors(tmp_path, minilm, int8):
    fresh = NumpySentenceEncoder(minilm, runtime="onnx", int8=int8).encode(TEXTS)
    cache = ModelCache(tmp_path)
    written = NumpySentenceEncoder(minilm, runtime="onnx", int8=int8, cache=cache).encode(TEXTS)
    [stored] = _payload_files(tmp_path, cache.kind("bert", minilm, "int8" if int8 else "f32"))
    mtime = stored.stat().st_mtime_ns
    read_back = NumpySentenceEncoder(minilm, runtime="onnx", int8=int8, cache=cache).encode(TEXTS)
    assert stored.stat().st_mtime_ns == mtime  # read, not written again
    assert np.array_equal(written, fresh) and np.array_equal(read_back, fresh)


@pytest.mark.slow  # loads E5 three times
def test_e5_from_the_cache_gives_exactly_the_fresh_graphs_vectors_and_tokens(tmp_path):
    fresh = OnnxE5(int8=True)
    cache = ModelCache(tmp_path)
    written, read_back = OnnxE5(int8=True, cache=cache), OnnxE5(int8=True, cache=cache)
    assert len(list(tmp_path.glob("e5-*.bin"))) == 2  # the graph and the tokenizer's model
    for query in (True, False):
        want = fresh.encode(TEXTS, query=query)
        assert np.array_equal(written.encode(TEXTS, query=query), want)
        assert np.array_equal(read_back.encode(TEXTS, query=query), want)
    for text in TEXTS + ["有巨大的嗞嗞的声音"]:
        assert read_back.content_ids(text) == fresh.content_ids(text)


def test_a_damaged_or_foreign_file_is_never_used_but_rebuilt_and_logged(tmp_path, minilm, caplog):
    cache = ModelCache(tmp_path)
    want = NumpySentenceEncoder(minilm, runtime="onnx", int8=True, cache=cache).encode(TEXTS)
    [stored] = _payload_files(tmp_path, cache.kind("bert", minilm, "int8"))
    good = stored.read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0x01  # one bit of one weight
    for bad, why in ((bytes(damaged), "checksum"), (good[: len(good) - 100], "checksum"),
                     (b"SAMODEL1" + bytes(32) + good[40:], "not"), (b"", "not")):
        stored.write_bytes(bad)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="knowledge.onnx_encoder"):
            got = NumpySentenceEncoder(minilm, runtime="onnx", int8=True, cache=cache).encode(TEXTS)
        assert np.array_equal(got, want)
        assert any(why in r.getMessage() for r in caplog.records), [r.getMessage() for r in caplog.records]
        assert stored.read_bytes() == good  # written again, whole


def test_the_fingerprint_follows_the_weights_the_code_and_the_parameters(tmp_path):
    weights, code = tmp_path / "w.bin", tmp_path / "writer.py"
    weights.write_bytes(b"a" * 1000)
    code.write_text("# v1\n")
    cache = ModelCache(tmp_path / "cache")
    key = cache.fingerprint(sources=[weights], code=[code], int8=True)
    assert cache.fingerprint(sources=[weights], code=[code], int8=True) == key
    assert cache.fingerprint(sources=[weights], code=[code], int8=False) != key
    weights.write_bytes(b"b" * 1000)  # same size: the stat stamp moves, so the content is hashed again
    os.utime(weights, ns=(1, 1))
    assert cache.fingerprint(sources=[weights], code=[code], int8=True) != key
    other_code = tmp_path / "writer2.py"
    other_code.write_text("# v2\n")
    assert cache.fingerprint(sources=[weights], code=[other_code], int8=True) != cache.fingerprint(
        sources=[weights], code=[code], int8=True)


def test_a_stale_artefact_is_not_found_and_goes_when_its_successor_is_stored(tmp_path):
    cache = ModelCache(tmp_path)
    builds = []
    old = cache.load_or_build("thing-f32", "ab" * 32, lambda: builds.append(1) or b"old")
    new = cache.load_or_build("thing-f32", "cd" * 32, lambda: builds.append(2) or b"new")
    again = cache.load_or_build("thing-f32", "cd" * 32, lambda: builds.append(3) or b"never")
    other = cache.load_or_build("thing-int8", "ab" * 32, lambda: b"int8")  # another kind stays
    assert (old, new, again, other, builds) == (b"old", b"new", b"new", b"int8", [1, 2])
    assert cache.load("thing-f32", "ab" * 32) is None
    assert sorted(p.name.rpartition("-")[0] for p in tmp_path.glob("thing-*.bin")) == ["thing-f32", "thing-int8"]


def test_an_unwritable_folder_costs_only_the_rebuild(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ModelCache(blocker / "onnx")  # a folder under a file can never be made
    with caplog.at_level(logging.WARNING, logger="knowledge.onnx_encoder"):
        assert cache.load_or_build("thing", "ab" * 32, lambda: b"payload") == b"payload"
    assert any("cannot write" in r.getMessage() for r in caplog.records)


def test_the_registry_keeps_graphs_in_the_data_dir(tmp_path):
    settings = SimpleNamespace(models=None, resolved_data_dir=tmp_path,
                               embedder=SimpleNamespace(device="cpu", batch_size=8, cache_size=0, backend="auto",
                                                        threads=None, model="minilm"))
    reg = ModelRegistry.from_settings(settings)
    assert reg.options.cache_dir == tmp_path / MODEL_CACHE_DIR
    # loaded models are shared process-wide (the first load's cache wins): check what each is given
    assert reg.embedder("minilm-int8")._cache_dir == reg.embedder("e5")._cache_dir == tmp_path / MODEL_CACHE_DIR


def test_minilm_says_its_size_without_loading():
    emb = SentenceTransformerEmbedder("all-MiniLM-L6-v2", device="cpu")
    assert emb.dim == 384 and emb._model is None


@pytest.mark.slow  # two fresh interpreters
def test_a_warm_start_does_not_import_onnx(tmp_path):
    script = (
        "import sys\n"
        "from knowledge.models import ModelRegistry, ModelOptions\n"
        f"reg = ModelRegistry(options=ModelOptions(device='cpu', cache_dir={str(tmp_path)!r}))\n"
        "reg.loaded('e5').embed(['退款多久到账']); reg.loaded('minilm-int8').embed(['where is my order'])\n"
        "print('onnx' in sys.modules, 'ml_dtypes' in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = [subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=120) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr[-2000:]
    assert runs[0].stdout.split() == ["True", "True"]  # cold: the graphs are written
    assert runs[1].stdout.split() == ["False", "False"]  # warm: read back
