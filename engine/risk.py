"""Position and loss limits applied to every actionable decision before it is recorded.

Defaults are the seed's (``risk`` in prompts/prompts.yaml overrides them):
``max_positions`` 10 open at once, ``max_position_size`` 0.1 of the portfolio,
``daily_loss_limit_usd`` −1000 (no new trade once the day's realised P&L is at or below it).

:func:`check` returns a :class:`RiskVerdict` ``{approved, reasons}``. A HOLD is approved and
never actionable. A BUY/SELL is approved only when every rule passes::

    >>> check(decision, PortfolioState(open_positions=3, daily_pnl_usd=-200.0))
    RiskVerdict(approved=True, reasons=['3 of 10 positions open', ...])

Paper books (:mod:`engine.paper`) use the same manager for every entry of every sleeve:
:func:`check_entry` with :class:`BookLimits` — book-wide ``max_positions``,
``max_position_size`` (a cap on the entry's notional), the daily loss limit and the
correlation limit (:func:`rolling_correlation`), each refusal or resize returned as an event.
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


# --------------------------------------------------------------------------------------
# Book-wide rules: every entry of every sleeve of a paper book, before its order fills
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BookLimits:
    """A paper book's limits (defaults: the seed's). ``None`` switches a rule off.

    ``max_position_size`` is a fraction of book equity; ``daily_loss_limit_usd`` a positive
    amount (no new entry once the day's loss reaches it); the correlation limit refuses (or,
    with ``correlation_action="halve"``, halves) an entry whose symbol's close-to-close
    returns over ``correlation_window`` bars correlate above it with an open position's.
    """

    max_positions: int = 10
    max_position_size: float = 0.1
    daily_loss_limit_usd: float | None = 1000.0
    correlation_limit: float | None = 0.8
    correlation_window: int = 60
    correlation_action: str = "refuse"


@dataclass(frozen=True)
class EntryRequest:
    """One pending entry and the book it would join (numbers at this bar's open)."""

    sleeve: str
    symbol: str
    budget: float  # the notional the sleeve's sizing would spend
    book_equity: float
    open_positions: int  # book-wide, after this bar's exits
    day_pnl_usd: float  # realised + unrealised since the previous day's last close
    correlations: dict[str, float] = field(default_factory=dict)  # open symbol -> corr


@dataclass(frozen=True)
class EntryVerdict:
    """``scale`` multiplies the entry's budget (0: refused), ``cap`` bounds it; ``events``
    are ``{"rule", "action", "detail"}`` for each rule that refused or resized it."""

    scale: float
    cap: float
    events: list[dict[str, Any]]

    @property
    def refused(self) -> bool:
        return self.scale == 0.0


def rolling_correlation(a: Any, b: Any, window: int) -> float | None:
    """Pearson correlation of the last ``window`` simple returns of two aligned close
    series (``None`` when fewer than ``window + 1`` closes, or a flat series)."""
    import numpy as np

    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if window < 2 or a.shape[0] < window + 1 or b.shape[0] < window + 1:
        return None
    ra = a[-window:] / a[-window - 1:-1] - 1.0
    rb = b[-window:] / b[-window - 1:-1] - 1.0
    if ra.std() == 0.0 or rb.std() == 0.0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def check_entry(req: EntryRequest, limits: BookLimits) -> EntryVerdict:
    """The book-wide rules for one entry, in order: positions, daily loss, correlation,
    size. A refusal stops at the first rule that refuses."""
    events: list[dict[str, Any]] = []
    if req.open_positions >= limits.max_positions:
        events.append({"rule": "max_positions", "action": "refuse", "detail": {
            "open_positions": req.open_positions, "limit": limits.max_positions}})
        return EntryVerdict(0.0, 0.0, events)
    if (limits.daily_loss_limit_usd is not None
            and req.day_pnl_usd <= -abs(limits.daily_loss_limit_usd)):
        events.append({"rule": "daily_loss_limit", "action": "refuse", "detail": {
            "day_pnl_usd": req.day_pnl_usd, "limit_usd": abs(limits.daily_loss_limit_usd)}})
        return EntryVerdict(0.0, 0.0, events)
    scale = 1.0
    if limits.correlation_limit is not None:
        over = {s: c for s, c in req.correlations.items()
                if c is not None and c > limits.correlation_limit}
        if over:
            worst = max(over, key=over.__getitem__)
            detail = {"with": worst, "correlation": over[worst],
                      "limit": limits.correlation_limit, "window": limits.correlation_window}
            if limits.correlation_action == "halve":
                scale = 0.5
                events.append({"rule": "correlation", "action": "halve", "detail": detail})
            else:
                events.append({"rule": "correlation", "action": "refuse", "detail": detail})
                return EntryVerdict(0.0, 0.0, events)
    cap = limits.max_position_size * req.book_equity
    if req.budget * scale > cap:
        events.append({"rule": "max_position_size", "action": "resize", "detail": {
            "budget": req.budget * scale, "cap": cap,
            "max_position_size": limits.max_position_size, "book_equity": req.book_equity}})
    return EntryVerdict(scale, cap, events)


__all__ = ["BookLimits", "EntryRequest", "EntryVerdict", "PortfolioState", "RiskLimits",
           "RiskVerdict", "check", "check_entry", "rolling_correlation"]
