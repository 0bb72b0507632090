"""Analyst sleeves: the AI analyst trading in a book.

Decisions every N bars on bars up to the close only, recorded in ``ai_decisions`` and linked
to their orders (read back from the database file), their size and stop / target prices
executed (capped by the book's max_position_size), the analyst's risk check on the book's
positions, the replay invariant (the recorded decisions as signals through the backtester
give the book's trades), and a re-run that never asks the analyst again.
"""

from __future__ import annotations

import math
import re
import sqlite3
from datetime import datetime

import polars as pl
import pytest

import engine.llm
from engine.errors import ParameterError
from engine.llm import load_config
from engine.llm.client import CallResult
from engine.llm.schema import Decision
from engine.market import load_dataset
from engine.paper import (
    BookSettings,
    add_sleeve,
    analyst_backtest,
    book_trades,
    create_book,
    sleeve_decisions,
    step_book,
)
from engine.risk import BookLimits

#: No book rule vetoes or resizes anything: what is left is the analyst's own say.
OPEN = BookLimits(max_positions=10, max_position_size=1.0, daily_loss_limit_usd=None,
                  correlation_limit=None)
KEYS = ("entry_time", "exit_time", "entry_price", "exit_price", "size", "pnl", "exit_reason",
        "commission", "return_pct", "bars_held")


@pytest.fixture
def analyze_calls(monkeypatch):
    """Every call of the public ``engine.llm.analyze`` (what a sleeve asks through)."""
    calls: list[dict] = []
    real = engine.llm.analyze

    def counting(**kw):
        calls.append(kw)
        return real(**kw)

    monkeypatch.setattr(engine.llm, "analyze", counting)
    return calls


def _db(isolated_lab) -> sqlite3.Connection:
    con = sqlite3.connect(isolated_lab / "lab.db")
    con.row_factory = sqlite3.Row
    return con


def _bars(symbol: str) -> pl.DataFrame:
    return load_dataset(symbol).with_columns(pl.col("timestamp").cast(pl.Datetime("us")))


def _book(name: str = "b", *, start: str = "2021-01-01", limits: BookLimits = OPEN,
          commission: float = 0.0, cash: float = 100_000.0) -> None:
    create_book(name, BookSettings(cash=cash, commission=commission,
                                   start=datetime.fromisoformat(start), limits=limits,
                                   breaker=False))


def test_decisions_every_n_bars_are_recorded_and_linked_to_their_orders(cli, isolated_lab,
                                                                        analyze_calls):
    cli("paper", "create", "b", "--start", "2021-01-01", "--max-position-size", "1",
        "--daily-loss-limit", "none", "--correlation-limit", "none", "--breaker", "off",
        "--json")
    added = cli("paper", "add", "b", "ai", "--symbols", "SYN-TREND", "--analyst",
                "--provider", "offline", "--every", "5", "--json")
    assert added["kind"] == "analyst"
    assert added["config"] == {"provider": "offline", "every": 5, "prompt": "master_analyst",
                               "short": False}
    step = cli("paper", "step", "b", "--to", "2021-12-31", "--json")
    bars = _bars("SYN-TREND")
    ts = bars["timestamp"].to_list()
    year = [t for t in ts if datetime(2021, 1, 1) <= t <= datetime(2021, 12, 31)]
    assert step["bars"] == len(year)
    # every 5th bar from the first trading bar; the decision at a close is made just
    # before the next bar is processed, so the year's last close has none yet
    expected = year[:-1][::5]
    con = _db(isolated_lab)
    links = con.execute("SELECT * FROM paper_decisions ORDER BY as_of").fetchall()
    assert [datetime.fromisoformat(r["as_of"]) for r in links] == expected
    assert len(analyze_calls) == len(expected)
    for call in analyze_calls:  # the analyst sees the bars up to its close, never later
        assert call["df"]["timestamp"].max() == call["as_of"]
        assert call["df"].height == ts.index(call["as_of"]) + 1
    # each link is an ai_decisions row of that symbol and close, recorded by the desk
    for r in links:
        d = con.execute("SELECT * FROM ai_decisions WHERE id = ?", (r["decision_id"],)).fetchone()
        assert d is not None
        assert (d["ticker"], d["as_of"], d["source"]) == ("SYN-TREND", r["as_of"], "paper")
        assert (d["decision"], d["stop_loss"], d["take_profit"], d["position_size"]) == (
            r["decision"], r["stop_loss"], r["take_profit"], r["size_suggested"])
        assert bool(d["actionable"]) == bool(r["enter"])
        confident = d["confidence"] >= load_config().consensus.min_confidence
        assert r["side"] == ({"BUY": 1, "SELL": -1}.get(r["decision"], 0) if confident else 0)
    assert con.execute("SELECT COUNT(*) FROM ai_decisions").fetchone()[0] == len(links)
    # every order was caused by exactly one decision: same symbol, close and side
    orders = con.execute("SELECT * FROM paper_orders").fetchall()
    assert orders
    caused = {r["order_id"]: r for r in links if r["order_id"] is not None}
    assert sorted(caused) == sorted(o["id"] for o in orders)
    for o in orders:
        r = caused[o["id"]]
        assert (o["symbol"], o["signal_time"], o["side"]) == (r["symbol"], r["as_of"],
                                                              r["side"])
    assert {r["side"] for r in links if r["order_id"] is None} <= {0}
    # each trade entered at the open after a BUY, with that decision's levels and size
    trades = book_trades("b", "ai")
    assert len(trades) >= 5
    by_asof = {datetime.fromisoformat(r["as_of"]): r for r in links}
    o_, h_, l_ = (bars[c].to_list() for c in ("open", "high", "low"))
    cash = 100_000.0
    for tr in trades:
        entry = datetime.fromisoformat(tr["entry_time"])
        i = ts.index(entry)
        r = by_asof[ts[i - 1]]
        assert r["decision"] == "BUY" and r["enter"]
        assert tr["entry_price"] == o_[i]
        # size: floor(size · equity at the open / open), equity = cash when flat (no
        # commission); e.g. the first: 0.0401 · 100,000 / 221.8556 = 18.07 → 18 units
        assert tr["size"] == math.floor(min(r["size"] * cash, cash) / o_[i])
        x = ts.index(datetime.fromisoformat(tr["exit_time"]))
        if tr["exit_reason"] == "stop_loss":
            assert l_[x] <= r["stop_loss"] and tr["exit_price"] == min(o_[x], r["stop_loss"])
        elif tr["exit_reason"] == "take_profit":
            assert h_[x] >= r["take_profit"]
            assert tr["exit_price"] == max(o_[x], r["take_profit"])
        cash += tr["pnl"]
    assert {"stop_loss", "take_profit"} <= {t["exit_reason"] for t in trades}
    first = trades[0]
    assert (first["entry_time"], first["entry_price"], first["size"]) == (
        "2021-01-04T00:00:00", 221.8556, 18.0)


def test_the_size_is_capped_by_the_books_max_position_size(isolated_lab):
    limits = BookLimits(max_positions=10, max_position_size=0.02, daily_loss_limit_usd=None,
                        correlation_limit=None)
    _book(limits=limits)
    add_sleeve("b", "ai", "analyst", ["SYN-TREND"], {"every": 5})
    step_book("b", to="2021-03-31")
    links = sleeve_decisions("b", "ai")
    buys = [r for r in links if r["decision"] == "BUY"]
    assert any(r["size_suggested"] > 0.02 for r in buys)  # the analyst wanted more
    assert all(r["size"] == min(r["size_suggested"], 0.02) for r in links)
    first = book_trades("b", "ai")[0]
    # the first decision (2021-01-01) suggests 0.0401 of equity; capped at 0.02 of the
    # 100,000 book: floor(2,000 / 221.8556) = floor(9.01) = 9 units at the 2021-01-04 open
    assert buys[0]["as_of"] == "2021-01-01T00:00:00" and buys[0]["size_suggested"] == 0.0401
    assert (first["entry_time"], first["entry_price"], first["size"]) == (
        "2021-01-04T00:00:00", 221.8556, 9.0)


@pytest.mark.parametrize("symbol,every,short,commission,start", [
    ("SYN-TREND", 5, False, 0.0, "2021-01-01"),
    ("SYN-VOLATILE", 3, True, 0.001, "2019-06-03"),
])
def test_recorded_decisions_replayed_as_signals_reproduce_the_books_trades(
        isolated_lab, analyze_calls, symbol, every, short, commission, start):
    _book(start=start, commission=commission)
    add_sleeve("b", "ai", "analyst", [symbol], {"every": every, "short": short})
    step_book("b", bars=252)
    asked = len(analyze_calls)
    paper = book_trades("b", "ai")
    bt = analyst_backtest("b", "ai")
    assert len(analyze_calls) == asked  # the replay asks no analyst: it costs nothing
    back = bt.to_dict()["trades"]
    assert len(paper) >= 5 and len(paper) == len(back)
    for p, b in zip(paper, back, strict=True):
        assert {k: p[k] for k in KEYS} == {k: b[k] for k in KEYS}
    con = _db(isolated_lab)
    equity = con.execute("SELECT equity FROM paper_sleeves").fetchone()[0]
    assert abs(bt.metrics["final_equity"] - equity) <= 1e-9
    if short:
        assert any(t["size"] < 0 for t in paper)
    # `paper reconcile` compares the same two: identical, still without asking anyone
    from engine.paper import reconcile

    rec = reconcile("b", "ai")
    assert rec["identical"] and rec["differences"] == [] and len(analyze_calls) == asked
    assert len(rec["paper_trades"]) == len(rec["backtest_trades"]) == len(paper)


def test_a_rerun_reuses_recorded_decisions_and_never_asks_again(isolated_lab, monkeypatch,
                                                               analyze_calls):
    import engine.paper.replay as replay

    for name in ("whole", "broken"):
        _book(name, commission=0.001)
        add_sleeve(name, "ai", "analyst", ["SYN-TREND"], {"every": 2})
    step_book("whole", to="2021-06-30")
    n_whole = len(analyze_calls)
    # the bar after the 21st decision dies in its transaction, its decision already asked
    # (as a kill -9 there would leave it)
    ts = _bars("SYN-TREND")["timestamp"].to_list()
    j0 = ts.index(datetime(2021, 1, 1))
    idx = j0 + 2 * 20 + 1
    real = replay.run_bars

    def dying(*a, **kw):
        if a[6] == idx:  # run_bars(open, high, low, close, signal, state, i0, ...)
            raise RuntimeError("killed")
        return real(*a, **kw)

    monkeypatch.setattr(replay, "run_bars", dying)
    del analyze_calls[:]
    with pytest.raises(RuntimeError, match="killed"):
        step_book("broken", to="2021-06-30")
    assert len(analyze_calls) == 21
    monkeypatch.setattr(replay, "run_bars", real)
    con = _db(isolated_lab)
    clock = con.execute("SELECT clock FROM paper_books WHERE name = 'broken'").fetchone()[0]
    assert clock.startswith(f"{ts[idx - 1]:%Y-%m-%d}")  # the failed bar left no trace
    res = step_book("broken", to="2021-06-30")
    assert res.bars > 0
    # the 21st decision, linked before the failed bar, is reused: one call per decision
    assert len(analyze_calls) == n_whole
    n_rows = con.execute("SELECT COUNT(*) FROM ai_decisions").fetchone()[0]
    assert n_rows == 2 * n_whole
    # the same ledger as the uninterrupted book's
    assert _ledger(con, "broken") == _ledger(con, "whole")
    # processing the bars again changes nothing and asks nothing
    again = step_book("broken", to="2021-06-30")
    assert again.bars == 0 and len(analyze_calls) == n_whole
    assert con.execute("SELECT COUNT(*) FROM ai_decisions").fetchone()[0] == n_rows


def test_an_answer_recorded_but_not_linked_is_adopted_not_bought_again(isolated_lab,
                                                                       monkeypatch):
    real = engine.llm.analyze
    calls: list[datetime] = []

    def dies_after_the_fourth_answer(**kw):
        doc = real(**kw)  # the ai_decisions row is written here
        calls.append(kw["as_of"])
        if len(calls) == 4:
            raise RuntimeError("killed before the link was written")
        return doc

    monkeypatch.setattr(engine.llm, "analyze", dies_after_the_fourth_answer)
    for name in ("whole", "broken"):
        _book(name)
        add_sleeve(name, "ai", "analyst", ["SYN-TREND"], {"every": 5})
    with pytest.raises(RuntimeError, match="killed before the link"):
        step_book("broken", to="2021-04-30")
    monkeypatch.setattr(engine.llm, "analyze", real)
    con = _db(isolated_lab)
    assert con.execute("SELECT COUNT(*) FROM paper_decisions").fetchone()[0] == 3
    step_book("broken", to="2021-04-30")
    step_book("whole", to="2021-04-30")
    n = con.execute("SELECT COUNT(*) FROM paper_decisions WHERE book_id = "
                    "(SELECT id FROM paper_books WHERE name = 'whole')").fetchone()[0]
    # the fourth answer was adopted by its link: one ai_decisions row per decision
    assert con.execute("SELECT COUNT(*) FROM ai_decisions").fetchone()[0] == 2 * n
    linked = con.execute("SELECT COUNT(DISTINCT decision_id) FROM paper_decisions "
                         "WHERE decision_id IS NOT NULL").fetchone()[0]
    assert linked == 2 * n
    assert _ledger(con, "broken") == _ledger(con, "whole")


def _ledger(con: sqlite3.Connection, book: str) -> dict[str, list[tuple]]:
    bid = con.execute("SELECT id FROM paper_books WHERE name = ?", (book,)).fetchone()[0]
    skip = {"id", "book_id", "sleeve_id", "created_at", "decision_id", "order_id"}
    out = {}
    for t in ("paper_orders", "paper_fills", "paper_positions", "paper_trades",
              "paper_equity", "paper_risk_events", "paper_decisions"):
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})") if r[1] not in skip]
        out[t] = con.execute(f"SELECT {', '.join(cols)} FROM {t} WHERE book_id = ? "
                             "ORDER BY id", (bid,)).fetchall()
    return out


class FakeClaude:
    """Stands for the Claude client, counted: by default a BUY with a 3 % stop and a 5 %
    target of the close on every context; ``script(n)`` gives call n's (side, size)."""

    def __init__(self, script=None):
        self.contexts: list = []
        self.script = script or (lambda n: ("BUY", 0.05))
        cfg = load_config()
        self.model_id = cfg.model(cfg.prompt("master_analyst").model_preference).id

    def call(self, prompt, ctx, *, model_key=None, proposal=""):
        side, size = self.script(len(self.contexts))
        self.contexts.append(ctx)
        p = ctx.price
        sl, tp = (p * 0.97, p * 1.05) if side == "BUY" else (p * 1.03, p * 0.95)
        out = Decision(decision=side, confidence=80, entry_price=p, stop_loss=round(sl, 4),
                       take_profit=round(tp, 4), position_size_suggestion=size,
                       reasoning="fake", timeframe="swing")
        return CallResult(prompt=prompt, prompt_version="test", model_key="fake",
                          model_id=self.model_id, provider="anthropic", status="ok",
                          output=out, cost_usd=0.01, attempts=1)


def test_an_anthropic_sleeve_buys_each_decision_once(isolated_lab, monkeypatch):
    import engine.paper.analyst as analyst
    import engine.paper.replay as replay

    fake = FakeClaude()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-a-key")
    monkeypatch.setattr(analyst, "client_for", lambda provider: fake)
    _book()
    add_sleeve("b", "ai", "analyst", ["SYN-TREND"], {"provider": "anthropic", "every": 10})
    ts = _bars("SYN-TREND")["timestamp"].to_list()
    fail_at = ts.index(datetime(2021, 1, 1)) + 2 * 10 + 1  # the bar after the 3rd decision
    real = replay.run_bars

    def dying(*a, **kw):
        if a[6] == fail_at:
            raise RuntimeError("killed")
        return real(*a, **kw)

    monkeypatch.setattr(replay, "run_bars", dying)
    with pytest.raises(RuntimeError, match="killed"):
        step_book("b", to="2021-04-30")
    assert len(fake.contexts) == 3
    monkeypatch.setattr(replay, "run_bars", real)
    step_book("b", to="2021-04-30")
    bars = _bars("SYN-TREND")
    year = [t for t in ts if datetime(2021, 1, 1) <= t <= datetime(2021, 4, 30)]
    expected = year[:-1][::10]
    # one call per decision: none repeated after the failure, none for the replay below
    assert [c.as_of for c in fake.contexts] == expected
    for c in fake.contexts:  # only bars up to the close: its price is that close
        i = ts.index(c.as_of)
        assert c.n_bars == i + 1 and c.price == bars["close"][i]
    analyst_backtest("b", "ai")
    step_book("b", to="2021-04-30")
    assert len(fake.contexts) == len(expected)
    con = _db(isolated_lab)
    rows = con.execute("SELECT provider, total_cost FROM ai_decisions").fetchall()
    assert [tuple(r) for r in rows] == [("anthropic", 0.01)] * len(expected)
    trades = book_trades("b", "ai")
    assert trades
    for tr in trades:  # a 5 % target / 3 % stop set at the decision's close, not the fill
        i = ts.index(datetime.fromisoformat(tr["entry_time"]))
        close = bars["close"][i - 1]
        if tr["exit_reason"] == "take_profit":
            x = ts.index(datetime.fromisoformat(tr["exit_time"]))
            assert tr["exit_price"] == max(bars["open"][x], round(close * 1.05, 4))


def test_an_entry_the_analysts_risk_check_refuses_is_vetoed_and_replayed_alike(
        isolated_lab, monkeypatch):
    import engine.paper.analyst as analyst

    # BUY 0.15 (above the analyst's 0.1 maximum: refused), SELL, BUY 0.05, SELL, ...
    fake = FakeClaude(lambda n: ("SELL", 0.05) if n % 2 else ("BUY", 0.15 if n % 4 == 0
                                                              else 0.05))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-not-a-key")
    monkeypatch.setattr(analyst, "client_for", lambda provider: fake)
    _book()
    add_sleeve("b", "ai", "analyst", ["SYN-TREND"], {"provider": "anthropic", "every": 5})
    step_book("b", to="2021-12-31")
    con = _db(isolated_lab)
    refused = con.execute("SELECT * FROM paper_decisions WHERE side = 1 AND NOT enter "
                          "ORDER BY as_of").fetchall()
    assert refused and all(r["size_suggested"] == 0.15 for r in refused)
    for r in refused:
        d = con.execute("SELECT * FROM ai_decisions WHERE id = ?", (r["decision_id"],)).fetchone()
        assert not d["risk_approved"] and not d["actionable"]
        assert "position size 0.150 is above the maximum 0.100" in d["risk_reasons"]
        o = con.execute("SELECT status FROM paper_orders WHERE id = ?", (r["order_id"],))
        assert o.fetchone()[0] == "vetoed"
    events = con.execute("SELECT rule, action, detail FROM paper_risk_events").fetchall()
    assert [(e["rule"], e["action"]) for e in events] == [("analyst_risk", "refuse")] * len(
        refused)
    assert "above the maximum" in events[0]["detail"]
    paper = book_trades("b", "ai")
    back = analyst_backtest("b", "ai").to_dict()["trades"]
    assert len(paper) >= 5
    assert [{k: t[k] for k in KEYS} for t in paper] == [{k: t[k] for k in KEYS} for t in back]
    buys = {r["as_of"] for r in con.execute("SELECT as_of FROM paper_decisions WHERE enter")}
    ts = _bars("SYN-TREND")["timestamp"].to_list()
    for t in paper:  # every trade was entered after an approved BUY
        i = ts.index(datetime.fromisoformat(t["entry_time"]))
        assert f"{ts[i - 1]:%Y-%m-%d %H:%M:%S.%f}" in buys


def test_the_analysts_risk_check_counts_the_books_positions(isolated_lab):
    _book()
    add_sleeve("b", "trend", "strategy", ["SYN-RANGE"],
               {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}}, 0.5)
    add_sleeve("b", "ai", "analyst", ["SYN-TREND"], {"every": 3}, 0.5)
    step_book("b", to="2021-09-30")
    trades = book_trades("b")
    ends = [(datetime.fromisoformat(t["entry_time"]),
             datetime.fromisoformat(t["exit_time"]), t["exit_reason"]) for t in trades]

    def open_after(close: datetime) -> int:  # positions held after that close
        return sum(1 for e, x, why in ends if e <= close and (x > close or why == "end"))

    con = _db(isolated_lab)
    seen = set()
    for r in con.execute("SELECT as_of, decision, risk_reasons FROM ai_decisions"):
        if r["decision"] == "HOLD":
            continue
        m = re.search(r"(\d+) of 10 positions open", r["risk_reasons"])
        if m is None:  # refused: only the failed rules are listed
            assert "daily loss limit" in r["risk_reasons"], r["risk_reasons"]
            continue
        n = int(m.group(1))
        assert n == open_after(datetime.fromisoformat(r["as_of"]))
        seen.add(n)
    assert {0, 1, 2} <= seen  # both sleeves' positions are counted, not the decisions'


def test_bad_analyst_sleeves_are_refused_with_the_fix(isolated_lab, monkeypatch):
    _book()
    with pytest.raises(ParameterError, match="takes its stop-loss.*drop --stop-loss"):
        add_sleeve("b", "ai", "analyst", ["SYN-TREND"], {"stop_loss": 0.05})
    with pytest.raises(ParameterError, match="--every is a whole number of bars >= 1"):
        add_sleeve("b", "ai", "analyst", ["SYN-TREND"], {"every": 0})
    with pytest.raises(ParameterError, match="--provider is offline or anthropic"):
        add_sleeve("b", "ai", "analyst", ["SYN-TREND"], {"provider": "gpt"})
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ParameterError, match="needs ANTHROPIC_API_KEY.*--provider offline"):
        add_sleeve("b", "ai", "analyst", ["SYN-TREND"], {"provider": "anthropic"})
    add_sleeve("b", "ai", "analyst", ["SYN-TREND"], {}, 0.5)
    add_sleeve("b", "s", "strategy", ["SYN-TREND"], {"strategy": "rsi"}, 0.2)
    with pytest.raises(ParameterError, match="member 'ai' is an analyst sleeve"):
        add_sleeve("b", "e", "ensemble", ["SYN-TREND"], {"members": ["s", "ai"]}, 0.1)
    with pytest.raises(ParameterError, match="has processed no bars"):
        analyst_backtest("b", "ai")
    with pytest.raises(ParameterError, match="is a strategy sleeve, not an analyst"):
        analyst_backtest("b", "s")
