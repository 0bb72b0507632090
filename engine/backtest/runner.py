"""Run backtests: one parameter set, or a batch of them in one parallel kernel call.

>>> from engine.market import load_dataset
>>> from engine.backtest import run_backtest, BacktestSettings
>>> res = run_backtest(load_dataset("SYN-TREND"), "sma_cross", {"fast": 10, "slow": 30},
...                    BacktestSettings(stop_loss=0.05))
>>> res.metrics["sharpe"], len(res.trades)          # doctest: +SKIP

The Python layer validates and converts; all per-bar work happens in
:mod:`engine.backtest.kernel` (the shared bar step of :mod:`engine.backtest.step`). Settings
and result types live in :mod:`engine.backtest.results`, grid sweeps in
:mod:`engine.backtest.sweeps`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from engine.backtest import kernel
from engine.backtest.bank import IndicatorBank
from engine.backtest.enums import N_KERNEL_METRICS, N_STATS, new_trades
from engine.backtest.metrics import metrics_dict, metrics_dicts, periods_per_year
from engine.backtest.packing import BatchPlan, plan_batch, resolve_batch
from engine.backtest.results import BacktestResult, BacktestSettings, equity_frame, trades_frame
from engine.backtest.strategies import Strategy, get_strategy
from engine.errors import DataError, ParameterError
from engine.progress import ProgressCallback, report

__all__ = ["BacktestResult", "BacktestSettings", "BatchResult", "compute_signals",
           "ignore_before", "ohlcv_arrays", "run_backtest", "run_batch", "run_signals",
           "trade_levels"]


def require_bars(data: pl.DataFrame) -> None:
    """DataError unless the frame has the two bars a backtest needs."""
    if data.height < 2:
        raise DataError(
            f"a backtest needs at least 2 bars, got {data.height}; widen --start/--end"
        )


def ohlcv_arrays(data: pl.DataFrame) -> tuple[np.ndarray, ...]:
    """Contiguous float64 open, high, low, close, volume arrays of a canonical frame."""
    require_bars(data)
    # np.require(..., "W") copies read-only views, so every caller hands numba the same
    # array type and the kernels compile once (read-only arrays are a separate signature).
    return tuple(
        np.require(data.get_column(c).cast(pl.Float64).to_numpy(), np.float64, ("C", "W"))
        for c in ("open", "high", "low", "close", "volume")
    )


def trade_levels(strategy: Strategy, params: Mapping[str, Any], s: BacktestSettings
                  ) -> tuple[float, float, float]:
    """(stop-loss, take-profit, size) fractions for the kernel; 0 means off / all-in."""
    genes = strategy.trade_genes(params) if s.trade_genes else {}
    sl = s.stop_loss if s.stop_loss is not None else genes.get("stop_loss")
    tp = s.take_profit if s.take_profit is not None else genes.get("take_profit")
    size = s.size if s.size is not None else genes.get("size")
    return float(sl or 0.0), float(tp or 0.0), float(size or 0.0)


def compute_signals(data: pl.DataFrame, strat: Strategy, p: Mapping[str, Any]) -> np.ndarray:
    """The int8 signal array of one resolved parameter set on one frame."""
    bank = IndicatorBank.build(data, strat.indicator_keys(p))
    rows, vals = strat.pack(p, bank.index)
    c = np.require(data.get_column("close").cast(pl.Float64).to_numpy(), np.float64, ("C", "W"))
    v = np.require(data.get_column("volume").cast(pl.Float64).to_numpy(), np.float64, ("C", "W"))
    sig = np.empty(c.shape[0], np.int8)
    kernel.signals_nb(strat.kernel_id, bank.matrix, np.asarray(rows, np.int64),
                      np.asarray(vals, np.float64), c, v, sig)
    return sig


def run_backtest(
    data: pl.DataFrame,
    strategy: str,
    params: Mapping[str, Any] | None = None,
    settings: BacktestSettings | None = None,
) -> BacktestResult:
    """Backtest one parameter set of ``strategy`` on a canonical OHLCV frame."""
    settings = settings or BacktestSettings()
    strat = get_strategy(strategy)
    p = strat.resolve(params)
    sig = compute_signals(data, strat, p)
    sl, tp, size = trade_levels(strat, p, settings)
    return _simulate(data, sig, settings, sl, tp, size, strat.name, p)


def run_signals(
    data: pl.DataFrame,
    signals: np.ndarray,
    settings: BacktestSettings | None = None,
    *,
    name: str = "signals",
    params: Mapping[str, Any] | None = None,
) -> BacktestResult:
    """Backtest precomputed signals (+1 / -1 / 0 at each bar's close), e.g. a model's.

    The same kernel and semantics as :func:`run_backtest`; stops and size come from
    ``settings``. ``signals[t]`` must only use information up to bar ``t``.
    """
    settings = settings or BacktestSettings()
    sig = np.ascontiguousarray(np.asarray(signals), dtype=np.int8)
    if sig.shape != (data.height,):
        raise ParameterError(
            f"signals must have one value per bar ({data.height}), got shape {sig.shape}"
        )
    if not np.isin(sig, (-1, 0, 1)).all():
        raise ParameterError("signals must be -1, 0 or +1")
    return _simulate(data, sig, settings, settings.stop_loss or 0.0,
                     settings.take_profit or 0.0, settings.size or 0.0, name, dict(params or {}))


def ignore_before(data: pl.DataFrame, sig: np.ndarray, trade_start: Any) -> np.ndarray:
    """``sig`` with the signals of bars before ``trade_start`` set to 0 (a copy)."""
    if trade_start is None:
        return sig
    ts = data.get_column("timestamp").cast(pl.Datetime("us")).to_numpy()
    out = sig.copy()
    out[ts < np.datetime64(trade_start, "us")] = 0
    return out


def _simulate(data: pl.DataFrame, sig: np.ndarray, settings: BacktestSettings, sl: float,
              tp: float, size: float, name: str, params: dict[str, Any]) -> BacktestResult:
    sig = ignore_before(data, sig, settings.trade_start)
    o, h, lo, c, _ = ohlcv_arrays(data)
    eq = np.empty_like(c)
    pos = np.empty_like(c)
    stats = np.zeros(N_STATS)
    records = new_trades(int(np.count_nonzero(sig)) + 1)
    n_tr = kernel.simulate_nb(
        o, h, lo, c, sig, settings.allow_short, float(sl), float(tp), float(size),
        float(settings.cash), float(settings.commission), not settings.fractional, eq, pos,
        stats, True, records,
    )
    ts = data.get_column("timestamp")
    ppy = periods_per_year(ts)
    mrow = np.empty(N_KERNEL_METRICS)
    kernel.metrics_nb(eq, pos, stats, float(settings.cash), c, ppy, mrow)
    return BacktestResult(
        strategy=name,
        params=params,
        settings=settings,
        metrics=metrics_dict(mrow, ppy),
        trades=trades_frame(records[:n_tr], ts),
        equity=equity_frame(ts, c, eq, pos, settings.cash * c / c[0]),
        signals=sig,
    )


@dataclass
class BatchResult:
    """Metrics of many parameter sets of one strategy on one dataset."""

    strategy: str
    params: list[dict[str, Any]]
    metrics: np.ndarray  # (n_sets, n_kernel_metrics)
    periods_per_year: float
    seconds: float

    def metrics_of(self, i: int) -> dict[str, float | int]:
        return metrics_dict(self.metrics[i], self.periods_per_year)

    def all_metrics(self) -> list[dict[str, float | int]]:
        """``[metrics_of(i) for i in range(n)]``, converted in bulk."""
        return metrics_dicts(self.metrics, self.periods_per_year)

    def records(self) -> list[dict[str, Any]]:
        return [{"params": p, "metrics": self.metrics_of(i)} for i, p in enumerate(self.params)]


def run_batch(
    data: pl.DataFrame,
    strategy: str,
    param_sets: Sequence[Mapping[str, Any]],
    settings: BacktestSettings | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    chunk_size: int = 0,
    bank: IndicatorBank | None = None,
    validated: bool = False,
) -> BatchResult:
    """Evaluate many parameter sets in one compiled, parallel call per chunk.

    Each distinct indicator is computed once for the whole batch (the indicator bank).
    ``chunk_size`` > 0 splits the work so ``on_progress`` can report; 0 means one chunk.
    ``bank``: a bank built on this same ``data`` to reuse and grow (an evolution keeps one
    across generations); by default a fresh one is built. ``validated``: the parameter sets
    are already what :meth:`Strategy.resolve` returns (every parameter, typed, in range,
    constraints met — a sweep's grid, an evolution's repaired genes), so they are not
    checked again (a third of a genome batch's Python time).
    """
    batch = prepare_batch(data, strategy, param_sets, settings, bank=bank,
                          validated=validated)
    batch.run(on_progress=on_progress, chunk_size=chunk_size)
    return batch.result()


class PendingBatch:
    """A batch packed for the kernel (:func:`prepare_batch`): :meth:`run` is only compiled
    code — it releases the GIL, so another thread may run it while this one does other
    work (an evolution writes the previous generation meanwhile) — and :meth:`result`
    gives the metrics once it ran."""

    def __init__(self, strat: Strategy, resolved: list[dict[str, Any]], ppy: float,
                 args: tuple | None, t0: float, fills: Sequence[Callable[[], None]] = ()
                 ) -> None:
        self.strat, self.resolved, self.ppy, self.args, self.t0 = strat, resolved, ppy, args, t0
        self.fills = list(fills)  # the bank's new rows (IndicatorBank.ensure's deferred)
        self.out = np.empty((len(resolved), N_KERNEL_METRICS))

    def run(self, *, on_progress: ProgressCallback | None = None, chunk_size: int = 0
            ) -> None:
        """The bank's new indicator rows, then the compiled backtests, one call per chunk
        (``chunk_size`` > 0 reports progress). Run it once."""
        m, args, out = len(self.resolved), self.args, self.out
        fills, self.fills = self.fills, []
        for fill in fills:
            fill()
        if args is None:
            return
        kernel_id, matrix, rows, vals, ohlcv, tail, (sl, tp, size), head = args
        step = chunk_size if chunk_size > 0 else m
        for start in range(0, m, step):
            stop = min(m, start + step)
            call = (kernel_id, matrix, rows[start:stop], vals[start:stop], *ohlcv, head,
                    sl[start:stop], tp[start:stop], size[start:stop], *tail, out[start:stop])
            if (stop - start) * ohlcv[3].shape[0] < kernel.SERIAL_WORK:
                kernel.run_batch_serial_nb(*call)  # a small batch: no thread launch
            else:
                with kernel.PARALLEL_LOCK:
                    kernel.run_batch_nb(*call)
            report(on_progress, stop, m, f"{stop}/{m} backtests")

    def result(self) -> BatchResult:
        return BatchResult(self.strat.name, self.resolved, self.out, self.ppy,
                           time.perf_counter() - self.t0)


def prepare_batch(
    data: pl.DataFrame,
    strategy: str,
    param_sets: Sequence[Mapping[str, Any]],
    settings: BacktestSettings | None = None,
    *,
    bank: IndicatorBank | None = None,
    validated: bool = False,
    plan: BatchPlan | None = None,
) -> PendingBatch:
    """:func:`run_batch` up to the kernel: the sets resolved, the indicators they need in
    the bank, the kernel's arrays packed. Raises for bad input as ``run_batch`` does.
    ``plan``: the sets' :func:`~engine.backtest.packing.plan_batch` under ``settings``,
    made once for several windows of the same sets (``param_sets`` is then not read)."""
    t0 = time.perf_counter()
    settings = settings or BacktestSettings()
    strat = get_strategy(strategy)
    require_bars(data)
    if plan is None:
        resolved, cols = resolve_batch(strat, param_sets, validated=validated)
        if resolved:
            plan = plan_batch(strat, resolved, cols, settings)
    if plan is None or not plan.params:
        return PendingBatch(strat, [], periods_per_year(data.get_column("timestamp")), None,
                            t0)
    resolved = plan.params
    if bank is None:
        bank = IndicatorBank.build(data, [])
    fills: list = []  # the new indicator rows, computed by run() with the backtests
    packed = plan.pack(lambda keys: bank.rows_of(data, keys, deferred=fills))
    # converted once per bank: an evolution's bank serves every generation of a window
    ohlcv = bank.memo(data, "ohlcv", lambda: ohlcv_arrays(data))
    ppy = bank.memo(data, "ppy", lambda: periods_per_year(data.get_column("timestamp")))
    args = (strat.kernel_id, bank.matrix, packed.rows, packed.vals, ohlcv,
            (float(settings.cash), float(settings.commission), not settings.fractional, ppy),
            (packed.sl, packed.tp, packed.size), settings.allow_short)
    return PendingBatch(strat, resolved, ppy, args, t0, fills)
