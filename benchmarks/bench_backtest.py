#!/usr/bin/env python
"""Speed of this backtester against backtesting.py and vectorbt, in one process, same data.

    python benchmarks/bench_backtest.py [--repeat 7] [--btpy-sweep 100] [--bars 1000000]

Cases (GOOG daily: ../shared/data/GOOG_1d.csv when it exists, else backtesting.test.GOOG):

(a) one SMA-cross backtest (fast 10, slow 30) with stop-loss 5 % / take-profit 10 %,
    commission 0.1 %, long-only, all-in whole units;
(b) a 1,000-combination SMA sweep, fast 5..44 × slow 45..69 (every pair valid), same
    settings without stops, 4 metrics or more per combination;
(c) one backtest as in (a) on a 1,000,000-bar synthetic GBM series (numpy, seed 42);
(d) the product's own workload: 1,000 random genomes (seed 7, uniform over the 15 genes'
    ranges, constraints kept) through ``run_batch(..., "genome", ...)`` — with their stops and
    size genes and all metrics, against (b)'s SMA-cross ``run_batch`` (target: within about
    3x) — and, genes switched off (``BacktestSettings(trade_genes=False)``: no stops,
    all-in), against vectorbt written as a careful user would: TA-Lib indicators, each
    distinct one computed once, the genome's vote rule in NumPy, one 1,000-column
    ``Portfolio.from_signals`` with its Numba engine and (``pip install "vectorbt[rust]"``)
    its Rust engine; final equity of every genome must equal ours. Target: >= 10x the faster
    vectorbt engine and >= 15,000 genomes/s. ``--genome-only`` runs (d) alone.

Timing: wall clock (time.perf_counter). "first call" is the first run in this process, which
includes numba JIT compilation (a fresh, empty NUMBA_CACHE_DIR unless --use-numba-cache),
reported apart; "warm" is the median of --repeat later runs. Every tool computes its own
indicators and signals inside the timed region and reports metrics:

- ours: ``run_backtest`` / ``sweep`` (indicator bank, numba kernel, metrics; the sweep runs
  the parameter sets in parallel on all cores);
- backtesting.py: ``Backtest.run`` with a Strategy that arms SL/TP on the entry bar
  (``trade.tp``, then ``trade.sl``, from the actual fill); the sweep is
  ``Backtest.optimize`` (multiprocessing over the cores) on a subset of --btpy-sweep
  combinations, extrapolated linearly to 1,000 — the output says so;
- vectorbt: its numba rolling mean (each distinct window once) + the same strict crossover
  rule in numpy, signals shifted one bar
  and filled at the open (``price=open``), ``Portfolio.from_signals(size=inf,
  size_granularity=1, fees, sl_stop/tp_stop with stop_entry_price="fillprice")`` and
  ``total_return``, ``sharpe_ratio``, ``max_drawdown`` (ours computes 17 metrics; rows
  "vectorbt without its 3 metrics" show its simulation alone); the sweep is one
  1,000-column call.

Checks: (a) and (c) trade lists must equal backtesting.py's (times, prices, sizes, pnl);
(b) final equity of every combination equals vectorbt's, and the subset's equals
backtesting.py's. vectorbt's stop semantics differ from ours (see README), so with stops
the agreement with vectorbt is reported as a count, and without stops it must be exact.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOOG_CSV = ROOT.parent / "shared" / "data" / "GOOG_1d.csv"

FAST, SLOW = 10, 30
SL, TP = 0.05, 0.10
COMMISSION = 0.001
CASH = 10_000.0
SWEEP_FAST = list(range(5, 45))   # 40 values
SWEEP_SLOW = list(range(45, 70))  # 25 values → 1,000 combinations, all fast < slow


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7, help="warm runs per case (median)")
    ap.add_argument("--btpy-sweep", type=int, default=100,
                    help="combinations backtesting.py runs in (b), extrapolated to 1,000")
    ap.add_argument("--btpy-runs-c", type=int, default=1,
                    help="backtesting.py runs on the 1M-bar series (each takes seconds)")
    ap.add_argument("--bars", type=int, default=1_000_000, help="bars in case (c)")
    ap.add_argument("--genome-only", action="store_true",
                    help="run only (d), the 1,000-genome comparison")
    ap.add_argument("--genomes", type=int, default=1000, help="random genomes in (d)")
    ap.add_argument("--use-numba-cache", action="store_true",
                    help="keep numba's on-disk caches (first call = cache load, not compile)")
    return ap.parse_args()


ARGS = parse_args()
if not ARGS.use_numba_cache:  # must happen before numba is imported
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench_numba_")
os.environ.setdefault("TQDM_DISABLE", "1")
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

import genome_peer  # noqa: E402  (benchmarks/, beside this script)
import numba  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import polars as pl  # noqa: E402
import vectorbt as vbt  # noqa: E402
from backtesting import Backtest, Strategy  # noqa: E402
from backtesting.lib import crossover  # noqa: E402
from genome_peer import fmt, timed  # noqa: E402

from engine.backtest import (  # noqa: E402
    BacktestSettings,
    run_backtest,
    run_batch,
    sweep,
)

try:
    import talib

    def SMA(x, n):  # noqa: N802 — backtesting.py style
        return talib.SMA(np.asarray(x, float), n)
except ImportError:  # pragma: no cover
    def SMA(x, n):  # noqa: N802
        return pd.Series(x).rolling(n).mean().to_numpy()


# ----------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------
def load_goog() -> tuple[pl.DataFrame, pd.DataFrame, str]:
    if GOOG_CSV.exists():
        df = pl.read_csv(GOOG_CSV, try_parse_dates=True).rename(str.lower)
        df = df.with_columns(pl.col("timestamp").cast(pl.Datetime("us")),
                             *(pl.col(c).cast(pl.Float64)
                               for c in ("open", "high", "low", "close", "volume")))
        src = f"../{GOOG_CSV.relative_to(ROOT.parent)}"
    else:
        from backtesting.test import GOOG

        pdf = GOOG.reset_index()
        df = pl.DataFrame({
            "timestamp": pdf.iloc[:, 0].to_numpy().astype("datetime64[us]"),
            **{c.lower(): pdf[c].to_numpy(float)
               for c in ("Open", "High", "Low", "Close", "Volume")},
        })
        src = "backtesting.test.GOOG"
    return df, to_pandas(df), src


def to_pandas(df: pl.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {c.capitalize(): df[c].to_numpy() for c in ("open", "high", "low", "close", "volume")},
        index=pd.DatetimeIndex(df["timestamp"].to_numpy(), name="Date"),
    )


def gbm(n: int, seed: int = 42) -> pl.DataFrame:
    """Seeded geometric Brownian motion with consistent OHLCV, one bar per minute."""
    rng = np.random.default_rng(seed)
    r = rng.normal(0.0, 0.01, n)
    close = 100.0 * np.exp(np.cumsum(r))
    open_ = np.empty(n)
    open_[0] = 100.0
    open_[1:] = close[:-1] * np.exp(rng.normal(0.0, 0.002, n - 1))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.005, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.005, n)))
    volume = np.round(1e6 * rng.lognormal(0.0, 0.3, n))
    ts = np.datetime64("2000-01-01T00:00", "us") + np.arange(n) * np.timedelta64(1, "m")
    return pl.DataFrame({"timestamp": ts, "open": open_, "high": high, "low": low,
                         "close": close, "volume": volume})


# ----------------------------------------------------------------------------------------
# the three tools
# ----------------------------------------------------------------------------------------
def settings(stops: bool) -> BacktestSettings:
    return BacktestSettings(cash=CASH, commission=COMMISSION, stop_loss=SL if stops else None,
                            take_profit=TP if stops else None)


def ours_single(df: pl.DataFrame, stops: bool = True):
    return run_backtest(df, "sma_cross", {"fast": FAST, "slow": SLOW}, settings(stops))


class SmaCrossBT(Strategy):
    """backtesting.py: the same rule and execution (SL/TP armed on the entry bar)."""

    fast = FAST
    slow = SLOW
    sl = SL
    tp = TP

    def init(self):
        self.f = self.I(SMA, self.data.Close, self.fast)
        self.s = self.I(SMA, self.data.Close, self.slow)

    def next(self):
        t = len(self.data) - 1
        for trade in self.trades:
            if trade.entry_bar == t:
                if self.tp:
                    trade.tp = trade.entry_price * (1 + self.tp)
                if self.sl:
                    trade.sl = trade.entry_price * (1 - self.sl)
        if crossover(self.f, self.s):
            if not self.position.is_long:
                self.buy()
        elif crossover(self.s, self.f) and self.position.is_long:
            self.position.close()


class SmaCrossNoStopsBT(SmaCrossBT):
    sl = 0.0
    tp = 0.0


def btpy_backtest(pdf: pd.DataFrame, cls=SmaCrossBT) -> Backtest:
    return Backtest(pdf, cls, cash=CASH, commission=COMMISSION, exclusive_orders=True,
                    trade_on_close=False, finalize_trades=False)


def btpy_single(pdf: pd.DataFrame):
    return btpy_backtest(pdf).run()


def _cross_signals(fast: np.ndarray, slow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strict crossover at t (ARCHITECTURE rule 2), shifted one bar: fills at t+1's open."""
    up = np.zeros(fast.shape, bool)
    dn = np.zeros(fast.shape, bool)
    with np.errstate(invalid="ignore"):
        up[2:] = (fast[:-2] < slow[:-2]) & (fast[1:-1] > slow[1:-1])
        dn[2:] = (fast[:-2] > slow[:-2]) & (fast[1:-1] < slow[1:-1])
    return up, dn


def vbt_sma(close: np.ndarray, windows) -> np.ndarray:
    """vectorbt's own numba rolling mean, each distinct window once, one column per entry.

    (``vbt.MA.run`` gives the same numbers with ~3.5 ms of indicator-factory overhead per
    call on GOOG; the bare kernel keeps the comparison about the backtests.)
    """
    c2 = close.reshape(-1, 1)
    windows = np.atleast_1d(windows)
    cols = {int(w): vbt.generic.nb.rolling_mean_nb(c2, int(w))[:, 0] for w in set(windows)}
    if windows.size == 1:
        return cols[int(windows[0])]
    return np.column_stack([cols[int(w)] for w in windows])


def vbt_portfolio(pdf: pd.DataFrame, fast_w, slow_w, stops: bool, engine: str | None = None):
    close = pdf["Close"]
    c = close.to_numpy()
    f = vbt_sma(c, fast_w)
    s = vbt_sma(c, slow_w)
    up, dn = _cross_signals(f, s)
    stop_kw = dict(sl_stop=SL, tp_stop=TP, stop_entry_price="fillprice") if stops else {}
    return vbt.Portfolio.from_signals(
        close, up, dn, price=pdf["Open"], open=pdf["Open"], high=pdf["High"], low=pdf["Low"],
        size=np.inf, size_granularity=1, init_cash=CASH, fees=COMMISSION,
        freq=pdf.index[1] - pdf.index[0], engine=engine, **stop_kw)


def vbt_run(pdf, fast_w=FAST, slow_w=SLOW, stops=True, metrics=True, engine=None):
    pf = vbt_portfolio(pdf, fast_w, slow_w, stops, engine)
    if not metrics:
        return pf, None
    return pf, (pf.total_return(), pf.sharpe_ratio(), pf.max_drawdown())


def vbt_has_rust() -> tuple[bool, str]:
    """Whether vectorbt's Rust engine runs here (the ``vectorbt[rust]`` extra)."""
    try:
        import vectorbt_rust  # noqa: F401
    except ImportError as e:
        return False, f"vectorbt_rust not importable ({e}); pip install \"vectorbt[rust]\""
    return True, f"vectorbt-rust {getattr(vectorbt_rust, '__version__', '?')}"


# ----------------------------------------------------------------------------------------
# (d) the genome: 1,000 random genomes against vectorbt (benchmarks/genome_peer.py)
# ----------------------------------------------------------------------------------------
def genome_section(goog: pl.DataFrame, goog_pd: pd.DataFrame, R: int,
                   sma_batch_s: float | None) -> tuple[list[str], bool]:
    """Run (d) against the SMA-cross ``run_batch`` time of (b) (measured here when
    ``--genome-only`` skipped it); returns (report lines, all targets and checks passed)."""
    if sma_batch_s is None:
        combos = [{"fast": f, "slow": s} for f in SWEEP_FAST for s in SWEEP_SLOW]
        sma_batch_s = timed(lambda: run_batch(goog, "sma_cross", combos, settings(False)),
                            R)[1]
    return genome_peer.section(goog, goog_pd, R, n=ARGS.genomes, cash=CASH,
                               commission=COMMISSION, sma_batch_s=sma_batch_s,
                               rust=vbt_has_rust())


# ----------------------------------------------------------------------------------------
# trade checks
# ----------------------------------------------------------------------------------------
def check_vs_btpy(res, stats) -> tuple[bool, str]:
    ours = res.trades.filter(pl.col("exit_reason") != "end")
    th = stats._trades
    if len(ours) != len(th):
        return False, f"{len(ours)} vs {len(th)} closed trades"
    ok = (
        np.array_equal(ours["entry_time"].to_numpy(),
                       th.EntryTime.to_numpy().astype("datetime64[us]"))
        and np.array_equal(ours["exit_time"].to_numpy(),
                           th.ExitTime.to_numpy().astype("datetime64[us]"))
        and np.allclose(ours["entry_price"].to_numpy(), th.EntryPrice, rtol=0, atol=1e-9)
        and np.allclose(ours["exit_price"].to_numpy(), th.ExitPrice, rtol=0, atol=1e-9)
        and np.array_equal(ours["size"].to_numpy(), th.Size.to_numpy(float))
        and np.allclose(ours["pnl"].to_numpy(), th.PnL, rtol=0, atol=1e-6)
    )
    d_eq = abs(res.metrics["final_equity"] - stats["Equity Final [$]"])
    ok = ok and d_eq < 1e-6 * max(1.0, abs(stats["Equity Final [$]"]))
    reasons = dict(ours.group_by("exit_reason").len().iter_rows())
    return ok, (f"{len(ours)} closed trades identical ({reasons}), |Δ final equity| = "
                f"{d_eq:.1e}" if ok else f"MISMATCH (|Δ final equity| = {d_eq:.3g})")


def vbt_agreement(res, pf) -> tuple[int, int, int]:
    """(identical trades, ours, theirs): same entry/exit time, prices, size."""
    ours = res.trades.filter(pl.col("exit_reason") != "end")
    th = pf.trades.records_readable
    th = th[th["Status"] == "Closed"]
    key = {(e, x, round(ep, 9), round(xp, 9), sz) for e, x, ep, xp, sz in zip(
        th["Entry Timestamp"].to_numpy().astype("datetime64[us]"),
        th["Exit Timestamp"].to_numpy().astype("datetime64[us]"),
        th["Avg Entry Price"], th["Avg Exit Price"], th["Size"], strict=True)}
    same = sum((e, x, round(ep, 9), round(xp, 9), sz) in key for e, x, ep, xp, sz in zip(
        ours["entry_time"].to_numpy(), ours["exit_time"].to_numpy(), ours["entry_price"],
        ours["exit_price"], ours["size"], strict=True))
    return same, len(ours), len(th)


# ----------------------------------------------------------------------------------------
def main() -> int:
    goog, goog_pd, src = load_goog()
    print(f"data: GOOG daily from {src}: {goog.height} bars; synthetic GBM: {ARGS.bars:,} bars "
          f"(seed 42)")
    cache = ("fresh cache dir: first call = JIT compile" if not ARGS.use_numba_cache
             else "on-disk caches allowed")
    print(f"numba {numba.__version__} threads={numba.get_num_threads()} ({cache}); "
          f"backtesting.py {__import__('backtesting').__version__}; vectorbt {vbt.__version__}; "
          f"cpus={os.cpu_count()}")
    print(f"rule: SMA({FAST}) x SMA({SLOW}), long-only, all-in whole units, commission "
          f"{COMMISSION:g}, cash {CASH:,.0f}; SL {SL:g} / TP {TP:g} in (a) and (c)\n")
    R = ARGS.repeat
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f} (1/5/15 min)")
    if ARGS.genome_only:
        lines, ok = genome_section(goog, goog_pd, R, None)
        print("\n".join(lines))
        return 0 if ok else 1
    rows: dict[str, dict[str, tuple[float, float]]] = {}
    checks: list[str] = []

    # (a) one backtest with stops ---------------------------------------------------------
    a_ours = timed(lambda: ours_single(goog), R)
    a_bt = timed(lambda: btpy_single(goog_pd), R)
    a_vbt = timed(lambda: vbt_run(goog_pd), R)
    rows["a"] = {"ours": a_ours[:2], "bt": a_bt[:2], "vbt": a_vbt[:2]}
    ok, msg = check_vs_btpy(a_ours[2], a_bt[2])
    checks.append(f"(a) vs backtesting.py: {'OK ' if ok else 'FAIL'} {msg}")
    same, n_o, n_v = vbt_agreement(a_ours[2], a_vbt[2][0])
    checks.append(f"(a) vs vectorbt with SL/TP: {same} of {n_o} trades identical "
                  f"(vectorbt {n_v}) — stop semantics differ, see README")
    res_ns = ours_single(goog, stops=False)
    pf_ns, _ = vbt_run(goog_pd, stops=False)
    same, n_o, n_v = vbt_agreement(res_ns, pf_ns)
    d = abs(res_ns.metrics["final_equity"] - float(pf_ns.final_value()))
    ok = same == n_o == n_v and d < 1e-6
    checks.append(f"(a) vs vectorbt without stops: {'OK ' if ok else 'FAIL'} {same} of {n_o} "
                  f"trades identical (vectorbt {n_v}), |Δ final equity| = {d:.1e}")

    # (b) 1,000-combination sweep ----------------------------------------------------------
    grid = {"fast": SWEEP_FAST, "slow": SWEEP_SLOW}
    combos = [(f, s) for f in SWEEP_FAST for s in SWEEP_SLOW]
    assert len(combos) == 1000 and all(f < s for f, s in combos)
    # backtesting.py first: Backtest.optimize forks worker processes
    sub_fast = SWEEP_FAST[: max(1, ARGS.btpy_sweep // len(SWEEP_SLOW))]
    n_sub = len(sub_fast) * len(SWEEP_SLOW)
    bt_b = btpy_backtest(goog_pd, SmaCrossNoStopsBT)
    t0 = time.perf_counter()
    _, heat = bt_b.optimize(fast=sub_fast, slow=SWEEP_SLOW, maximize="Equity Final [$]",
                            return_heatmap=True)
    t_bt_sub = time.perf_counter() - t0
    t_bt_b = t_bt_sub * 1000 / n_sub
    rows["b"] = {"bt": (t_bt_b, t_bt_b)}

    fw = np.repeat(SWEEP_FAST, len(SWEEP_SLOW))
    sw = np.tile(SWEEP_SLOW, len(SWEEP_FAST))
    b_vbt = timed(lambda: vbt_run(goog_pd, fw, sw, stops=False), max(3, R // 2))
    b_vbt_sim = timed(lambda: vbt_run(goog_pd, fw, sw, stops=False, metrics=False),
                      max(3, R // 2))
    rust_ok, rust_msg = vbt_has_rust()
    b_vbt_rust = (timed(lambda: vbt_run(goog_pd, fw, sw, stops=False, engine="rust"),
                        max(3, R // 2)) if rust_ok else None)
    b_ours = timed(lambda: sweep(goog, "sma_cross", grid, settings(False)), R)
    b_batch = timed(lambda: run_batch(goog, "sma_cross",
                                      [{"fast": f, "slow": s} for f, s in combos],
                                      settings(False)), R)
    rows["b"].update({"ours": b_ours[:2], "vbt": b_vbt[:2], "batch": b_batch[:2]})
    assert b_ours[2].n_backtests == 1000
    ours_fe = {(r["params"]["fast"], r["params"]["slow"]): r["metrics"]["final_equity"]
               for r in b_ours[2].results}
    vbt_fe = b_vbt[2][0].final_value().to_numpy()
    d_v = max(abs(ours_fe[(int(f), int(s))] - v) for f, s, v in zip(fw, sw, vbt_fe, strict=True))
    checks.append(f"(b) vs vectorbt: {'OK ' if d_v < 1e-6 else 'FAIL'} final equity of all "
                  f"1,000 combinations, max |Δ| = {d_v:.1e}")
    if b_vbt_rust is not None:
        rust_fe = b_vbt_rust[2][0].final_value().to_numpy()
        d_r = max(abs(ours_fe[(int(f), int(s))] - v)
                  for f, s, v in zip(fw, sw, rust_fe, strict=True))
        checks.append(f"(b) vs vectorbt rust engine: {'OK ' if d_r < 1e-6 else 'FAIL'} final "
                      f"equity of all 1,000 combinations, max |Δ| = {d_r:.1e}")
    else:
        checks.append(f"(b) vectorbt rust engine not timed: {rust_msg}")
    d_b = max(abs(ours_fe[k] - v) for k, v in heat.items())
    checks.append(f"(b) vs backtesting.py: {'OK ' if d_b < 1e-6 else 'FAIL'} final equity of "
                  f"its {len(heat)} combinations, max |Δ| = {d_b:.1e}")

    # (c) 1,000,000 bars -------------------------------------------------------------------
    big = gbm(ARGS.bars)
    big_pd = to_pandas(big)
    c_ours = timed(lambda: ours_single(big), max(3, R // 2))
    c_vbt = timed(lambda: vbt_run(big_pd), max(3, R // 2))
    c_vbt_sim = timed(lambda: vbt_run(big_pd, metrics=False), max(3, R // 2))
    c_bt = timed(lambda: btpy_single(big_pd), ARGS.btpy_runs_c - 1)
    rows["c"] = {"ours": c_ours[:2], "bt": c_bt[:2], "vbt": c_vbt[:2]}
    ok, msg = check_vs_btpy(c_ours[2], c_bt[2])
    checks.append(f"(c) vs backtesting.py: {'OK ' if ok else 'FAIL'} {msg}")
    same, n_o, n_v = vbt_agreement(c_ours[2], c_vbt[2][0])
    checks.append(f"(c) vs vectorbt with SL/TP: {same} of {n_o} trades identical "
                  f"(vectorbt {n_v})")

    # report -------------------------------------------------------------------------------
    print(f"{'case':<44}{'ours':>12}{'backtesting.py':>16}{'vectorbt':>12}"
          f"{'vs bt.py':>10}{'vs vbt':>9}")
    labels = {
        "a": "(a) 1 SMA-cross backtest + SL/TP, GOOG",
        "b": "(b) 1,000-combination SMA sweep, GOOG",
        "c": f"(c) 1 backtest + SL/TP, {ARGS.bars:,} bars",
    }
    for k in "abc":
        r = rows[k]
        o, b, v = r["ours"][1], r["bt"][1], r["vbt"][1]
        print(f"{labels[k] + ' (warm)':<44}{fmt(o):>12}{fmt(b):>16}{fmt(v):>12}"
              f"{b / o:>9.0f}x{v / o:>8.1f}x")
    print(f"{'(b) run_batch only (the GA path)':<44}{fmt(rows['b']['batch'][1]):>12}"
          f"{'':>16}{'':>12}{rows['b']['bt'][1] / rows['b']['batch'][1]:>9.0f}x"
          f"{rows['b']['vbt'][1] / rows['b']['batch'][1]:>8.1f}x")
    if b_vbt_rust is not None:
        t_r = b_vbt_rust[1]
        print(f"{'(b) vectorbt, Rust engine':<44}{'':>12}{'':>16}{fmt(t_r):>12}"
              f"{'':>10}{t_r / rows['b']['ours'][1]:>8.1f}x")
    for k, t_sim in (("b", b_vbt_sim[1]), ("c", c_vbt_sim[1])):
        print(f"{'(' + k + ') vectorbt without its 3 metrics':<44}{'':>12}{'':>16}{fmt(t_sim):>12}"
              f"{'':>10}{t_sim / rows[k]['ours'][1]:>8.1f}x")
    print("first call (JIT compile included):")
    for k in "abc":
        r = rows[k]
        print(f"{'  ' + labels[k][:3]:<44}{fmt(r['ours'][0]):>12}{fmt(r['bt'][0]):>16}"
              f"{fmt(r['vbt'][0]):>12}")
    print(f"{'  (b) run_batch only':<44}{fmt(rows['b']['batch'][0]):>12}")
    bps = {k: 1000 / rows["b"][k][1] for k in ("ours", "bt", "vbt", "batch")}
    print(f"\n(b) backtests/s: ours {bps['ours']:,.0f} (sweep), {bps['batch']:,.0f} (run_batch); "
          f"backtesting.py {bps['bt']:,.0f}; vectorbt {bps['vbt']:,.0f}")
    print(f"(b) backtesting.py ran Backtest.optimize on {n_sub} of the 1,000 combinations "
          f"(fast {sub_fast[0]}..{sub_fast[-1]} x slow {SWEEP_SLOW[0]}..{SWEEP_SLOW[-1]}) in "
          f"{t_bt_sub:.2f} s; its 1,000-combination time is that x {1000 / n_sub:g} "
          f"(extrapolated)")
    print(f"(c) backtesting.py: {ARGS.btpy_runs_c} run(s); warm = first")
    from engine.backtest import kernel

    n_spec = len(kernel.simulate_nb.signatures)
    if n_spec > 1:
        print(f"note: ours has {n_spec} numba specialisations of simulate_nb (trade recording "
              "on/off; the CSV-loaded GOOG frame gives writable arrays, the numpy-built GBM "
              "frame read-only ones, a distinct numba type), so (c)'s first call includes a JIT "
              "compile")
    print()
    print("checks:")
    for c in checks:
        print("  " + c)
    print("\ntarget: >= vectorbt on a,b,c and >= 10x vectorbt on b")
    all_ok = True
    for k in "abc":
        ratio = rows[k]["vbt"][1] / rows[k]["ours"][1]
        ok = ratio >= 1.0
        all_ok &= ok
        print(f"  ({k}) ours {fmt(rows[k]['ours'][1]).strip()} vs vectorbt "
              f"{fmt(rows[k]['vbt'][1]).strip()}: {ratio:.1f}x  {'PASS' if ok else 'FAIL'}")
    ratio = rows["b"]["vbt"][1] / rows["b"]["ours"][1]
    ok = ratio >= 10.0
    all_ok &= ok
    print(f"  (b) >= 10x vectorbt: {ratio:.1f}x  {'PASS' if ok else 'FAIL'}")
    checks_ok = not any(": FAIL" in c for c in checks)
    print(f"trade checks: {'all OK' if checks_ok else 'SOME FAILED'}")
    print()
    lines, genome_ok = genome_section(goog, goog_pd, R, rows["b"]["batch"][1])
    print("\n".join(lines))
    return 0 if all_ok and checks_ok and genome_ok else 1


if __name__ == "__main__":
    sys.exit(main())
