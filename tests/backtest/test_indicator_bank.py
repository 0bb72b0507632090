"""The compiled indicator bank equals the polars reference and TA-Lib on every indicator of
the genome's ranges (1e-9, warm-up NaN positions equal); its memory bound; the keyed numba
cache folder."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import talib

from engine.backtest import numba_setup
from engine.backtest.bank import DEFAULT_MAX_BYTES, IndicatorBank, compute_rows, indicator_expr

TOL = 1e-9

# ARCHITECTURE.md's genome table: every period the genome can ask for.
RSI = range(10, 31)
SMA = range(5, 101)          # sma_short 5-25 and sma_long 20-100
BB = range(10, 31)
VOL = range(10, 31)
FAST, SLOW, SIGNAL = range(8, 17), range(20, 33), range(5, 16)

GENOME_KEYS = (
    [("rsi", n) for n in RSI] + [("sma", n) for n in SMA] + [("std", n) for n in BB]
    + [("vol_sma", n) for n in VOL]
    + [("macd_line", f, s) for f in FAST for s in SLOW]
    + [("macd_signal", f, s, g) for f in FAST for s in SLOW for g in SIGNAL]
    + [("macd_hist", f, s, g) for f in FAST for s in SLOW for g in SIGNAL]
)


def _equal(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    assert actual.shape == expected.shape, what
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected),
                                  err_msg=f"{what}: warm-up differs")
    ok = ~np.isnan(expected)
    assert ok.sum() > 0, what
    np.testing.assert_allclose(actual[ok], expected[ok], rtol=0, atol=TOL, err_msg=what)


@pytest.fixture(scope="module")
def bank(goog) -> IndicatorBank:
    return IndicatorBank.build(goog, GENOME_KEYS)


@pytest.fixture(scope="module")
def arrays(goog):
    return {c: goog[c].cast(pl.Float64).to_numpy() for c in ("close", "volume")}


def test_every_genome_indicator_equals_the_polars_reference(goog, bank):
    ref = goog.select([indicator_expr(k).cast(pl.Float64).alias(f"k{i}")
                       for i, k in enumerate(GENOME_KEYS)]).fill_null(np.nan).to_numpy().T
    assert len(bank) == len(GENOME_KEYS) == 21 + 96 + 21 + 21 + 117 + 2 * 1287
    for i, k in enumerate(GENOME_KEYS):
        _equal(bank.matrix[bank.index[k]], ref[i], f"{k} vs polars")


def test_every_genome_indicator_equals_talib(bank, arrays):
    c, v = arrays["close"], arrays["volume"]
    for n in RSI:
        _equal(bank.matrix[bank.index[("rsi", n)]], talib.RSI(c, n), f"RSI {n}")
    for n in SMA:
        _equal(bank.matrix[bank.index[("sma", n)]], talib.SMA(c, n), f"SMA {n}")
    for n in BB:
        up, mid, _ = talib.BBANDS(c, n, 1.0, 1.0, 0)  # k = 1: upper - mid is the std
        _equal(bank.matrix[bank.index[("sma", n)]], mid, f"BB mid {n}")
        _equal(bank.matrix[bank.index[("std", n)]], up - mid, f"BB std {n}")
    for n in VOL:
        _equal(bank.matrix[bank.index[("vol_sma", n)]], talib.SMA(v, n), f"volume SMA {n}")
    for f in FAST:
        for s in SLOW:
            line = talib.EMA(c, f) - talib.EMA(c, s)
            _equal(bank.matrix[bank.index[("macd_line", f, s)]], line, f"MACD line {f},{s}")
            first = int(np.flatnonzero(~np.isnan(line))[0])
            for g in SIGNAL:
                sig = np.full_like(line, np.nan)
                sig[first:] = talib.EMA(line[first:], g)  # the signal EMA of the line
                _equal(bank.matrix[bank.index[("macd_signal", f, s, g)]], sig,
                       f"MACD signal {f},{s},{g}")
                _equal(bank.matrix[bank.index[("macd_hist", f, s, g)]], line - sig,
                       f"MACD hist {f},{s},{g}")


def test_hand_worked_values():
    # close 1, 2, 4, 3, 5: SMA(2) = -, 1.5, 3, 3.5, 4; population std(2) = |a-b|/2
    # EMA(2): seed (1+2)/2 = 1.5, alpha 2/3: 1.5 + 2/3(4-1.5) = 19/6, 19/6 + 2/3(3-19/6) = 55/18
    # RSI(2): changes 1, 2, -1, 2; seed gain (1+2)/2 = 1.5, loss 0 -> 100;
    #   bar 3: gain 1.5/2 = 0.75, loss 0.5 -> 100 - 100/(1+1.5) = 60
    df = pl.DataFrame({"close": [1.0, 2.0, 4.0, 3.0, 5.0], "volume": [10.0, 30, 20, 20, 40]})
    rows = compute_rows(df, [("sma", 2), ("std", 2), ("rsi", 2), ("vol_sma", 2),
                             ("macd_line", 1, 2)])
    nan = np.nan
    np.testing.assert_allclose(rows[0], [nan, 1.5, 3, 3.5, 4], equal_nan=True)
    np.testing.assert_allclose(rows[1], [nan, 0.5, 1, 0.5, 1], equal_nan=True)
    np.testing.assert_allclose(rows[2][:4], [nan, nan, 100, 60], equal_nan=True)
    np.testing.assert_allclose(rows[3], [nan, 20, 25, 20, 30], equal_nan=True)
    # EMA(1) is the close itself; line = close - EMA(2) = -, 0.5, 4 - 19/6, 3 - 55/18
    np.testing.assert_allclose(rows[4][:4], [nan, 0.5, 5 / 6, -1 / 18], equal_nan=True)


def test_flat_prices_give_exact_zero_spread():
    # a constant series: every SMA and EMA is the constant exactly, std and MACD exactly 0
    df = pl.DataFrame({"close": [100.0] * 60, "volume": [1e6] * 60})
    rows = compute_rows(df, [("sma", 20), ("std", 20), ("macd_hist", 12, 26, 9),
                             ("macd_line", 12, 26)])
    assert np.all(rows[0][19:] == 100.0)
    assert np.all(rows[1][19:] == 0.0)
    assert np.all(rows[2][33:] == 0.0) and np.isnan(rows[2][32])
    assert np.all(rows[3][25:] == 0.0)


def test_bank_grows_only_by_missing_keys_and_keeps_rows(goog):
    b = IndicatorBank.build(goog, [("sma", 10), ("rsi", 14)])
    first = b.matrix[b.index[("sma", 10)]].copy()
    b.ensure(goog, [("sma", 10), ("macd_hist", 12, 26, 9)])
    assert len(b) == 3 and b.index[("sma", 10)] == 0 and b.index[("macd_hist", 12, 26, 9)] == 2
    np.testing.assert_array_equal(b.matrix[0], first)
    assert b.matrix.flags.c_contiguous and b.matrix.shape == (3, goog.height)


def test_deferred_rows_are_indexed_now_and_computed_by_the_returned_call(goog):
    # an evolution's helper thread computes a generation's new rows with its backtests
    b = IndicatorBank.build(goog, [("sma", 10)])
    fills: list = []
    b.ensure(goog, [("sma", 10), ("rsi", 14), ("macd_hist", 12, 26, 9)], deferred=fills)
    assert len(fills) == 1 and len(b) == 3  # indexed at once, one call for the new rows
    b.matrix[1:] = -1.0  # not computed yet: whatever was in the buffer
    fills[0]()
    close = goog["close"].to_numpy()
    np.testing.assert_allclose(b.matrix[b.index[("rsi", 14)]][14:],
                               talib.RSI(close, 14)[14:], atol=TOL)
    np.testing.assert_array_equal(b.matrix[2], compute_rows(goog, [("macd_hist", 12, 26, 9)])[0])
    b.ensure(goog, [("rsi", 14)], deferred=fills)  # nothing new: nothing deferred
    assert len(fills) == 1


def test_a_failed_deferred_fill_leaves_an_empty_bank_not_unfilled_rows(goog, monkeypatch):
    from engine.backtest import indicators_nb

    b = IndicatorBank.build(goog, [("sma", 10)])
    fills: list = []
    b.ensure(goog, [("rsi", 14)], deferred=fills)

    def broken(*args):
        raise MemoryError("no room")

    monkeypatch.setattr(indicators_nb, "fill_bank_serial_nb", broken)
    with pytest.raises(MemoryError, match="no room"):
        fills[0]()
    assert len(b) == 0 and b.matrix.shape == (0, goog.height)


def test_a_pending_batch_computes_its_new_rows_when_it_runs(goog):
    from engine.backtest import BacktestSettings, run_batch
    from engine.backtest.runner import prepare_batch

    genomes = _random_genomes(6, seed=5)
    bank = IndicatorBank.build(goog, [])
    pending = prepare_batch(goog, "genome", genomes, BacktestSettings(), bank=bank)
    assert len(pending.fills) == 1 and len(bank) > 0
    pending.run()
    assert pending.fills == []
    assert pending.result().all_metrics() == run_batch(goog, "genome", genomes).all_metrics()


def test_bank_is_bounded(goog):
    row = goog.height * 8
    b = IndicatorBank.build(goog, [("sma", n) for n in range(5, 10)], max_bytes=8 * row)
    assert b.nbytes <= 8 * row
    b.ensure(goog, [("sma", n) for n in range(10, 13)])  # 5 + 3 rows fit: kept
    assert len(b) == 8 and b.nbytes <= 8 * row
    b.ensure(goog, [("rsi", 14), ("sma", 20)])  # 10 rows would not: restart with these
    assert sorted(b.index) == [("rsi", 14), ("sma", 20)] and b.nbytes <= 8 * row
    np.testing.assert_allclose(b.matrix[b.index[("sma", 20)]][19:],
                               talib.SMA(goog["close"].to_numpy(), 20)[19:], atol=TOL)
    # one call needing more than the bound is still computed (the batch needs its rows)
    b.ensure(goog, [("sma", n) for n in range(30, 42)])
    assert len(b) == 12
    assert DEFAULT_MAX_BYTES == 256 * 1024 * 1024
    assert IndicatorBank.build(goog, []).max_bytes == DEFAULT_MAX_BYTES


def test_bank_refuses_other_data(goog):
    b = IndicatorBank.build(goog, [("sma", 5)])
    with pytest.raises(ValueError, match="built on 2148 bars.*build a new IndicatorBank"):
        b.ensure(goog.head(100), [("sma", 6)])


def test_unknown_or_bad_key_is_refused(goog):
    with pytest.raises(KeyError, match="unknown indicator key"):
        compute_rows(goog, [("wma", 5)])
    with pytest.raises(KeyError, match="needs 3 whole-number period"):
        compute_rows(goog, [("macd_hist", 12, 26)])


# ----------------------------------------------------------------- keyed numba cache
def test_cache_key_changes_when_any_source_changes(tmp_path, monkeypatch):
    a, b = tmp_path / "enums.py", tmp_path / "kernel.py"
    a.write_text("X = 1\n")
    b.write_text("from enums import X\n")
    monkeypatch.setattr(numba_setup, "source_files", lambda: [a, b])
    k1 = numba_setup.cache_key()
    assert len(k1) == 12 and k1 == numba_setup.cache_key()
    a.write_text("X = 2\n")  # an edit to a module a kernel only imports a constant from
    k2 = numba_setup.cache_key()
    assert k2 != k1
    a.write_text("X = 1\n")
    assert numba_setup.cache_key() == k1


def test_real_sources_are_hashed_and_cache_dir_is_keyed():
    import numba

    names = {p.name for p in numba_setup.source_files()}
    assert {"enums.py", "step.py", "kernel.py", "indicators_nb.py", "numba_setup.py"} <= names
    if numba_setup.CACHE_DIR is not None:  # None when NUMBA_CACHE_DIR is set by the user
        # the key of the sources at import (they may be edited while the tests run)
        assert numba_setup.CACHE_DIR.endswith("numba-" + numba_setup.KEY)
        assert numba.config.CACHE_DIR == numba_setup.CACHE_DIR


def test_configure_cache_prunes_old_keys_and_respects_env(tmp_path, monkeypatch):
    import numba

    monkeypatch.setattr(numba_setup, "cache_base", lambda: tmp_path)
    monkeypatch.setattr(numba.config, "CACHE_DIR", numba.config.CACHE_DIR)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    (tmp_path / "numba-000000000000").mkdir()
    (tmp_path / "other").mkdir()
    folder = numba_setup.configure_cache()
    assert folder == str(tmp_path / ("numba-" + numba_setup.cache_key()))
    assert numba.config.CACHE_DIR == folder
    import os

    assert os.environ["NUMBA_CACHE_DIR"] == folder  # numba re-reads the environment
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["other", "numba-" + numba_setup.cache_key()])
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert numba_setup.configure_cache() is None


# ----------------------------------------------------------------- the genome through the bank
def _random_genomes(n: int, seed: int = 3) -> list[dict]:
    """Random genomes as the evolution draws them (uniform over each gene's range,
    repaired)."""
    import random

    from engine.evolution.genome import random_genes, to_params

    rng = random.Random(seed)
    return [to_params(random_genes(rng)) for _ in range(n)]


def test_genome_batch_equals_single_backtests_to_the_last_digit(goog):
    from engine.backtest import BacktestSettings, run_backtest, run_batch

    genomes = _random_genomes(25)
    s = BacktestSettings(commission=0.001)
    batch = run_batch(goog, "genome", genomes, s)
    for i, g in enumerate(genomes):
        assert batch.metrics_of(i) == run_backtest(goog, "genome", g, s).metrics


def test_trade_genes_off_trades_the_genome_signals_without_stops_all_in(goog):
    from engine.backtest import BacktestSettings, run_backtest, run_signals

    g = _random_genomes(1, seed=11)[0]
    off = BacktestSettings(commission=0.001, trade_genes=False)
    res = run_backtest(goog, "genome", g, off)
    plain = run_signals(goog, res.signals, BacktestSettings(commission=0.001))
    assert res.metrics == plain.metrics
    assert set(res.trades["exit_reason"].to_list()) <= {"signal", "end"}
    with_genes = run_backtest(goog, "genome", g, BacktestSettings(commission=0.001))
    assert with_genes.metrics["exposure_pct"] != res.metrics["exposure_pct"]
    assert "trade_genes" not in BacktestSettings().to_dict()  # JSON keys unchanged
    assert off.to_dict()["trade_genes"] is False


@pytest.mark.parametrize("n_keys", [1, 3, 7, 50])  # MACD groups of four, padded ones too
@pytest.mark.parametrize("path", ["serial", "parallel"])
def test_grouped_macd_rows_are_the_one_row_kernel_bit_for_bit(goog, n_keys, path,
                                                              monkeypatch):
    """The bank fills MACD rows four at a time (interleaved recurrences): every row must be
    exactly what the one-row kernel gives, whichever work path the size takes."""
    from engine.backtest import bank as bank_module
    from engine.backtest import indicators_nb as inb

    monkeypatch.setattr(bank_module, "SERIAL_WORK", 10**12 if path == "serial" else 0)
    keys = [k for k in GENOME_KEYS if k[0] in ("macd_signal", "macd_hist")][::7][:n_keys]
    keys += [("sma", 20), ("rsi", 14)]  # other rows between the groups
    rows = compute_rows(goog, keys)
    close = goog.get_column("close").to_numpy().astype(np.float64)
    for key, row in zip(keys, rows, strict=True):
        if key[0] not in ("macd_signal", "macd_hist"):
            continue
        _, f, s, g = key
        ef, es = np.empty_like(close), np.empty_like(close)
        inb.ema_nb(close, f, ef)
        inb.ema_nb(close, s, es)
        one = np.empty_like(close)
        inb.macd_signal_row_nb(ef, es, g, key[0] == "macd_hist", one)
        np.testing.assert_array_equal(row, one, err_msg=str(key))
