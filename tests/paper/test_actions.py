"""engine.paper.actions: what the page may do now, sleeves built from other pages, and the
reads the page draws (orders, fills, buy-and-hold, the open positions' correlation)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from engine.errors import ParameterError
from engine.paper import (
    BookSettings,
    add_sleeve,
    book_status,
    create_book,
    step_book,
)
from engine.paper import actions as a
from engine.risk import BookLimits

#: A book whose rules veto and resize nothing.
FREE = BookLimits(max_position_size=1.0, daily_loss_limit_usd=None, correlation_limit=None)


# ----------------------------------------------------------------------------- pure parts

def test_unique_sleeve_name_counts_up_past_taken_names():
    assert a.unique_sleeve_name("trend", []) == "trend"
    assert a.unique_sleeve_name("trend", ["trend"]) == "trend-2"
    assert a.unique_sleeve_name("trend", {"trend", "trend-2", "trend-3"}) == "trend-4"
    assert a.unique_sleeve_name("  ", []) == "sleeve"
    long = "x" * 80
    assert a.unique_sleeve_name(long, []) == "x" * 64
    assert a.unique_sleeve_name(long, ["x" * 64]) == "x" * 60 + "-2"


def test_free_allocation_is_what_the_sleeves_leave():
    assert a.free_allocation({"sleeves": []}) == 1.0
    assert a.free_allocation({"sleeves": [{"allocation": 0.5}, {"allocation": 0.2}]}) == 0.3
    assert a.free_allocation({"sleeves": [{"allocation": 0.7}, {"allocation": 0.3}]}) == 0.0


def test_sleeve_controls_follow_the_status():
    act = a.sleeve_controls({"status": "active", "paused_reason": None})
    assert (act.can_pause, act.can_resume) == (True, False)
    paused = a.sleeve_controls({"status": "paused",
                                "paused_reason": "drawdown -25.0% is beyond -20%"})
    assert (paused.can_pause, paused.can_resume) == (False, True)
    assert "drawdown -25.0% is beyond -20%" in paused.note
    assert "paused by hand" in a.sleeve_controls({"status": "paused"}).note
    odd = a.sleeve_controls({"status": "closed"})
    assert (odd.can_pause, odd.can_resume) == (False, False)


def test_step_permission_needs_a_sleeve_and_bars_after_the_clock():
    last = datetime(2024, 12, 31)
    assert a.step_permission(1, None, last) == (True, "")
    assert a.step_permission(2, datetime(2020, 1, 1), last) == (True, "")
    ok, why = a.step_permission(0, None, last)
    assert not ok and "add a sleeve first" in why
    ok, why = a.step_permission(1, last, last)
    assert not ok and "last stored bar (2024-12-31)" in why
    ok, why = a.step_permission(1, None, None)
    assert not ok and "no stored bars" in why


def test_suggested_target_is_a_year_on_capped_at_the_last_bar():
    info = a.ClockInfo(datetime(2018, 3, 1), datetime(2018, 1, 1), datetime(2024, 12, 31),
                       True, "")
    assert info.suggested_target() == datetime(2019, 3, 1)
    fresh = a.ClockInfo(None, datetime(2024, 6, 1), datetime(2024, 12, 31), True, "")
    assert fresh.suggested_target() == datetime(2024, 12, 31)


def test_buy_and_hold_curve_by_hand():
    # 1000 cash at close 10: 100 units, worth 1200 at 12 and 900 at 9
    assert a.buy_and_hold_curve(np.array([10.0, 12.0, 9.0]), 1000.0).tolist() == [
        1000.0, 1200.0, 900.0]
    # two symbols share the cash: (20/10 + 5/5) / 2 = 1.5 → 1500
    two = a.buy_and_hold_curve(np.array([[10.0, 20.0], [5.0, 5.0]]), 1000.0)
    assert two.tolist() == [1000.0, 1500.0]


def test_correlation_matrix_equals_pandas_on_constructed_series():
    rng = np.random.default_rng(4)
    r1 = rng.normal(0, 0.01, 80)
    r2 = 0.6 * r1 + rng.normal(0, 0.01, 80)
    r3 = -r1 + rng.normal(0, 0.002, 80)
    closes = {k: 100 * np.cumprod(1 + r) for k, r in (("A", r1), ("B", r2), ("C", r3))}
    closes["F"] = np.full(80, 50.0)  # flat: no correlation defined
    labels, m = a.correlation_matrix(closes, 30)
    assert labels == ["A", "B", "C", "F"]
    rets = pd.DataFrame(closes).pct_change().tail(30)  # the last 30 simple returns
    want = rets[["A", "B", "C"]].corr().to_numpy()
    np.testing.assert_allclose(m[:3, :3], want, rtol=1e-12, atol=1e-12)
    assert m[0, 2] < -0.9 and 0.3 < m[0, 1] < 0.9
    assert np.isnan(m[3, :3]).all() and m[3, 3] == 1.0


# ------------------------------------------------------------------------- sleeve specs

def test_spec_from_the_backtest_page_trades_its_strategy_and_stops():
    spec = a.sleeve_config_from_backtest("sma_cross", {"fast": np.int64(10), "slow": 30},
                                         stop_loss=0.05, take_profit=0, size=None,
                                         allow_short=True)
    assert spec.kind == "strategy" and spec.name == "sma_cross"
    assert spec.config == {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30},
                           "stop_loss": 0.05, "take_profit": None, "size": None,
                           "short": True}
    assert type(spec.config["params"]["fast"]) is int  # JSON-storable
    create_book("b", BookSettings(limits=FREE, breaker=False))
    sl = a.add_spec("b", "trend", spec, ["SYN-TREND"], 0.5)
    assert sl.kind == "strategy" and sl.config["stop_loss"] == 0.05
    assert sl.config["short"] is True and sl.config["params"] == {"fast": 10, "slow": 30}
    with pytest.raises(ParameterError, match="pick a strategy first"):
        a.sleeve_config_from_backtest("", {})


def test_spec_from_a_promoted_strategy_resolves_to_its_genes():
    from engine.evolution import (
        EvolutionConfig,
        create_run,
        evolve,
        get_promoted,
        population,
        promote,
    )

    cfg = EvolutionConfig(symbols=["SYN-TREND"], population_size=6, generations=1, seed=3,
                          elite_size=1, backend="inline", fitness_threshold=None,
                          allow_short=True)
    run_id = create_run(cfg)
    evolve(run_id)
    best = max(population(run_id), key=lambda ind: ind.fitness)
    promote(run_id, best.uid, "evolved-x", force=True)  # a tiny run: the overfit gate trips
    spec = a.sleeve_config_from_promoted("evolved-x")
    assert spec.kind == "strategy" and spec.symbols == ["SYN-TREND"]
    assert spec.config["strategy"] == "evolved-x" and spec.config["short"] is True
    assert f"run #{run_id}" in spec.label
    create_book("b", BookSettings(limits=FREE, breaker=False))
    sl = a.add_spec("b", "evo", spec, spec.symbols, 1.0)
    # stored resolved: the genome with the promoted genes (the same the backtester runs)
    assert sl.config["strategy"] == "genome" and sl.config["named"] == "evolved-x"
    assert sl.config["params"] == pytest.approx(get_promoted("evolved-x").params)


def test_spec_from_a_registry_version_is_a_model_sleeve_on_its_training_symbol():
    from tests.registry.factories import make_version

    info = make_version(symbol="SYN-RANGE", model_type="transformer")
    spec = a.sleeve_config_from_version(info.version_id)
    assert spec.kind == "model" and spec.config == {"version": info.version_id}
    assert spec.symbols == ["SYN-RANGE"]
    assert spec.name == f"transformer-{info.version_id}"[:64]
    from engine.errors import StratLabError

    with pytest.raises(StratLabError, match="nope"):
        a.sleeve_config_from_version("nope")


def test_spec_for_the_analyst_only_where_the_kind_exists():
    if a.analyst_available():
        spec = a.sleeve_config_from_analyst("offline", 5)
        assert (spec.kind, spec.config) == ("analyst", {"provider": "offline", "every": 5})
        with pytest.raises(ParameterError, match="every N >= 1 bars"):
            a.sleeve_config_from_analyst("offline", 0)
    else:
        with pytest.raises(ParameterError, match="analyst sleeves are not available"):
            a.sleeve_config_from_analyst()


def test_ensemble_spec_needs_two_members():
    spec = a.ensemble_spec(["x", "y"], weighting="sharpe", window=20, threshold=0.6)
    assert spec.config == {"members": ["x", "y"], "weighting": "sharpe", "window": 20,
                           "threshold": 0.6}
    with pytest.raises(ParameterError, match="at least two member sleeves"):
        a.ensemble_spec(["x"])


# --------------------------------------------------------------------------------- reads

def _two_sleeve_book(to: str) -> None:
    create_book("b", BookSettings(cash=100_000, start=datetime(2018, 1, 1), limits=FREE,
                                  breaker=False))
    add_sleeve("b", "t", "strategy", ["SYN-TREND"],
               {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}}, 0.5)
    add_sleeve("b", "v", "strategy", ["SYN-VOLATILE"],
               {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}}, 0.4)
    step_book("b", to=to)


def test_clock_info_before_and_after_a_replay():
    create_book("b", BookSettings(start=datetime(2018, 1, 1)))
    info = a.clock_info("b")
    assert not info.can_step and "add a sleeve first" in info.reason
    add_sleeve("b", "t", "strategy", ["SYN-TREND"], {"strategy": "sma_cross"}, 0.5)
    info = a.clock_info("b")
    assert info.can_step and info.clock is None
    assert info.first == datetime(2018, 1, 1) and info.last == datetime(2024, 12, 31)
    step_book("b", to="2024-12-31")
    info = a.clock_info("b")
    assert info.clock == datetime(2024, 12, 31) and not info.can_step


def test_orders_fills_and_buy_and_hold_agree_with_the_ledger():
    from engine.market import load_dataset
    from engine.paper import book_equity, book_trades, open_positions

    _two_sleeve_book("2018-12-31")
    trades = [t for t in book_trades("b") if t["exit_reason"] != "end"]
    fills = a.book_fills("b")
    # every closed trade is one entry fill and one exit fill; every open position an entry
    assert sum(f["reason"] == "entry" for f in fills) == len(trades) + len(open_positions("b"))
    assert sum(f["reason"] != "entry" for f in fills) == len(trades)
    entries = {(f["sleeve"], f["time"]) for f in fills if f["reason"] == "entry"}
    assert {(t["sleeve"], t["entry_time"]) for t in trades} <= entries
    orders = a.book_orders("b")
    assert {o["status"] for o in orders} <= {"pending", "filled", "resized", "vetoed",
                                             "dropped"}
    assert sum(o["status"] == "filled" for o in orders) >= len(entries)
    assert [o["signal_time"] for o in orders] == sorted(
        (o["signal_time"] for o in orders), reverse=True)  # newest first

    bh = a.buy_and_hold("b")
    eq = book_equity("b")
    assert bh["time"] == eq["time"]
    t0, t1 = (datetime.fromisoformat(eq["time"][k]) for k in (0, -1))
    trend = load_dataset("SYN-TREND", end=t1)
    vol = load_dataset("SYN-VOLATILE", end=t1)

    def close(df, t):
        return float(df.filter(df["timestamp"] == t)["close"][0])

    # 50,000 in SYN-TREND and 40,000 in SYN-VOLATILE at the first close, 10,000 unallocated
    want_t = 50_000 * close(trend, t1) / close(trend, t0)
    want_v = 40_000 * close(vol, t1) / close(vol, t0)
    assert bh["sleeves"]["t"][-1] == pytest.approx(want_t, rel=1e-12)
    assert bh["sleeves"]["v"][-1] == pytest.approx(want_v, rel=1e-12)
    assert bh["equity"][-1] == pytest.approx(10_000 + want_t + want_v, rel=1e-12)
    assert bh["equity"][0] == pytest.approx(100_000, rel=1e-12)


def test_position_correlations_are_the_risk_managers_numbers():
    from engine.market import load_dataset
    from engine.paper import open_positions

    _two_sleeve_book("2018-05-31")  # both sleeves hold a position at this clock
    assert sorted(p["symbol"] for p in open_positions("b")) == ["SYN-TREND", "SYN-VOLATILE"]
    doc = a.position_correlations("b")
    assert sorted(doc["labels"]) == ["SYN-TREND", "SYN-VOLATILE"] and doc["window"] == 60
    clock = book_status("b")["clock"]
    a_ = load_dataset("SYN-TREND", end=clock).to_pandas().set_index("timestamp")["close"]
    b_ = load_dataset("SYN-VOLATILE", end=clock).to_pandas().set_index("timestamp")["close"]
    both = pd.concat([a_, b_], axis=1, join="inner").tail(61).pct_change().dropna()
    want = both.corr().iloc[0, 1]
    m = np.array(doc["matrix"])
    assert m[0, 1] == pytest.approx(want, abs=1e-12) and m[0, 0] == 1.0

