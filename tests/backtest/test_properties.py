"""Hypothesis properties of the backtester (derandomized, modest example counts).

- no look-ahead: changing any bar after t never changes signals, equity, positions,
  entries or closed trades up to t — for every strategy, the genome included;
- accounting: equity == cash + position · close at every bar, with cash rebuilt from the
  trade list alone (fills, commission per side); a long-only account never borrows;
- batch == single: ``run_batch`` reports *exactly* (``==``) the metrics of ``run_backtest``
  for random parameter sets of every strategy (what the GA finds, a plain backtest
  reproduces);
- parameters and genes outside their bounds raise ParameterError naming the parameter;
- ``parse_grid``: both ends included, integer and float grids, bad specs rejected.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine.backtest import (
    GENOME_PARAMS,
    STRATEGIES,
    BacktestSettings,
    get_strategy,
    parse_grid,
    run_backtest,
    run_batch,
)
from engine.errors import ParameterError
from tests.backtest.generators import backtest_settings, gbm_arrays, param_sets, to_frame

PROFILE = settings(max_examples=20, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow,
                                          HealthCheck.function_scoped_fixture])
ALL = sorted(STRATEGIES)  # bollinger, genome, macd, rsi, sma_cross


def bar_index(ts: pl.Series, times: pl.Series) -> np.ndarray:
    return np.searchsorted(ts.to_numpy(), times.to_numpy())


# ----------------------------------------------------------------------------------------
# no look-ahead
# ----------------------------------------------------------------------------------------
N_BARS = 260


@pytest.mark.parametrize("name", ALL)
@PROFILE
@given(data=st.data())
def test_no_look_ahead(name, data):
    p = data.draw(param_sets(name), label="params")
    s = data.draw(backtest_settings(name), label="settings")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    t = data.draw(st.integers(0, N_BARS - 2), label="t")
    a = gbm_arrays(seed, N_BARS)
    b = gbm_arrays(seed + 1, N_BARS, vol=0.04)
    changed = {}
    for k in a:  # bars t+1.. replaced by an unrelated, wilder path at another level
        col = a[k].copy()
        col[t + 1:] = b[k][t + 1:] * (1.7 if k != "volume" else 3.0)
        changed[k] = col
    r1 = run_backtest(to_frame(a), name, p, s)
    r2 = run_backtest(to_frame(changed), name, p, s)

    np.testing.assert_array_equal(r1.signals[: t + 1], r2.signals[: t + 1])
    e1, e2 = r1.equity, r2.equity
    np.testing.assert_array_equal(e1["equity"].to_numpy()[: t + 1],
                                  e2["equity"].to_numpy()[: t + 1])
    np.testing.assert_array_equal(e1["position"].to_numpy()[: t + 1],
                                  e2["position"].to_numpy()[: t + 1])
    cutoff = e1["timestamp"][t]

    def closed_by_t(tr: pl.DataFrame) -> pl.DataFrame:
        return tr.filter((pl.col("exit_reason") != "end") & (pl.col("exit_time") <= cutoff))

    def entries_by_t(tr: pl.DataFrame) -> pl.DataFrame:
        return tr.filter(pl.col("entry_time") <= cutoff).select(
            "entry_time", "entry_price", "size")

    assert closed_by_t(r1.trades).equals(closed_by_t(r2.trades))
    assert entries_by_t(r1.trades).equals(entries_by_t(r2.trades))


# ----------------------------------------------------------------------------------------
# accounting: equity == cash + position · close, cash rebuilt from the trades
# ----------------------------------------------------------------------------------------
def rebuild_cash_and_position(res, n: int, cash0: float, commission: float):
    cash = np.full(n, cash0)
    pos = np.zeros(n)
    tr = res.trades
    ts = res.equity["timestamp"]
    eb = bar_index(ts, tr["entry_time"])
    xb = bar_index(ts, tr["exit_time"])
    for i, row in enumerate(tr.iter_rows(named=True)):
        size, entry, exit_ = row["size"], row["entry_price"], row["exit_price"]
        ecomm = abs(size) * entry * commission
        cash[eb[i]:] -= size * entry + ecomm
        if row["exit_reason"] == "end":
            assert xb[i] == n - 1 and i == len(tr) - 1
            pos[eb[i]:] += size
            comm = ecomm
        else:
            xcomm = abs(size) * exit_ * commission
            cash[xb[i]:] += size * exit_ - xcomm
            pos[eb[i]:xb[i]] += size
            comm = ecomm + xcomm
            if cash[xb[i]] <= 0 and size < 0 and row["exit_reason"] == "stop_loss":
                # a short wiped out: liquidated at the close, the account stops at 0
                assert i == len(tr) - 1
                cash[xb[i]:] = 0.0
        assert row["commission"] == pytest.approx(comm, rel=1e-12, abs=1e-9)
        assert row["pnl"] == pytest.approx(size * (exit_ - entry) - comm, rel=1e-9, abs=1e-6)
    return cash, pos


@pytest.mark.parametrize("name", ALL)
@PROFILE
@given(data=st.data())
def test_equity_is_cash_plus_position_value(name, data):
    p = data.draw(param_sets(name), label="params")
    s = data.draw(backtest_settings(name), label="settings")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    df = to_frame(gbm_arrays(seed, N_BARS))
    res = run_backtest(df, name, p, s)
    close = df["close"].to_numpy()
    cash, pos = rebuild_cash_and_position(res, df.height, s.cash, s.commission)
    np.testing.assert_array_equal(res.equity["position"].to_numpy(), pos)
    np.testing.assert_allclose(res.equity["equity"].to_numpy(), cash + pos * close,
                               rtol=1e-9, atol=1e-6 * s.cash)
    # trades never overlap, and each entry follows a signal at the previous close
    ts = res.equity["timestamp"]
    eb = bar_index(ts, res.trades["entry_time"])
    xb = bar_index(ts, res.trades["exit_time"])
    assert (eb[1:] >= xb[:-1]).all() and (eb <= xb).all()
    sig = res.signals
    assert set(np.unique(sig)) <= {-1, 0, 1}
    for e, size in zip(eb, res.trades["size"], strict=True):
        assert sig[e - 1] == (1 if size > 0 else -1)
    if not s.allow_short:
        assert (pos >= 0).all()
        assert cash.min() >= -1e-9 * s.cash, "a long-only account borrowed cash"
        assert (res.equity["equity"].to_numpy() >= 0).all()


@PROFILE
@given(seed=st.integers(0, 2**32 - 1), comm=st.sampled_from([0.0, 0.001, 0.01]),
       fractional=st.booleans(), size=st.none() | st.floats(0.01, 1.0))
def test_long_only_never_negative_cash_with_random_signals(seed, comm, fractional, size):
    """Drive the kernel with arbitrary signals: cash never goes below zero in long-only."""
    from engine.backtest import kernel as K
    from engine.backtest.enums import N_STATS, ST_COUNT, new_trades

    a = gbm_arrays(seed, 200, vol=0.05)
    rng = np.random.default_rng(seed)
    sig = rng.choice(np.array([-1, 0, 1], np.int8), 200, p=[0.2, 0.5, 0.3])
    n = 200
    eq, pos, stats = np.empty(n), np.empty(n), np.zeros(N_STATS)
    rec = new_trades(np.count_nonzero(sig) + 1)
    n_tr = K.simulate_nb(a["open"], a["high"], a["low"], a["close"], sig, False, 0.05, 0.1,
                         size or 0.0, 1000.0, comm, not fractional, eq, pos, stats, True, rec)
    cash = eq - pos * a["close"]
    assert (pos >= 0).all()
    assert cash.min() >= -1e-9
    assert stats[ST_COUNT] == n_tr


# ----------------------------------------------------------------------------------------
# batch == single, exactly
# ----------------------------------------------------------------------------------------
def same_metrics(a: dict, b: dict) -> list[str]:
    """Names of metrics that differ (NaN equals NaN; everything else must be ==)."""
    assert a.keys() == b.keys()
    bad = []
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
            continue
        if x != y or type(x) is not type(y):
            bad.append(f"{k}: batch {x!r} != single {y!r}")
    return bad


@pytest.mark.parametrize("name", ALL)
@PROFILE
@given(data=st.data())
def test_batch_equals_single_exactly(name, data):
    sets = data.draw(st.lists(param_sets(name), min_size=1, max_size=6), label="param sets")
    s = data.draw(backtest_settings(name), label="settings")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    chunk = data.draw(st.sampled_from([0, 1, 4]), label="chunk_size")
    df = to_frame(gbm_arrays(seed, 400))
    batch = run_batch(df, name, sets, s, chunk_size=chunk)
    assert len(batch.params) == len(sets)
    for i, p in enumerate(sets):
        single = run_backtest(df, name, p, s)
        assert batch.params[i] == single.params
        bad = same_metrics(batch.metrics_of(i), single.metrics)
        assert not bad, f"{name} {p} {s}: " + "; ".join(bad)


def test_batch_equals_single_on_goog_sweep(goog):
    """A realistic sweep on GOOG: every row equals its plain backtest (sampled rows)."""
    s = BacktestSettings(stop_loss=0.05, take_profit=0.1, commission=0.001, allow_short=True)
    sets = [{"fast": f, "slow": sl} for f in range(5, 25, 3) for sl in range(20, 100, 11)
            if f < sl]
    batch = run_batch(goog, "sma_cross", sets, s, chunk_size=7)
    for i in range(0, len(sets), 5):
        single = run_backtest(goog, "sma_cross", sets[i], s)
        assert not same_metrics(batch.metrics_of(i), single.metrics), sets[i]


# ----------------------------------------------------------------------------------------
# parameters outside their bounds
# ----------------------------------------------------------------------------------------
def _outside(prm, side: str):
    if prm.kind is int:
        return int(prm.low) - 1 if side == "low" else int(prm.high) + 1
    span = prm.high - prm.low
    return prm.low - 0.01 * span if side == "low" else prm.high + 0.01 * span


CASES = [(name, prm, side) for name in ALL for prm in get_strategy(name).params
         for side in ("low", "high")]


@pytest.mark.parametrize("name, prm, side", CASES,
                         ids=[f"{n}-{p.name}-{s}" for n, p, s in CASES])
def test_out_of_bounds_parameter_raises_naming_it(goog, name, prm, side):
    bad = {prm.name: _outside(prm, side)}
    with pytest.raises(ParameterError, match=prm.name):
        get_strategy(name).resolve(bad)
    with pytest.raises(ParameterError, match=prm.name):
        run_backtest(goog, name, bad)
    with pytest.raises(ParameterError, match=prm.name):
        run_batch(goog, name, [get_strategy(name).defaults(), bad])


def test_genome_bounds_are_the_architecture_table():
    table = {
        "rsi_period": (10, 30, int), "rsi_oversold": (20, 40, float),
        "rsi_overbought": (60, 80, float), "sma_short": (5, 25, int),
        "sma_long": (20, 100, int), "macd_fast": (8, 16, int), "macd_slow": (20, 32, int),
        "macd_signal": (5, 15, int), "bb_period": (10, 30, int), "bb_std": (1.5, 3.0, float),
        "volume_sma": (10, 30, int), "stop_loss": (0.02, 0.10, float),
        "take_profit": (0.05, 0.20, float), "position_size": (0.05, 0.25, float),
        "max_positions": (1, 5, int),
    }
    assert [p.name for p in GENOME_PARAMS] == list(table)
    for p in GENOME_PARAMS:
        assert (p.low, p.high, p.kind) == table[p.name], p.name


GENE = {p.name: p for p in GENOME_PARAMS}


@PROFILE
@given(gene=st.sampled_from(sorted(GENE)), data=st.data())
def test_genome_gene_outside_bounds_raises(gene, data):
    prm = GENE[gene]
    span = prm.high - prm.low
    value = data.draw(
        st.floats(prm.low - 10 * span - 10, prm.low, exclude_max=True)
        | st.floats(prm.high, prm.high + 10 * span + 10, exclude_min=True), label="value")
    if prm.kind is int:
        value = math.floor(value) if value < prm.low else math.ceil(value)
        assume(not prm.low <= value <= prm.high)
    with pytest.raises(ParameterError, match=gene):
        get_strategy("genome").resolve({gene: value})


@pytest.mark.parametrize("name, key, value", [
    ("sma_cross", "fast", 10.5),          # periods are whole numbers
    ("genome", "rsi_period", 14.2),
    ("rsi", "period", "abc"),
    ("bollinger", "std", float("nan")),
    ("genome", "bb_std", float("inf")),
])
def test_malformed_parameter_raises_naming_it(name, key, value):
    with pytest.raises(ParameterError, match=key):
        get_strategy(name).resolve({key: value})


def test_unknown_parameter_and_strategy():
    with pytest.raises(ParameterError, match="bogus"):
        get_strategy("sma_cross").resolve({"bogus": 3})
    with pytest.raises(ParameterError, match="nope"):
        get_strategy("nope")


@pytest.mark.parametrize("name, p, names", [
    ("sma_cross", {"fast": 30, "slow": 30}, ("fast", "slow")),
    ("macd", {"fast": 26, "slow": 12}, ("fast", "slow")),
    ("rsi", {"oversold": 70, "overbought": 30}, ("oversold", "overbought")),
    ("genome", {"sma_short": 25, "sma_long": 20}, ("sma_short", "sma_long")),
])
def test_order_constraints_raise(name, p, names):
    with pytest.raises(ParameterError) as err:
        get_strategy(name).resolve(p)
    assert all(n in str(err.value) for n in names)


# ----------------------------------------------------------------------------------------
# parse_grid
# ----------------------------------------------------------------------------------------
def test_parse_grid_examples():
    assert parse_grid("fast=5:24") == ("fast", list(range(5, 25)))
    assert len(parse_grid("fast=5:24")[1]) == 20
    assert parse_grid("slow=20:100:10") == ("slow", [20, 30, 40, 50, 60, 70, 80, 90, 100])
    assert parse_grid("slow=20:95:10")[1][-1] == 90
    assert parse_grid("std=1.5:3.0:0.5") == ("std", [1.5, 2.0, 2.5, 3.0])
    assert parse_grid("x=0.1:0.3:0.1") == ("x", [0.1, 0.2, 0.3])
    assert parse_grid("period=14") == ("period", [14])
    k, v = parse_grid("fast=5:24")
    assert all(type(x) is int for x in v)
    assert all(type(x) is float for x in parse_grid("std=1:2:0.25")[1])


@pytest.mark.parametrize("spec", [
    "fast", "fast=", "=5:24", "fast=a:b", "fast=24:5", "fast=5:24:0", "fast=5:24:-1",
    "fast=1:2:3:4", "fast=5:x", "fast=0:10000000",
])
def test_parse_grid_rejects_bad_specs(spec):
    with pytest.raises(ParameterError):
        parse_grid(spec)


@PROFILE
@given(a=st.integers(-1000, 1000), n=st.integers(0, 300), step=st.integers(1, 50))
def test_parse_grid_integer_property(a, n, step):
    b = a + n
    key, values = parse_grid(f"k={a}:{b}:{step}")
    assert key == "k"
    assert values == list(range(a, b + 1, step))
    assert values[0] == a and (values[-1] == b) == (n % step == 0)


@PROFILE
@given(a=st.integers(0, 1000), n=st.integers(0, 60), step=st.sampled_from(
    [0.1, 0.25, 0.5, 0.05, 1.5]))
def test_parse_grid_float_property(a, n, step):
    lo = a / 10
    hi = round(lo + n * step, 10)
    _, values = parse_grid(f"k={lo}:{hi}:{step}")
    assert len(values) == n + 1  # both ends included
    assert values[0] == pytest.approx(lo) and values[-1] == pytest.approx(hi)
    assert all(type(x) is float for x in values)
    assert np.allclose(np.diff(values), step) if n else True
