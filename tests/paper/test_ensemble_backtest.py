"""``backtest --strategy ensemble``: an ensemble evaluated over history before it is traded."""

from __future__ import annotations

import numpy as np
import pytest

MEMBERS = ["--members", "sma_cross,rsi", "--member-param", "sma_cross.fast=10",
           "--member-param", "sma_cross.slow=30"]


def _member_signals(data):
    from engine.backtest.runner import compute_signals
    from engine.backtest.strategies import get_strategy

    out = []
    for name, params in (("sma_cross", {"fast": 10, "slow": 30}), ("rsi", {})):
        strat = get_strategy(name)
        out.append(compute_signals(data, strat, strat.resolve(params)))
    return out


def test_the_ensemble_backtest_trades_the_vote_of_its_members(cli):
    from engine.backtest import BacktestSettings, run_signals
    from engine.market import load_dataset

    bt = cli("backtest", "--data", "SYN-VOLATILE", "--strategy", "ensemble", *MEMBERS,
             "--cash", "20000", "--commission", "0.001", "--stop-loss", "0.05", "--short",
             "--no-save",
             "--json")
    # by hand: two equal votes, threshold 0.5 → act when the signals sum to >= 1 (one says
    # buy, the other nothing: 1/2 >= 0.5; buy and sell cancel: 0), sell when <= -1
    s = np.sum(_member_signals(load_dataset("SYN-VOLATILE")), axis=0)
    votes = np.where(s >= 1, 1, np.where(s <= -1, -1, 0)).astype(np.int8)
    ref = run_signals(load_dataset("SYN-VOLATILE"), votes,
                      BacktestSettings(cash=20000, commission=0.001, stop_loss=0.05,
                                       allow_short=True)).to_dict()
    assert len(bt["trades"]) >= 5  # a case that trades
    assert bt["trades"] == ref["trades"]
    assert bt["metrics"]["final_equity"] == ref["metrics"]["final_equity"]
    assert bt["strategy"] == "ensemble" and bt["symbols"] == ["SYN-VOLATILE"]
    assert bt["params"]["members"] == [["sma_cross", {"fast": "10", "slow": "30"}],
                                       ["rsi", {}]]
    assert bt["params"]["weighting"] == "equal" and bt["params"]["threshold"] == 0.5


def test_the_ensemble_sleeve_trades_what_its_backtest_said(cli):
    """Evaluated before traded: the same ensemble as a paper sleeve (no rule vetoing)
    trades exactly the ensemble backtest with --trade-start the book's start."""
    cli("paper", "create", "b", "--cash", "40000", "--start", "2018-01-02",
        "--max-position-size", "1", "--daily-loss-limit", "none", "--correlation-limit",
        "none", "--breaker", "off", "--json")
    for name, args in (("sma", ["--strategy", "sma_cross", "--param", "fast=10",
                                "--param", "slow=30"]),
                       ("rsi", ["--strategy", "rsi"])):
        cli("paper", "add", "b", name, "--symbols", "SYN-TREND", *args, "--allocation",
            "0.25", "--json")
    cli("paper", "add", "b", "ens", "--symbols", "SYN-TREND", "--ensemble", "sma,rsi",
        "--allocation", "0.25", "--json")
    cli("paper", "step", "b", "--to", "2023-12-29", "--json")
    paper = cli("paper", "trades", "b", "--sleeve", "ens", "--json")
    bt = cli("backtest", "--data", "SYN-TREND", "--strategy", "ensemble", *MEMBERS,
             "--cash", "10000", "--trade-start", "2018-01-02", "--end", "2023-12-29",
             "--no-save", "--json")
    assert len(bt["trades"]) >= 3
    assert [{k: v for k, v in t.items() if k not in ("sleeve", "symbol")} for t in paper] \
        == bt["trades"]


def test_sharpe_weighting_and_a_saved_run(cli):
    bt = cli("backtest", "--data", "SYN-TREND", "--strategy", "ensemble", "--members",
             "sma_cross,bollinger", "--weighting", "sharpe", "--window", "40", "--threshold",
             "1", "--json")
    assert bt["params"]["weighting"] == "sharpe" and bt["params"]["window"] == 40
    shown = cli("history", str(bt["run_id"]), "--json")
    assert shown["strategy"] == "ensemble"


@pytest.mark.parametrize(("argv", "needle"), [
    (["--strategy", "ensemble", "--members", "rsi"], "needs at least two --members"),
    (["--strategy", "ensemble", "--members", "rsi,rsi"], "names a strategy twice"),
    (["--strategy", "ensemble", "--members", "rsi,macd", "--param", "fast=3"],
     "give --member-param MEMBER.KEY=VALUE"),
    (["--strategy", "ensemble", "--members", "rsi,macd", "--member-param", "sma.fast=3"],
     "with MEMBER one of rsi, macd"),
    (["--strategy", "rsi", "--members", "rsi,macd"], "go with --strategy ensemble"),
    (["--strategy", "ensemble", "--members", "rsi,nope"], "nope"),
])
def test_bad_ensembles_are_refused_in_one_line(capsys, argv, needle):
    from engine.cli import main

    assert main(["backtest", "--data", "SYN-TREND", *argv, "--no-save"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and err.count("\n") == 1


def test_an_ensemble_on_several_symbols_is_refused(capsys):
    from engine.cli import main

    assert main(["backtest", "--data", "SYN-TREND,SYN-RANGE", "--strategy", "ensemble",
                 "--members", "rsi,macd"]) == 2
    assert "an ensemble backtest runs on one dataset" in capsys.readouterr().err
