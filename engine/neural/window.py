"""A model evaluated on a window of bars: the numbers the registry and auto-retrain act on.

Both :mod:`engine.registry` (a deployment's snapshot, recomputed equity curves) and
:mod:`engine.retrain` (monitoring, the quality gate) evaluate a model on "the newest bars of
its dataset". They share this one module so they measure the same thing, and so the
dependency points one way (retrain → registry → neural).

- :func:`training_config` — the training configuration a registered version carries;
- :func:`newest_window` / :func:`last_bars_window` — the bars to evaluate on, plus the
  ``WARMUP + sequence_length`` bars of history the first prediction needs;
- :func:`evaluate_window` — accuracy and strategy return of a loaded model on a window;
- :func:`score_predictions` — the same numbers from class probabilities (no model needed);
- :func:`window_equity` — the strategy's equity curve on a window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import polars as pl

from engine.errors import DataError, StratLabError
from engine.neural.dataset import make_labels
from engine.neural.features import WARMUP
from engine.neural.metrics import accuracy
from engine.neural.strategy import backtest_signals, signals_from_proba

#: The seed's monitoring window: the newest 7 days, at least 100 bars.
DEFAULT_WINDOW_DAYS = 7.0
DEFAULT_MIN_WINDOW_BARS = 100


def training_config(version_id: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata["config"]`` of a registered version (needs at least a ``symbol``)."""
    cfg = metadata.get("config")
    if not isinstance(cfg, dict) or not cfg.get("symbol"):
        raise StratLabError(
            f"version {version_id} has no training configuration (metadata['config'] "
            "with a symbol), so it cannot be monitored or retrained; retrain it from the "
            "Neural Models page")
    return dict(cfg)


def context_bars(cfg: Mapping[str, Any]) -> int:
    """Bars of history the first prediction needs: indicator warm-up plus one window."""
    return int(WARMUP) + int(cfg.get("sequence_length") or 60)


@dataclass(frozen=True)
class Window:
    """The evaluated bars ``data[start:]`` of a dataset, with the history before them."""

    data: pl.DataFrame  # the full dataset
    start: int  # index of the window's first bar
    eval_data: pl.DataFrame  # the window plus the bars the first prediction needs before it

    @property
    def n_bars(self) -> int:
        return self.data.height - self.start

    @property
    def start_time(self) -> Any:
        return self.data["timestamp"][self.start]

    def bounds(self) -> dict[str, Any]:
        ts = self.data["timestamp"]
        return {"window_start": ts[self.start].isoformat(), "window_end": ts[-1].isoformat(),
                "window_bars": self.n_bars}


def _window(data: pl.DataFrame, start: int, cfg: Mapping[str, Any]) -> Window:
    return Window(data=data, start=start,
                  eval_data=data.slice(max(0, start - context_bars(cfg))))


def newest_window(cfg: Mapping[str, Any], *, window_days: float = DEFAULT_WINDOW_DAYS,
                  min_bars: int = DEFAULT_MIN_WINDOW_BARS,
                  data: pl.DataFrame | None = None) -> Window:
    """The newest ``window_days`` of the version's dataset (at least ``min_bars`` bars).

    ``data`` overrides loading ``cfg["symbol"]`` (tests, notebooks).
    """
    if data is None:
        from engine.market import load_dataset

        data = load_dataset(cfg["symbol"])
    ts = data["timestamp"]
    cutoff = ts[-1] - timedelta(days=window_days)
    n_recent = int((ts > cutoff).sum())
    n = min(max(n_recent, min_bars), data.height)
    return _window(data, data.height - n, cfg)


def last_bars_window(cfg: Mapping[str, Any], n_bars: int,
                     data: pl.DataFrame | None = None) -> Window:
    """The last ``n_bars`` bars of the version's dataset (all of it when shorter)."""
    if data is None:
        from engine.market import load_dataset

        data = load_dataset(cfg["symbol"])
    return _window(data, max(0, data.height - n_bars), cfg)


def _first_index(data: pl.DataFrame, start: Any) -> int:
    if start is None:
        return 0
    ts = data.get_column("timestamp")
    lit = pl.lit(start).cast(ts.dtype) if not isinstance(start, str) else pl.lit(
        start).str.to_datetime(time_unit="us")
    first = int(data.select((pl.col("timestamp") < lit).sum()).item())
    if first >= data.height:
        raise DataError(f"no bars on or after {start}; widen the data window")
    return first


def score_predictions(data: pl.DataFrame, ends: np.ndarray, proba: np.ndarray, *,
                      horizon: int, threshold: float, prob_threshold: float = 0.0,
                      commission: float = 0.0, name: str = "neural") -> dict[str, Any]:
    """Accuracy and strategy return of class probabilities ``proba`` (one row per bar in
    ``ends``, consecutive, to the last bar of ``data``).

    ``accuracy`` is over the ``n`` bars whose label (``make_labels``) is known — ``None``
    if none; ``return_pct`` is the strategy's return (``signals_from_proba`` through
    ``run_signals``, the backtester's kernel) over the bars from ``ends[0]`` on.
    """
    ends = np.asarray(ends, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    close = data.get_column("close").cast(pl.Float64).to_numpy()
    labels = make_labels(close, horizon, threshold)[ends]
    known = labels >= 0
    pred = proba.argmax(axis=1)
    acc = accuracy(labels[known], pred[known]) if known.any() else None
    bt = backtest_signals(data, int(ends[0]), signals_from_proba(proba, prob_threshold),
                          name=name, commission=commission)
    return {"accuracy": acc, "return_pct": float(bt.metrics["total_return_pct"]),
            "n": int(known.sum()), "n_bars": int(ends.size),
            "buy_hold_return_pct": float(bt.metrics["buy_hold_return_pct"])}


def evaluate_window(loaded: Any, data: pl.DataFrame, *, start: Any = None) -> dict[str, Any]:
    """Accuracy and strategy return of a loaded model on a window of bars.

    ``loaded`` is a :class:`~engine.neural.pipeline.LoadedModel` (load a registered version
    with ``engine.registry.load_version``). ``data`` should include enough history before
    the window for the first window (``WARMUP + sequence_length`` bars); ``start`` (a
    timestamp or date; default: the first bar with a full window) marks where the evaluated
    window begins. Returns ``{"accuracy", "return_pct", "n", "buy_hold_return_pct",
    "n_bars"}`` (see :func:`score_predictions`).
    """
    from engine.neural.pipeline import predict_proba

    ends, proba = predict_proba(loaded, data, _first_index(data, start))
    cfg = loaded.config
    return score_predictions(data, ends, proba, horizon=cfg.horizon, threshold=cfg.threshold,
                             prob_threshold=cfg.prob_threshold, commission=cfg.commission,
                             name=f"neural:{cfg.model_type}")


def window_equity(loaded: Any, data: pl.DataFrame, start: Any) -> dict[str, list]:
    """The loaded model's strategy equity on ``data``'s bars from ``start`` on, as
    ``{"x": [iso times], "y": [equity]}`` (for versions whose metrics store no curve)."""
    from engine.neural.pipeline import predict_proba

    first_wanted = _first_index(data, start)
    ends, proba = predict_proba(loaded, data, first_wanted)
    if ends.size == 0:
        raise StratLabError(f"no predictions of {loaded.version_id} on or after {start}")
    first = int(ends[0])
    bt = backtest_signals(data, first,
                          signals_from_proba(proba, loaded.config.prob_threshold),
                          name=f"neural:{loaded.version_id}",
                          commission=loaded.config.commission)
    eq = bt.equity
    xs = eq["timestamp"] if "timestamp" in eq.columns else data["timestamp"].slice(first)
    return {"x": [t.isoformat() for t in xs.to_list()],
            "y": [float(v) for v in eq["equity"].to_list()]}
