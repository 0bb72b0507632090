"""Train, save, load, predict: the package's public functions.

Training writes the model file (and a scaler copy) and returns what the registry needs to
record it (``TrainResult.registration``); registering and loading *by version id* are the
registry's (``engine.registry.train_version`` / ``load_version``), so this package never
imports the registry.

>>> from engine.neural import TrainConfig, train_model, load_model_file, predict
>>> cfg = TrainConfig(symbol="SYN-TREND", model_type="lstm", epochs=5)
>>> res = train_model(cfg)                                        # doctest: +SKIP
>>> res.metrics["accuracy"], res.metrics["baseline_accuracy"]     # doctest: +SKIP
>>> predict(load_model_file(res.file_path, expected_hash=res.file_hash), data)  # doctest: +SKIP
    # → timestamp, prob_sell, prob_hold, prob_buy, label
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from engine.errors import DataError, StratLabError
from engine.neural import storage
from engine.neural.baseline import LogisticBaseline, majority_class
from engine.neural.config import CLASS_NAMES, TrainConfig
from engine.neural.dataset import (
    chronological_split,
    make_labels,
    prediction_ends,
)
from engine.neural.features import FEATURE_NAMES, WARMUP, compute_features
from engine.neural.metrics import accuracy, class_counts, classification_metrics
from engine.neural.scaler import Scaler
from engine.neural.strategy import backtest_signals, signals_from_labels, signals_from_proba

BACKTEST_KEYS_ON_VERSION = ("total_return_pct", "sharpe", "max_drawdown_pct", "win_rate_pct",
                            "n_trades", "buy_hold_return_pct")


def _thin_curve(xs: list, ys: list, most: int = 1000) -> dict[str, list]:
    """At most ``most`` points of a curve (every k-th, always the last) for the registry."""
    step = max(1, -(-len(ys) // most))
    idx = list(range(0, len(ys), step))
    if idx and idx[-1] != len(ys) - 1:
        idx.append(len(ys) - 1)
    return {"timestamp": [xs[i] for i in idx], "equity": [float(ys[i]) for i in idx]}


def _iso(ts: Any) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S") if isinstance(ts, datetime) else str(ts)


@dataclass
class TrainResult:
    """What one training run produced (``to_dict()`` is the ``train --json`` document)."""

    version_id: str | None
    model_name: str
    model_type: str
    device: str
    amp: bool
    epochs_run: int
    best_epoch: int
    stopped_early: bool
    seconds: float
    samples_per_second: float
    file_hash: str
    file_size: int
    file_path: str
    n_parameters: int
    config: dict[str, Any]
    split: dict[str, Any]
    class_counts: dict[str, dict[str, int]]
    metrics: dict[str, Any]
    backtest: dict[str, Any]
    baseline_backtest: dict[str, Any]
    buy_hold_return_pct: float
    history: list[dict[str, Any]]
    predictions: dict[str, list] = field(repr=False)
    equity: dict[str, list] = field(repr=False)
    #: ``register_version`` keyword arguments for this file (not part of ``to_dict()``)
    registration: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("registration", None)
        return d


@dataclass
class LoadedModel:
    """A model ready to predict: network (eval mode), scaler and its training config."""

    version_id: str | None
    model: Any
    config: TrainConfig
    arch: dict[str, Any]
    scaler: Scaler
    feature_names: tuple[str, ...]
    file_hash: str
    device: str = "cpu"


# ------------------------------------------------------------------------------ training

def _prepare(data: pl.DataFrame, cfg: TrainConfig):
    feats = compute_features(data)
    close = data.get_column("close").cast(pl.Float64).to_numpy()
    labels = make_labels(close, cfg.horizon, cfg.threshold)
    split = chronological_split(data.height, sequence_length=cfg.sequence_length,
                                horizon=cfg.horizon, val_fraction=cfg.val_fraction,
                                test_fraction=cfg.test_fraction)
    scaler = Scaler.fit(feats[WARMUP: split.train_end + 1])
    scaled = np.nan_to_num(scaler.transform(feats), nan=0.0)
    return feats, labels, split, scaler, scaled


def prepare(data: pl.DataFrame, cfg: TrainConfig) -> dict[str, Any]:
    """Features, labels, split and scaler exactly as training uses them (for inspection
    and the leakage tests): keys ``features``, ``labels``, ``split``, ``scaler``,
    ``scaled``."""
    feats, labels, split, scaler, scaled = _prepare(data, cfg)
    return {"features": feats, "labels": labels, "split": split, "scaler": scaler,
            "scaled": scaled}


def check_trained(epochs_run: int, best_epoch: int) -> None:
    """Refuse a run that trained nothing: no epoch completed, or no epoch with a finite
    validation loss (so no best checkpoint) — such a model must never be registered."""
    if epochs_run < 1:
        raise StratLabError("training completed no epoch, so there is no model to save or "
                            "register; set epochs to 1 or more (flag --epochs, env EPOCHS)")
    if best_epoch < 1:
        raise StratLabError(
            f"training ran {epochs_run} epoch(s) but the validation loss was never a finite "
            "number, so there is no checkpoint to save or register; lower the learning rate "
            "or check the data for gaps")


def train_model(cfg: TrainConfig, *, on_epoch=None,
                data: pl.DataFrame | None = None, pending: bool = False) -> TrainResult:
    """Train ``cfg.model_type`` on ``cfg.symbol``; evaluate, backtest and save the file.

    ``on_epoch(record)`` is called after every epoch with ``epoch``, ``train_loss``,
    ``val_loss``, ``train_acc``, ``val_acc``, ``seconds``, ``samples_per_second`` and
    ``best_epoch``; returning True stops training after that epoch (best weights kept).
    ``data`` overrides loading ``cfg.symbol`` (tests, notebooks). The result's
    ``version_id`` is None: ``engine.registry.train_version`` trains *and* registers.
    ``pending=True`` (the registry's) writes a marker beside the file first, so a file
    whose registration never happened (a kill) can be cleaned up later.

    A run that completed no epoch, or never produced a finite validation loss (no best
    checkpoint), raises :class:`~engine.errors.StratLabError` and writes no file.
    """
    import torch

    from engine.neural import training
    from engine.neural.models import build_model, count_parameters

    t0 = time.perf_counter()
    if data is None:
        from engine.market import load_dataset

        data = load_dataset(cfg.symbol, start=cfg.start, end=cfg.end)
    feats, labels, split, scaler, scaled = _prepare(data, cfg)
    device = training.resolve_device(cfg.device)
    arch = cfg.architecture()
    with training.seeded(cfg.seed):
        model = build_model(arch)
        fit = training.fit(model, scaled, labels, split, cfg, device=device,
                           on_epoch=on_epoch)
    check_trained(fit.epochs_run, fit.best_epoch)
    model = model.to("cpu").eval()
    cpu = torch.device("cpu")

    # test-period evaluation: the model, the logistic baseline and the majority class
    tr, te = split.indices("train"), split.indices("test")
    y_tr, y_te = labels[tr], labels[te]
    w = training.class_weights(y_tr)
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.as_tensor(w, dtype=torch.float32))
    src = training.WindowSource(scaled, labels, cfg.sequence_length, cpu)
    test_loss, _, _ = training.evaluate(model, src, te, loss_fn)
    bt_ends = np.arange(te[0], data.height, dtype=np.int64)  # to the last bar
    proba = training.predict_proba(model, scaled, bt_ends, cfg.sequence_length, cpu)
    pred = proba.argmax(axis=1)
    n_te = te.size
    metrics = classification_metrics(y_te, pred[:n_te])
    base = LogisticBaseline.fit(scaled[tr], y_tr, class_weights=w)
    base_pred = base.predict(scaled[bt_ends])
    maj = majority_class(y_tr)
    metrics.update({
        "baseline_accuracy": accuracy(y_te, base_pred[:n_te]),
        "baseline": classification_metrics(y_te, base_pred[:n_te]),
        "majority_class": CLASS_NAMES[maj],
        "majority_accuracy": accuracy(y_te, np.full(n_te, maj)),
        "val_loss": fit.best_val_loss,
        "test_loss": test_loss,
        "val_accuracy": fit.history[fit.best_epoch - 1]["val_acc"] if fit.best_epoch else None,
    })

    name = f"neural:{cfg.model_type}"
    bt = backtest_signals(data, int(te[0]), signals_from_proba(proba, cfg.prob_threshold),
                          name=name, commission=cfg.commission)
    bt_base = backtest_signals(data, int(te[0]), signals_from_labels(base_pred),
                               name="baseline:logistic", commission=cfg.commission)
    ts = data.get_column("timestamp")
    bt_ts = [_iso(t) for t in ts.gather(bt_ends).to_list()]
    true_lab = labels[bt_ends]
    predictions = {
        "timestamp": bt_ts,
        "close": data.get_column("close").gather(bt_ends).to_list(),
        "prob_sell": proba[:, 0].tolist(), "prob_hold": proba[:, 1].tolist(),
        "prob_buy": proba[:, 2].tolist(),
        "label": [CLASS_NAMES[i] for i in pred],
        "true_label": [CLASS_NAMES[i] if i >= 0 else None for i in true_lab],
        "baseline_label": [CLASS_NAMES[i] for i in base_pred],
    }
    equity = {"timestamp": bt_ts,
              "model": bt.equity.get_column("equity").to_list(),
              "baseline": bt_base.equity.get_column("equity").to_list(),
              "buy_hold": bt.equity.get_column("buy_hold_equity").to_list()}

    split_doc = {**split.to_dict(), "sizes": split.sizes(),
                 **{f"{p}_dates": [_iso(ts[getattr(split, p)[0]]),
                                   _iso(ts[getattr(split, p)[1]])]
                    for p in ("train", "val", "test")}}
    counts = {p: class_counts(labels[split.indices(p)]) for p in ("train", "val", "test")}

    # save the file, then register the version. The file name is built from the symbol
    # with storage.safe_stem, so a --data path never steers where the files go.
    cfg_doc = cfg.model_dump()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    fname = (f"{storage.safe_stem(cfg.symbol)}-{cfg.model_type}-{stamp}-"
             f"{int(time.time_ns() % 1_000_000):06d}")
    ckpt = storage.checkpoint(model, arch=arch, scaler=scaler, feature_names=FEATURE_NAMES,
                              config=cfg_doc)
    model_path = storage.model_file_path(fname)
    if pending:
        storage.mark_pending(model_path)  # cleared once registered (engine.maintenance)
    path, digest, size = storage.save_checkpoint(ckpt, model_path)
    storage.save_scaler_json(scaler, fname)
    perf = {"accuracy": metrics["accuracy"], "baseline_accuracy": metrics["baseline_accuracy"],
            "majority_accuracy": metrics["majority_accuracy"], "val_loss": fit.best_val_loss,
            "test_loss": test_loss, "samples_per_second": fit.samples_per_second,
            "baseline_return_pct": bt_base.metrics["total_return_pct"],
            "return_pct": bt.metrics["total_return_pct"],
            **{k: bt.metrics.get(k) for k in BACKTEST_KEYS_ON_VERSION},
            "equity_curve": _thin_curve(bt_ts, equity["model"])}
    registration = {
        "model_name": cfg.model_name(), "model_type": cfg.model_type, "file_path": path,
        "metadata": {"config": cfg_doc, "architecture": arch,
                     "features": list(FEATURE_NAMES), "scaler": scaler.to_dict(),
                     "split": split_doc, "class_counts": counts, "device": str(device),
                     "epochs_run": fit.epochs_run, "best_epoch": fit.best_epoch,
                     "history": fit.history},
        "performance_metrics": perf, "tags": [cfg.model_type, cfg.symbol],
        "description": f"{cfg.model_type} on {cfg.symbol}, horizon {cfg.horizon}, "
                       f"threshold {cfg.threshold:g}",
    }

    return TrainResult(
        version_id=None, model_name=cfg.model_name(), model_type=cfg.model_type,
        device=str(device), amp=fit.amp, epochs_run=fit.epochs_run, best_epoch=fit.best_epoch,
        stopped_early=fit.stopped_early, seconds=time.perf_counter() - t0,
        samples_per_second=fit.samples_per_second, file_hash=digest, file_size=size,
        file_path=str(path), n_parameters=count_parameters(model), config=cfg_doc,
        split=split_doc, class_counts=counts, metrics=metrics, backtest=bt.metrics,
        baseline_backtest=bt_base.metrics,
        buy_hold_return_pct=float(bt.metrics["buy_hold_return_pct"]),
        history=fit.history, predictions=predictions, equity=equity,
        registration=registration,
    )


# ------------------------------------------------------------------------------- loading

def load_model_file(path: Path, *, expected_hash: str | None = None,
                    version_id: str | None = None) -> LoadedModel:
    """Load a model file (hash-checked when ``expected_hash`` is given; weights only)."""
    from engine.neural.models import build_model

    ckpt = storage.load_checkpoint(Path(path), expected_hash)
    try:
        arch = dict(ckpt["arch"])
        cfg = TrainConfig(**ckpt["config"])
        model = build_model(arch)
        model.load_state_dict(ckpt["state_dict"])
        sc = ckpt["scaler"]
        scaler = Scaler(sc["mean"].numpy(), sc["std"].numpy(), float(sc["clip"]))
        names = tuple(ckpt["feature_names"])
    except StratLabError:
        raise
    except Exception as exc:
        raise storage.integrity_error(
            f"model file {path} does not match its architecture ({type(exc).__name__}: "
            f"{str(exc)[:200]}); retrain the model") from None
    if names != FEATURE_NAMES:
        raise StratLabError(f"model file {path} was trained on features {list(names)}, but "
                            f"this version computes {list(FEATURE_NAMES)}; retrain it")
    model.eval()
    digest = expected_hash or storage.sha256_file(Path(path))
    return LoadedModel(version_id=version_id, model=model, config=cfg, arch=arch,
                       scaler=scaler, feature_names=names, file_hash=digest)


# ---------------------------------------------------------------------------- prediction

def predict_proba(loaded: LoadedModel, data: pl.DataFrame, start: int = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Window-end bar indices (from ``start`` on, each with a full window) and their
    ``(n, 3)`` class probabilities."""
    import torch

    from engine.neural import training

    L = loaded.config.sequence_length
    ends = prediction_ends(data.height, L, start)
    if ends.size == 0:
        raise DataError(
            f"{data.height} bars are too few to predict: a window needs {WARMUP + L} bars "
            f"({WARMUP} of indicator warm-up and {L} in the window); pass more history")
    scaled = np.nan_to_num(loaded.scaler.transform(compute_features(data)), nan=0.0)
    proba = training.predict_proba(loaded.model, scaled, ends, L, torch.device("cpu"))
    return ends, proba


def predict(loaded: LoadedModel, data: pl.DataFrame) -> pl.DataFrame:
    """Class probabilities and predicted label for every bar with a full window.

    Columns ``timestamp``, ``prob_sell``, ``prob_hold``, ``prob_buy``, ``label``
    (``"sell"``/``"hold"``/``"buy"``); the row of bar ``t`` uses bars up to ``t`` only.
    """
    ends, proba = predict_proba(loaded, data)
    return pl.DataFrame({
        "timestamp": data.get_column("timestamp").gather(ends),
        "prob_sell": proba[:, 0], "prob_hold": proba[:, 1], "prob_buy": proba[:, 2],
        "label": [CLASS_NAMES[i] for i in proba.argmax(axis=1)],
    })
