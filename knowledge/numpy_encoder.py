"""A BERT sentence encoder in plain numpy (or ONNX Runtime): MiniLM queries without importing torch.

sentence-transformers needs torch and transformers, whose imports take several seconds on a
small CPU, and adds per-call overhead that dominates a one-sentence query. This module runs the
same computation — BERT encoder, mean pooling over the attention mask, L2 normalisation — from
the model folder's ``model.safetensors`` (read with a memory map, no extra library),
``tokenizer.json`` (the ``tokenizers`` library that transformers uses) and ``config.json``.
Float32 throughout; its vectors match sentence-transformers' to about 1e-6 (tests/knowledge).

It covers the models sentence-transformers would load as ``Transformer(BertModel) → Pooling(mean)
→ Normalize`` with absolute positions and GELU (all-MiniLM-L6-v2 and its family);
:func:`supports` says whether a folder is one of them, so callers fall back to
sentence-transformers for anything else.

Example:
    >>> enc = NumpySentenceEncoder(resolve_model_path("all-MiniLM-L6-v2"))   # doctest: +SKIP
    >>> enc.encode(["where is my order?"]).shape                              # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import json
import mmap
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from knowledge.kernel.errors import ModelError

if TYPE_CHECKING:
    from knowledge.onnx_encoder import ModelCache

__all__ = ["NumpySentenceEncoder", "supports", "read_safetensors", "declared_dim"]

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path: str | Path) -> dict[str, np.ndarray]:
    """Tensors of a ``.safetensors`` file as read-only numpy arrays over a memory map."""
    with open(path, "rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(n))
        buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    base = 8 + n
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(spec["dtype"])
        if dtype is None:
            raise ModelError(f"{path}: tensor {name} has unsupported dtype {spec['dtype']}")
        start, end = spec["data_offsets"]
        out[name] = np.frombuffer(buf, dtype=dtype, count=(end - start) // np.dtype(dtype).itemsize,
                                  offset=base + start).reshape(spec["shape"])
    return out


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def supports(folder: str | Path) -> bool:
    """True when ``folder`` is a sentence-transformers BERT model with mean pooling + Normalize
    (as sentence-transformers before 6 saves one, or as 6.x does: other module paths, one
    ``pooling_mode``)."""
    folder = Path(folder)
    try:
        cfg = _json(folder / "config.json")
        modules = _json(folder / "modules.json")
        kinds = [m.get("type", "").rpartition(".")[2] for m in modules]
        pooling = _json(folder / modules[1].get("path", "1_Pooling") / "config.json") if len(modules) > 1 else {}
    except (OSError, ValueError, AttributeError, TypeError):
        return False
    if "pooling_mode" in pooling:  # sentence-transformers 6.x
        mean_only = pooling["pooling_mode"] == "mean" or pooling["pooling_mode"] == ["mean"]
    else:
        mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
            pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                     "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                                     "pooling_mode_lasttoken"))
    return (
        cfg.get("model_type") == "bert"
        and cfg.get("hidden_act") == "gelu"
        and cfg.get("position_embedding_type", "absolute") == "absolute"
        and kinds == ["Transformer", "Pooling", "Normalize"]
        and all(m.get("type", "").startswith("sentence_transformers.") for m in modules)
        and modules[0].get("path", "") == ""
        and bool(mean_only)
        and (folder / "model.safetensors").is_file()
        and (folder / "tokenizer.json").is_file()
    )


def declared_dim(folder: str | Path) -> int | None:
    """The vector size of a folder :func:`supports` (its ``hidden_size``: mean pooling and Normalize
    keep it), read from ``config.json`` without loading the model; None for any other folder."""
    if not supports(folder):
        return None
    try:
        return int(_json(Path(folder) / "config.json")["hidden_size"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


_ERFC = (-1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223)


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to ~1.2e-7 (Numerical Recipes' erfc Chebyshev fit): exact GELU without scipy.
    Evaluated in place (Horner), as it runs on every layer's (tokens x 1536) activations."""
    z = np.abs(x)
    t = z * np.float32(0.5)
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    p = t * np.float32(0.17087277)
    p += np.float32(-0.82215223)
    p *= t
    p += np.float32(1.48851587)
    for c in _ERFC:
        p *= t
        p += np.float32(c)
    z *= z
    p -= z  # -z^2 + poly(t)
    np.exp(p, out=p)
    p *= t  # erfc(|x|)
    np.subtract(np.float32(1.0), p, out=p)  # erf(|x|)
    np.copysign(p, x, out=p)
    return p


def _limit_blas(threads: int) -> None:
    """Set numpy's BLAS to ``threads`` (needs threadpoolctl, which scikit-learn brings; else a no-op)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return
    for lib in ThreadpoolController().select(user_api="blas").lib_controllers:
        if "numpy" in str(lib.filepath):  # numpy's own OpenBLAS (numpy.libs/libscipy_openblas*)
            lib.set_num_threads(threads)


def _layers(get, count: int) -> list[tuple[np.ndarray, ...]]:
    """The encoder layers' weights, matrices as (in, out) with query, key and value side by side
    (:class:`~knowledge.onnx_encoder.BertLayer`'s order), ``get`` reading a tensor by BERT's name."""
    out = []
    for i in range(count):
        p = f"encoder.layer.{i}."
        qkv_w = np.concatenate([get(p + f"attention.self.{n}.weight") for n in ("query", "key", "value")])
        qkv_b = np.concatenate([get(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")])
        out.append((
            np.ascontiguousarray(qkv_w.T), qkv_b,
            np.ascontiguousarray(get(p + "attention.output.dense.weight").T), get(p + "attention.output.dense.bias"),
            get(p + "attention.output.LayerNorm.weight"), get(p + "attention.output.LayerNorm.bias"),
            np.ascontiguousarray(get(p + "intermediate.dense.weight").T), get(p + "intermediate.dense.bias"),
            np.ascontiguousarray(get(p + "output.dense.weight").T), get(p + "output.dense.bias"),
            get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias"),
        ))
    return out


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis, in place on ``x`` (a temporary of the caller's)."""
    x -= x.mean(-1, keepdims=True)
    inv = np.einsum("...i,...i->...", x, x)[..., None]
    inv /= x.shape[-1]
    inv += eps
    np.sqrt(inv, out=inv)
    x /= inv
    x *= w
    x += b
    return x


class NumpySentenceEncoder:
    """Mean-pooled, L2-normalised BERT sentence embeddings computed with numpy.

    Args:
        folder: a sentence-transformers model folder that :func:`supports` accepts.
        max_length: tokens per text (default: the folder's ``max_seq_length``, else 256).
        threads: numpy's BLAS threads (process-wide; None leaves them), or ONNX Runtime's threads
            for this session. Small matrices gain little from threads, and on a busy CPU a waiting
            BLAS thread costs many times the work.
        runtime: ``"numpy"`` runs the layers here; ``"onnx"`` hands them to ONNX Runtime
            (:mod:`knowledge.onnx_encoder`, the same vectors, faster on one query).
        int8: with ``runtime="onnx"``, int8 matrix products (faster, close to float32's vectors;
            figures in benchmarks/README.md).
        cache: with ``runtime="onnx"``, keeps the finished graph for the next start, under a
            fingerprint of the folder's weights and config and this code.
    """

    def __init__(self, folder: str | Path, *, max_length: int | None = None, threads: int | None = None,
                 runtime: str = "numpy", int8: bool = False, cache: ModelCache | None = None) -> None:
        folder = Path(folder)
        if not supports(folder):
            raise ModelError(f"{folder} is not a BERT mean-pooling sentence-transformers model")
        if runtime not in ("numpy", "onnx"):
            raise ValueError(f"runtime must be numpy or onnx, got {runtime!r}")
        if int8 and runtime != "onnx":
            raise ValueError("int8 matrix products need the onnx runtime")
        from tokenizers import Tokenizer

        cfg = _json(folder / "config.json")
        try:
            st_cfg = _json(folder / "sentence_bert_config.json")
        except (OSError, ValueError):
            st_cfg = {}
        self.max_length = int(max_length or st_cfg.get("max_seq_length") or 256)
        self.max_length = min(self.max_length, int(cfg.get("max_position_embeddings", 512)))
        self.dim = int(cfg["hidden_size"])
        self._heads = int(cfg["num_attention_heads"])
        self._eps = float(cfg.get("layer_norm_eps", 1e-12))
        if threads and runtime == "numpy":
            _limit_blas(threads)
        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.enable_truncation(self.max_length)
        weights = folder / "model.safetensors"
        w = read_safetensors(weights)
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""

        def get(name: str) -> np.ndarray:
            return np.asarray(w[prefix + name], dtype=np.float32)

        self._word = get("embeddings.word_embeddings.weight")
        self._pos = get("embeddings.position_embeddings.weight")
        self._type0 = get("embeddings.token_type_embeddings.weight")[0]
        self._eln = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self.runtime = runtime
        self._layers = []
        self._stack = None
        if runtime == "numpy":
            self._layers = _layers(get, int(cfg["num_hidden_layers"]))
            return
        from knowledge import onnx_encoder
        from knowledge.onnx_encoder import BertLayer, OnnxBertStack, encoder_graph

        def graph() -> bytes:
            layers = [BertLayer(*layer) for layer in _layers(get, int(cfg["num_hidden_layers"]))]
            return encoder_graph(self._eln, layers, heads=self._heads, eps=self._eps, int8=int8)

        if cache is None:
            if not onnx_encoder.available():
                raise ModelError("the onnx backend needs onnxruntime and onnx: pip install onnxruntime onnx")
            self._stack = OnnxBertStack(graph(), threads=threads or 1)
        else:
            key = cache.fingerprint(sources=[weights, folder / "config.json"], code=[__file__, onnx_encoder.__file__],
                                    int8=int8)
            kind = cache.kind("bert", folder, "int8" if int8 else "f32")
            self._stack = OnnxBertStack(cache.load_or_build(kind, key, graph), threads=threads or 1)
        onnx_encoder.release_freed_memory()
        onnx_encoder.drop_mapped_pages(self._word)  # the file's layer pages, read once to build the session

    def tokenize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, mask), both (batch, longest) int64, padded with 0."""
        encs = self._tok.encode_batch(list(texts)) if len(texts) > 1 else [self._tok.encode(texts[0])]
        longest = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), longest), dtype=np.int64)
        mask = np.zeros((len(encs), longest), dtype=np.int64)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        return ids, mask

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """L2-normalised ``(len(texts), dim)`` float32 embeddings."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) <= batch_size:
            return self._encode(texts)
        # sort by length so batches pad little (as sentence-transformers does), then restore order
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._encode([texts[i] for i in idx])
        return out

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        ids, mask = self.tokenize(texts)
        x = self._word[ids] + self._pos[: ids.shape[1]] + self._type0
        if self._stack is not None:
            pooled = self._stack.pooled(x, mask)
        else:
            pooled = self._layers_pooled(x, mask)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled, dtype=np.float32)

    def _layers_pooled(self, x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The encoder layers in numpy: masked mean of the last layer for summed embeddings ``x``."""
        b, n, _ = x.shape
        h, d = self._heads, self.dim // self._heads
        x = _layer_norm(x, *self._eln, self._eps).reshape(b * n, self.dim)
        bias = None if mask.all() else ((1 - mask) * np.float32(-1e30)).astype(np.float32)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(d))
        for qkv_w, qkv_b, ao_w, ao_b, aln_w, aln_b, in_w, in_b, out_w, out_b, oln_w, oln_b in self._layers:
            qkv = (x @ qkv_w + qkv_b).reshape(b, n, 3, h, d)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            s = (q @ k) * scale
            if bias is not None:
                s = s + bias
            s -= s.max(-1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b * n, self.dim)
            x = _layer_norm(ctx @ ao_w + ao_b + x, aln_w, aln_b, self._eps)
            mid = x @ in_w
            mid += in_b
            gate = _erf(mid * np.float32(0.7071067811865476))
            gate += np.float32(1.0)
            mid *= gate
            mid *= np.float32(0.5)
            x = _layer_norm(mid @ out_w + out_b + x, oln_w, oln_b, self._eps)
        x = x.reshape(b, n, self.dim)
        m = mask[:, :, None].astype(np.float32)
        return (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
