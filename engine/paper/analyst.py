"""Analyst sleeves: the AI analyst (offline or Claude) trading inside a paper book.

Config ``{"provider": "offline" | "anthropic", "every": N, "prompt", "short"}``.

- **When**: at the close of every ``every``-th bar per symbol, counted from the sleeve's
  first trading bar (its start), the analyst is asked about the symbol as of that close —
  on the symbol's bars up to and including it, the frame sliced *before* the call, so no
  later bar can reach the context (:func:`engine.llm.analyze` builds the same as-of context
  as ``replay``).
- **Risk**: its decision's risk check (:func:`engine.risk.check`, the analyst's limits) is
  run on the book's real positions and the day's P&L of the book — not on the global
  ``ai_decisions`` portfolio; the recorded row's ``risk_approved`` / ``risk_reasons`` /
  ``actionable`` say so.
- **What is traded**: a confident BUY is ``+1``, a confident SELL ``-1`` (an exit of a long;
  a short too with ``short``), anything else nothing; an *entry* needs the risk check's
  approval (a refused entry is vetoed, its exit half still runs). The next open fills it
  sized ``min(position_size_suggestion, the book's max_position_size)`` of the sleeve's
  equity (the backtester's ``--size``), the book's risk manager still capping its notional;
  its stop-loss and take-profit are the decision's **absolute prices**.
- **Execution**: the backtester's compiled step (:func:`engine.backtest.step.run_bars_nb`)
  keeps each position's levels as prices (``P_SL`` / ``P_TP``); an analyst sleeve runs it
  with positive stop fractions (so the step checks every position's stop and target, the
  stop-loss winning, filling at min(open, sl) / max(open, tp)) and writes the decision's
  prices into the position after its entry bar — before the first bar that may hit them, as
  stops are active from the bar after the entry. A fill that gaps through a level is
  therefore treated exactly as the backtester treats any level.
- **Record and link**: every answer is an ``ai_decisions`` row (source ``paper``) and a
  ``paper_decisions`` row (:class:`~engine.paper.tables.PaperDecision`) linking it to the
  order it caused. A link is written as soon as the answer comes, before the bar's
  transaction, so a bar processed again (after a kill, or a failed transaction) reuses it:
  the analyst is never asked twice for the same sleeve, symbol and bar. An answer recorded
  but not yet linked when the process died (an unlinked ``paper`` row of that symbol,
  close, provider and prompt) is adopted rather than bought again.

:func:`engine.paper.decisions.analyst_backtest` replays the recorded decisions as signals
through the same compiled step from a flat start — no analyst call, no cost — and must
reproduce the sleeve's trades (tests/paper/test_analyst_sleeve.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import numpy as np
import polars as pl
from sqlmodel import select

from engine.errors import ParameterError
from engine.paper.tables import PaperBook, PaperDecision, PaperSleeve
from engine.risk import PortfolioState

PROVIDERS = ("offline", "anthropic")
PROMPT = "master_analyst"
#: The step's stop fractions for an analyst sleeve: positive, so every position's stop and
#: target are checked; the levels themselves are the decisions' prices (set after entry).
LEVEL_SWITCH = 1.0


def analyst_config(config: dict[str, Any]) -> dict[str, Any]:
    """The stored configuration of an analyst sleeve (checked)."""
    given = [f"--{k.replace('_', '-')}" for k in ("stop_loss", "take_profit", "size")
             if config.get(k) is not None]
    if given:
        raise ParameterError(f"an analyst sleeve takes its stop-loss, take-profit and size "
                             f"from each decision; drop {', '.join(given)}")
    provider = str(config.get("provider") or "offline")
    if provider not in PROVIDERS:
        raise ParameterError(f"--provider is offline or anthropic, got {provider!r}")
    if provider == "anthropic":
        from engine.llm.client import resolve_api_key

        if not resolve_api_key(None):
            raise ParameterError("an anthropic analyst needs ANTHROPIC_API_KEY; set it, or "
                                 "use --provider offline (the free rule analyst)")
    every = config.get("every", 5)
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ParameterError(f"--every is a whole number of bars >= 1, got {every!r}")
    return {"provider": provider, "every": int(every),
            "prompt": str(config.get("prompt") or PROMPT),
            "short": bool(config.get("short", False))}


def client_for(provider: str) -> Any:
    """The Claude client an anthropic sleeve asks through (``None``: the offline analyst).
    One per replay, so its rate limiter spans the replay."""
    if provider != "anthropic":
        return None
    from engine.llm.client import ClaudeClient

    return ClaudeClient()


@dataclass
class Pending:
    """The decisions of one close, per row of the sleeve: what the next open executes."""

    side: np.ndarray  # int8: +1 buy, -1 sell, 0 nothing
    enter: np.ndarray  # bool: an entry is allowed (the analyst's risk check)
    stop_loss: np.ndarray  # float64 prices (nan: none)
    take_profit: np.ndarray
    size: np.ndarray  # float64 fraction of the sleeve's equity
    link_ids: dict[int, int] = field(default_factory=dict)  # row -> PaperDecision.id
    reasons: dict[int, str] = field(default_factory=dict)  # row -> why its entry is refused

    @classmethod
    def empty(cls, n_rows: int) -> Pending:
        nan = np.full(n_rows, np.nan)
        return cls(np.zeros(n_rows, np.int8), np.zeros(n_rows, bool), nan.copy(), nan.copy(),
                   np.zeros(n_rows))

    def take(self, k: int, link: PaperDecision) -> None:
        self.link_ids[k] = int(link.id)
        self.side[k] = link.side
        self.enter[k] = link.enter
        self.stop_loss[k] = np.nan if link.stop_loss is None else link.stop_loss
        self.take_profit[k] = np.nan if link.take_profit is None else link.take_profit
        self.size[k] = link.size


class AnalystSource:
    """One analyst sleeve during a replay: its symbols' bars, its decision grid, its client."""

    def __init__(self, book: PaperBook, sleeve: PaperSleeve, ts: np.ndarray):
        from engine.llm import load_config
        from engine.market import load_dataset

        self.book, self.sleeve, self.ts = book, sleeve, ts
        self.config = sleeve.config
        self.cfg = load_config()
        self.frames = {s: load_dataset(s) for s in sleeve.symbols}
        self.frame_ts = {s: f.get_column("timestamp").cast(pl.Datetime("us")).to_numpy()
                         for s, f in self.frames.items()}
        start = sleeve.start or book.start
        self.j0 = 0 if start is None else int(np.searchsorted(ts, np.datetime64(start, "us")))
        self.every = int(self.config.get("every", 5))
        self._client: Any = None

    def due(self, j: int) -> bool:
        """Whether the sleeve decides at the close of its bar ``j``."""
        return j >= self.j0 and (j - self.j0) % self.every == 0

    def decide(self, j: int, portfolio: PortfolioState) -> Pending:
        """The decisions at the close of bar ``j``: recorded ones reused, the rest asked."""
        from engine.db import read_scope, session_scope

        when = self.ts[j].astype("datetime64[us]").astype(datetime)
        out = Pending.empty(len(self.sleeve.symbols))
        with read_scope() as s:
            known = {d.symbol: d for d in s.exec(select(PaperDecision).where(
                PaperDecision.sleeve_id == self.sleeve.id, PaperDecision.as_of == when))}
        asked = {sym: self._ask(sym, when, portfolio) for sym in self.sleeve.symbols
                 if sym not in known}
        if asked:
            with session_scope() as s:
                for link, verdict in asked.values():
                    s.add(link)
                    if verdict is not None and link.decision_id is not None:
                        _rewrite_verdict(s, link.decision_id, verdict)
                s.flush()
                for sym, (link, _) in asked.items():
                    s.refresh(link)
                    s.expunge(link)
                    known[sym] = link
        for k, sym in enumerate(self.sleeve.symbols):
            link = known[sym]
            out.take(k, link)
            if link.side != 0 and not link.enter:
                out.reasons[k] = link.error or "the analyst's risk check refused it"
        return out

    def _ask(self, symbol: str, when: datetime, portfolio: PortfolioState
             ) -> tuple[PaperDecision, dict[str, Any] | None]:
        from engine import llm
        from engine.risk import RiskLimits, check

        provider = self.config.get("provider", "offline")
        prompt = self.config.get("prompt", PROMPT)
        link = PaperDecision(book_id=self.book.id, sleeve_id=self.sleeve.id, symbol=symbol,
                             as_of=when)
        found = self._orphan(symbol, when, provider, prompt)
        if found is None:
            if provider == "anthropic" and self._client is None:
                self._client = client_for(provider)
            frame = self.frames[symbol]
            history = frame.slice(0, int(np.searchsorted(
                self.frame_ts[symbol], np.datetime64(when, "us"), side="right")))
            try:
                doc = llm.analyze(symbol=symbol, as_of=when, provider=provider,
                                  client=self._client, prompt=prompt, df=history, record=True,
                                  source="paper", cfg=self.cfg)
            except ParameterError as exc:  # too little history before this bar
                link.error = str(exc)[:500]
                return link, None
            found = (doc.get("decision"), doc.get("signal"), doc.get("decision_id"),
                     float(doc.get("cost_usd") or 0.0), doc.get("error"))
        dec, signal, link.decision_id, link.cost_usd, error = found
        if dec is None:
            link.error = str(error or "no decision")[:500]
            return link, None
        verdict = check(SimpleNamespace(**dec), portfolio, RiskLimits.from_config(self.cfg))
        reasons = list(verdict.reasons)
        min_conf = self.cfg.consensus.min_confidence
        if dec["decision"] != "HOLD" and dec["confidence"] < min_conf:
            reasons.append(f"confidence {dec['confidence']:.0f} is below the {min_conf:.0f} "
                           "needed for a signal")
        side = {"BUY": 1, "SELL": -1}.get(signal or "", 0)
        link.decision = dec["decision"]
        link.side = side
        link.enter = bool(side != 0 and verdict.approved)
        link.stop_loss = dec.get("stop_loss")
        link.take_profit = dec.get("take_profit")
        link.size_suggested = float(dec.get("position_size_suggestion") or 0.0)
        link.size = min(link.size_suggested, float(self.book.max_position_size))
        if side != 0 and not link.enter:
            link.error = "; ".join(reasons)[:500]
        return link, {"risk_approved": verdict.approved, "risk_reasons": reasons,
                      "actionable": link.enter}

    def _orphan(self, symbol: str, when: datetime, provider: str, prompt: str
                ) -> tuple[dict[str, Any], str | None, str, float, None] | None:
        """A decision recorded for this symbol and close that no sleeve linked — a process
        killed between the analyst's answer and its link — adopted instead of asking again."""
        from sqlmodel import col

        from engine.db import read_scope
        from engine.llm.tables import AIDecision

        linked = select(PaperDecision.decision_id).where(col(PaperDecision.decision_id)
                                                         .is_not(None))
        with read_scope() as s:
            row = s.exec(select(AIDecision).where(
                AIDecision.source == "paper", AIDecision.ticker == symbol,
                AIDecision.as_of == when, AIDecision.provider == provider,
                AIDecision.prompt_name == prompt, col(AIDecision.id).not_in(linked),
            ).order_by(col(AIDecision.timestamp))).first()
        if row is None:
            return None
        dec = {"decision": row.decision, "confidence": row.confidence,
               "stop_loss": row.stop_loss, "take_profit": row.take_profit,
               "position_size_suggestion": row.position_size}
        confident = row.confidence >= self.cfg.consensus.min_confidence
        signal = row.decision if row.decision != "HOLD" and confident else None
        return dec, signal, row.id, float(row.total_cost or 0.0), None


def _rewrite_verdict(session: Any, decision_id: str, verdict: dict[str, Any]) -> None:
    """The recorded decision's risk verdict, as checked on the book's positions."""
    from engine.llm.tables import AIDecision

    row = session.get(AIDecision, decision_id)
    if row is not None:
        for k, v in verdict.items():
            setattr(row, k, v)
        session.add(row)


def portfolio_of(n_open: int, day_pnl: float) -> PortfolioState:
    """The book as the analyst's risk check sees it."""
    return PortfolioState(open_positions=int(n_open), daily_pnl_usd=float(day_pnl))


def set_levels(pos: np.ndarray, i: int, pending: Pending) -> None:
    """Write the decisions' stop-loss / take-profit prices into the positions entered at
    bar ``i`` (the step checks them from bar ``i + 1`` on)."""
    from engine.backtest.enums import P_ENTRY_BAR, P_SIZE, P_SL, P_TP

    for k in range(pos.shape[0]):
        if pos[k, P_SIZE] != 0.0 and int(pos[k, P_ENTRY_BAR]) == i:
            sl, tp = pending.stop_loss[k], pending.take_profit[k]
            long = pos[k, P_SIZE] > 0
            # a level the decision lacks never triggers
            pos[k, P_SL] = sl if np.isfinite(sl) else (0.0 if long else np.inf)
            pos[k, P_TP] = tp if np.isfinite(tp) else (np.inf if long else 0.0)


def entry_sizing(pending: Pending, rows: np.ndarray) -> tuple[float, np.ndarray]:
    """The step's ``size`` and per-row budget scale for this bar's entries in ``rows``:
    the largest size, each row scaled to its own (exactly 1 for a single entry)."""
    n = pending.size.shape[0]
    sizes = pending.size[rows] if rows.size else np.zeros(0)
    top = float(sizes.max()) if sizes.size and sizes.max() > 0 else 1.0
    scale = np.ones(n)
    for k in rows:
        s = float(pending.size[k])
        if s != top:
            scale[k] = s / top
    return top, scale


__all__ = ["LEVEL_SWITCH", "PROVIDERS", "AnalystSource", "Pending", "analyst_config",
           "client_for", "entry_sizing", "portfolio_of", "set_levels"]
