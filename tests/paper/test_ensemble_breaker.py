"""The ensemble's votes by hand, and the circuit breaker's thresholds."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.paper import ensemble_vote
from engine.paper.breaker import breaker_reason
from engine.paper.ensemble import trailing_sharpe


def test_equal_weight_votes_by_hand():
    m1 = np.array([1, 0, -1, 1, 0], np.int8)
    m2 = np.array([1, -1, 0, 0, 0], np.int8)
    m3 = np.array([-1, -1, 0, 1, 1], np.int8)
    close = np.ones(5)
    # votes: (1+1-1)/3=1/3, -2/3, -1/3, 2/3, 1/3
    assert ensemble_vote([m1, m2, m3], close, threshold=0.5).tolist() == [0, -1, 0, 1, 0]
    assert ensemble_vote([m1, m2, m3], close, threshold=0.3).tolist() == [1, -1, -1, 1, 1]
    # two members: (1+1)/2=1, -1/2, -1/2, 1/2, 0
    assert ensemble_vote([m1, m2], close, threshold=0.5).tolist() == [1, -1, -1, 1, 0]


def test_sharpe_weights_silence_a_losing_member():
    close = np.array([100, 101, 102, 101, 103, 104, 106, 105, 107, 109.0])
    winner = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], np.int8)  # long from bar 1 on
    loser = np.array([0] * 10, np.int8)  # never in: Sharpe 0, weight 0
    got = ensemble_vote([winner, loser], close, weighting="sharpe", window=4, threshold=0.5)
    # before bar 4 no member has a Sharpe: no vote; then the winner alone decides
    assert got.tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # winner's later signals are 0
    sh = trailing_sharpe(winner, close, 4)
    r = close[1:] / close[:-1] - 1  # the winner holds from bar 0's close on
    assert sh[4] == pytest.approx(r[0:4].mean() / r[0:4].std(ddof=1))
    flip = winner.copy()
    flip[6] = -1
    got = ensemble_vote([flip, loser], close, weighting="sharpe", window=4, threshold=0.5)
    assert got[6] == -1  # the only weighted member says sell


BOOK = SimpleNamespace(breaker_trades=20, breaker_hit_rate=0.35, breaker_drawdown=0.2)


def test_hit_rate_boundary():
    seven = [1.0] * 7 + [-1.0] * 13  # 35 %: not below
    assert breaker_reason(seven, 100.0, 100.0, BOOK) is None
    six = [-1.0] * 14 + [1.0] * 6  # 30 %
    r = breaker_reason([5.0] * 10 + six, 100.0, 100.0, BOOK)  # only the last 20 count
    assert r["rule"] == "hit_rate" and r["hit_rate"] == pytest.approx(0.3)
    assert breaker_reason(six[:19], 100.0, 100.0, BOOK) is None  # fewer than 20 trades


def test_drawdown_boundary():
    assert breaker_reason([], 80.0, 100.0, BOOK) is None  # exactly -20 %: not beyond
    r = breaker_reason([], 79.99, 100.0, BOOK)
    assert r["rule"] == "drawdown" and "beyond -20%" in r["text"]
