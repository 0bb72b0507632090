"""The offline analyst: a deterministic rule analyst with the same JSON schema, at zero cost.

Used when no API key is set (or ``provider="offline"``). Results carry ``provider
"offline"`` and model ``offline-rules`` so pages label every card and chart "offline".

How it decides, from the snapshot (:mod:`engine.llm.context`), each component in −1…+1:

- **trend** = clip(dist_sma50_pct / 5) · 0.5 + sign(sma20 − sma50) · 0.5
- **momentum** = clip(ret_20d_pct / 10) · 0.5 + clip(macd_hist_pct / 0.5) · 0.5
- **mean reversion** = +1 when RSI < 30 or %b < 0, −1 when RSI > 70 or %b > 1, else 0
- **regime** = +0.5 bull, −0.5 bear, 0 otherwise

``master_analyst`` scores 0.4·trend + 0.3·momentum + 0.2·reversion + 0.1·regime;
``momentum_catalyst`` 0.7·momentum + 0.3·trend (confirmed only if volume_ratio ≥ 1);
``exit_optimizer`` uses the master score but wider targets. score > 0.2 → BUY,
< −0.2 → SELL, else HOLD; confidence = 50 + 45·|score| (HOLD: 50 + 20·(0.2 − |score|)/0.2);
levels from ATR: stop 2·ATR, target 3·ATR (exit_optimizer 4·ATR) — risk/reward 1.5 (2);
size = max_position_size · (confidence − 50) / 50. In a high-volatility regime the
confidence is cut by 10 and the size halved. ``market_regime`` returns the rule-based
regime; ``risk_assessment`` scores risk from volatility and ATR; ``contrarian`` objects when
RSI, %b or the regime disagree with the proposal (penalty 5 per objection).
"""

from __future__ import annotations

from engine.llm.client import CallResult
from engine.llm.context import MarketContext
from engine.llm.prompts import LLMConfig, load_config
from engine.llm.schema import Critique, Decision, RegimeView, RiskView

MODEL_ID = "offline-rules"


def _clip(x: float | None, scale: float) -> float:
    if x is None:
        return 0.0
    return max(-1.0, min(1.0, x / scale))


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def components(ctx: MarketContext) -> dict[str, float]:
    v = ctx.values
    sma20, sma50 = v.get("sma20"), v.get("sma50")
    trend = _clip(v.get("dist_sma50_pct"), 5.0) * 0.5
    if sma20 is not None and sma50 is not None:
        trend += _sign(sma20 - sma50) * 0.5
    momentum = _clip(v.get("ret_20d_pct"), 10.0) * 0.5 + _clip(v.get("macd_hist_pct"), 0.5) * 0.5
    rsi, pb = v.get("rsi14"), v.get("bb_pct_b")
    reversion = 0.0
    if (rsi is not None and rsi < 30) or (pb is not None and pb < 0):
        reversion = 1.0
    elif (rsi is not None and rsi > 70) or (pb is not None and pb > 1):
        reversion = -1.0
    regime = {"bull": 0.5, "bear": -0.5}.get(ctx.regime, 0.0)
    return {"trend": trend, "momentum": momentum, "reversion": reversion, "regime": regime}


def score(ctx: MarketContext, prompt: str) -> float:
    c = components(ctx)
    if prompt == "momentum_catalyst":
        s = 0.7 * c["momentum"] + 0.3 * c["trend"]
        vr = ctx.values.get("volume_ratio")
        if vr is not None and vr < 1.0:
            s *= 0.5  # momentum without volume confirmation is weaker
        return s
    return 0.4 * c["trend"] + 0.3 * c["momentum"] + 0.2 * c["reversion"] + 0.1 * c["regime"]


def decide(ctx: MarketContext, prompt: str = "master_analyst",
           cfg: LLMConfig | None = None) -> Decision:
    """The offline decision of ``prompt`` on ``ctx``."""
    cfg = cfg or load_config()
    s = score(ctx, prompt)
    price = ctx.price
    atr = ctx.values.get("atr14") or price * 0.02
    target_mult = 4.0 if prompt == "exit_optimizer" else 3.0
    vol_regime = ctx.regime == "high_volatility"
    if abs(s) <= 0.2:
        conf = 50.0 + 20.0 * (0.2 - abs(s)) / 0.2
        return Decision(
            decision="HOLD", confidence=round(conf, 1), entry_price=round(price, 4),
            stop_loss=None, take_profit=None, risk_reward_ratio=None,
            position_size_suggestion=0.0,
            reasoning=_why(ctx, s, "no edge: the signals roughly cancel"),
            key_risks=_risks(ctx), timeframe="swing")
    side = 1.0 if s > 0 else -1.0
    conf = min(95.0, 50.0 + 45.0 * abs(s))
    if vol_regime:
        conf = max(0.0, conf - 10.0)
    size = cfg.risk.max_position_size * max(0.0, conf - 50.0) / 50.0
    if vol_regime:
        size /= 2
    stop = price - side * 2.0 * atr
    target = price + side * target_mult * atr
    if stop <= 0:
        stop = price * (0.5 if side > 0 else 1.5)
    if target <= 0:
        target = price * 0.5
    return Decision(
        decision="BUY" if side > 0 else "SELL", confidence=round(conf, 1),
        entry_price=round(price, 4), stop_loss=round(stop, 4), take_profit=round(target, 4),
        risk_reward_ratio=None, position_size_suggestion=round(size, 4),
        reasoning=_why(ctx, s, "trend and momentum agree" if s * side > 0.4 else
                       "a modest tilt"),
        key_risks=_risks(ctx), timeframe="swing")


def _why(ctx: MarketContext, s: float, verdict: str) -> str:
    v = ctx.values
    parts = [f"offline rule score {s:+.2f}: {verdict}"]
    if v.get("rsi14") is not None:
        parts.append(f"RSI {v['rsi14']:.0f}")
    if v.get("dist_sma50_pct") is not None:
        parts.append(f"{v['dist_sma50_pct']:+.1f}% vs SMA50")
    if v.get("ret_20d_pct") is not None:
        parts.append(f"20-bar return {v['ret_20d_pct']:+.1f}%")
    parts.append(f"regime {ctx.regime}")
    return "; ".join(parts) + "."


def _risks(ctx: MarketContext) -> list[str]:
    v = ctx.values
    risks = []
    if ctx.regime == "high_volatility":
        risks.append("high-volatility regime: stops may gap")
    if (v.get("rsi14") or 50) > 70:
        risks.append("overbought (RSI > 70)")
    if (v.get("rsi14") or 50) < 30:
        risks.append("oversold (RSI < 30)")
    if (v.get("volume_ratio") or 1.0) < 0.8:
        risks.append("thin volume")
    risks.append("rule-based offline view; no news or fundamentals")
    return risks[:4]


def regime_view(ctx: MarketContext) -> RegimeView:
    regime = ctx.regime if ctx.regime in ("bull", "bear", "sideways", "high_volatility") \
        else "sideways"
    ts = abs(ctx.values.get("trend_strength") or 0.0)
    conf = 50.0 if ctx.regime == "unknown" else min(90.0, 55.0 + 20.0 * ts)
    return RegimeView(regime=regime, confidence=round(conf, 1),
                      reasoning=f"offline: rule-based detector says {ctx.regime} "
                                f"(trend strength {ctx.values.get('trend_strength') or 0:+.2f}).")


def risk_view(ctx: MarketContext, cfg: LLMConfig | None = None) -> RiskView:
    cfg = cfg or load_config()
    vol = ctx.values.get("volatility_pct") or 20.0
    atr_pct = ctx.values.get("atr_pct") or 2.0
    risk = min(100.0, vol * 1.2 + atr_pct * 5.0)
    concerns = _risks(ctx)
    approved = risk < 70.0
    size = cfg.risk.max_position_size * (1.0 - risk / 100.0)
    return RiskView(risk_score=round(risk, 1), approved=approved, concerns=concerns,
                    max_position_size=round(max(0.0, size), 4))


def critique(ctx: MarketContext, proposal: Decision | None,
             cfg: LLMConfig | None = None) -> Critique:
    cfg = cfg or load_config()
    if proposal is None or proposal.decision == "HOLD":
        return Critique(agrees=True, objections=[], confidence_penalty=0.0)
    v, side = ctx.values, proposal.actionable_side
    obj = []
    rsi, pb = v.get("rsi14"), v.get("bb_pct_b")
    if rsi is not None and side * (rsi - 50) > 20:
        obj.append(f"RSI {rsi:.0f} is stretched in the trade's direction")
    if pb is not None and ((side > 0 and pb > 1) or (side < 0 and pb < 0)):
        obj.append("price is outside the Bollinger band: mean reversion risk")
    if (side > 0 and ctx.regime == "bear") or (side < 0 and ctx.regime == "bull"):
        obj.append(f"the trade fights the {ctx.regime} regime")
    if ctx.regime == "high_volatility":
        obj.append("high volatility makes the stop unreliable")
    if (v.get("volume_ratio") or 1.0) < 0.8:
        obj.append("volume does not confirm")
    penalty = min(cfg.consensus.contrarian_max_penalty, 5.0 * len(obj))
    return Critique(agrees=len(obj) < 2, objections=obj, confidence_penalty=penalty)


def run(prompt: str, ctx: MarketContext, *, proposal: Decision | None = None,
        cfg: LLMConfig | None = None) -> CallResult:
    """The offline result of ``prompt`` (any of the six) as a :class:`CallResult`."""
    cfg = cfg or load_config()
    spec = cfg.prompt(prompt)
    if spec.output == "decision":
        out = decide(ctx, prompt, cfg)
    elif spec.output == "regime":
        out = regime_view(ctx)
    elif spec.output == "risk":
        out = risk_view(ctx, cfg)
    else:
        out = critique(ctx, proposal, cfg)
    return CallResult(prompt=prompt, prompt_version=spec.version, model_key="offline",
                      model_id=MODEL_ID, provider="offline", status="ok", output=out,
                      attempts=1)


__all__ = ["MODEL_ID", "components", "critique", "decide", "regime_view", "risk_view", "run",
           "score"]
