"""Outcome filling and accuracy arithmetic on a hand-built example; the scheduled job."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
import pytest

from engine.llm import tracking


def frame() -> pl.DataFrame:
    """Ten daily bars; closes 100, 102, 101, 104, 106, 103, 99, 98, 101, 105."""
    closes = [100, 102, 101, 104, 106, 103, 99, 98, 101, 105]
    t0 = datetime(2024, 1, 1)
    return pl.DataFrame({
        "timestamp": [t0 + timedelta(days=i) for i in range(10)],
        "open": [float(c) for c in closes],
        "high": [c + 1.0 for c in closes],
        "low": [c - 1.0 for c in closes],
        "close": [float(c) for c in closes],
        "volume": [1000.0] * 10,
    })


def test_outcome_rules_on_hand_built_bars():
    df = frame()
    day = lambda i: datetime(2024, 1, 1) + timedelta(days=i)  # noqa: E731
    # BUY at 100 (bar 0), target 104.5: bar 3 high 105 ≥ 104.5, open 104 → exit 104.5: +4.5 %
    o = tracking.outcome(df, day(0), decision="BUY", entry=100, stop=95, target=104.5,
                         horizon=5)
    assert o["exit_reason"] == "take_profit" and o["actual_outcome"] == pytest.approx(4.5)
    assert o["exit_time"] == day(3) and o["correct"]
    # BUY at 106 (bar 4), stop 100: bar 6 low 98 ≤ 100, open 99 → exit min(99, 100) = 99
    o = tracking.outcome(df, day(4), decision="BUY", entry=106, stop=100, target=120,
                         horizon=5)
    assert o["exit_reason"] == "stop_loss"
    assert o["actual_outcome"] == pytest.approx((99 / 106 - 1) * 100) and not o["correct"]
    # SELL at 106 (bar 4), target 98.5, stop 110: bar 6 low 98 ≤ 98.5 → exit min(99, 98.5)
    o = tracking.outcome(df, day(4), decision="SELL", entry=106, stop=110, target=98.5,
                         horizon=3)
    assert o["exit_reason"] == "take_profit"
    assert o["actual_outcome"] == pytest.approx((1 - 98.5 / 106) * 100) and o["correct"]
    # HOLD at 101 (bar 2) over 1 bar: 101 → 104 is +2.97 % ≥ the 2 % band → wrong
    o = tracking.outcome(df, day(2), decision="HOLD", entry=101, stop=None, target=None,
                         horizon=1)
    assert o["actual_outcome"] == pytest.approx((104 / 101 - 1) * 100) and not o["correct"]
    # the horizon has not passed yet in the data
    assert tracking.outcome(df, day(8), decision="BUY", entry=101, stop=90, target=120,
                            horizon=5) is None


def test_fill_outcomes_and_accuracy_arithmetic():
    df = frame()
    day = lambda i: datetime(2024, 1, 1) + timedelta(days=i)  # noqa: E731
    common = dict(ticker="HAND", models_used=["m"], provider="offline",
                  prompt_name="master_analyst", prompt_version="1.1", regime="bull")
    # 1) BUY followed, size 0.1 → +4.5 % · 0.1 · 100,000 = +450 USD
    tracking.record_decision(as_of=day(0), as_of_price=100, decision="BUY", confidence=85,
                             entry_price=100, stop_loss=95, take_profit=104.5, horizon_bars=5,
                             position_size=0.1, actionable=True, total_cost=0.01, **common)
    # 2) BUY followed, size 0.05 → stopped: (99/106 − 1) · 0.05 · 100,000 = −330.19 USD
    tracking.record_decision(as_of=day(4), as_of_price=106, decision="BUY", confidence=65,
                             entry_price=106, stop_loss=100, take_profit=120, horizon_bars=5,
                             position_size=0.05, actionable=True, total_cost=0.02, **common)
    # 3) HOLD (not followed), wrong (+2.97 % move)
    tracking.record_decision(as_of=day(2), as_of_price=101, decision="HOLD", confidence=55,
                             horizon_bars=1, **{**common, "regime": "sideways"})
    # 4) too recent: stays unscored
    tracking.record_decision(as_of=day(8), as_of_price=101, decision="BUY", confidence=70,
                             entry_price=101, stop_loss=95, take_profit=110, horizon_bars=5,
                             position_size=0.05, actionable=True, **common)
    assert tracking.fill_outcomes(loader=lambda s: df) == 3
    assert tracking.fill_outcomes(loader=lambda s: df) == 0  # idempotent
    rep = tracking.accuracy_report()["overall"]
    assert rep["decisions"] == 4 and rep["scored"] == 3
    assert rep["accuracy"] == pytest.approx(1 / 3)  # only the first BUY was right
    assert rep["followed"] == 2 and rep["win_rate"] == pytest.approx(0.5)
    pnl = 450.0 + (99 / 106 - 1) * 0.05 * 100_000
    assert rep["pnl_usd"] == pytest.approx(pnl)
    assert rep["api_cost_usd"] == pytest.approx(0.03)
    assert rep["roi_on_api_cost"] == pytest.approx(pnl / 0.03)
    full = tracking.accuracy_report()
    regimes = {g["key"]: g for g in full["by_regime"]}
    assert regimes["sideways"]["accuracy"] == 0.0 and regimes["bull"]["scored"] == 2
    buckets = {g["bucket"]: g for g in full["calibration"]}
    assert buckets["80-90"]["hit_rate"] == 1.0 and buckets["60-70"]["hit_rate"] == 0.0
    assert {g["key"] for g in full["by_prompt_version"]} == {"master_analyst@1.1"}
    assert tracking.aggregate_daily() == 4
    days = {d["date"]: d for d in tracking.accuracy_report()["by_day"]}
    assert days["2024-01-01"]["pnl_usd"] == pytest.approx(450.0)
    assert days["2024-01-01"]["accuracy"] == 1.0 and days["2024-01-09"]["scored"] == 0
    # the portfolio state the risk check sees
    st = tracking.portfolio_state(day(5))
    assert st.open_positions == 1  # decision 2 (decision 1 exited on day 3)
    st = tracking.portfolio_state(day(6))
    assert st.daily_pnl_usd == pytest.approx((99 / 106 - 1) * 0.05 * 100_000)


def test_outcome_job_is_registered_on_the_shared_scheduler(isolated_lab):
    from engine.scheduler import create_scheduler

    sched = create_scheduler()
    sched.start(paused=True)
    try:
        assert tracking.ensure_llm_jobs(sched) == "llm_outcomes"
        assert tracking.ensure_llm_jobs(sched) == "llm_outcomes"  # idempotent
        jobs = sched.get_jobs()
        assert [j.id for j in jobs] == ["llm_outcomes"]
        assert jobs[0].func_ref == "engine.llm.tracking:run_outcome_job"
    finally:
        sched.shutdown(wait=False)
    assert tracking.run_outcome_job() == {"filled": 0, "days": 0}
