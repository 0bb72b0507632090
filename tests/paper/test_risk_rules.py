"""Each book-wide rule of engine.risk at its boundary; the correlation on constructed series."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import pearsonr

from engine.risk import BookLimits, EntryRequest, check_entry, rolling_correlation


def _req(**kw):
    base = dict(sleeve="s", symbol="A", budget=5_000.0, book_equity=100_000.0,
                open_positions=0, day_pnl_usd=0.0, correlations={})
    return EntryRequest(**{**base, **kw})


def test_max_positions_boundary():
    lim = BookLimits(max_positions=10)
    assert not check_entry(_req(open_positions=9), lim).refused
    v = check_entry(_req(open_positions=10), lim)
    assert v.refused and v.events[0]["rule"] == "max_positions"
    assert v.events[0]["detail"] == {"open_positions": 10, "limit": 10}


def test_daily_loss_limit_boundary():
    lim = BookLimits(daily_loss_limit_usd=1000.0)
    assert not check_entry(_req(day_pnl_usd=-999.99), lim).refused
    v = check_entry(_req(day_pnl_usd=-1000.0), lim)  # reaching it stops new entries
    assert v.refused and v.events[0]["rule"] == "daily_loss_limit"
    assert not check_entry(_req(day_pnl_usd=-5000.0),
                           BookLimits(daily_loss_limit_usd=None)).refused


def test_max_position_size_caps_the_notional_at_its_boundary():
    lim = BookLimits(max_position_size=0.1)
    at = check_entry(_req(budget=10_000.0), lim)  # 0.1 × 100,000 exactly: no resize
    assert at.scale == 1.0 and at.cap == 10_000.0 and at.events == []
    over = check_entry(_req(budget=10_000.01), lim)
    assert over.cap == 10_000.0 and over.events[0]["rule"] == "max_position_size"
    assert over.events[0]["action"] == "resize"


@pytest.mark.parametrize(("action", "scale"), [("refuse", 0.0), ("halve", 0.5)])
def test_correlation_limit_boundary(action, scale):
    lim = BookLimits(correlation_limit=0.8, correlation_action=action)
    assert check_entry(_req(correlations={"s:B": 0.8}), lim).scale == 1.0  # not above
    v = check_entry(_req(correlations={"s:B": 0.8000001, "s:C": 0.1}), lim)
    assert v.scale == scale
    assert v.events[0]["rule"] == "correlation" and v.events[0]["detail"]["with"] == "s:B"


def test_rolling_correlation_on_constructed_series():
    rng = np.random.default_rng(7)
    a = 100 * np.cumprod(1 + rng.normal(0, 0.01, 200))
    ra = a[1:] / a[:-1] - 1
    # b's returns are exactly 2·a's (+ a constant): correlation 1; -a's: -1
    b = 50 * np.cumprod(np.r_[1.0, 1 + 2 * ra + 0.001])
    c = 80 * np.cumprod(np.r_[1.0, 1 - ra])
    assert rolling_correlation(a, b, 60) == pytest.approx(1.0, abs=1e-12)
    assert rolling_correlation(a, c, 60) == pytest.approx(-1.0, abs=1e-12)
    noise = 100 * np.cumprod(1 + rng.normal(0, 0.01, 200))
    rn = noise[1:] / noise[:-1] - 1
    want = pearsonr(ra[-60:], rn[-60:]).statistic  # an independent implementation
    assert rolling_correlation(a, noise, 60) == pytest.approx(want, abs=1e-12)
    assert rolling_correlation(a[:60], noise[:60], 60) is None  # 60 closes: 59 returns
    assert rolling_correlation(a, np.full(200, 5.0), 60) is None  # flat: undefined


def test_the_analyst_check_keeps_its_api():
    from engine.risk import PortfolioState, RiskLimits, check

    class D:
        decision, position_size_suggestion, stop_loss = "BUY", 0.05, 95.0

    v = check(D(), PortfolioState(open_positions=10), RiskLimits())
    assert not v.approved and "10 positions already open" in v.reasons[0]
