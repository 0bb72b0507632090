"""The portfolio runs the single backtest's execution semantics (one shared bar step).

- a one-symbol portfolio *is* ``run_backtest``: trades, equity curve and metrics ``==``,
  across strategies and settings (stops, size fraction, short, commission, a wipe-out) and
  as a hypothesis property over random price series;
- two symbols, worked by hand: shared cash, ``max_positions=1`` with both signalling on one
  bar (the first symbol given wins; exits fill before entries), and a stop on one leg while
  the other stays open;
- accounting over several symbols (hypothesis): equity == cash + Σ position·close at every
  bar with cash rebuilt from the trade list alone, never more than ``max_positions`` open,
  a long-only account never borrows.

The hand-worked cases use commission 1/128 = 0.0078125 and prices that are multiples of
1/128 fractions, so every number is exact in binary floating point and asserted with ``==``.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.backtest import STRATEGIES, BacktestSettings, run_backtest, run_portfolio
from engine.backtest.enums import EXIT_REASONS, N_STATS, ST_COUNT, new_trades
from engine.backtest.portfolio_kernel import simulate_portfolio_nb
from tests.backtest.generators import backtest_settings, gbm_arrays, param_sets, to_frame

PROFILE = settings(max_examples=15, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow,
                                          HealthCheck.function_scoped_fixture])
ALL = sorted(STRATEGIES)
C = 1 / 128  # commission, exact in binary


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def same_number(a: float, b: float) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float)
                      and math.isnan(a) and math.isnan(b))


def assert_portfolio_is_single(single, port, symbol: str) -> None:
    """Trades, equity curve and every metric equal (``==``; NaN equals NaN)."""
    assert port.trades["symbol"].to_list() == [symbol] * single.trades.height
    assert port.trades.drop("symbol").equals(single.trades)
    for col in ("timestamp", "equity", "drawdown_pct"):
        assert port.equity[col].equals(single.equity[col]), col
    # the portfolio's position column counts open positions; here 1 exactly when open
    np.testing.assert_array_equal(port.equity["position"].to_numpy(),
                                  (single.equity["position"].to_numpy() != 0).astype(float))
    assert port.metrics.keys() == single.metrics.keys()
    bad = [k for k in single.metrics if not same_number(single.metrics[k], port.metrics[k])]
    assert not bad, bad


def run_kernel(o, h, lo, c, sig, *, max_positions, size, sl=0.0, tp=0.0, short=False,
               cash=10_000.0, comm=C):
    """simulate_portfolio_nb on 2-D (symbol, bar) lists; (trades as dicts, equity, pos)."""
    arr = [np.ascontiguousarray(np.asarray(x, float)) for x in (o, h, lo, c)]
    sig = np.ascontiguousarray(np.asarray(sig, np.int8))
    n = sig.shape[1]
    eq, pos, stats = np.empty(n), np.empty(sig.shape), np.zeros(N_STATS)
    rec = new_trades(int(np.count_nonzero(sig)) + sig.shape[0])
    n_tr = simulate_portfolio_nb(*arr, sig, short, sl, tp, size, max_positions, cash, comm,
                                 True, eq, pos, stats, rec)
    assert stats[ST_COUNT] == n_tr
    trades = [{"symbol": int(r["symbol"]), "entry_bar": int(r["entry_bar"]),
               "exit_bar": int(r["exit_bar"]), "entry_price": float(r["entry_price"]),
               "exit_price": float(r["exit_price"]), "size": float(r["size"]),
               "pnl": float(r["pnl"]), "reason": EXIT_REASONS[int(r["reason"])],
               "commission": float(r["commission"])} for r in rec[:n_tr]]
    return trades, eq, pos


def hl(o, c):
    """High/low 0.5 outside the bar's open/close: no stop is anywhere near."""
    o, c = np.asarray(o, float), np.asarray(c, float)
    return np.maximum(o, c) + 0.5, np.minimum(o, c) - 0.5


# ----------------------------------------------------------------------------------------
# one symbol: the portfolio is the single backtest
# ----------------------------------------------------------------------------------------
CASES = [
    ("sma_cross", {"fast": 10, "slow": 30}, BacktestSettings()),
    ("sma_cross", {"fast": 10, "slow": 30},
     BacktestSettings(stop_loss=0.05, take_profit=0.1, commission=0.001)),
    ("rsi", None, BacktestSettings(size=0.5, commission=0.002)),
    ("macd", None, BacktestSettings(allow_short=True, stop_loss=0.04, take_profit=0.12,
                                    commission=0.001)),
    ("bollinger", None, BacktestSettings(allow_short=True, size=0.25, fractional=True)),
    ("genome", None, BacktestSettings(commission=0.0005)),  # sl, tp, size from its genes
    ("genome", None, BacktestSettings(allow_short=True, stop_loss=0.03, size=1.0)),
]


@pytest.mark.parametrize(("strategy", "params", "s"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_one_symbol_portfolio_equals_run_backtest_on_goog(goog, strategy, params, s):
    single = run_backtest(goog, strategy, params, s)
    port = run_portfolio({"GOOG": goog}, strategy, params, s)
    assert single.trades.height > 3  # the case trades
    assert_portfolio_is_single(single, port, "GOOG")


def test_one_symbol_portfolio_equals_run_backtest_through_a_wipe_out():
    # a steady 10 % rise: RSI(14) is 100 from bar 14 (> 70, sell) -> short all-in at bar 15's
    # open; the price doubles within 8 bars, equity reaches 0, liquidation at the close
    n = 40
    close = 100.0 * 1.1 ** np.arange(n)
    df = to_frame({"open": close / 1.02, "high": close * 1.01, "low": close / 1.03,
                   "close": close, "volume": np.full(n, 1e6)})
    s = BacktestSettings(allow_short=True, commission=0.001)
    single = run_backtest(df, "rsi", {"period": 14}, s)
    assert single.trades["exit_reason"].to_list() == ["stop_loss"]
    assert single.metrics["final_equity"] == 0.0
    assert_portfolio_is_single(single, run_portfolio({"UP": df}, "rsi", {"period": 14}, s),
                               "UP")


@pytest.mark.parametrize("name", ALL)
@PROFILE
@given(data=st.data())
def test_one_symbol_portfolio_equals_run_backtest_property(name, data):
    p = data.draw(param_sets(name), label="params")
    s = data.draw(backtest_settings(name), label="settings")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    df = to_frame(gbm_arrays(seed, 260, vol=data.draw(st.sampled_from([0.01, 0.02, 0.04]))))
    assert_portfolio_is_single(run_backtest(df, name, p, s),
                               run_portfolio({"X": df}, name, p, s), "X")


def test_identical_symbols_with_one_slot_trade_only_the_first_given(goog):
    """The documented tie-break: symbols are taken in the order given."""
    s = BacktestSettings(stop_loss=0.05, take_profit=0.1, commission=0.001)
    single = run_backtest(goog, "sma_cross", {"fast": 10, "slow": 30}, s)
    for first, second in (("X", "Y"), ("Y", "X")):
        port = run_portfolio({first: goog, second: goog}, "sma_cross",
                             {"fast": 10, "slow": 30}, s, max_positions=1)
        # both signal on every same bar; the first takes the only slot every time
        assert_portfolio_is_single(single, port, first)


# ----------------------------------------------------------------------------------------
# two symbols, worked by hand
# ----------------------------------------------------------------------------------------
def test_two_symbols_one_slot_shared_cash_by_hand():
    # cash 10,000, commission 1/128, max_positions 1, size 1.0 (run_portfolio's 1/max_pos)
    a_o, a_c = [128, 128, 130, 132, 140], [128, 129, 131, 134, 141]
    b_o, b_c = [64, 64, 66, 68, 70], [64, 65, 67, 69, 72]
    sig = [[1, 0, -1, 0, 0],   # A: buy at the close of bar 0, sell at the close of bar 2
           [1, 0, 1, 0, 0]]    # B: buy on bar 0 as well, and again on bar 2
    (a_h, a_l), (b_h, b_l) = hl(a_o, a_c), hl(b_o, b_c)
    trades, eq, pos = run_kernel([a_o, b_o], [a_h, b_h], [a_l, b_l], [a_c, b_c], sig,
                                 max_positions=1, size=1.0)
    # bar 1 open: both pending; A comes first and takes the only slot.
    #   budget = min(1.0 · equity at the open, cash) = 10,000
    #   units = floor(10,000 / (128 · (1 + 1/128))) = floor(10,000 / 129) = 77
    #   cost 77 · 128 = 9,856, commission 9,856 / 128 = 77 -> cash 10,000 − 9,933 = 67
    #   B's signal finds no free slot and is dropped (not queued)
    # bar 1 close: 67 + 77 · 129 = 10,000;  bar 2 close: 67 + 77 · 131 = 10,154
    # bar 3 open: exits before entries — A sells 77 at 132:
    #   commission 77 · 132 / 128 = 79.40625, cash 67 + 10,164 − 79.40625 = 10,151.59375
    #   pnl 77 · (132 − 128) − 77 − 79.40625 = 151.59375
    # then B (signal at bar 2's close) buys with the whole account, sized at this open:
    #   units = floor(10,151.59375 / (68 · 129/128 = 68.53125)) = floor(148.13…) = 148
    #   cost 148 · 68 = 10,064, commission 78.625 -> cash 10,151.59375 − 10,142.625 = 8.96875
    # bar 3 close: 8.96875 + 148 · 69 = 10,220.96875; bar 4: 8.96875 + 148 · 72 = 10,664.96875
    # end: B still open, listed last: pnl 148 · (72 − 68) − 78.625 = 513.375, no exit fee
    assert trades == [
        {"symbol": 0, "entry_bar": 1, "exit_bar": 3, "entry_price": 128.0,
         "exit_price": 132.0, "size": 77.0, "pnl": 151.59375, "reason": "signal",
         "commission": 156.40625},
        {"symbol": 1, "entry_bar": 3, "exit_bar": 4, "entry_price": 68.0, "exit_price": 72.0,
         "size": 148.0, "pnl": 513.375, "reason": "end", "commission": 78.625},
    ]
    assert eq.tolist() == [10_000.0, 10_000.0, 10_154.0, 10_220.96875, 10_664.96875]
    assert pos.tolist() == [[0, 77, 77, 0, 0], [0, 0, 0, 148, 148]]
    # the books close: initial cash + Σ pnl = final equity
    assert 10_000 + sum(t["pnl"] for t in trades) == eq[-1]


def test_two_symbols_stop_on_one_leg_while_the_other_stays_open_by_hand():
    # cash 10,000, commission 1/128, max_positions 2, size 0.5, stop-loss 25 %, no target
    a_o, a_c = [128, 128, 100, 99], [128, 130, 98, 97]
    a_h, a_l = [128.5, 131, 101, 100], [127.5, 90, 92, 96]  # bar 1 low 90 < sl: entry bar
    b_o, b_c = [64, 64, 68, 70], [64, 66, 70, 72]
    b_h, b_l = [64.5, 67, 71, 73], [63.5, 60, 60, 69]        # never reaches its sl of 48
    sig = [[1, 0, 0, 0], [1, 0, 0, 0]]
    trades, eq, pos = run_kernel([a_o, b_o], [a_h, b_h], [a_l, b_l], [a_c, b_c], sig,
                                 max_positions=2, size=0.5, sl=0.25)
    # bar 1 open, A first: equity at the open = 10,000, budget 0.5 · 10,000 = 5,000
    #   units floor(5,000 / 129) = 38, cost 4,864 + commission 38 -> cash 5,098; sl 96
    # then B: equity at the open = 5,098 + 38 · 128 = 9,962, budget 4,981 (<= cash)
    #   units floor(4,981 / (64 · 129/128 = 64.5)) = 77, cost 4,928 + commission 38.5
    #   -> cash 5,098 − 4,966.5 = 131.5; sl 64 · 0.75 = 48
    # bar 1: A's low 90 is under 96, but stops are active from the bar after entry
    #   close: 131.5 + 38 · 130 + 77 · 66 = 131.5 + 4,940 + 5,082 = 10,153.5
    # bar 2: A's low 92 <= 96: stop-loss fills at min(open 100, 96) = 96
    #   commission 38 · 96 / 128 = 28.5, cash 131.5 + 3,648 − 28.5 = 3,751
    #   pnl 38 · (96 − 128) − 38 − 28.5 = −1,282.5;  B's low 60 > 48: B stays open
    #   close: 3,751 + 77 · 70 = 9,141;  bar 3 close: 3,751 + 77 · 72 = 9,295
    # end: B listed last, pnl 77 · (72 − 64) − 38.5 = 577.5, commission 38.5 (entry only)
    assert trades == [
        {"symbol": 0, "entry_bar": 1, "exit_bar": 2, "entry_price": 128.0,
         "exit_price": 96.0, "size": 38.0, "pnl": -1282.5, "reason": "stop_loss",
         "commission": 66.5},
        {"symbol": 1, "entry_bar": 1, "exit_bar": 3, "entry_price": 64.0, "exit_price": 72.0,
         "size": 77.0, "pnl": 577.5, "reason": "end", "commission": 38.5},
    ]
    assert eq.tolist() == [10_000.0, 10_153.5, 9_141.0, 9_295.0]
    assert pos.tolist() == [[0, 38, 0, 0], [0, 77, 77, 77]]
    assert 10_000 + sum(t["pnl"] for t in trades) == eq[-1]


# ----------------------------------------------------------------------------------------
# accounting over several symbols
# ----------------------------------------------------------------------------------------
def rebuild(res, closes: np.ndarray, symbols: list[str], cash0: float, commission: float):
    """(cash, positions by symbol) at every close, from the trade list alone."""
    n = closes.shape[1]
    ts = res.equity["timestamp"].to_numpy()
    cash = np.full(n, cash0)
    pos = np.zeros((len(symbols), n))
    tr = res.trades
    eb = np.searchsorted(ts, tr["entry_time"].to_numpy())
    xb = np.searchsorted(ts, tr["exit_time"].to_numpy())
    for i, row in enumerate(tr.iter_rows(named=True)):
        k = symbols.index(row["symbol"])
        size, entry, exit_ = row["size"], row["entry_price"], row["exit_price"]
        ecomm = abs(size) * entry * commission
        cash[eb[i]:] -= size * entry + ecomm
        if row["exit_reason"] == "end":
            assert xb[i] == n - 1
            pos[k, eb[i]:] += size
            comm = ecomm
        else:
            xcomm = abs(size) * exit_ * commission
            cash[xb[i]:] += size * exit_ - xcomm
            pos[k, eb[i]:xb[i]] += size
            comm = ecomm + xcomm
        assert row["commission"] == pytest.approx(comm, rel=1e-12, abs=1e-9)
        assert row["pnl"] == pytest.approx(size * (exit_ - entry) - comm, rel=1e-9, abs=1e-6)
    return cash, pos, eb, xb


@pytest.mark.parametrize("name", ["sma_cross", "rsi", "bollinger", "genome"])
@PROFILE
@given(data=st.data())
def test_portfolio_equity_is_cash_plus_positions(name, data):
    n_sym = data.draw(st.integers(2, 4), label="symbols")
    p = data.draw(param_sets(name), label="params")
    s = data.draw(backtest_settings(name), label="settings")
    max_pos = data.draw(st.integers(1, n_sym), label="max_positions")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    symbols = [f"S{k}" for k in range(n_sym)]
    frames = {sym: to_frame(gbm_arrays(seed + k, 260)) for k, sym in enumerate(symbols)}
    res = run_portfolio(frames, name, p, s, max_positions=max_pos)
    closes = np.stack([frames[sym]["close"].to_numpy() for sym in symbols])
    cash, pos, eb, xb = rebuild(res, closes, symbols, s.cash, s.commission)
    equity = res.equity["equity"].to_numpy()
    n_open = (pos != 0).sum(axis=0)
    wiped = np.flatnonzero(equity == 0.0)
    live = slice(0, wiped[0]) if wiped.size else slice(None)
    np.testing.assert_allclose(equity[live], (cash + (pos * closes).sum(axis=0))[live],
                               rtol=1e-9, atol=1e-6 * s.cash)
    np.testing.assert_array_equal(res.equity["position"].to_numpy()[live], n_open[live])
    if wiped.size:  # liquidated at that close: nothing open and no equity from then on
        assert (equity[wiped[0]:] == 0).all() and (res.equity["position"][wiped[0]:] == 0).all()
    assert n_open.max(initial=0) <= max_pos
    # per symbol: trades never overlap, each entry follows its signal at the previous close
    sym_of = res.trades["symbol"].to_list()
    for k, sym in enumerate(symbols):
        idx = [i for i, x in enumerate(sym_of) if x == sym]
        assert (eb[idx][1:] >= xb[idx][:-1]).all() and (eb[idx] <= xb[idx]).all()
        for i in idx:
            assert res.signals[k, eb[i] - 1] == (1 if res.trades["size"][i] > 0 else -1)
    if not s.allow_short:
        assert (pos >= 0).all()
        assert cash.min() >= -1e-9 * s.cash, "a long-only account borrowed cash"
    if not wiped.size:  # the books close: initial cash + Σ pnl = final equity
        assert s.cash + res.trades["pnl"].sum() == pytest.approx(equity[-1], rel=1e-9,
                                                                 abs=1e-6 * s.cash)


def test_portfolio_keeps_the_symbols_apart(goog):
    """Per-symbol signals come from each symbol's own bars (a scaled copy trades alike)."""
    half = goog.with_columns(*(pl.col(c) / 2 for c in ("open", "high", "low", "close")))
    port = run_portfolio({"G": goog, "H": half}, "sma_cross", {"fast": 10, "slow": 30},
                         BacktestSettings(), max_positions=2)
    g = port.trades.filter(pl.col("symbol") == "G")
    h = port.trades.filter(pl.col("symbol") == "H")
    assert g["entry_time"].equals(h["entry_time"]) and g["exit_time"].equals(h["exit_time"])
    assert (h["entry_price"] * 2).equals(g["entry_price"])


# ----------------------------------------------------------------------------------------
# the batch path an evolution's portfolio windows use (issue 11)

def test_portfolio_batch_equals_run_portfolio_for_every_genome_and_call(goog):
    """``PortfolioBatch`` (a bank per symbol kept across calls, signals from the bank)
    gives ``run_portfolio``'s metrics exactly, for random genomes, over two calls that share
    part of the indicator space, with stops, sizes and max_positions genes in play."""
    import random

    from engine.backtest import PortfolioBatch
    from engine.evolution.genome import random_genes, to_params

    a = goog.slice(0, 1200)
    b = goog.slice(0, 1200).with_columns(  # a second symbol: the same dates, other prices
        (pl.col(c) * (1 + 0.3 * pl.int_range(pl.len()).sin() / 10)).alias(c)
        for c in ("open", "high", "low", "close"))
    b = b.with_columns(pl.max_horizontal("open", "high", "close").alias("high"),
                       pl.min_horizontal("open", "low", "close").alias("low"))
    frames = {"A": a, "B": b}
    settings_ = BacktestSettings(commission=0.001, allow_short=True)
    rng = random.Random(11)
    first = [to_params(random_genes(rng)) for _ in range(12)]
    second = first[:5] + [to_params(random_genes(rng)) for _ in range(7)]
    batch = PortfolioBatch(frames, "genome", settings_)
    for sets in (first, second):
        got = batch.metrics(sets, validated=True)
        want = [run_portfolio(frames, "genome", p, settings_).metrics for p in sets]
        assert got == want
    assert any(m["n_trades"] > 0 for m in got)
