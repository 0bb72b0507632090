"""Run backtests: one parameter set, a batch of them, or a grid sweep.

>>> from engine.market import load_dataset
>>> from engine.backtest import run_backtest, BacktestSettings
>>> res = run_backtest(load_dataset("SYN-TREND"), "sma_cross", {"fast": 10, "slow": 30},
...                    BacktestSettings(stop_loss=0.05))
>>> res.metrics["sharpe"], len(res.trades)          # doctest: +SKIP

The Python layer validates and converts; all per-bar work happens in
:mod:`engine.backtest.kernel`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from engine.backtest import kernel
from engine.backtest.bank import IndicatorBank
from engine.backtest.metrics import metrics_dict, periods_per_year
from engine.backtest.strategies import Strategy, get_strategy
from engine.errors import DataError, ParameterError
from engine.progress import ProgressCallback, report


@dataclass(frozen=True)
class BacktestSettings:
    """How trades are executed. ``None`` for stops/size means off / all-in.

    For the ``genome`` strategy, stop-loss, take-profit and size default to its genes;
    a value given here overrides the gene.
    """

    cash: float = 10_000.0
    commission: float = 0.0
    stop_loss: float | None = None
    take_profit: float | None = None
    size: float | None = None
    allow_short: bool = False
    fractional: bool = False

    def __post_init__(self) -> None:
        if not (np.isfinite(self.cash) and self.cash > 0):
            raise ParameterError(f"cash must be a positive amount, got {self.cash!r}")
        if not 0 <= self.commission < 0.1:
            raise ParameterError(
                f"commission is a fraction of traded value in [0, 0.1), got {self.commission!r}"
                " (0.001 means 0.1 %)"
            )
        for name in ("stop_loss", "take_profit"):
            v = getattr(self, name)
            if v is not None and not 0 < v < 1:
                raise ParameterError(
                    f"{name} is a fraction of the fill price in (0, 1), got {v!r} "
                    "(0.05 means 5 %)"
                )
        if self.size is not None and not 0 < self.size <= 1:
            raise ParameterError(
                f"size is a fraction of equity in (0, 1], got {self.size!r} (0.1 means 10 %)"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BacktestResult:
    """Everything one backtest produced."""

    strategy: str
    params: dict[str, Any]
    settings: BacktestSettings
    metrics: dict[str, float | int]
    trades: pl.DataFrame
    equity: pl.DataFrame  # timestamp, close, equity, drawdown_pct, position, buy_hold_equity
    signals: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The ``backtest --json`` document (ISO-8601 times)."""
        trades = self.trades.with_columns(
            pl.col("entry_time").dt.to_string("%Y-%m-%dT%H:%M:%S"),
            pl.col("exit_time").dt.to_string("%Y-%m-%dT%H:%M:%S"),
        ).to_dicts()
        return {
            "strategy": self.strategy,
            "params": self.params,
            "settings": self.settings.to_dict(),
            "metrics": self.metrics,
            "trades": trades,
        }


TRADE_SCHEMA = {
    "entry_time": pl.Datetime("us"),
    "exit_time": pl.Datetime("us"),
    "entry_price": pl.Float64,
    "exit_price": pl.Float64,
    "size": pl.Float64,
    "pnl": pl.Float64,
    "return_pct": pl.Float64,
    "exit_reason": pl.Utf8,
    "commission": pl.Float64,
    "bars_held": pl.Int64,
}


def ohlcv_arrays(data: pl.DataFrame) -> tuple[np.ndarray, ...]:
    """Contiguous float64 open, high, low, close, volume arrays of a canonical frame."""
    if data.height < 2:
        raise DataError(
            f"a backtest needs at least 2 bars, got {data.height}; widen --start/--end"
        )
    # np.require(..., "W") copies read-only views, so every caller hands numba the same
    # array type and the kernels compile once (read-only arrays are a separate signature).
    return tuple(
        np.require(data.get_column(c).cast(pl.Float64).to_numpy(), np.float64, ("C", "W"))
        for c in ("open", "high", "low", "close", "volume")
    )


def trade_levels(strategy: Strategy, params: Mapping[str, Any], s: BacktestSettings
                  ) -> tuple[float, float, float]:
    """(stop-loss, take-profit, size) fractions for the kernel; 0 means off / all-in."""
    genes = strategy.trade_genes(params)
    sl = s.stop_loss if s.stop_loss is not None else genes.get("stop_loss")
    tp = s.take_profit if s.take_profit is not None else genes.get("take_profit")
    size = s.size if s.size is not None else genes.get("size")
    return float(sl or 0.0), float(tp or 0.0), float(size or 0.0)


def trades_frame(records: np.ndarray, ts: pl.Series,
                 symbols: Sequence[str] | None = None) -> pl.DataFrame:
    """Kernel trade records as a frame; with ``symbols``, a leading ``symbol`` column."""
    schema = ({"symbol": pl.Utf8} | TRADE_SCHEMA) if symbols else TRADE_SCHEMA
    if records.shape[0] == 0:
        return pl.DataFrame(schema=schema)
    extra = ({"symbol": [symbols[int(k)] for k in records[:, kernel.T_SYMBOL]]}
             if symbols else {})
    entry = records[:, kernel.T_ENTRY_BAR].astype(np.int64)
    exit_ = records[:, kernel.T_EXIT_BAR].astype(np.int64)
    return pl.DataFrame(
        {
            **extra,
            "entry_time": ts.gather(entry),
            "exit_time": ts.gather(exit_),
            "entry_price": records[:, kernel.T_ENTRY_PRICE],
            "exit_price": records[:, kernel.T_EXIT_PRICE],
            "size": records[:, kernel.T_SIZE],
            "pnl": records[:, kernel.T_PNL],
            "return_pct": records[:, kernel.T_RETURN] * 100.0,
            "exit_reason": [kernel.EXIT_REASONS[int(r)] for r in records[:, kernel.T_REASON]],
            "commission": records[:, kernel.T_COMM],
            "bars_held": exit_ - entry,
        },
        schema=schema,
    )


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


def _simulate(data: pl.DataFrame, sig: np.ndarray, settings: BacktestSettings, sl: float,
              tp: float, size: float, name: str, params: dict[str, Any]) -> BacktestResult:
    o, h, l, c, _ = ohlcv_arrays(data)
    eq = np.empty_like(c)
    pos = np.empty_like(c)
    stats = np.zeros(8)
    records = np.empty((int(np.count_nonzero(sig)) + 1, kernel.N_TRADE_FIELDS))
    n_tr = kernel.simulate_nb(
        o, h, l, c, sig, settings.allow_short, float(sl), float(tp), float(size),
        float(settings.cash), float(settings.commission), not settings.fractional, eq, pos,
        stats, True, records,
    )
    ppy = periods_per_year(data.get_column("timestamp"))
    mrow = np.empty(kernel.N_KERNEL_METRICS)
    kernel.metrics_nb(eq, pos, stats, float(settings.cash), c, ppy, mrow)
    ts = data.get_column("timestamp")
    peak = np.maximum.accumulate(eq)
    equity = pl.DataFrame({
        "timestamp": ts,
        "close": c,
        "equity": eq,
        "drawdown_pct": np.where(peak > 0, (eq / np.where(peak > 0, peak, 1.0) - 1.0) * 100.0,
                                 -100.0),
        "position": pos,
        "buy_hold_equity": settings.cash * c / c[0],
    })
    return BacktestResult(
        strategy=name,
        params=params,
        settings=settings,
        metrics=metrics_dict(mrow, ppy),
        trades=trades_frame(records[:n_tr], ts),
        equity=equity,
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
    _resolved: bool = False,
) -> BatchResult:
    """Evaluate many parameter sets in one compiled, parallel call per chunk.

    Each distinct indicator is computed once for the whole batch (the indicator bank).
    ``chunk_size`` > 0 splits the work so ``on_progress`` can report; 0 means one chunk.
    ``bank``: a bank built on this same ``data`` to reuse and grow (an evolution keeps one
    across generations); by default a fresh one is built.
    """
    t0 = time.perf_counter()
    settings = settings or BacktestSettings()
    strat = get_strategy(strategy)
    resolved = list(param_sets) if _resolved else [strat.resolve(p) for p in param_sets]
    o, h, l, c, v = ohlcv_arrays(data)
    ppy = periods_per_year(data.get_column("timestamp"))
    m = len(resolved)
    out = np.empty((m, kernel.N_KERNEL_METRICS))
    if m == 0:
        return BatchResult(strat.name, [], out, ppy, 0.0)
    keys = itertools.chain.from_iterable(strat.indicator_keys(p) for p in resolved)
    if bank is None:
        bank = IndicatorBank.build(data, keys)
    else:
        bank.ensure(data, keys)
    packed = [strat.pack(p, bank.index) for p in resolved]
    width_r = max(len(r) for r, _ in packed) or 1
    width_v = max(len(v) for _, v in packed) or 1
    rows = np.zeros((m, width_r), np.int64)
    vals = np.zeros((m, width_v), np.float64)
    for i, (r, vv) in enumerate(packed):
        rows[i, : len(r)] = r
        vals[i, : len(vv)] = vv
    levels = np.array([trade_levels(strat, p, settings) for p in resolved], np.float64)
    sl, tp, size = (np.ascontiguousarray(levels[:, k]) for k in range(3))
    step = chunk_size if chunk_size > 0 else m
    for start in range(0, m, step):
        stop = min(m, start + step)
        with kernel.PARALLEL_LOCK:
            kernel.run_batch_nb(
                strat.kernel_id, bank.matrix, rows[start:stop], vals[start:stop], o, h, l, c,
                v, settings.allow_short, sl[start:stop], tp[start:stop], size[start:stop],
                float(settings.cash), float(settings.commission), not settings.fractional,
                ppy, out[start:stop],
            )
        report(on_progress, stop, m, f"{stop}/{m} backtests")
    return BatchResult(strat.name, resolved, out, ppy, time.perf_counter() - t0)


# ------------------------------------------------------------------------------------------
# Sweeps
# ------------------------------------------------------------------------------------------
def parse_grid(spec: str) -> tuple[str, list[int | float]]:
    """``KEY=START:STOP[:STEP]`` → (key, values), both ends included.

    Integers stay integers (``fast=5:24`` is 20 values); any float part makes a float grid
    (``std=1.5:3.0:0.5`` is 1.5, 2.0, 2.5, 3.0). A single value ``KEY=V`` is a one-point grid.
    """
    if "=" not in spec:
        raise ParameterError(f"grid {spec!r} must look like KEY=START:STOP[:STEP], e.g. fast=5:24")
    key, rng = spec.split("=", 1)
    parts = rng.split(":")
    if not 1 <= len(parts) <= 3 or not key:
        raise ParameterError(f"grid {spec!r} must look like KEY=START:STOP[:STEP], e.g. fast=5:24")
    try:
        nums = [float(x) for x in parts]
    except ValueError:
        raise ParameterError(f"grid {spec!r}: START, STOP and STEP must be numbers") from None
    if len(nums) == 1:
        nums = [nums[0], nums[0], 1.0]
    elif len(nums) == 2:
        nums.append(1.0)
    a, b, step = nums
    if step <= 0 or b < a:
        raise ParameterError(f"grid {spec!r} needs START <= STOP and a positive STEP")
    is_int = all(x == int(x) for x in nums) and "." not in rng
    count = int(np.floor((b - a) / step + 1e-9)) + 1
    if count > 1_000_000:
        raise ParameterError(f"grid {spec!r} has {count} values; use a coarser STEP")
    values = [a + i * step for i in range(count)]
    if is_int:
        return key.strip(), [int(round(x)) for x in values]
    return key.strip(), [round(x, 10) for x in values]


@dataclass
class SweepResult:
    """A grid sweep: every valid combination, best first by ``sort_by``."""

    strategy: str
    grid: dict[str, list[int | float]]
    sort_by: str
    results: list[dict[str, Any]]
    n_backtests: int
    n_skipped: int
    seconds: float

    @property
    def backtests_per_second(self) -> float:
        return self.n_backtests / self.seconds if self.seconds > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "grid": self.grid,
            "sort_by": self.sort_by,
            "n_backtests": self.n_backtests,
            "n_skipped": self.n_skipped,
            "seconds": self.seconds,
            "backtests_per_second": self.backtests_per_second,
            "results": self.results,
        }


def sweep(
    data: pl.DataFrame,
    strategy: str,
    grid: Mapping[str, Sequence[int | float]],
    settings: BacktestSettings | None = None,
    *,
    base_params: Mapping[str, Any] | None = None,
    sort_by: str = "sharpe",
    on_progress: ProgressCallback | None = None,
) -> SweepResult:
    """Backtest every combination of ``grid`` (over ``base_params``), best first.

    Combinations that break a constraint (e.g. fast >= slow) are skipped and counted.
    """
    from engine.backtest.metrics import METRIC_NAMES

    if sort_by not in METRIC_NAMES:
        raise ParameterError(f"sort_by {sort_by!r} is not a metric; use one of {METRIC_NAMES}")
    strat = get_strategy(strategy)
    if not grid:
        raise ParameterError("a sweep needs at least one --grid KEY=START:STOP[:STEP]")
    for k in grid:
        if k not in strat.param_names:
            raise ParameterError(
                f"grid key {k!r} is not a parameter of {strat.name}; "
                f"valid: {', '.join(strat.param_names)}"
            )
    t0 = time.perf_counter()
    keys = list(grid)
    sets: list[dict[str, Any]] = []
    skipped = 0
    for combo in itertools.product(*(grid[k] for k in keys)):
        p = {**(base_params or {}), **dict(zip(keys, combo))}
        try:
            sets.append(strat.resolve(p))
        except ParameterError:
            skipped += 1
    if not sets:
        raise ParameterError("every grid combination breaks a constraint (e.g. fast < slow)")
    batch = run_batch(data, strat.name, sets, settings, on_progress=on_progress,
                      chunk_size=max(256, len(sets) // 10), _resolved=True)
    records = batch.records()
    records.sort(key=lambda r: _sort_key(r["metrics"][sort_by]), reverse=True)
    return SweepResult(strat.name, {k: list(grid[k]) for k in keys}, sort_by, records,
                       len(sets), skipped, time.perf_counter() - t0)


def _sort_key(x: float) -> float:
    return -np.inf if x is None or np.isnan(x) else x
