"""Section (d) of ``bench_backtest.py``: 1,000 random genomes, ours against vectorbt.

Ours through ``engine.backtest.run_batch`` (with the stop and size genes, then with them
switched off: ``BacktestSettings(trade_genes=False)``); vectorbt as a careful user would
write it — TA-Lib indicators, each distinct one computed once, the genome's vote rule in
NumPy, one 1,000-column ``Portfolio.from_signals`` on its Numba and its Rust engine. The
final equity of every genome is checked equal to ours (genomes with a tied vote apart, see
:func:`genome_ties`). Imported by ``bench_backtest.py`` after it has chosen numba's cache
folder; also home of the benchmarks' shared timing helpers.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pandas as pd
import polars as pl
import vectorbt as vbt

from engine.backtest import GENOME_PARAMS, BacktestSettings, run_batch


def timed(fn, repeat: int):
    """(first call seconds, median warm seconds, last result)."""
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return first, (statistics.median(times) if times else first), out


def fmt(sec: float) -> str:
    if sec >= 1:
        return f"{sec:8.2f} s "
    return f"{sec * 1e3:8.2f} ms"


def random_genomes(n: int, seed: int = 7) -> list[dict]:
    """Uniform over each gene's range (ints inclusive), constraints kept by rejection."""
    rng = np.random.default_rng(seed)
    out: list[dict] = []
    while len(out) < n:
        g = {p.name: (int(rng.integers(p.low, p.high + 1)) if p.kind is int
                      else float(rng.uniform(p.low, p.high))) for p in GENOME_PARAMS}
        if (g["sma_short"] < g["sma_long"] and g["macd_fast"] < g["macd_slow"]
                and g["rsi_oversold"] < g["rsi_overbought"]):
            out.append(g)
    return out


def genome_settings(genes: bool, cash: float, commission: float) -> BacktestSettings:
    return BacktestSettings(cash=cash, commission=commission, trade_genes=genes)


def vbt_genome_signals(pdf: pd.DataFrame, genomes: list[dict]):
    """The genome's vote rule in NumPy over TA-Lib indicators, each distinct one once.

    Entry when score >= 2 and volume > SMA(volume); exit when score <= -2; nothing while any
    indicator is in warm-up; shifted one bar (fills at the next open).
    """
    x = talib_genome_indicators(pdf, genomes)
    c2, v2, k = x["c2"], x["v2"], x["k"]
    rsi, fast, slow, hist, mid, sd, vsma = (x[n] for n in (
        "rsi", "fast", "slow", "hist", "mid", "sd", "vsma"))
    col = x["col"]
    with np.errstate(invalid="ignore"):
        valid = ~(np.isnan(rsi) | np.isnan(fast) | np.isnan(slow) | np.isnan(hist)
                  | np.isnan(mid) | np.isnan(sd) | np.isnan(vsma))
        score = ((rsi < col["rsi_oversold"]).astype(np.int8)
                 - (rsi > col["rsi_overbought"]) + np.sign(fast - slow).astype(np.int8)
                 + np.sign(hist).astype(np.int8)
                 + (c2 < mid - k * sd) - (c2 > mid + k * sd))
        entry = valid & (score >= 2) & (v2 > vsma)
        exit_ = valid & (score <= -2)
    up = np.zeros_like(entry)
    dn = np.zeros_like(exit_)
    up[1:], dn[1:] = entry[:-1], exit_[:-1]
    return up, dn


def genome_ties(pdf: pd.DataFrame, genomes: list[dict], tol: float = 1e-9) -> np.ndarray:
    """Genomes with a vote whose two sides are equal to ``tol`` on some bar (not timed).

    There the mathematically equal sides are ordered by rounding alone — TA-Lib and the
    polars reference (which ours equals bit for bit there) can round them apart, e.g.
    SMA(24) and SMA(32) of GOOG at bar 165, both 183.90375 — so the vote, and the equity,
    may legitimately differ.
    """
    x = talib_genome_indicators(pdf, genomes)
    c2, v2, k, col = x["c2"], x["v2"], x["k"], x["col"]
    with np.errstate(invalid="ignore"):
        lo, up = x["mid"] - k * x["sd"], x["mid"] + k * x["sd"]
        near = ((np.abs(x["fast"] - x["slow"]) <= tol) | (np.abs(x["hist"]) <= tol)
                | (np.abs(c2 - lo) <= tol) | (np.abs(c2 - up) <= tol)
                | (np.abs(x["rsi"] - col["rsi_oversold"]) <= tol)
                | (np.abs(x["rsi"] - col["rsi_overbought"]) <= tol)
                | (np.abs(v2 - x["vsma"]) <= tol))
    return near.any(axis=0)


def talib_genome_indicators(pdf: pd.DataFrame, genomes: list[dict]) -> dict:
    """Every genome's indicator columns from TA-Lib, each distinct indicator computed once."""
    import talib

    c = pdf["Close"].to_numpy(float)
    v = pdf["Volume"].to_numpy(float)
    col = {k: np.array([g[k] for g in genomes]) for k in genomes[0]}

    def bank(fn, periods):
        uniq = np.unique(periods)
        mat = np.column_stack([fn(int(p)) for p in uniq])
        return mat[:, np.searchsorted(uniq, periods)]

    rsi = bank(lambda n: talib.RSI(c, n), col["rsi_period"])
    fast = bank(lambda n: talib.SMA(c, n), col["sma_short"])
    slow = bank(lambda n: talib.SMA(c, n), col["sma_long"])
    mid = bank(lambda n: talib.SMA(c, n), col["bb_period"])
    sd = bank(lambda n: talib.STDDEV(c, n, 1.0), col["bb_period"])
    vsma = bank(lambda n: talib.SMA(v, n), col["volume_sma"])
    emas = {int(n): talib.EMA(c, int(n))
            for n in np.unique(np.concatenate([col["macd_fast"], col["macd_slow"]]))}
    trip = list(zip(col["macd_fast"].tolist(), col["macd_slow"].tolist(),
                    col["macd_signal"].tolist(), strict=True))
    hists = {}
    for f, s_, g in set(trip):
        line = emas[f] - emas[s_]
        first = int(np.flatnonzero(~np.isnan(line))[0])
        sig = np.full_like(line, np.nan)
        sig[first:] = talib.EMA(line[first:], g)
        hists[(f, s_, g)] = line - sig
    hist = np.column_stack([hists[t] for t in trip])
    return {"rsi": rsi, "fast": fast, "slow": slow, "hist": hist, "mid": mid, "sd": sd,
            "vsma": vsma, "c2": c[:, None], "v2": v[:, None], "k": col["bb_std"][None, :],
            "col": col}


def vbt_genome(pdf: pd.DataFrame, genomes: list[dict], engine: str, cash: float,
               commission: float):
    up, dn = vbt_genome_signals(pdf, genomes)
    close = pdf["Close"].to_numpy(float)
    o = pdf["Open"].to_numpy(float)
    pf = vbt.Portfolio.from_signals(
        close[:, None], up, dn, price=o[:, None], size=np.inf, size_granularity=1,
        init_cash=cash, fees=commission, freq="1D", engine=engine)
    return pf.final_value()


def section(goog: pl.DataFrame, goog_pd: pd.DataFrame, R: int, *, n: int, cash: float,
            commission: float, sma_batch_s: float, rust: tuple[bool, str]
            ) -> tuple[list[str], bool]:
    """Run (d) — ``n`` random genomes, ``R`` warm repeats — against the SMA-cross
    ``run_batch`` time ``sma_batch_s``; ``rust``: whether vectorbt's Rust engine runs, and
    why not. Returns (report lines, all targets and checks passed)."""
    genomes = random_genomes(n)
    lines = [f"(d) {n:,} random genomes (seed 7) on GOOG daily"]
    with_stops = timed(lambda: run_batch(goog, "genome", genomes,
                                         genome_settings(True, cash, commission)), R)
    no_genes = timed(lambda: run_batch(goog, "genome", genomes,
                                       genome_settings(False, cash, commission)), R)
    rust_ok, rust_msg = rust
    engines = ["numba"] + (["rust"] if rust_ok else [])
    vb = {e: timed(lambda e=e: vbt_genome(goog_pd, genomes, e, cash, commission),
                   max(3, R // 2))
          for e in engines}
    ours_fe = no_genes[2].metrics[:, list(no_genes[2].metrics_of(0)).index("final_equity")]
    checks_ok = True
    ties = genome_ties(goog_pd, genomes)
    for e in engines:
        delta = np.abs(vb[e][2].to_numpy() - ours_fe)
        same = delta < 1e-6
        ok = bool(same[~ties].all())
        checks_ok &= ok
        lines.append(
            f"    check vs vectorbt {e}: {'OK ' if ok else 'FAIL'} final equity of "
            f"{int(same[~ties].sum()):,} of the {int((~ties).sum()):,} genomes without a "
            f"tied vote equal (max |Δ| {delta[~ties].max():.1e}); of the {int(ties.sum())} "
            f"with a vote tied to 1e-9 (rounding decides, see genome_ties), "
            f"{int(same[ties].sum())} equal")
    if not rust_ok:
        lines.append(f"    vectorbt Rust engine not timed: {rust_msg}")
    lines.append(f"    {'':<34}{'warm':>12}{'first call':>14}{'genomes/s':>12}")
    rows = [("ours, with stops + size genes", with_stops), ("ours, genes off", no_genes)]
    rows += [(f"vectorbt {e} (genes off)", vb[e]) for e in engines]
    for label, t in rows:
        lines.append(f"    {label:<34}{fmt(t[1]):>12}{fmt(t[0]):>14}"
                     f"{n / t[1]:>12,.0f}")
    ratio_sma = with_stops[1] / sma_batch_s
    best_vbt = min(vb[e][1] for e in engines)
    ratio_vbt = best_vbt / no_genes[1]
    ok_sma = ratio_sma <= 3.0
    ok_vbt = ratio_vbt >= 10.0
    ok_floor = n / no_genes[1] >= 15_000
    lines.append("    first call of ours includes JIT compile (fresh cache) unless "
                 "--use-numba-cache")
    lines.append(f"  target: genome run_batch within ~3x of SMA-cross run_batch "
                 f"({fmt(sma_batch_s).strip()}): {ratio_sma:.2f}x  "
                 f"{'PASS' if ok_sma else 'FAIL'}")
    lines.append(f"  target: >= 10x the faster vectorbt engine: {ratio_vbt:.1f}x  "
                 f"{'PASS' if ok_vbt else 'FAIL'}")
    lines.append(f"  target: >= 15,000 genomes/s (genes off): {n / no_genes[1]:,.0f}/s  "
                 f"{'PASS' if ok_floor else 'FAIL'}")
    return lines, checks_ok and ok_sma and ok_vbt and ok_floor
