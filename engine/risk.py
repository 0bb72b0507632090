"""Position and loss limits applied to every actionable decision before it is recorded.

Defaults are the seed's (``risk`` in prompts/prompts.yaml overrides them):
``max_positions`` 10 open at once, ``max_position_size`` 0.1 of the portfolio,
``daily_loss_limit_usd`` −1000 (no new trade once the day's realised P&L is at or below it).

:func:`check` returns a :class:`RiskVerdict` ``{approved, reasons}``. A HOLD is approved and
never actionable. A BUY/SELL is approved only when every rule passes::

    >>> check(decision, PortfolioState(open_positions=3, daily_pnl_usd=-200.0))
    RiskVerdict(approved=True, reasons=['3 of 10 positions open', ...])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RiskLimits:
    max_positions: int = 10
    max_position_size: float = 0.1
    daily_loss_limit_usd: float = -1000.0

    @classmethod
    def from_config(cls, cfg: Any | None = None) -> RiskLimits:
        """The limits under ``risk`` in prompts.yaml."""
        if cfg is None:
            from engine.llm.prompts import load_config

            cfg = load_config()
        r = cfg.risk
        return cls(r.max_positions, r.max_position_size, r.daily_loss_limit_usd)


@dataclass(frozen=True)
class PortfolioState:
    """What is open and what the day has lost so far."""

    open_positions: int = 0
    daily_pnl_usd: float = 0.0


@dataclass(frozen=True)
class RiskVerdict:
    approved: bool
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"approved": self.approved, "reasons": list(self.reasons)}


def check(decision: Any, state: PortfolioState = PortfolioState(),
          limits: RiskLimits | None = None) -> RiskVerdict:
    """Check ``decision`` (anything with decision, position_size_suggestion, stop_loss)."""
    limits = limits or RiskLimits.from_config()
    side = getattr(decision, "decision", "HOLD")
    if side not in ("BUY", "SELL"):
        return RiskVerdict(True, ["HOLD: nothing to trade"])
    failed: list[str] = []
    passed: list[str] = []
    size = float(getattr(decision, "position_size_suggestion", 0.0) or 0.0)
    if size > limits.max_position_size + 1e-12:
        failed.append(f"position size {size:.3f} is above the maximum "
                      f"{limits.max_position_size:.3f} of the portfolio")
    elif size <= 0:
        failed.append("position size is 0: nothing to trade")
    else:
        passed.append(f"size {size:.3f} ≤ {limits.max_position_size:.3f}")
    if state.open_positions >= limits.max_positions:
        failed.append(f"{state.open_positions} positions already open; the limit is "
                      f"{limits.max_positions}")
    else:
        passed.append(f"{state.open_positions} of {limits.max_positions} positions open")
    if state.daily_pnl_usd <= limits.daily_loss_limit_usd:
        failed.append(f"today's P&L {state.daily_pnl_usd:,.0f} USD has hit the daily loss "
                      f"limit {limits.daily_loss_limit_usd:,.0f} USD")
    else:
        passed.append(f"today's P&L {state.daily_pnl_usd:,.0f} USD above the "
                      f"{limits.daily_loss_limit_usd:,.0f} USD limit")
    if getattr(decision, "stop_loss", None) is None:
        failed.append("no stop-loss: every trade needs one")
    return RiskVerdict(not failed, failed or passed)


__all__ = ["PortfolioState", "RiskLimits", "RiskVerdict", "check"]
