"""Backtest: run → metric cards and a saved run; every strategy; reopen; sweeps; errors."""

from __future__ import annotations

import pytest

from engine.backtest import STRATEGIES
from engine.backtest.history import get_run, list_runs
from tests.pages.conftest import assert_clean, open_page, table

CARD_LABELS = {"Total return", "Buy & hold", "CAGR", "Sharpe", "Sortino", "Max drawdown",
               "Win rate", "Profit factor", "Trades", "Exposure"}


def _cards(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def page(app):
    at = open_page(app, "backtest")
    assert_clean(at)
    assert [t.value for t in at.title] == ["Backtest"]
    return at


def test_run_shows_metrics_charts_trades_and_saves_the_run(page):
    at = page
    at.session_state["dataset"] = "SYN-TREND"
    at.run()
    at.selectbox(key="bt_strategy").set_value("sma_cross").run()
    at.number_input(key="bt_p_sma_cross_fast").set_value(5)
    at.number_input(key="bt_p_sma_cross_slow").set_value(20)
    at.number_input(key="bt_sl_pct").set_value(5.0)
    at.number_input(key="bt_tp_pct").set_value(12.0)
    at.number_input(key="bt_commission_pct").set_value(0.05)
    at.number_input(key="bt_cash").set_value(25_000.0)
    at.button(key="bt_run_btn").click().run()
    assert_clean(at)
    cards = _cards(at)
    assert CARD_LABELS <= set(cards)
    assert all(v for v in cards.values())
    # price/trades, equity, drawdown and trade P&L linked in one figure; monthly returns
    assert [c.key for c in at.get("plotly_chart")] == ["bt_linked_chart", "bt_monthly_chart"]
    assert {b.key for b in at.get("download_button")} >= {"bt_equity_csv", "bt_trades_csv",
                                                          "bt_monthly_csv"}
    trades = table(at, "exit_reason")
    assert set(trades["exit_reason"]) <= {"signal", "stop_loss", "take_profit", "end"}
    assert cards["Trades"] == f"{len(trades):,}"

    runs = list_runs()
    assert len(runs) == 1
    saved = get_run(runs[0].id)
    assert saved.symbols == "SYN-TREND" and saved.strategy == "sma_cross"
    assert saved.params == {"fast": 5, "slow": 20}
    assert saved.settings["stop_loss"] == pytest.approx(0.05)
    assert saved.settings["take_profit"] == pytest.approx(0.12)
    assert saved.settings["commission"] == pytest.approx(0.0005)
    assert saved.settings["cash"] == 25_000.0
    assert saved.settings["size"] is None and saved.settings["allow_short"] is False
    assert cards["Total return"] == f"{saved.metrics['total_return_pct']:,.2f} %"
    assert len(saved.trades) == len(trades)
    assert any(f"run #{runs[0].id}" in m.value for m in at.markdown)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_strategy_has_its_parameter_widgets_and_runs(page, strategy):
    at = page
    at.selectbox(key="bt_strategy").set_value(strategy).run()
    assert_clean(at)
    keys = {w.key for w in at.number_input}
    for p in STRATEGIES[strategy].params:
        widget = at.number_input(key=f"bt_p_{strategy}_{p.name}")
        assert widget.value == p.default
        # no min/max on the widget (a browser would refuse out-of-range values silently);
        # the range is in the help and the engine names a value outside it (defect 8)
        assert (widget.min, widget.max) == (None, None)
        assert p.doc in widget.help and f"Range {p.low:g}–{p.high:g}" in widget.help
    assert len([k for k in keys if k.startswith(f"bt_p_{strategy}_")]) == len(
        STRATEGIES[strategy].params)
    at.radio(key="bt_direction").set_value("Long & short")
    at.radio(key="bt_sizing").set_value("Fraction of equity").run()
    at.number_input(key="bt_size_pct").set_value(50.0)
    at.button(key="bt_run_btn").click().run()
    assert_clean(at)
    assert CARD_LABELS <= set(_cards(at))
    saved = get_run(list_runs()[0].id)
    assert saved.strategy == strategy
    assert saved.settings["allow_short"] is True
    assert saved.settings["size"] == pytest.approx(0.5)


def test_reopen_a_saved_run_restores_inputs_and_results(page):
    at = page
    at.session_state["dataset"] = "SYN-VOLATILE"
    at.run()
    at.selectbox(key="bt_strategy").set_value("rsi").run()
    at.number_input(key="bt_p_rsi_period").set_value(10)
    at.number_input(key="bt_p_rsi_oversold").set_value(25.0)
    at.number_input(key="bt_sl_pct").set_value(4.0)
    at.radio(key="bt_direction").set_value("Long & short")
    at.button(key="bt_run_btn").click().run()
    first = _cards(at)
    run_id = list_runs()[0].id

    # change everything, run again (a second saved run), then reopen the first
    at.session_state["dataset"] = "SYN-TREND"
    at.run()
    at.selectbox(key="bt_strategy").set_value("macd").run()
    at.number_input(key="bt_sl_pct").set_value(0.0)
    at.radio(key="bt_direction").set_value("Long only")
    at.button(key="bt_run_btn").click().run()
    assert _cards(at) != first
    assert len(list_runs()) == 2

    at.selectbox(key="bt_history_pick").set_value(run_id)
    at.button(key="bt_reopen_btn").click().run()
    assert_clean(at)
    assert at.session_state["dataset"] == "SYN-VOLATILE"
    assert at.selectbox(key="bt_strategy").value == "rsi"
    assert at.number_input(key="bt_p_rsi_period").value == 10
    assert at.number_input(key="bt_p_rsi_oversold").value == 25.0
    assert at.number_input(key="bt_sl_pct").value == 4.0
    assert at.radio(key="bt_direction").value == "Long & short"
    assert _cards(at) == first
    assert any(f"Reopened run #{run_id}" in s.value and "same results" in s.value
               for s in at.success)
    assert len(list_runs()) == 2  # reopening does not save a duplicate


def test_two_parameter_sweep_shows_heatmap_and_top_results(page):
    at = page
    at.selectbox(key="bt_strategy").set_value("sma_cross").run()
    assert at.multiselect(key="sw_params_sma_cross").value == ["fast", "slow"]
    for key, value in {"sw_sma_cross_fast_start": 5, "sw_sma_cross_fast_stop": 15,
                       "sw_sma_cross_fast_step": 5, "sw_sma_cross_slow_start": 10,
                       "sw_sma_cross_slow_stop": 40, "sw_sma_cross_slow_step": 10}.items():
        at.number_input(key=key).set_value(value)
    at.selectbox(key="sw_metric").set_value("total_return_pct")
    at.run()
    assert any(c.value.startswith("12 combinations") for c in at.caption)
    at.button(key="sw_run_btn").click().run()
    assert_clean(at)
    res = at.session_state["sw_result"]["sweep"]
    # fast=10/slow=10 and fast=15/slow=10 break fast < slow and are skipped
    assert res.n_backtests == 10 and res.n_skipped == 2
    assert res.sort_by == "total_return_pct"
    top = table(at, "fast")
    assert list(top.columns[:2]) == ["fast", "slow"]
    assert len(top) == 10
    assert top["total_return_pct"].iloc[0] == max(top["total_return_pct"])
    assert len(at.get("plotly_chart")) >= 1
    assert any(c.value.startswith("10 backtests") for c in at.caption)
    # every trial exported, filtered by the metric into the parallel-coordinates chart
    assert "sw_results_csv" in {b.key for b in at.get("download_button")}
    assert any(c.value == "10 of 10 trials kept." for c in at.caption)
    best_return = max(top["total_return_pct"])
    at.number_input(key="sw_filter_min").set_value(best_return).run()
    assert any(c.value == "1 of 10 trials kept." for c in at.caption)

    # the best parameters can be copied into the setup
    best = res.results[0]["params"]
    at.button(key="sw_use_best").click().run()
    assert at.number_input(key="bt_p_sma_cross_fast").value == best["fast"]
    assert at.number_input(key="bt_p_sma_cross_slow").value == best["slow"]


def test_one_parameter_sweep(page):
    at = page
    at.selectbox(key="bt_strategy").set_value("bollinger").run()
    at.multiselect(key="sw_params_bollinger").set_value(["std"]).run()
    at.number_input(key="sw_bollinger_std_start").set_value(1.5)
    at.number_input(key="sw_bollinger_std_stop").set_value(3.0)
    at.number_input(key="sw_bollinger_std_step").set_value(0.5)
    at.button(key="sw_run_btn").click().run()
    assert_clean(at)
    res = at.session_state["sw_result"]["sweep"]
    assert res.grid == {"std": [1.5, 2.0, 2.5, 3.0]}
    assert res.n_backtests == 4
    assert len(table(at, "std")) == 4


def test_bad_parameters_show_a_message_not_a_traceback(page):
    at = page
    at.selectbox(key="bt_strategy").set_value("rsi").run()
    at.number_input(key="bt_p_rsi_oversold").set_value(80.0)
    at.number_input(key="bt_p_rsi_overbought").set_value(60.0)
    at.run()
    assert not at.exception
    assert any("oversold < overbought" in e.value for e in at.error)
    assert at.button(key="bt_run_btn").disabled
    assert not list_runs()


def test_settings_survive_a_trip_to_another_page(page):
    at = page
    at.selectbox(key="bt_strategy").set_value("macd").run()
    at.number_input(key="bt_p_macd_fast").set_value(8)
    at.number_input(key="bt_tp_pct").set_value(7.5)
    at.run()
    at.switch_page("app_pages/market_data.py").run()
    assert_clean(at)
    at.switch_page("app_pages/backtest.py").run()
    assert at.selectbox(key="bt_strategy").value == "macd"
    assert at.number_input(key="bt_p_macd_fast").value == 8
    assert at.number_input(key="bt_tp_pct").value == 7.5


def test_a_run_on_a_missing_dataset_cannot_be_reopened(page):
    from engine.backtest import BacktestSettings, run_backtest
    from engine.backtest.history import save_run
    from engine.market import load_dataset

    res = run_backtest(load_dataset("SYN-TREND"), "sma_cross", None, BacktestSettings())
    run_id = save_run(res, "GONE")
    at = page.run()
    before = at.session_state["dataset"]
    at.selectbox(key="bt_history_pick").set_value(run_id)
    at.button(key="bt_reopen_btn").click().run()
    assert not at.exception
    assert any(f"Run #{run_id} cannot be reopened" in e.value for e in at.error)
    assert at.session_state["dataset"] == before


def _promoted_run(symbol: str, **kw):
    """A tiny evolution on ``symbol`` (0.2 % commission, 20,000 cash, long & short — none
    of them the Backtest page's defaults) with its best individual promoted."""
    from engine.evolution import EvolutionConfig, create_run, evolve, get_run, population, promote

    cfg = EvolutionConfig(symbols=[symbol], population_size=6, generations=1, seed=3,
                          elite_size=1, backend="inline", fitness_threshold=None,
                          commission=0.002, cash=20_000.0, allow_short=True, **kw)
    run_id = create_run(cfg)
    evolve(run_id)
    best = max(population(run_id), key=lambda ind: ind.fitness)
    promote(run_id, best.uid, "syn-evolved", force=True)
    return best, get_run(run_id).split


def test_promoted_strategy_in_the_strategy_list_loads_its_run_and_reproduces_it(app):
    """Defect 4: choosing a promoted strategy loads its genes AND its run's data, in-sample
    window, commission, cash and direction; one Run reproduces the evolution's stored
    in-sample numbers; one click moves to the out-of-sample window, which reproduces the
    stored out-of-sample numbers."""
    from datetime import date

    at = open_page(app, "backtest")
    at.session_state["dataset"] = "SP500"
    at.run()
    best, split = _promoted_run("SYN-TREND")
    at.run()
    assert "syn-evolved" in at.selectbox(key="bt_strategy").options[-1]
    at.selectbox(key="bt_strategy").set_value("syn-evolved").run()
    assert_clean(at)
    assert at.session_state["dataset"] == "SYN-TREND"
    assert at.session_state["bt_p_genome_rsi_period"] == best.params["rsi_period"]
    assert at.session_state["bt_range"] == (date.fromisoformat(split["in_sample_start"][:10]),
                                            date.fromisoformat(split["in_sample_end"][:10]))
    assert at.number_input(key="bt_commission_pct").value == pytest.approx(0.2)
    assert at.number_input(key="bt_cash").value == 20_000.0
    assert at.radio(key="bt_direction").value == "Long & short"
    at.button(key="bt_run_btn").click().run()
    assert_clean(at)
    run = list_runs(1)[0]
    assert run.params == best.params
    assert run.total_return_pct == best.in_sample["total_return_pct"]
    assert run.sharpe == best.in_sample["sharpe"]
    assert any("Same in-sample numbers" in m.value for m in at.success)

    at.button(key="bt_promoted_oos").click().run()
    assert at.session_state["bt_range"] == (
        date.fromisoformat(split["out_of_sample_start"][:10]),
        date.fromisoformat(split["out_of_sample_end"][:10]))
    at.button(key="bt_run_btn").click().run()
    assert_clean(at)
    assert list_runs(1)[0].total_return_pct == best.out_of_sample["total_return_pct"]
    assert any("Same out-of-sample numbers" in m.value for m in at.success)


def test_genome_caption_and_saved_runs_state_the_genes_applied(app):
    """Defect 3: a genome run with the global stop/target/size off uses its genes; the
    caption, the saved-run table and the reopened run say so (not "stop-loss off")."""
    at = open_page(app, "backtest")
    at.session_state["dataset"] = "SYN-TREND"
    at.run()
    at.selectbox(key="bt_strategy").set_value("genome").run()
    at.number_input(key="bt_p_genome_stop_loss").set_value(0.0612)
    at.number_input(key="bt_p_genome_take_profit").set_value(0.1406)
    at.number_input(key="bt_p_genome_position_size").set_value(0.207)
    at.number_input(key="bt_sl_pct").set_value(0.0)
    at.number_input(key="bt_tp_pct").set_value(8.0)  # the global take-profit wins
    at.run()
    note = " ".join(c.value for c in at.caption)
    assert "stop-loss: the gene `stop_loss` 6.12 % applies" in note
    assert "take-profit: the field's 8 % wins over the gene 14.06 %" in note
    at.button(key="bt_run_btn").click().run()
    assert_clean(at)
    want = ("stop-loss 6.12 % (gene) · take-profit 8.00 % · size 20.70 % (gene)")
    assert any(want in c.value for c in at.caption), [c.value for c in at.caption]
    assert not any("stop-loss off" in c.value for c in at.caption)
    saved = table(at, "Settings")
    assert want in saved["Settings"][0]
    at.button(key="bt_reopen_btn").click().run()
    assert any(want in c.value for c in at.caption)


def test_out_of_range_setting_blocks_the_run_with_its_reason(page):
    """Defect 8 (server side; the browser test types 150 into the field): the run is
    disabled and the error names the control and its range."""
    at = page
    at.number_input(key="bt_sl_pct").set_value(150.0).run()
    assert at.button(key="bt_run_btn").disabled
    assert any("**Stop-loss %** must be in [0, 100)" in e.value and "got 150" in e.value
               for e in at.error)
    at.number_input(key="bt_sl_pct").set_value(5.0).run()
    assert not at.button(key="bt_run_btn").disabled and not at.error


def test_undefined_metrics_read_na_not_zero(page):
    """Defect 9: a run without trades has no win rate, profit factor or Sharpe (flat
    equity): the cards say "n/a"; the defined ones keep their values."""
    from datetime import date

    at = page
    at.session_state["dataset"] = "SYN-TREND"
    at.run()
    lo = at.session_state["bt_range"][0]
    at.selectbox(key="bt_strategy").set_value("sma_cross").run()
    at.number_input(key="bt_p_sma_cross_fast").set_value(10)
    at.number_input(key="bt_p_sma_cross_slow").set_value(50)
    at.date_input(key="bt_range").set_value((lo, date.fromordinal(lo.toordinal() + 40))).run()
    at.button(key="bt_run_btn").click().run()
    assert_clean(at)
    cards = _cards(at)
    assert cards["Trades"] == "0"
    assert cards["Win rate"] == cards["Profit factor"] == cards["Sharpe"] == "n/a"
    assert cards["Total return"] == "0.00 %" and cards["Exposure"] == "0.00 %"


def test_sweep_with_a_holdout_shows_in_sample_beside_out_of_sample(page):
    """The sweep ranks on the in-sample part; each combination's out-of-sample numbers are
    a backtest of it on the held-out bars (checked for the in-sample winner)."""
    from engine.backtest import BacktestSettings, run_backtest
    from engine.market import load_dataset

    at = page
    at.session_state["dataset"] = "SYN-TREND"
    at.run()
    at.selectbox(key="bt_strategy").set_value("sma_cross").run()
    for key, value in {"sw_sma_cross_fast_start": 5, "sw_sma_cross_fast_stop": 10,
                       "sw_sma_cross_fast_step": 5, "sw_sma_cross_slow_start": 20,
                       "sw_sma_cross_slow_stop": 30, "sw_sma_cross_slow_step": 10}.items():
        at.number_input(key=key).set_value(value)
    at.number_input(key="bt_commission_pct").set_value(0.0)
    at.checkbox(key="sw_holdout").check().run()
    at.slider(key="sw_holdout_pct").set_value(40).run()
    at.button(key="sw_run_btn").click().run()
    assert_clean(at)
    hs = at.session_state["sw_result"]["holdout"]
    data = load_dataset("SYN-TREND")
    n_oos = int(data.height * 0.4)
    assert (hs.n_in_sample, hs.n_out_of_sample) == (data.height - n_oos, n_oos)
    best = hs.in_sample.results[0]["params"]
    oos = run_backtest(data.slice(data.height - n_oos), "sma_cross", best,
                       BacktestSettings(commission=0.0))
    shown = table(at, "oos_sharpe")
    assert shown["oos_total_return_pct"].iloc[0] == pytest.approx(
        oos.metrics["total_return_pct"], abs=1e-9)
    assert "sw_holdout_csv" in {b.key for b in at.get("download_button")}
    assert any("In-sample beside out-of-sample" in m.value for m in at.markdown)
