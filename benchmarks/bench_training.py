#!/usr/bin/env python
"""Training speed (samples/s) and one-window inference latency of the neural models.

    python benchmarks/bench_training.py [--steps 200] [--threads N] [--json]

For each model at the seed's sizes — LSTM (input 10, hidden 128, 3 layers, 3 outputs) and
Transformer (input 10, d_model 128, 8 heads, 4 layers, feed-forward 256, 3 outputs) —
with batch 32 and windows of 60 bars of the real feature pipeline (SYN-TREND, scaled):

- **train samples/s**: ``--steps`` optimiser steps of the engine's own training step
  (class-weighted cross-entropy, AdamW, gradient clipping; AMP float16 with a GradScaler on
  CUDA), after ``--warmup`` untimed steps; samples/s = steps × batch / seconds;
- **inference latency**: one 60-bar window → probabilities, ``torch.inference_mode``, median
  and p95 of ``--repeat`` calls (batch of 1) after warm-up.

CPU figures always; CUDA figures too when a GPU is present (``torch.cuda.synchronize`` around
every timed region). Threads: ``--threads`` (default: torch's default for this machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _data(seq_len: int):
    import numpy as np

    from engine.market import load_dataset
    from engine.neural.dataset import first_window_end, make_labels
    from engine.neural.features import WARMUP, compute_features
    from engine.neural.scaler import Scaler

    df = load_dataset("SYN-TREND")
    f = compute_features(df)
    scaled = np.nan_to_num(Scaler.fit(f[WARMUP:]).transform(f), nan=0.0)
    y = make_labels(df["close"].to_numpy(), 5, 0.01)
    ends = np.arange(first_window_end(seq_len), df.height - 5)
    return scaled, y, ends


def bench(model_type: str, device_name: str, steps: int, warmup: int, repeat: int,
          batch: int = 32, seq_len: int = 60) -> dict:
    import numpy as np
    import torch
    from torch import nn

    from engine.neural.config import TrainConfig
    from engine.neural.models import build_model, count_parameters
    from engine.neural.training import WindowSource, class_weights

    device = torch.device(device_name)
    cfg = TrainConfig(symbol="SYN-TREND", model_type=model_type, sequence_length=seq_len,
                      batch_size=batch)
    torch.manual_seed(0)
    model = build_model(cfg.architecture()).to(device)
    scaled, y, ends = _data(seq_len)
    src = WindowSource(scaled, y, seq_len, device)
    loss_fn = nn.CrossEntropyLoss(weight=torch.as_tensor(class_weights(y[ends]),
                                                         dtype=torch.float32, device=device))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    gen = np.random.default_rng(0)
    batches = [torch.as_tensor(gen.choice(ends, batch), device=device)
               for _ in range(steps + warmup)]

    def step(idx):
        xb, yb = src.batch(idx)
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            loss = loss_fn(model(xb).float(), yb)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)

    def sync():
        if amp:
            torch.cuda.synchronize()

    model.train()
    for b in batches[:warmup]:
        step(b)
    sync()
    t0 = time.perf_counter()
    for b in batches[warmup:]:
        step(b)
    sync()
    train_s = time.perf_counter() - t0

    model.eval()
    window = src.batch(torch.as_tensor(ends[-1:], device=device))[0]
    lat = []
    with torch.inference_mode():
        for _ in range(10):
            torch.softmax(model(window), 1)
        sync()
        for _ in range(repeat):
            t = time.perf_counter()
            with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
                p = torch.softmax(model(window).float(), 1)
            p.cpu()
            lat.append(time.perf_counter() - t)
    lat.sort()
    return {"model": model_type, "device": str(device), "amp": amp,
            "parameters": count_parameters(model), "batch": batch, "seq_len": seq_len,
            "steps": steps, "train_seconds": train_s,
            "train_samples_per_s": steps * batch / train_s,
            "infer_ms_median": 1000 * statistics.median(lat),
            "infer_ms_p95": 1000 * lat[int(0.95 * (len(lat) - 1))],
            "threads": torch.get_num_threads()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--steps", type=int, default=200, help="timed training steps per model")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=200, help="timed inference calls")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--models", default="lstm,transformer")
    ap.add_argument("--no-cuda", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.no_cuda else [])
    rows = [bench(m, d, args.steps, args.warmup, args.repeat)
            for d in devices for m in args.models.split(",")]
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    gpu = f" · GPU {torch.cuda.get_device_name(0)}" if "cuda" in devices else " · no CUDA GPU"
    print(f"torch {torch.__version__} · {torch.get_num_threads()} CPU threads{gpu}")
    print(f"seed sizes, batch 32, 60-bar windows, {args.steps} timed steps\n")
    print(f"{'model':<12}{'device':<8}{'params':>9}{'train samples/s':>17}"
          f"{'1-window ms (median)':>22}{'p95 ms':>9}")
    for r in rows:
        dev = r["device"] + (" amp" if r["amp"] else "")
        print(f"{r['model']:<12}{dev:<8}{r['parameters']:>9,}{r['train_samples_per_s']:>17,.0f}"
              f"{r['infer_ms_median']:>22.2f}{r['infer_ms_p95']:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
