"""A model sleeve's live paper results feed the auto-retrain monitor (the ``paper`` trigger)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine import registry, retrain
from tests.registry.factories import make_version


def _deployed(fake):
    v = make_version(accuracy=0.8, return_pct=5.0)
    registry.deploy(v.version_id, "paper", snapshot={"accuracy": 0.8, "return_pct": 5.0})
    fake.evals[v.version_id] = {"accuracy": 0.8, "return_pct": 5.0, "n": 95}  # no drop
    return v


def _sleeve(version_id: str, pnls: list[float], *, equity: float = 1000.0,
            peak: float = 1000.0, kind: str = "model", since: int = 0) -> None:
    """A book with one sleeve of ``version_id`` that closed trades with ``pnls``."""
    from engine.db import session_scope
    from engine.paper.tables import PaperBook, PaperSleeve, PaperTrade

    t0 = datetime(2024, 1, 1)
    with session_scope() as s:
        book = PaperBook(name=f"b{kind}{len(pnls)}{equity}", cash0=1000.0, cash=0.0)
        s.add(book)
        s.flush()
        config = {"version": version_id, "breaker_since": since}
        sl = PaperSleeve(book_id=book.id, name="m", kind=kind, symbols=["SYN-TREND"],
                         config=config, cash0=1000.0, cash=equity, equity=equity,
                         peak_equity=peak)
        s.add(sl)
        s.flush()
        for i, p in enumerate(pnls):
            s.add(PaperTrade(book_id=book.id, sleeve_id=sl.id, symbol="SYN-TREND",
                             entry_time=t0 + timedelta(days=2 * i),
                             exit_time=t0 + timedelta(days=2 * i + 1), entry_price=10.0,
                             exit_price=10.0 + p, size=1.0, pnl=p, return_pct=10.0 * p,
                             exit_reason="signal", commission=0.0, bars_held=1))


@pytest.mark.parametrize(("wins", "fires"), [(6, True), (7, False)])
def test_the_hit_rate_of_the_last_20_paper_trades_triggers_below_35_percent(fake, wins, fires):
    v = _deployed(fake)
    # 5 old winners, then 20 trades with `wins` winners: the window is the last 20
    _sleeve(v.version_id, [1.0] * 5 + [1.0] * wins + [-1.0] * (20 - wins))
    [st] = retrain.check()
    assert st.paper[0]["trades"] == 25
    assert st.paper[0]["hit_rate"] == pytest.approx(wins / 20)  # 0.30 fires, 0.35 does not
    assert st.triggers == (["paper"] if fires else [])
    if fires:
        assert st.paper[0]["reason"] == ("hit rate 30% over the last 20 closed trades is "
                                         "below 35%")


@pytest.mark.parametrize(("equity", "fires"), [(790.0, True), (800.0, False)])
def test_the_sleeves_drawdown_triggers_beyond_20_percent(fake, equity, fires):
    v = _deployed(fake)
    _sleeve(v.version_id, [1.0, -1.0], equity=equity, peak=1000.0)
    [st] = retrain.check()
    assert st.paper[0]["hit_rate"] is None  # 2 trades < 20: no hit rate yet
    assert st.paper[0]["drawdown"] == pytest.approx(equity / 1000 - 1)  # -21 % / -20 %
    assert st.triggers == (["paper"] if fires else [])


def test_only_trades_since_the_last_resume_count_and_only_model_sleeves(fake):
    v = _deployed(fake)
    _sleeve(v.version_id, [-1.0] * 20 + [1.0] * 3, since=20)  # resumed after 20 losers
    _sleeve(v.version_id, [-1.0] * 20, kind="strategy")  # not a model sleeve
    [st] = retrain.check()
    assert [p["trades"] for p in st.paper] == [3] and st.triggers == []


def test_the_monitor_job_retrains_on_the_paper_trigger(fake):
    v = _deployed(fake)
    _sleeve(v.version_id, [-1.0] * 20)
    fake.next_eval = {"accuracy": 0.85, "return_pct": 6.0}
    out = retrain.monitor_job()
    assert out["triggered"] == {v.version_id: "paper"}
    [rec] = retrain.history()
    assert rec.trigger == "paper" and rec.status == "deployed"
    # the new version is deployed; the sleeve still trades the old one, which is no longer
    # monitored, so nothing fires again
    assert retrain.monitor_job()["triggered"] == {}
