"""The invariant: a one-sleeve book at allocation 1.0 whose rules vetoed nothing trades
exactly as ``python -m engine backtest --trade-start`` on the same bars."""

from __future__ import annotations

import pytest

NO_RULES = ["--max-position-size", "1", "--daily-loss-limit", "none",
            "--correlation-limit", "none", "--breaker", "off"]

CASES = [
    # (strategy args, execution args, book start, symbol)
    (["--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=30"], [],
     "2018-01-01", "SYN-TREND"),
    (["--strategy", "rsi"], ["--stop-loss", "0.04", "--take-profit", "0.1", "--short"],
     "2016-06-01", "SYN-VOLATILE"),
    (["--strategy", "macd"], ["--short", "--size", "0.5"], "2019-03-04", "SYN-RANGE"),
    (["--strategy", "bollinger"], ["--stop-loss", "0.03"], "2017-01-01", "SYN-TREND"),
    (["--strategy", "genome"], [], "2020-01-01", "SYN-VOLATILE"),  # its genes' stops/size
]


@pytest.mark.parametrize(("strategy", "execution", "start", "symbol"), CASES)
def test_a_book_without_vetoes_equals_the_backtest(cli, strategy, execution, start, symbol):
    cli("paper", "create", "b", "--cash", "50000", "--commission", "0.001", "--start", start,
        *NO_RULES, "--json")
    cli("paper", "add", "b", "s", "--symbols", symbol, *strategy, *execution, "--json")
    cli("paper", "step", "b", "--bars", "250", "--json")  # in pieces, as a user would
    step = cli("paper", "step", "b", "--to", "2024-06-28", "--json")
    assert step["clock"] == "2024-06-28T00:00:00"
    paper = cli("paper", "trades", "b", "--json")
    bt = cli("backtest", "--data", symbol, *strategy, *execution, "--cash", "50000",
             "--commission", "0.001", "--trade-start", start, "--end", "2024-06-28",
             "--no-save", "--json")
    assert len(bt["trades"]) >= 5  # a case that trades
    assert [{k: v for k, v in t.items() if k not in ("sleeve", "symbol")} for t in paper] \
        == bt["trades"]
    status = cli("paper", "status", "b", "--json")
    assert abs(status["equity"] - bt["metrics"]["final_equity"]) <= 1e-9
    assert cli("paper", "events", "b", "--json") == []
    rec = cli("paper", "reconcile", "b", "s", "--json")
    assert rec["identical"] is True and rec["differences"] == []


def test_trade_start_ignores_earlier_signals_but_not_earlier_bars(cli):
    full = cli("backtest", "--data", "SYN-TREND", "--strategy", "sma_cross", "--no-save",
               "--json")
    late = cli("backtest", "--data", "SYN-TREND", "--strategy", "sma_cross", "--no-save",
               "--trade-start", "2020-01-01", "--json")
    assert all(t["entry_time"] >= "2020-01-02" for t in late["trades"])
    # indicators used every bar: the late run's trades are the full run's trades that
    # start after the first signal on or after the date (same prices, same exits)
    later = [t for t in full["trades"] if t["entry_time"] >= late["trades"][0]["entry_time"]]
    assert [(t["entry_time"], t["exit_time"], t["exit_reason"]) for t in later] == \
        [(t["entry_time"], t["exit_time"], t["exit_reason"]) for t in late["trades"]]
    assert late["settings"]["trade_start"] == "2020-01-01T00:00:00"
    assert "trade_start" not in full["settings"]
