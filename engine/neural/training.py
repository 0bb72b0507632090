"""The training loop: device, seeding, class-weighted loss, AMP, accumulation, early stop.

- **Device**: ``"auto"`` picks CUDA when ``torch.cuda.is_available()``, else the CPU.
- **Reproducible on the CPU**: :func:`seeded` seeds Python, NumPy and torch, turns on
  ``torch.use_deterministic_algorithms`` (warn-only) for the duration and restores the
  previous setting afterwards; batches are shuffled by a seeded ``torch.Generator``. The
  same config, data and thread count give the same weights bit for bit on the CPU.
- **Loss**: cross-entropy weighted by inverse class frequency in the training part
  (``w_c = n / (3 · n_c)``; a class absent from training gets weight 0).
- **Mixed precision** on CUDA only: ``torch.autocast(float16)`` with a
  ``torch.amp.GradScaler``; on the CPU both are disabled and training is float32.
- **Gradient accumulation**: ``grad_accum_steps`` micro-batches of ``batch_size`` per
  optimiser step (AdamW, gradient norm clipped at 1.0).
- **Early stopping** on the validation loss (``patience`` epochs without improvement);
  the best epoch's weights are restored.
- **Speed**: samples/s = training samples processed / time spent in training steps.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.errors import ParameterError
from engine.neural.dataset import Split

EpochCallback = Callable[[dict[str, Any]], bool | None]


def set_torch_threads(threads: int | None = None) -> int:
    """Give torch ``threads`` CPU threads (default: every core but one, at least one, so the
    app's UI keeps a core). Call once at process start; returns the number set."""
    import os

    n = threads or max(1, (os.cpu_count() or 2) - 1)
    torch.set_num_threads(n)
    return n


# torch is loaded lazily (first model use); when it is, leave a core for the app's UI.
# An explicit set_torch_threads(n) later (the training subprocess, --threads) overrides it.
set_torch_threads()


def resolve_device(pref: str = "auto") -> torch.device:
    if pref == "cuda":
        if not torch.cuda.is_available():
            raise ParameterError("device 'cuda' was asked for but no CUDA GPU is available; "
                                 "use --device auto or cpu")
        return torch.device("cuda")
    if pref == "cpu":
        return torch.device("cpu")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed every RNG and use deterministic algorithms inside the block."""
    prev = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    prev_bench = torch.backends.cudnn.benchmark
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev, warn_only=prev_warn)
        torch.backends.cudnn.benchmark = prev_bench


def class_weights(y: np.ndarray, k: int = 3) -> np.ndarray:
    counts = np.bincount(np.asarray(y, np.int64), minlength=k).astype(np.float64)
    n = counts.sum()
    return np.where(counts > 0, n / (k * np.maximum(counts, 1)), 0.0)


class WindowSource:
    """Batches of windows gathered on the fly from one ``(n_bars, F)`` feature tensor."""

    def __init__(self, features: np.ndarray, labels: np.ndarray, seq_len: int,
                 device: torch.device) -> None:
        self.x = torch.as_tensor(np.nan_to_num(features, nan=0.0), dtype=torch.float32,
                                 device=device)
        self.y = torch.as_tensor(np.asarray(labels, np.int64), device=device)
        self.offs = torch.arange(-seq_len + 1, 1, device=device)
        self.device = device

    def batch(self, ends: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[ends[:, None] + self.offs[None, :]], self.y[ends]


@dataclass
class FitResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    epochs_run: int = 0
    best_epoch: int = 0
    best_val_loss: float = float("inf")
    stopped_early: bool = False
    stopped_by_request: bool = False
    train_seconds: float = 0.0
    seconds: float = 0.0
    samples: int = 0
    device: str = "cpu"
    amp: bool = False

    @property
    def samples_per_second(self) -> float:
        return self.samples / self.train_seconds if self.train_seconds > 0 else 0.0


def _autocast(device: torch.device, amp: bool):
    return torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp)


@torch.no_grad()
def evaluate(model: nn.Module, src: WindowSource, ends: np.ndarray, loss_fn: nn.Module,
             *, amp: bool = False, batch_size: int = 1024) -> tuple[float, float, np.ndarray]:
    """(mean loss, accuracy, probabilities) of ``model`` on the windows ending at ``ends``."""
    model.eval()
    ends_t = torch.as_tensor(np.asarray(ends, np.int64), device=src.device)
    total, correct, n = 0.0, 0, 0
    probs = []
    for i in range(0, ends_t.numel(), batch_size):
        xb, yb = src.batch(ends_t[i:i + batch_size])
        with _autocast(src.device, amp):
            logits = model(xb)
        logits = logits.float()
        total += float(loss_fn(logits, yb)) * yb.numel()
        correct += int((logits.argmax(1) == yb).sum())
        n += yb.numel()
        probs.append(torch.softmax(logits, 1).cpu())
    p = torch.cat(probs).numpy().astype(np.float64) if probs else np.empty((0, 3))
    return (total / n if n else float("nan")), (correct / n if n else float("nan")), p


def fit(model: nn.Module, features: np.ndarray, labels: np.ndarray, split: Split, cfg, *,
        device: torch.device, on_epoch: EpochCallback | None = None) -> FitResult:
    """Train ``model`` on the split's training windows; keep the best validation epoch."""
    t_start = time.perf_counter()
    amp = device.type == "cuda"
    model.to(device)
    src = WindowSource(features, labels, cfg.sequence_length, device)
    train_ends = split.indices("train")
    val_ends = split.indices("val")
    w = torch.as_tensor(class_weights(labels[train_ends]), dtype=torch.float32, device=device)
    loss_fn = nn.CrossEntropyLoss(weight=w)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate,
                            weight_decay=cfg.weight_decay)
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    gen = torch.Generator().manual_seed(cfg.seed)
    train_t = torch.as_tensor(train_ends, device=device)
    res = FitResult(device=str(device), amp=amp)
    best_state: dict[str, torch.Tensor] | None = None
    bad_epochs = 0
    accum = cfg.grad_accum_steps
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(train_t.numel(), generator=gen).to(device)
        tot_loss, tot_correct, seen = 0.0, 0, 0
        opt.zero_grad(set_to_none=True)
        n_batches = (train_t.numel() + cfg.batch_size - 1) // cfg.batch_size
        for b in range(n_batches):
            xb, yb = src.batch(train_t[perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]])
            with _autocast(device, amp):
                logits = model(xb)
                loss = loss_fn(logits.float(), yb)
            scaler.scale(loss / accum).backward()
            if (b + 1) % accum == 0 or b + 1 == n_batches:
                scaler.unscale_(opt)
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(opt)
                scaler.update()
                opt.zero_grad(set_to_none=True)
            tot_loss += float(loss.detach()) * yb.numel()
            tot_correct += int((logits.detach().argmax(1) == yb).sum())
            seen += yb.numel()
        if device.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        res.train_seconds += dt
        res.samples += seen
        val_loss, val_acc, _ = evaluate(model, src, val_ends, loss_fn, amp=amp)
        rec = {"epoch": epoch, "train_loss": tot_loss / seen, "val_loss": val_loss,
               "train_acc": tot_correct / seen, "val_acc": val_acc, "seconds": dt,
               "samples_per_second": seen / dt if dt > 0 else 0.0}
        res.history.append(rec)
        res.epochs_run = epoch
        if val_loss < res.best_val_loss - 1e-6:
            res.best_val_loss, res.best_epoch, bad_epochs = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad_epochs += 1
        if on_epoch is not None and on_epoch(dict(rec, best_epoch=res.best_epoch)):
            res.stopped_by_request = True
            break
        if bad_epochs >= cfg.patience:
            res.stopped_early = epoch < cfg.epochs
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    res.seconds = time.perf_counter() - t_start
    return res


@torch.no_grad()
def predict_proba(model: nn.Module, features: np.ndarray, ends: np.ndarray, seq_len: int,
                  device: torch.device, *, batch_size: int = 1024) -> np.ndarray:
    """``(len(ends), 3)`` class probabilities for the windows ending at ``ends``."""
    dummy = np.zeros(features.shape[0], np.int64)
    src = WindowSource(features, dummy, seq_len, device)
    model.eval().to(device)
    out = []
    ends_t = torch.as_tensor(np.asarray(ends, np.int64), device=device)
    for i in range(0, ends_t.numel(), batch_size):
        xb, _ = src.batch(ends_t[i:i + batch_size])
        with _autocast(device, device.type == "cuda"):
            logits = model(xb)
        out.append(torch.softmax(logits.float(), 1).cpu())
    return torch.cat(out).numpy().astype(np.float64) if out else np.empty((0, 3))
