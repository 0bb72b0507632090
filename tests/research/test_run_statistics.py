"""run_statistics on a real (small) evolution run, its cache, and the promotion gate."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sqlalchemy as sa

from engine import db
from engine import evolution as ev
from engine.backtest import BacktestSettings, buy_hold_returns, returns_matrix, run_backtest
from engine.cli import main
from engine.evolution.store import all_evaluated
from engine.market import load_dataset
from engine.research import (
    PromotionCheck,
    PromotionNeedsConfirmation,
    min_backtest_years,
    pbo,
    promotion_check,
    require_confirmation,
    run_statistics,
    spa_test,
)
from engine.research.stats import stored_statistics


def _run() -> int:
    cfg = ev.EvolutionConfig(symbols=["SYN-TREND"], population_size=10, generations=1, seed=3,
                             backend="inline", fitness_threshold=None, elite_size=1)
    return ev.run_evolution(cfg).run_id


def test_returns_matrix_columns_are_the_backtests_equity_returns():
    df = load_dataset("SYN-TREND")
    params = [{"sma_short": 5, "sma_long": 40}, {"rsi_period": 20, "stop_loss": 0.03}]
    s = BacktestSettings(cash=10_000, commission=0.001)
    m = returns_matrix(df, "genome", params, s)
    assert m.shape == (df.height - 1, 2)
    for j, p in enumerate(params):
        eq = run_backtest(df, "genome", p, s).equity.get_column("equity").to_numpy()
        np.testing.assert_array_equal(m[:, j], eq[1:] / eq[:-1] - 1.0)
    close = df.get_column("close").to_numpy()
    np.testing.assert_allclose(buy_hold_returns(df), close[1:] / close[:-1] - 1.0)


def test_run_statistics_recompute_the_matrix_and_are_cached():
    rid = _run()
    st = run_statistics(rid)
    rows = all_evaluated(rid)
    run = ev.get_run(rid)
    assert st.n_genomes == len(rows) and st.n_trials == max(run.evaluations, len(rows))
    # the same figures from the public pieces, on the run's in-sample window
    from engine.evolution.evaluate import backtest_settings, load_windows

    cfg = ev.EvolutionConfig(**run.config)
    frames = load_windows(cfg).frames["is"]
    m = returns_matrix(frames, "genome", [r.params for r in rows], backtest_settings(cfg))
    assert st.pbo == pbo(m, 16).pbo and st.n_splits == 12_870
    top = sorted(range(len(rows)), key=lambda i: -rows[i].fitness)[:20]
    ref = spa_test(m[:, top], buy_hold_returns(frames), reps=1000, seed=0)
    assert st.spa_pvalue == ref.consistent
    assert st.min_backtest_years == min_backtest_years(st.n_trials)
    assert st.best_uid == run.best_uid and set(st.superior_uids) <= set(st.top_uids)
    # stored once per generation count and reused
    assert stored_statistics(rid)[run.generations_done] == st
    assert run_statistics(rid) == st
    assert run_statistics(rid, reps=200).options["reps"] == 200  # other options: recomputed


def test_promotion_gate_refuses_then_force_promotes_and_keeps_the_figures(capsys):
    rid = _run()
    check = promotion_check(rid)
    st = run_statistics(rid)
    assert check.needs_confirmation == (st.pbo > 0.5 or st.spa_pvalue > 0.05)
    # a synthetic trend genome rarely beats buy-and-hold: this run needs the confirmation
    assert check.needs_confirmation, check
    best = ev.get_run(rid).best_uid
    with pytest.raises(PromotionNeedsConfirmation,
                       match=rf"^run {rid} looks overfit \(.*\); promote anyway with --force"):
        ev.promote(rid, best, "gated")
    assert ev.list_promoted() == []
    # the command line: one line naming --force, non-zero exit; then --force works
    code = main(["evolution", "promote", str(rid), "best", "--name", "gated"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "--force" in err[0] and "looks overfit" in err[0]
    assert main(["evolution", "promote", str(rid), "best", "--name", "gated", "--force",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["statistics"]["forced"] is True and out["statistics"]["pbo"] == st.pbo
    with db.get_engine().connect() as conn:
        raw = conn.execute(sa.text("SELECT statistics FROM promoted_strategies "
                                   "WHERE name = 'gated'")).scalar()
    kept = json.loads(raw) if isinstance(raw, str) else raw
    assert kept["pbo"] == st.pbo and kept["spa_pvalue"] == st.spa_pvalue
    assert kept["min_backtest_years"] == st.min_backtest_years and kept["forced"] is True


def test_a_clean_check_needs_no_force():
    ok = PromotionCheck(run_id=1, pbo=0.2, spa_pvalue=0.01, min_backtest_years=1.0,
                        data_years=5.0, needs_confirmation=False)
    require_confirmation(ok, force=False)  # nothing raised
    bad = PromotionCheck(run_id=2, pbo=0.7, spa_pvalue=0.01, min_backtest_years=1.0,
                         data_years=5.0, needs_confirmation=True, reasons=["PBO 0.70 > 0.5"])
    with pytest.raises(PromotionNeedsConfirmation,
                       match=r"^run 2 looks overfit \(PBO 0.70 > 0.5\); promote anyway with "
                             r"--force \(on the Evolution page: tick 'Promote anyway'\)$"):
        require_confirmation(bad, force=False)
    require_confirmation(bad, force=True)


def test_evolve_and_history_json_carry_the_figures(capsys):
    assert main(["evolve", "--data", "SYN-TREND", "--population", "8", "--generations", "1",
                 "--seed", "5", "--backend", "inline", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    st = run_statistics(out["run_id"])
    assert (out["pbo"], out["spa_pvalue"], out["min_backtest_years"]) == (
        st.pbo, st.spa_pvalue, st.min_backtest_years)
    assert main(["evolution", "history", str(out["run_id"]), "--json"]) == 0
    hist = json.loads(capsys.readouterr().out)
    assert hist == out["history"]
    assert hist[-1]["pbo"] == st.pbo and hist[0]["pbo"] is None  # computed at generation 1


def test_a_portfolio_matrix_is_each_portfolio_backtests_equity_returns():
    from engine.backtest import run_portfolio
    from engine.backtest.portfolio import align_frames

    frames = align_frames({s: load_dataset(s, end="2016-06-30")
                           for s in ("SYN-TREND", "SYN-RANGE")})
    params = [{"sma_short": 8, "sma_long": 30, "max_positions": 2}]
    s = BacktestSettings(cash=10_000)
    m = returns_matrix(frames, "genome", params, s)
    eq = run_portfolio(frames, "genome", params[0], s).equity.get_column("equity").to_numpy()
    np.testing.assert_array_equal(m[:, 0], eq[1:] / eq[:-1] - 1.0)
    closes = [f.get_column("close").to_numpy() for f in frames.values()]
    np.testing.assert_allclose(buy_hold_returns(frames),
                               np.mean([c[1:] / c[:-1] - 1.0 for c in closes], axis=0))


def test_too_few_bars_for_the_blocks_leave_pbo_empty_with_the_reason():
    """48 bars, none held out → 47 in-sample returns: 16 blocks of 2 bars fit, 24 blocks
    (1 bar each) do not — PBO is None and the note says why; the gate then rests on the SPA
    p-value alone."""
    cfg = ev.EvolutionConfig(symbols=["SYN-TREND"], start="2015-01-01", end="2015-03-10",
                             oos_fraction=0.0, population_size=6, generations=0, seed=2,
                             backend="inline",
                             fitness_threshold=None, elite_size=1)
    rid = ev.run_evolution(cfg).run_id
    assert run_statistics(rid).pbo is not None and run_statistics(rid).n_bars == 47
    st = run_statistics(rid, n_blocks=24)
    assert st.pbo is None and st.n_splits is None
    assert any("47 bars cut into 24 blocks leave 1 bar(s) per block" in n for n in st.notes)
    assert st.spa_pvalue is not None
