"""The offline analyst's documented rules (engine/llm/offline.py) on hand-built contexts.

The rules, as the module docstring states them (components each in −1…+1):
    trend     = clip(dist_sma50_pct / 5)·0.5 + sign(sma20 − sma50)·0.5
    momentum  = clip(ret_20d_pct / 10)·0.5 + clip(macd_hist_pct / 0.5)·0.5
    reversion = +1 if RSI < 30 or %b < 0; −1 if RSI > 70 or %b > 1; else 0
    regime    = +0.5 bull, −0.5 bear, 0 otherwise
    master score s = 0.4·trend + 0.3·momentum + 0.2·reversion + 0.1·regime
    s > 0.2 → BUY, s < −0.2 → SELL, else HOLD
    confidence = 50 + 45·|s|            (HOLD: 50 + 20·(0.2 − |s|)/0.2)
    stop = entry ∓ 2·ATR, target = entry ± 3·ATR (exit_optimizer ± 4·ATR)
    size = max_position_size·(confidence − 50)/50   (max_position_size 0.1 in prompts.yaml)
    high-volatility regime: confidence − 10, size halved
Each context below is built by hand (no market data); the expected numbers are worked in
the comments.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from engine.llm import offline
from engine.llm.context import MarketContext
from engine.llm.prompts import load_config


def ctx(regime: str, price: float, sma20: float, sma50: float, ret20: float, macd: float,
        rsi: float, pct_b: float, atr: float, *, volume_ratio: float = 1.2,
        volatility: float = 20.0) -> MarketContext:
    values = {
        "close": price, "sma20": sma20, "sma50": sma50, "atr14": atr, "rsi14": rsi,
        "bb_pct_b": pct_b, "ret_20d_pct": ret20, "macd_hist_pct": macd,
        "dist_sma50_pct": (price / sma50 - 1) * 100.0, "atr_pct": atr / price * 100.0,
        "volume_ratio": volume_ratio, "volatility_pct": volatility, "trend_strength": 1.0,
    }
    return MarketContext(symbol="HAND", as_of=datetime(2024, 6, 3), price=price,
                         regime=regime, values=values, n_bars=300)


# bull: price 105, SMA50 100 → dist +5 % → clip(1) · 0.5 = 0.5; SMA20 103 > SMA50 → +0.5;
#   trend 1.0. 20-bar return +5 % → 0.5·0.5 = 0.25; MACD hist 0.25 % → 0.5·0.5 = 0.25;
#   momentum 0.5. RSI 62, %b 0.8 → reversion 0. regime bull → +0.5.
#   s = 0.4·1.0 + 0.3·0.5 + 0.2·0 + 0.1·0.5 = 0.4 + 0.15 + 0.05 = 0.60 → BUY
#   confidence 50 + 45·0.6 = 77.0; size 0.1·27/50 = 0.054
#   ATR 2: stop 105 − 4 = 101, target 105 + 6 = 111, reward/risk 6/4 = 1.5
BULL = ctx("bull", 105.0, 103.0, 100.0, 5.0, 0.25, 62.0, 0.8, 2.0)

# bear: price 90, SMA50 100 → dist −10 % → clip(−1)·0.5 = −0.5; SMA20 95 < 100 → −0.5;
#   trend −1.0. return −12 % → clip(−1)·0.5 = −0.5; MACD −0.2 % → −0.4·0.5 = −0.2;
#   momentum −0.7. RSI 25 < 30 → reversion +1 (oversold leans against the sell).
#   regime bear → −0.5.
#   s = −0.4 − 0.21 + 0.2 − 0.05 = −0.46 → SELL
#   confidence 50 + 45·0.46 = 70.7; size 0.1·20.7/50 = 0.0414
#   ATR 3: stop 90 + 6 = 96, target 90 − 9 = 81, reward/risk 9/6 = 1.5
BEAR = ctx("bear", 90.0, 95.0, 100.0, -12.0, -0.2, 25.0, 0.1, 3.0, volume_ratio=0.9)

# high volatility: price 104, SMA50 100 → dist +4 % → 0.8·0.5 = 0.4; SMA20 102 > 100 →
#   +0.5; trend 0.9. return +10 % → 0.5; MACD 0.5 % → 0.5; momentum 1.0. RSI 55, %b 0.7 →
#   0. regime high_volatility → 0.
#   s = 0.4·0.9 + 0.3·1.0 = 0.36 + 0.30 = 0.66 → BUY
#   confidence 50 + 45·0.66 = 79.7, − 10 in high volatility = 69.7
#   size 0.1·(69.7 − 50)/50 = 0.0394, halved = 0.0197
#   ATR 5.2: stop 104 − 10.4 = 93.6, target 104 + 15.6 = 119.6, reward/risk 1.5
HIGH_VOL = ctx("high_volatility", 104.0, 102.0, 100.0, 10.0, 0.5, 55.0, 0.7, 5.2,
               volatility=60.0)

# sideways: price 101, SMA50 100 → dist +1 % → 0.2·0.5 = 0.1; SMA20 99.5 < 100 → −0.5;
#   trend −0.4. return +2 % → 0.1; MACD 0.1 % → 0.1; momentum 0.2. RSI 50 → 0. regime 0.
#   s = 0.4·(−0.4) + 0.3·0.2 = −0.16 + 0.06 = −0.10 → |s| ≤ 0.2 → HOLD
#   confidence 50 + 20·(0.2 − 0.1)/0.2 = 60.0; size 0; no stop or target
SIDEWAYS = ctx("sideways", 101.0, 99.5, 100.0, 2.0, 0.1, 50.0, 0.5, 1.5)

CASES = [
    # context, components (trend, momentum, reversion, regime), score, decision,
    # confidence, entry, stop, target, reward/risk, size
    (BULL, (1.0, 0.5, 0.0, 0.5), 0.60, "BUY", 77.0, 105.0, 101.0, 111.0, 1.5, 0.054),
    (BEAR, (-1.0, -0.7, 1.0, -0.5), -0.46, "SELL", 70.7, 90.0, 96.0, 81.0, 1.5, 0.0414),
    (HIGH_VOL, (0.9, 1.0, 0.0, 0.0), 0.66, "BUY", 69.7, 104.0, 93.6, 119.6, 1.5, 0.0197),
    (SIDEWAYS, (-0.4, 0.2, 0.0, 0.0), -0.10, "HOLD", 60.0, 101.0, None, None, None, 0.0),
]


def test_the_seed_maximum_position_size_is_the_one_worked_with():
    assert load_config().risk.max_position_size == 0.1


@pytest.mark.parametrize(
    ("context", "parts", "s", "decision", "conf", "entry", "stop", "target", "rr", "size"),
    CASES, ids=["bull", "bear", "high_volatility", "sideways"])
def test_master_analyst_rules(context, parts, s, decision, conf, entry, stop, target, rr,
                              size):
    c = offline.components(context)
    got = (c["trend"], c["momentum"], c["reversion"], c["regime"])
    assert got == pytest.approx(parts, abs=1e-9)
    assert offline.score(context, "master_analyst") == pytest.approx(s, abs=1e-9)
    d = offline.decide(context, "master_analyst")
    assert d.decision == decision
    assert d.confidence == pytest.approx(conf, abs=1e-9)
    assert d.entry_price == pytest.approx(entry, abs=1e-9)
    assert d.stop_loss == (None if stop is None else pytest.approx(stop, abs=1e-9))
    assert d.take_profit == (None if target is None else pytest.approx(target, abs=1e-9))
    assert d.risk_reward_ratio == (None if rr is None else pytest.approx(rr, abs=1e-9))
    assert d.position_size_suggestion == pytest.approx(size, abs=1e-9)


def test_exit_optimizer_widens_the_target_to_four_atr():
    # bull: same score 0.60 and confidence 77.0; target 105 + 4·2 = 113, reward/risk 8/4 = 2
    d = offline.decide(BULL, "exit_optimizer")
    assert (d.decision, d.confidence, d.stop_loss, d.take_profit) == ("BUY", 77.0, 101.0,
                                                                      113.0)
    assert d.risk_reward_ratio == pytest.approx(2.0, abs=1e-9)
    assert d.position_size_suggestion == pytest.approx(0.054, abs=1e-9)


def test_momentum_catalyst_halves_without_volume_confirmation():
    # bear: 0.7·(−0.7) + 0.3·(−1.0) = −0.49 − 0.30 = −0.79; volume ratio 0.9 < 1 → halved
    # to −0.395 → SELL, confidence 50 + 45·0.395 = 67.775 → 67.8
    assert offline.score(BEAR, "momentum_catalyst") == pytest.approx(-0.395, abs=1e-9)
    assert offline.decide(BEAR, "momentum_catalyst").confidence == pytest.approx(67.8)


def test_high_volatility_is_flagged_as_a_risk_and_by_the_contrarian():
    d = offline.decide(HIGH_VOL)
    assert d.key_risks[0] == "high-volatility regime: stops may gap"
    # objections: only "high volatility makes the stop unreliable" (RSI 55 is 5 from 50,
    # %b 0.7 inside the band, no bull/bear fight, volume 1.2) → 1 objection, penalty 5
    crit = offline.critique(HIGH_VOL, d)
    assert crit.objections == ["high volatility makes the stop unreliable"]
    assert crit.agrees and crit.confidence_penalty == 5.0
    # risk = min(100, volatility 60·1.2 + ATR % 5·5) = 72 + 25 = 97 ≥ 70 → not approved;
    # size 0.1·(1 − 0.97) = 0.003
    risk = offline.risk_view(HIGH_VOL)
    assert risk.risk_score == pytest.approx(97.0) and not risk.approved
    assert risk.max_position_size == pytest.approx(0.003, abs=1e-9)


def test_bear_sell_contrarian_objects_to_the_oversold_rsi():
    # SELL with RSI 25: side·(RSI − 50) = −1·(−25) = 25 > 20 → stretched; regime bear agrees
    # with a SELL; %b 0.1 inside the band; volume 0.9 ≥ 0.8 → one objection, penalty 5
    crit = offline.critique(BEAR, offline.decide(BEAR))
    assert crit.objections == ["RSI 25 is stretched in the trade's direction"]
    assert crit.agrees and crit.confidence_penalty == 5.0


def test_run_labels_the_result_offline():
    res = offline.run("master_analyst", BULL)
    assert (res.provider, res.model_id, res.status) == ("offline", "offline-rules", "ok")
    assert res.output == offline.decide(BULL, "master_analyst")
