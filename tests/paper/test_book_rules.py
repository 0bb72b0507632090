"""The risk manager and the breaker inside a book; reconcile names the causes; the API."""

from __future__ import annotations

import math

import pytest

from engine.errors import ParameterError


def test_seed_limits_resize_entries_and_reconcile_names_the_rule(cli):
    cli("paper", "create", "b", "--cash", "100000", "--start", "2018-01-01",
        "--breaker", "off", "--json")  # max position size 0.1 (the seed's)
    cli("paper", "add", "b", "s", "--symbols", "SYN-TREND", "--strategy", "sma_cross",
        "--json")
    cli("paper", "step", "b", "--to", "2019-12-31", "--json")
    trades = cli("paper", "trades", "b", "--json")
    events = cli("paper", "events", "b", "--json")
    first = trades[0]
    ev = next(e for e in events if e["time"] == first["entry_time"])
    assert ev["rule"] == "max_position_size" and ev["action"] == "resize"
    # the entry's budget is capped at 0.1 × book equity at that open: whole units of it
    assert first["size"] == math.floor(ev["detail"]["cap"] / first["entry_price"])
    assert ev["detail"]["cap"] == pytest.approx(0.1 * ev["detail"]["book_equity"])
    rec = cli("paper", "reconcile", "b", "s", "--json")
    assert rec["identical"] is False
    d = next(x for x in rec["differences"] if x["field"] == "size")
    assert d["trade"] == 0 and "max_position_size" in d["cause"]


def test_book_wide_max_positions_vetoes_the_second_sleeve(cli):
    cli("paper", "create", "b", "--cash", "100000", "--start", "2016-01-01",
        "--max-positions", "1", "--max-position-size", "1", "--daily-loss-limit", "none",
        "--correlation-limit", "none", "--breaker", "off", "--json")
    cli("paper", "add", "b", "a", "--symbols", "SYN-TREND", "--strategy", "sma_cross",
        "--allocation", "0.5", "--json")
    cli("paper", "add", "b", "z", "--symbols", "SYN-RANGE", "--strategy", "rsi",
        "--allocation", "0.5", "--json")
    cli("paper", "step", "b", "--to", "2020-12-31", "--json")
    vetoes = [e for e in cli("paper", "events", "b", "--json") if e["rule"] == "max_positions"]
    assert vetoes and vetoes[0]["detail"] == {"open_positions": 1, "limit": 1}
    trades = cli("paper", "trades", "b", "--json")
    # never two positions at once: every trade's holding period is disjoint from the rest
    spans = sorted((t["entry_time"], t["exit_time"]) for t in trades)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    rec = cli("paper", "reconcile", "b", vetoes[0]["sleeve"], "--json")
    missing = [d for d in rec["differences"] if d["field"] == "entry_time"]
    assert any("max_positions" in d["cause"] for d in missing)


def test_the_breaker_pauses_exits_still_run_and_resume_by_hand(cli):
    from engine.paper import (
        BookSettings,
        add_sleeve,
        book_events,
        book_status,
        create_book,
        resume_sleeve,
        step_book,
    )
    from engine.risk import BookLimits

    create_book("b", BookSettings(cash=10_000, limits=BookLimits(
        max_position_size=1, daily_loss_limit_usd=None, correlation_limit=None),
        breaker_drawdown=0.02))
    add_sleeve("b", "s", "strategy", ["SYN-VOLATILE"], {"strategy": "rsi"})
    step_book("b", to="2024-12-31")
    st = book_status("b")["sleeves"][0]
    assert st["status"] == "paused" and "drawdown" in st["paused_reason"]
    events = book_events("b")
    trip = next(e for e in events if e["rule"] == "circuit_breaker")
    assert trip["action"] == "pause" and trip["detail"]["drawdown"] < -0.02
    refused = [e for e in events if e["rule"] == "paused"]
    assert refused and all(e["time"] > trip["time"] for e in refused)
    trades = cli("paper", "trades", "b", "--json")
    assert not [t for t in trades if t["entry_time"] > trip["time"]]  # no new entries
    resumed = resume_sleeve("b", "s")
    assert resumed.status == "active" and resumed.paused_reason == ""


def test_an_ensemble_sleeve_trades_its_backtest(cli):
    from engine.backtest import BacktestSettings
    from engine.market import load_dataset
    from engine.paper import backtest_ensemble

    cli("paper", "create", "b", "--cash", "20000", "--start", "2017-01-01",
        "--max-position-size", "1", "--daily-loss-limit", "none", "--correlation-limit",
        "none", "--breaker", "off", "--json")
    cli("paper", "add", "b", "m1", "--symbols", "SYN-TREND", "--strategy", "sma_cross",
        "--allocation", "0.2", "--json")
    cli("paper", "add", "b", "m2", "--symbols", "SYN-TREND", "--strategy", "rsi",
        "--allocation", "0.2", "--json")
    cli("paper", "add", "b", "m3", "--symbols", "SYN-TREND", "--strategy", "macd",
        "--allocation", "0.2", "--json")
    cli("paper", "add", "b", "vote", "--symbols", "SYN-TREND", "--ensemble", "m1,m2,m3",
        "--threshold", "0.3", "--allocation", "0.4", "--json")
    cli("paper", "step", "b", "--to", "2023-12-29", "--json")
    rec = cli("paper", "reconcile", "b", "vote", "--json")
    assert rec["identical"] is True and len(rec["paper_trades"]) >= 3
    data = load_dataset("SYN-TREND", end="2023-12-29")
    bt = backtest_ensemble(data, [("sma_cross", {}), ("rsi", {}), ("macd", {})],
                           BacktestSettings(cash=8000, trade_start="2017-01-01"),
                           threshold=0.3)
    assert bt.to_dict()["trades"] == rec["backtest_trades"]


def test_bad_input_names_the_fix(cli):
    from engine.paper import BookNotFound, add_sleeve, create_book, step_book

    with pytest.raises(BookNotFound, match="create it with `python -m engine paper create x`"):
        step_book("x", bars=1)
    create_book("b")
    add_sleeve("b", "s", "strategy", ["SYN-TREND"], {"strategy": "rsi"}, 0.7)
    with pytest.raises(ParameterError, match="allocations would sum to 1.2 > 1"):
        add_sleeve("b", "t", "strategy", ["SYN-TREND"], {"strategy": "rsi"}, 0.5)
    with pytest.raises(ParameterError, match="a book named 'b' exists"):
        create_book("b")
    with pytest.raises(ParameterError, match="member 'nope' is not a sleeve"):
        add_sleeve("b", "e", "ensemble", ["SYN-TREND"], {"members": ["s", "nope"]}, 0.1)


def test_public_surface_is_pinned():
    import engine.paper as paper

    assert sorted(paper.__all__) == sorted([
        "KINDS", "BookNotFound", "BookSettings", "StepResult", "add_sleeve",
        "backtest_ensemble", "book_equity", "book_events", "book_status", "book_trades",
        "create_book", "ensemble_vote", "get_book", "list_books", "open_positions",
        "pause_sleeve", "reconcile", "refresh", "resume_sleeve", "sleeve_backtest", "step_book",
        # engine.paper.decisions (analyst sleeves: their decisions and replay)
        "analyst_backtest", "sleeve_decisions",
        # engine.paper.actions (the Paper Trading page)
        "SleeveSpec", "add_spec", "analyst_available", "book_fills", "book_orders",
        "buy_and_hold", "clock_info", "ensemble_spec", "free_allocation",
        "position_correlations", "sleeve_config_from_analyst", "sleeve_config_from_backtest",
        "sleeve_config_from_promoted", "sleeve_config_from_version", "sleeve_controls",
        "unique_sleeve_name",
        # engine.paper.schedule (the live clock)
        "live_books", "set_live"])
    assert all(hasattr(paper, name) for name in paper.__all__)
