"""Reconcile for a sleeve on several symbols: the one-account portfolio backtest, per symbol,
and each difference's cause (a veto, the cash the symbols share, a limit shared with another
sleeve)."""

from __future__ import annotations

import pytest

NO_RULES = ["--max-position-size", "1", "--daily-loss-limit", "none",
            "--correlation-limit", "none", "--breaker", "off"]
THREE = "SYN-TREND,SYN-RANGE,SYN-VOLATILE"


def _strip(trades):
    return [{k: v for k, v in t.items() if k != "sleeve"} for t in trades]


def test_a_multi_symbol_sleeve_without_vetoes_equals_the_portfolio_backtest(cli):
    cli("paper", "create", "b", "--cash", "30000", "--commission", "0.001", *NO_RULES,
        "--json")
    cli("paper", "add", "b", "s", "--symbols", THREE, "--strategy", "rsi", "--json")
    cli("paper", "step", "b", "--bars", "300", "--json")
    cli("paper", "step", "b", "--to", "2021-06-30", "--json")
    rec = cli("paper", "reconcile", "b", "s", "--json")
    # what a user runs: the portfolio backtest of the same symbols, cash and bars
    bt = cli("backtest", "--data", THREE, "--strategy", "rsi", "--cash", "30000",
             "--commission", "0.001", "--end", "2021-06-30", "--no-save", "--json")
    assert len(bt["trades"]) >= 10 and {t["symbol"] for t in bt["trades"]} == set(
        THREE.split(","))
    assert rec["identical"] is True and rec["differences"] == []
    assert rec["backtest_trades"] == bt["trades"]
    assert _strip(cli("paper", "trades", "b", "--json")) == bt["trades"]
    assert abs(rec["paper_final_equity"] - bt["metrics"]["final_equity"]) <= 1e-9
    # per symbol: each side's trades and pnl, summed from the trade lists themselves
    for row in rec["symbols"]:
        mine = [t for t in bt["trades"] if t["symbol"] == row["symbol"]]
        assert row["paper_trades"] == row["backtest_trades"] == len(mine)
        assert row["paper_pnl"] == row["backtest_pnl"] == pytest.approx(
            sum(t["pnl"] for t in mine), abs=1e-9)
        assert row["differences"] == 0
    assert sum(r["backtest_trades"] for r in rec["symbols"]) == len(bt["trades"])


@pytest.mark.parametrize("strategy", [
    ["--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=30", "--short",
     "--stop-loss", "0.04"],
    ["--strategy", "genome"],  # its max_positions gene sets the slots
    ["--strategy", "macd", "--size", "0.3", "--take-profit", "0.08"],
])
def test_identical_from_a_start_date_with_stops_shorts_and_sizes(cli, strategy):
    cli("paper", "create", "b", "--cash", "50000", "--commission", "0.0005", "--start",
        "2017-03-01", *NO_RULES, "--json")
    cli("paper", "add", "b", "s", "--symbols", THREE, *strategy, "--json")
    cli("paper", "step", "b", "--to", "2022-12-30", "--json")
    rec = cli("paper", "reconcile", "b", "s", "--json")
    assert len(rec["paper_trades"]) >= 5
    assert all(t["entry_time"] >= "2017-03-01" for t in rec["backtest_trades"])
    assert rec["identical"] is True, rec["differences"][:3]


def test_a_veto_in_one_symbol_changes_the_other_through_the_shared_cash(cli):
    cli("paper", "create", "b", "--cash", "30000", "--max-positions", "1", *NO_RULES,
        "--json")
    cli("paper", "add", "b", "s", "--symbols", "SYN-TREND,SYN-RANGE", "--strategy", "rsi",
        "--json")  # two slots in the sleeve, one in the book
    cli("paper", "step", "b", "--to", "2020-12-31", "--json")
    rec = cli("paper", "reconcile", "b", "s", "--json")
    assert rec["identical"] is False
    d0 = rec["differences"][0]
    # the first difference: an entry the backtest made and the book refused
    assert d0["field"] == "entry_time" and d0["paper"] is None and d0["backtest"]
    assert d0["cause"] == "max_positions (refuse): open_positions 1, limit 1"
    vetoed = d0["symbol"]
    other = next(s for s in ("SYN-TREND", "SYN-RANGE") if s != vetoed)
    # the other symbol's first difference has no event of its own: the cash it shares
    first_other = next(d for d in rec["differences"] if d["symbol"] == other)
    assert first_other["cause"] == (
        f"cash shared with {vetoed} in this sleeve: follows its difference at "
        f"{d0['backtest']} ({d0['cause']})")
    later = [d for d in rec["differences"][1:] if d["symbol"] == vetoed
             and not d["cause"].startswith("max_positions")]
    assert later and all(d["cause"].startswith(f"follows an earlier difference in {vetoed}")
                         for d in later)
    by_symbol = {r["symbol"]: r["differences"] for r in rec["symbols"]}
    assert sum(by_symbol.values()) == sum(1 for d in rec["differences"] if d["symbol"])
    assert rec["differences"][-1]["field"] == "final_equity"


def test_a_book_wide_limit_names_the_sleeve_it_is_shared_with(cli):
    cli("paper", "create", "b", "--cash", "40000", "--max-positions", "2", *NO_RULES,
        "--json")
    cli("paper", "add", "b", "solo", "--symbols", "SYN-VOLATILE", "--strategy", "rsi",
        "--allocation", "0.5", "--json")
    cli("paper", "add", "b", "pair", "--symbols", "SYN-TREND,SYN-RANGE", "--strategy",
        "rsi", "--allocation", "0.5", "--json")
    cli("paper", "step", "b", "--to", "2022-12-30", "--json")
    rec = cli("paper", "reconcile", "b", "pair", "--json")
    refused = [d for d in rec["differences"] if d["cause"].startswith("max_positions")]
    assert refused
    assert all(d["cause"].endswith("a book-wide limit shared with sleeve(s) solo")
               for d in refused)
    # the sleeve's own backtest knows nothing of `solo`: its cash is the pair's 20,000
    assert rec["backtest_trades"][0]["size"] * rec["backtest_trades"][0]["entry_price"] \
        <= 20000 * 0.5 + 1e-6  # half the sleeve's equity per slot (2 slots)
