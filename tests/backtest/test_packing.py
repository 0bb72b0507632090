"""engine.backtest.packing: a batch packed a column at a time is exactly what packing each
set alone gives (``Strategy.pack`` and ``trade_levels``), and ``Strategy.resolve_many``
returns what ``resolve`` returns — or raises what it raises — for every kind of input."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.backtest import STRATEGIES, BacktestSettings, get_strategy, trade_levels
from engine.backtest.bank import IndicatorBank
from engine.backtest.packing import distinct_keys, pack_batch, resolve_batch
from engine.errors import ParameterError
from engine.evolution.genome import random_genes, to_params


def _frame(n: int = 300) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return pl.DataFrame({
        "timestamp": pl.datetime_range(pl.datetime(2020, 1, 1), pl.datetime(2020, 1, 1)
                                       + pl.duration(days=n - 1), "1d", eager=True),
        "open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
        "volume": rng.uniform(1e5, 2e5, n)})


def _genomes(n: int, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    return [to_params(random_genes(rng)) for _ in range(n)]


def _one_by_one(strat, resolved, bank, data, s):
    """The reference: each set packed alone."""
    for p in resolved:
        bank.ensure(data, strat.indicator_keys(p))
    packed = [strat.pack(p, bank.index) for p in resolved]
    levels = [trade_levels(strat, p, s) for p in resolved]
    return packed, levels


@pytest.mark.parametrize("trade_genes", [True, False])
@pytest.mark.parametrize("override", [None, 0.07])
def test_genome_batch_packs_as_each_set_alone(trade_genes, override):
    data, strat = _frame(), get_strategy("genome")
    s = BacktestSettings(trade_genes=trade_genes, stop_loss=override)
    sets = _genomes(200)
    resolved, cols = resolve_batch(strat, sets)
    bank = IndicatorBank.build(data, [])
    batch = pack_batch(strat, resolved, cols, lambda keys: bank.rows_of(data, keys), s)
    ref_bank = IndicatorBank.build(data, [])
    packed, levels = _one_by_one(strat, resolved, ref_bank, data, s)
    assert batch.params == resolved
    # the rows may be numbered differently in the two banks: compare the indicator values
    for i, (rows, vals) in enumerate(packed):
        np.testing.assert_array_equal(bank.matrix[batch.rows[i]], ref_bank.matrix[rows])
        assert batch.vals[i].tolist() == vals
        assert (batch.sl[i], batch.tp[i], batch.size[i]) == levels[i]
    if override is not None:
        assert set(batch.sl) == {0.07}
    elif not trade_genes:
        assert not batch.sl.any() and not batch.tp.any() and not batch.size.any()


def test_distinct_keys_are_the_sets_keys_without_repeats():
    strat = get_strategy("genome")
    sets = _genomes(300, seed=9)
    cols = resolve_batch(strat, sets)[1]
    keys, parts = distinct_keys(strat, cols)
    expected = {k for p in sets for k in strat.indicator_keys(p)}
    # sma keys come from three templates (short, long, Bollinger period), so one key can
    # appear under several templates, never twice under one
    assert set(keys) == expected
    for offset, inverse in parts:
        for i, p in enumerate(sets[:50]):
            assert keys[offset + inverse[i]] in strat.indicator_keys(p)
    t = strat.key_spec.index(("macd_hist", "macd_fast", "macd_slow", "macd_signal"))
    offset, inverse = parts[t]
    assert [keys[offset + j] for j in inverse] == [
        ("macd_hist", p["macd_fast"], p["macd_slow"], p["macd_signal"]) for p in sets]


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_batch_packs_as_each_set_alone(name):
    data, strat = _frame(), get_strategy(name)
    grids = {"sma_cross": [{"fast": f, "slow": 40} for f in (3, 5, 9, 5)],
             "rsi": [{"period": 14, "oversold": 25.0, "overbought": 75.0},
                     {"period": 7, "oversold": 30.0, "overbought": 70.0}],
             "macd": [{"fast": 12, "slow": 26, "signal": 9}, {"fast": 5, "slow": 35,
                                                             "signal": 5}],
             "bollinger": [{"period": 20, "std": 2.0}, {"period": 10, "std": 1.5}],
             "genome": _genomes(5)}
    resolved, cols = resolve_batch(strat, grids[name])
    s = BacktestSettings(stop_loss=0.05, take_profit=0.1)
    bank = IndicatorBank.build(data, [])
    batch = pack_batch(strat, resolved, cols, lambda keys: bank.rows_of(data, keys), s)
    ref_bank = IndicatorBank.build(data, [])
    packed, levels = _one_by_one(strat, resolved, ref_bank, data, s)
    for i, (rows, vals) in enumerate(packed):
        np.testing.assert_array_equal(bank.matrix[batch.rows[i]], ref_bank.matrix[rows])
        assert batch.vals[i, : len(vals)].tolist() == vals
        assert (batch.sl[i], batch.tp[i], batch.size[i]) == levels[i]
        # the settings' stops override; a genome's size gene applies, others go all-in
        assert levels[i][:2] == (0.05, 0.1)
        assert levels[i][2] == (resolved[i]["position_size"] if name == "genome" else 0.0)


def test_resolve_many_fast_path_returns_what_resolve_returns():
    strat = get_strategy("genome")
    sets = _genomes(50)
    out, cols = strat.resolve_many(sets)
    assert cols is not None  # complete, typed, in range: the column path
    assert out == [strat.resolve(p) for p in sets]
    assert [list(p) for p in out] == [strat.param_names] * 50  # parameter order
    assert cols["rsi_period"].dtype == np.int64 and cols["bb_std"].dtype == np.float64
    assert cols["rsi_period"].tolist() == [p["rsi_period"] for p in sets]


@pytest.mark.parametrize(("change", "why"), [
    ({"rsi_period": 14.0}, "a whole number given as a float is converted"),
    ({"bb_std": 2}, "an int for a float parameter is converted"),
    ({"rsi_period": np.int64(12)}, "a NumPy integer"),
])
def test_resolve_many_converts_like_resolve(change, why):
    strat = get_strategy("genome")
    sets = _genomes(3) + [{**strat.defaults(), **change}]
    out, cols = strat.resolve_many(sets)
    assert cols is None, why  # not the column path: resolve decided
    assert out == [strat.resolve(p) for p in sets]
    assert type(out[-1][next(iter(change))]) is (
        int if next(iter(change)) != "bb_std" else float)


@pytest.mark.parametrize(("change", "message"), [
    ({"rsi_period": 31}, "genome parameter rsi_period=31 is outside its range 10..30"),
    ({"bb_std": float("nan")}, "genome parameter bb_std must be finite"),
    ({"sma_short": 24, "sma_long": 22}, "genome needs sma_short < sma_long"),
    ({"rsi_period": 14.5}, "genome parameter rsi_period must be a whole number"),
    ({"rsi_period": 10**30}, "rsi_period=" + str(10**30) + " is outside its range"),
    ({"stop_losss": 0.05}, "unknown parameter(s) stop_losss for strategy genome"),
])
def test_resolve_many_raises_what_resolve_raises(change, message):
    strat = get_strategy("genome")
    bad = {**strat.defaults(), **change}
    with pytest.raises(ParameterError) as alone:
        strat.resolve(bad)
    with pytest.raises(ParameterError) as many:
        strat.resolve_many(_genomes(4) + [bad] + _genomes(2, seed=8))
    assert message in str(alone.value)
    assert str(many.value) == str(alone.value)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dictionaries(
    st.sampled_from(["fast", "slow"]),
    st.one_of(st.integers(-5, 1200), st.floats(allow_nan=True), st.booleans()),
    min_size=0, max_size=2), min_size=1, max_size=6))
def test_resolve_many_agrees_with_resolve_on_any_input(sets):
    strat = get_strategy("sma_cross")
    try:
        expected = [strat.resolve(p) for p in sets]
    except ParameterError as exc:
        with pytest.raises(ParameterError) as raised:
            strat.resolve_many(sets)
        assert str(raised.value) == str(exc)
        return
    assert strat.resolve_many(sets)[0] == expected


def test_a_period_too_large_for_a_key_code_is_refused_not_mixed_up():
    # validated=True skips resolve: a period past 2**20 would bleed into the next period's
    # bits of the key code, so the packing refuses it instead
    strat = get_strategy("sma_cross")
    cols = {"fast": np.array([5, 2**20 + 5]), "slow": np.array([40, 40])}
    with pytest.raises(ValueError, match="sma_cross parameter fast holds a period outside"):
        distinct_keys(strat, cols)


def test_one_plan_packs_every_window_as_its_own_batch():
    """An evolution packs its in-sample and out-of-sample windows from one plan: each window's
    arrays equal packing that window alone."""
    from engine.backtest.packing import plan_batch

    data, strat, s = _frame(400), get_strategy("genome"), BacktestSettings()
    windows = [data.slice(0, 250), data.slice(250, 150)]
    resolved, cols = resolve_batch(strat, _genomes(120, seed=9))
    plan = plan_batch(strat, resolved, cols, s)
    for w in windows:
        bank, alone_bank = IndicatorBank.build(w, []), IndicatorBank.build(w, [])
        shared = plan.pack(lambda keys, b=bank, d=w: b.rows_of(d, keys))
        alone = pack_batch(strat, resolved, cols, lambda keys, b=alone_bank, d=w:
                           b.rows_of(d, keys), s)
        np.testing.assert_array_equal(bank.matrix[shared.rows], alone_bank.matrix[alone.rows])
        for name in ("vals", "sl", "tp", "size"):
            np.testing.assert_array_equal(getattr(shared, name), getattr(alone, name))
