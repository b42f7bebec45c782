"""Full fine-tuning of a transformer sentence classifier (``shopassist nlu train --mode finetune``).

``AutoModelForSequenceClassification`` on top of the packaged all-MiniLM-L6-v2 (or any local
folder / hub name the user can reach), trained with AdamW, linear warm-up and decay, gradient
clipping, a validation pass after every epoch, early stopping on validation macro-F1 and the best
checkpoint kept. Seeded: the same data, model and settings give the same weights on the same
device. Uses CUDA when present. The model folder holds the Hugging Face checkpoint under
``model/`` next to the ``meta.json`` written by :mod:`engine.nlu.training`.

Example:
    >>> cfg = FinetuneConfig(epochs=4)                                             # doctest: +SKIP
    >>> clf, report = finetune(train_texts, train_labels, valid_texts, valid_labels, cfg)  # doctest: +SKIP
    >>> clf.probabilities(["where is my card?"]).shape                              # doctest: +SKIP
"""

from __future__ import annotations

import math
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelError
from engine.nlu.training import macro_f1
from knowledge.embedders import resolve_model_path

__all__ = ["FinetuneConfig", "FinetunedClassifier", "finetune"]


@dataclass(frozen=True)
class FinetuneConfig:
    """Hyper-parameters of a fine-tuning run (defaults suit MiniLM on intent data)."""

    model: str = "all-MiniLM-L6-v2"
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-4
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    patience: int = 2
    max_length: int = 64
    seed: int = 13
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "max_length"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.patience < 1:
            raise ValueError(f"patience must be >= 1, got {self.patience}")


def _device(choice: str) -> str:
    import torch

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return choice


class FinetunedClassifier:
    """A fine-tuned sequence classifier: texts in, class probabilities out."""

    def __init__(self, model: Any, tokenizer: Any, labels: Sequence[str], *, max_length: int, device: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.labels = tuple(labels)
        self.max_length = max_length
        self.device = device

    def probabilities(self, texts: Sequence[str], *, batch_size: int = 128) -> np.ndarray:
        import torch

        self.model.eval()
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                enc = self.tokenizer(list(texts[i:i + batch_size]), padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt").to(self.device)
                out.append(torch.softmax(self.model(**enc).logits.float(), dim=-1).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), dtype=np.float32)

    def save(self, folder: Path) -> None:
        """Write the checkpoint to ``folder/model`` atomically (a half-written one never replaces it)."""
        tmp = folder / "model.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        self.model.save_pretrained(tmp, safe_serialization=True)
        self.tokenizer.save_pretrained(tmp)
        final = folder / "model"
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)

    @classmethod
    def load(cls, folder: Path, labels: Sequence[str], *, max_length: int = 64, device: str = "auto") -> "FinetunedClassifier":
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = folder / "model"
        if not (path / "config.json").exists():
            raise ModelError(f"{folder}: no fine-tuned checkpoint in model/; retrain it with `shopassist nlu train --mode finetune`")
        dev = _device(device)
        try:
            tok = AutoTokenizer.from_pretrained(path)
            model = AutoModelForSequenceClassification.from_pretrained(path).to(dev)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelError(f"{folder}: the fine-tuned checkpoint is corrupt ({exc}); retrain it") from exc
        if model.config.num_labels != len(labels):
            raise ModelError(f"{folder}: checkpoint has {model.config.num_labels} classes, meta.json {len(labels)}; retrain it")
        return cls(model, tok, labels, max_length=max_length, device=dev)


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def adamw(named_params: list[tuple[str, Any]], *, lr: float, weight_decay: float) -> Any:
    """AdamW over ``(name, parameter)`` pairs with decoupled weight decay on all but biases and
    LayerNorm weights (the usual exclusions for transformers)."""
    import torch

    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    return torch.optim.AdamW([
        {"params": [p for n, p in named_params if not n.endswith(no_decay)], "weight_decay": weight_decay},
        {"params": [p for n, p in named_params if n.endswith(no_decay)], "weight_decay": 0.0},
    ], lr=lr)


def finetune(
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    valid_texts: Sequence[str],
    valid_labels: Sequence[str],
    cfg: FinetuneConfig = FinetuneConfig(),
    *,
    workdir: Path | None = None,
    progress: bool = True,
) -> tuple[FinetunedClassifier, dict[str, Any]]:
    """Fine-tune and return the best-epoch classifier and a report (per-epoch loss and macro-F1).

    ``valid_*`` must hold only labels seen in training (out-of-scope rows are the caller's to
    drop). ``workdir`` keeps the best checkpoint on disk while training continues.
    """
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup
    from transformers.utils import logging as hf_logging

    if not train_texts or len(train_texts) != len(train_labels):
        raise ValueError("train texts and labels must be non-empty and of equal length")
    if not valid_texts:
        raise ValueError("fine-tuning needs validation rows for early stopping")
    labels = sorted(set(train_labels))
    if len(labels) < 2:
        raise ValueError("need at least two labels to train")
    unknown = set(valid_labels) - set(labels)
    if unknown:
        raise ValueError(f"validation labels never trained on: {', '.join(sorted(unknown)[:5])}")
    index = {lab: i for i, lab in enumerate(labels)}
    _seed_everything(cfg.seed)
    device = _device(cfg.device)
    path = resolve_model_path(cfg.model)  # the packaged MiniLM, a local folder or a hub name
    hf_logging.set_verbosity_error()  # "newly initialized classifier weights" is expected here
    try:
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=index,
            dtype=torch.float32,  # train in full precision whatever the checkpoint was saved in
        ).to(device)
    except OSError as exc:
        raise ModelError(f"cannot load {cfg.model!r} for fine-tuning: {exc}") from exc
    enc = tok(list(train_texts), truncation=True, max_length=cfg.max_length)
    y = np.array([index[lab] for lab in train_labels])
    opt = adamw(list(model.named_parameters()), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(y) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup_ratio * total), total)
    clf = FinetunedClassifier(model, tok, labels, max_length=cfg.max_length, device=device)
    vgold = [index[lab] for lab in valid_labels]
    rng = np.random.default_rng(cfg.seed)
    best_f1, best_epoch, bad, history = -1.0, 0, 0, []
    best_state: dict[str, torch.Tensor] | None = None
    t0 = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        order = rng.permutation(len(y))
        losses = []
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch}/{cfg.epochs}", disable=not progress, leave=False)
        for step in bar:
            idx = order[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            batch = tok.pad({k: [enc[k][i] for i in idx] for k in enc.keys()}, return_tensors="pt").to(device)
            out = model(**batch, labels=torch.as_tensor(y[idx], device=device))
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            losses.append(out.loss.item())
            if step % 20 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
        vpred = clf.probabilities(list(valid_texts)).argmax(1)
        f1 = macro_f1(vgold, list(vpred))
        acc = float(np.mean(np.asarray(vgold) == vpred))
        history.append({"epoch": epoch, "train_loss": round(float(np.mean(losses)), 4),
                        "valid_macro_f1": round(f1, 4), "valid_accuracy": round(acc, 4),
                        "elapsed_s": round(time.perf_counter() - t0, 1)})
        if progress:
            print(f"epoch {epoch}: loss {np.mean(losses):.4f}  valid macro-F1 {f1:.4f}  acc {acc:.4f}", flush=True)
        if f1 > best_f1:
            best_f1, best_epoch, bad = f1, epoch, 0
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            if workdir is not None:
                clf.save(workdir)
        else:
            bad += 1
            if bad >= cfg.patience:
                break
    assert best_state is not None
    model.load_state_dict(best_state)
    report = {"config": asdict(cfg), "device": device, "history": history, "best_epoch": best_epoch,
              "best_valid_macro_f1": round(best_f1, 4), "train_s": round(time.perf_counter() - t0, 1)}
    return clf, report
