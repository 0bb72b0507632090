"""Trading the chosen genomes out of sample, and the stitched out-of-sample curve.

**One window.** Window ``k``'s genes trade its out-of-sample bars exactly as
``backtest --data SYM --strategy genome --param … --end <oos_end> --trade-start <oos_start>
--cash C`` does: indicators are computed on every bar up to the window's last one (all the
history before the window, not only its in-sample bars), signals before the window's first
bar are ignored, so the first order can fill at the open of the window's second bar. The
window's metrics are those of the same trades over the window's own bars (the signals of
that backtest replayed on the window's bars with the genome's stop, target and size — the
same kernel, so the equity is the same to the last bit); a position still open after the
window's last bar is valued at its close (ARCHITECTURE.md rule 8).

**Stitching.** Window 0 starts with the configured cash; window ``k+1`` starts flat with the
equity window ``k`` ended with, less the exit commission its open position (if any) would
pay at that last close — a walk-forward re-optimises at the boundary, so it closes there,
as separate out-of-sample tests do. The stitched curve is the windows' equity curves end to
end; so it equals, bar for bar, the chain of ``backtest --trade-start`` runs that switch to
each window's genes at its boundary (tests/walkforward/test_stitching.py checks it). Its
metrics come from the same compiled metric code as every backtest, over the stitched bars
and all the windows' trades (an open position closed at a boundary is listed with exit
reason ``window_end``).

**Efficiency** (Pardo's walk-forward efficiency): annualised out-of-sample return over
annualised in-sample return (``cagr_pct`` of each), per window and overall (the stitched
curve's CAGR over the mean of the windows' in-sample CAGRs); ``None`` where the in-sample
return is not positive (the ratio means nothing there).

**Gene stability**: per gene, its value in every window; ``dispersion`` = the standard
deviation of the values scaled to the gene's range, divided by that of a uniform draw
(1/√12) — 0 when every window chose the same value, about 1 when the choices look random.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from engine.walkforward.windows import WindowSpan

_UNIFORM_STD = 1.0 / math.sqrt(12.0)


@dataclass
class WindowTrading:
    """One window's out-of-sample trading (``equity`` frame over the window's bars)."""

    span: WindowSpan
    cash: float
    metrics: dict[str, Any]
    trades: pl.DataFrame
    equity: pl.DataFrame
    carry_commission: float  # exit commission of a position open at the window's end


@dataclass
class Stitched:
    """The stitched out-of-sample curve, its trades and metrics."""

    windows: list[WindowTrading]
    #: timestamp, close, equity, drawdown_pct, position, buy_hold_equity, window
    equity: pl.DataFrame
    trades: pl.DataFrame
    metrics: dict[str, Any]


def window_settings(cash: float, commission: float, allow_short: bool, trade_start=None):
    from engine.backtest import BacktestSettings

    return BacktestSettings(cash=cash, commission=commission, allow_short=allow_short,
                            trade_start=trade_start)


def trade_window(data: pl.DataFrame, span: WindowSpan, genes: Mapping[str, Any], *,
                 cash: float, commission: float = 0.0, allow_short: bool = False
                 ) -> WindowTrading:
    """Trade ``genes`` on ``span``'s out-of-sample bars (``backtest --trade-start``)."""
    from engine.backtest import (
        BacktestSettings,
        get_strategy,
        run_backtest,
        run_signals,
        trade_levels,
    )

    ts = data.get_column("timestamp")
    full = run_backtest(data.slice(0, span.oos_hi), "genome", dict(genes),
                        window_settings(cash, commission, allow_short, ts[span.oos_lo]))
    strat = get_strategy("genome")
    p = strat.resolve(dict(genes))
    sl, tp, size = trade_levels(strat, p, full.settings)
    own = BacktestSettings(cash=cash, commission=commission, allow_short=allow_short,
                           stop_loss=sl or None, take_profit=tp or None, size=size or None)
    res = run_signals(data.slice(span.oos_lo, span.oos_bars),
                      full.signals[span.oos_lo:span.oos_hi], own, name="genome", params=p)
    open_ = res.trades.filter(pl.col("exit_reason") == "end")
    carry = float((open_.get_column("size").abs() * open_.get_column("exit_price")).sum()
                  * commission) if open_.height else 0.0
    return WindowTrading(span, cash, res.metrics, res.trades, res.equity, carry)


def stitch(data: pl.DataFrame, spans: Sequence[WindowSpan],
           genes: Sequence[Mapping[str, Any]], *, cash: float, commission: float = 0.0,
           allow_short: bool = False) -> Stitched:
    """Trade every window with its genes, each starting from the last one's equity."""
    if not spans:
        raise ValueError("stitch needs at least one window")
    parts: list[WindowTrading] = []
    c = float(cash)
    for span, g in zip(spans, genes, strict=True):
        w = trade_window(data, span, g, cash=c, commission=commission, allow_short=allow_short)
        parts.append(w)
        c = float(w.equity.get_column("equity")[-1]) - w.carry_commission
    frames, trades = [], []
    for i, w in enumerate(parts):
        frames.append(w.equity.select("timestamp", "close", "equity", "position")
                      .with_columns(pl.lit(w.span.index).alias("window")))
        t = w.trades
        if i < len(parts) - 1 and t.height:  # closed at the boundary: pay the exit
            end = pl.col("exit_reason") == "end"
            t = t.with_columns(
                pl.when(end).then(pl.col("pnl") - pl.col("size").abs() * pl.col("exit_price")
                                  * commission).otherwise(pl.col("pnl")).alias("pnl"),
                pl.when(end).then(pl.col("commission") + pl.col("size").abs()
                                  * pl.col("exit_price") * commission)
                .otherwise(pl.col("commission")).alias("commission"),
                pl.when(end).then(pl.lit("window_end")).otherwise(pl.col("exit_reason"))
                .alias("exit_reason"),
            ).with_columns((pl.col("pnl") / (pl.col("size").abs() * pl.col("entry_price"))
                            * 100.0).alias("return_pct"))
        trades.append(t.with_columns(pl.lit(w.span.index).alias("window")))
    eq = pl.concat(frames)
    all_trades = pl.concat(trades)
    metrics = curve_metrics(eq, all_trades, cash)
    e = eq.get_column("equity").to_numpy()
    peak = np.maximum.accumulate(e)
    close = eq.get_column("close").to_numpy()
    eq = eq.with_columns(
        pl.Series("drawdown_pct", np.where(peak > 0, (e / np.where(peak > 0, peak, 1) - 1) * 100,
                                           -100.0)),
        pl.Series("buy_hold_equity", cash * close / close[0]))
    return Stitched(parts, eq, all_trades, metrics)


def curve_metrics(eq: pl.DataFrame, trades: pl.DataFrame, cash: float) -> dict[str, Any]:
    """``backtest`` metrics of an equity curve and its trades (the kernel's metric code)."""
    from engine.backtest.enums import (
        N_KERNEL_METRICS,
        N_STATS,
        ST_BARS_HELD,
        ST_BEST_RETURN,
        ST_COUNT,
        ST_GROSS_LOSS,
        ST_GROSS_PROFIT,
        ST_SUM_RETURN,
        ST_WINS,
        ST_WORST_RETURN,
    )
    from engine.backtest.kernel import metrics_nb
    from engine.backtest.metrics import metrics_dict, periods_per_year

    stats = np.zeros(N_STATS)
    if trades.height:
        pnl = trades.get_column("pnl").to_numpy()
        ret = pnl / (np.abs(trades.get_column("size").to_numpy())
                     * trades.get_column("entry_price").to_numpy())
        stats[ST_COUNT] = len(pnl)
        stats[ST_WINS] = float(np.count_nonzero(pnl > 0))
        stats[ST_GROSS_PROFIT] = float(pnl[pnl > 0].sum())
        stats[ST_GROSS_LOSS] = float(-pnl[pnl < 0].sum())
        stats[ST_SUM_RETURN] = float(ret.sum())
        stats[ST_BEST_RETURN], stats[ST_WORST_RETURN] = float(ret.max()), float(ret.min())
        stats[ST_BARS_HELD] = float(trades.get_column("bars_held").sum())
    ppy = periods_per_year(eq.get_column("timestamp"))
    row = np.empty(N_KERNEL_METRICS)
    metrics_nb(np.ascontiguousarray(eq.get_column("equity").to_numpy(), np.float64),
               np.ascontiguousarray(eq.get_column("position").to_numpy(), np.float64), stats,
               float(cash), np.ascontiguousarray(eq.get_column("close").to_numpy(), np.float64),
               ppy, row)
    return metrics_dict(row, ppy)


def efficiency(oos_cagr_pct: float | None, is_cagr_pct: float | None) -> float | None:
    """Annualised out-of-sample over in-sample return; ``None`` unless both are finite and
    the in-sample return is positive."""
    if oos_cagr_pct is None or is_cagr_pct is None:
        return None
    if not (math.isfinite(oos_cagr_pct) and math.isfinite(is_cagr_pct)) or is_cagr_pct <= 0:
        return None
    return float(oos_cagr_pct / is_cagr_pct)


def gene_stability(genes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per gene its values, mean, standard deviation and dispersion (see the module
    docstring), and ``mean_dispersion`` over the genes; ``None`` dispersions with fewer than
    two windows."""
    from engine.backtest import GENOME_PARAMS

    out: dict[str, Any] = {}
    disp = []
    for p in GENOME_PARAMS:
        values = [float(g[p.name]) for g in genes]
        x = np.asarray(values)
        span = float(p.high) - float(p.low)
        # shifted by the first value (std is shift-invariant): identical values give 0.0
        d = (float(np.std((x - x[0]) / span) / _UNIFORM_STD)
             if len(values) >= 2 else None)
        if d is not None:
            disp.append(d)
        out[p.name] = {"values": values, "mean": float(x.mean()) if len(x) else None,
                       "std": float(x.std()) if len(x) else None, "low": float(p.low),
                       "high": float(p.high), "dispersion": d}
    return {"genes": out, "mean_dispersion": float(np.mean(disp)) if disp else None}
