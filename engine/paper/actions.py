"""What the Paper Trading page may do now, and sleeves built from what other pages hold.

The page asks; the engine answers. Which buttons are enabled — can this sleeve be paused or
resumed, can the book's clock step, up to which date — is decided here
(:func:`sleeve_controls`, :func:`clock_info`), and a sleeve's definition is built here from
what the Backtest page (:func:`sleeve_config_from_backtest`), the Evolution page
(:func:`sleeve_config_from_promoted`), the Model Registry page
(:func:`sleeve_config_from_version`) or the AI Analyst page
(:func:`sleeve_config_from_analyst`) holds, as a :class:`SleeveSpec` that
:func:`add_spec` hands to :func:`engine.paper.add_sleeve`.

It also holds the reads the page draws beyond the ``paper`` JSON documents: orders and
fills (:func:`book_orders`, :func:`book_fills`), the book's buy-and-hold benchmark
(:func:`buy_and_hold`) and the correlation matrix of its open positions
(:func:`position_correlations`, the pairwise :func:`engine.risk.rolling_correlation` the
risk manager uses, over the book's correlation window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from engine.errors import ParameterError
from engine.paper.book import KINDS, add_sleeve, get_book, sleeves_of
from engine.risk import rolling_correlation

#: How many orders / fills the page lists (newest first).
DEFAULT_ROWS = 500


# --------------------------------------------------------------------------- sleeve specs

@dataclass(frozen=True)
class SleeveSpec:
    """A sleeve's definition before it joins a book: ``kind`` and ``config`` as
    :func:`engine.paper.add_sleeve` takes them, the ``symbols`` it would trade by default
    and a suggested ``name``."""

    kind: str
    config: dict[str, Any]
    symbols: list[str] = field(default_factory=list)
    name: str = ""
    label: str = ""  # one line saying what it is, for the page


def _fraction(value: float | None) -> float | None:
    return None if value is None or value == 0 else float(value)


def sleeve_config_from_backtest(strategy: str, params: dict[str, Any], *,
                                stop_loss: float | None = None,
                                take_profit: float | None = None, size: float | None = None,
                                allow_short: bool = False,
                                symbols: list[str] | None = None) -> SleeveSpec:
    """The Backtest page's current strategy, parameters and stops as a ``strategy`` sleeve
    (``stop_loss`` / ``take_profit`` / ``size`` are fractions, 0 or None for off)."""
    if not strategy:
        raise ParameterError("pick a strategy first")
    params = {k: (v.item() if hasattr(v, "item") else v) for k, v in dict(params).items()}
    cfg = {"strategy": str(strategy), "params": params, "stop_loss": _fraction(stop_loss),
           "take_profit": _fraction(take_profit), "size": _fraction(size),
           "short": bool(allow_short)}
    shown = ", ".join(f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}"
                      for k, v in params.items())
    return SleeveSpec("strategy", cfg, list(symbols or []), str(strategy),
                      f"{strategy}({shown})")


def sleeve_config_from_promoted(name: str) -> SleeveSpec:
    """A promoted evolution strategy as a ``strategy`` sleeve: its name (it resolves to
    ``genome`` and its stored genes, which set its stops and size), its run's direction,
    and the symbols it was evolved on."""
    from engine.evolution import get_promoted

    info = get_promoted(name)
    short = bool((info.settings or {}).get("allow_short", False))
    cfg = {"strategy": info.name, "params": {}, "stop_loss": None, "take_profit": None,
           "size": None, "short": short}
    return SleeveSpec("strategy", cfg, list(info.symbols or []), info.name,
                      f"promoted genome {info.name} (evolution run #{info.source_run_id}, "
                      f"individual {info.source_uid})")


def sleeve_config_from_version(version_id: str) -> SleeveSpec:
    """A registry version as a ``model`` sleeve on the symbol it was trained on (its
    Buy/Hold/Sell rule, long only, as ``run_signals`` uses it)."""
    from engine.registry import get_version

    info = get_version(version_id)
    cfg = (info.metadata or {}).get("config") or {}
    symbols = [str(cfg["symbol"])] if cfg.get("symbol") else []
    return SleeveSpec("model", {"version": info.version_id}, symbols,
                      f"{info.model_type}-{info.version_id}"[:64],
                      f"{info.model_type} model version {info.version_id}")


def analyst_available() -> bool:
    """Whether this build of the desk trades ``analyst`` sleeves."""
    return "analyst" in KINDS


def sleeve_config_from_analyst(provider: str = "offline", every: int = 5) -> SleeveSpec:
    """The AI analyst (``offline`` or ``anthropic``) asked every ``every`` bars per symbol."""
    if not analyst_available():
        raise ParameterError("analyst sleeves are not available in this build of the desk; "
                             "add a strategy, model or ensemble sleeve")
    if provider not in ("offline", "anthropic"):
        raise ParameterError(f"the analyst's provider is offline or anthropic, got {provider!r}")
    if int(every) < 1:
        raise ParameterError(f"the analyst is asked every N >= 1 bars, got {every}")
    return SleeveSpec("analyst", {"provider": provider, "every": int(every)}, [],
                      f"analyst-{provider}", f"AI analyst ({provider}) every {int(every)} bars")


def ensemble_spec(members: list[str], *, weighting: str = "equal", window: int = 60,
                  threshold: float = 0.5) -> SleeveSpec:
    """An ensemble of a book's existing sleeves (checked when it is added)."""
    members = [m for m in members if m]
    if len(members) < 2:
        raise ParameterError("an ensemble needs at least two member sleeves: pick two or more")
    return SleeveSpec("ensemble", {"members": members, "weighting": weighting,
                                   "window": int(window), "threshold": float(threshold)},
                      [], "ensemble", f"{weighting} vote of {', '.join(members)}")


def unique_sleeve_name(base: str, taken: list[str] | set[str]) -> str:
    """``base`` (cut to 64 characters), or ``base-2``, ``base-3``, … when a sleeve of the
    book already has it."""
    base = (base or "sleeve").strip()[:64] or "sleeve"
    taken = set(taken)
    if base not in taken:
        return base
    n = 2
    while f"{base[:60]}-{n}" in taken:
        n += 1
    return f"{base[:60]}-{n}"


def free_allocation(status: dict[str, Any]) -> float:
    """The share of the book's starting cash no sleeve holds yet (``paper status``)."""
    used = sum(float(s.get("allocation") or 0.0) for s in status.get("sleeves") or [])
    return max(0.0, round(1.0 - used, 12))


def add_spec(book: str, name: str, spec: SleeveSpec, symbols: list[str],
             allocation: float) -> Any:
    """Add ``spec`` to ``book`` as sleeve ``name`` (see :func:`engine.paper.add_sleeve`)."""
    return add_sleeve(book, name, spec.kind, list(symbols), dict(spec.config), allocation)


# ------------------------------------------------------------------------------- controls

@dataclass(frozen=True)
class SleeveControls:
    """Which of a sleeve's buttons are enabled, and why not."""

    can_pause: bool
    can_resume: bool
    note: str


def sleeve_controls(sleeve: dict[str, Any]) -> SleeveControls:
    """From a ``paper status`` sleeve: an active sleeve can be paused, a paused one
    resumed (by hand, after the breaker too)."""
    status = sleeve.get("status")
    if status == "paused":
        why = sleeve.get("paused_reason") or "paused by hand"
        return SleeveControls(False, True, f"paused: {why}; resume it to trade again")
    if status == "active":
        return SleeveControls(True, False, "active")
    return SleeveControls(False, False, f"status {status!r}: nothing to do")


@dataclass(frozen=True)
class ClockInfo:
    """Where a book's clock stands: the first bar it may process (``first``), the last
    stored bar of its symbols (``last``), and whether stepping can do anything."""

    clock: datetime | None
    first: datetime | None
    last: datetime | None
    can_step: bool
    reason: str

    def suggested_target(self, days: int = 365) -> datetime | None:
        """A replay target: ``days`` after the clock (or the first bar), capped at the last."""
        base = self.clock or self.first
        if base is None or self.last is None:
            return None
        return min(base + timedelta(days=days), self.last)


def step_permission(n_sleeves: int, clock: datetime | None,
                    last: datetime | None) -> tuple[bool, str]:
    """Whether a book can step: it needs a sleeve, and stored bars after its clock."""
    if n_sleeves == 0:
        return False, "add a sleeve first: a book without sleeves has nothing to trade"
    if last is None:
        return False, "its sleeves' symbols have no stored bars"
    if clock is not None and clock >= last:
        return False, (f"the clock is at the last stored bar ({last:%Y-%m-%d}); download "
                       "newer bars to go on")
    return True, ""


def clock_info(book_name: str) -> ClockInfo:
    """The book's clock and the range of bars a replay can process."""
    from engine.market import get_dataset_info

    book = get_book(book_name)
    sleeves = sleeves_of(book)
    symbols = sorted({s for sl in sleeves for s in sl.symbols})
    infos = [get_dataset_info(s) for s in symbols]
    ends = [i.end for i in infos if i.end is not None]
    starts = [i.start for i in infos if i.start is not None]
    last = max(ends) if ends else None
    first = book.start or (min(starts) if starts else None)
    ok, why = step_permission(len(sleeves), book.clock, last)
    return ClockInfo(book.clock, first, last, ok, why)


# ---------------------------------------------------------------------------------- reads

def _iso(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%S") if t is not None else None


def book_orders(book_name: str, limit: int = DEFAULT_ROWS) -> list[dict[str, Any]]:
    """The book's orders, newest first: ``{"sleeve", "symbol", "side", "signal_time",
    "status", "fill_time"}`` (status pending, filled, resized, vetoed or dropped)."""
    from sqlmodel import select

    from engine.db import read_scope
    from engine.paper.tables import PaperOrder

    with read_scope() as s:
        book = get_book(book_name, s)
        names = {sl.id: sl.name for sl in sleeves_of(book, s)}
        rows = list(s.exec(select(PaperOrder).where(PaperOrder.book_id == book.id)
                           .order_by(PaperOrder.id.desc()).limit(limit)))
    return [{"sleeve": names.get(o.sleeve_id), "symbol": o.symbol,
             "side": "buy" if o.side > 0 else "sell", "signal_time": _iso(o.signal_time),
             "status": o.status, "fill_time": _iso(o.fill_time)} for o in rows]


def book_fills(book_name: str, limit: int = DEFAULT_ROWS) -> list[dict[str, Any]]:
    """The book's fills, newest first: ``{"sleeve", "symbol", "time", "price", "size",
    "commission", "reason"}``."""
    from sqlmodel import select

    from engine.db import read_scope
    from engine.paper.tables import PaperFill

    with read_scope() as s:
        book = get_book(book_name, s)
        names = {sl.id: sl.name for sl in sleeves_of(book, s)}
        rows = list(s.exec(select(PaperFill).where(PaperFill.book_id == book.id)
                           .order_by(PaperFill.id.desc()).limit(limit)))
    return [{"sleeve": names.get(f.sleeve_id), "symbol": f.symbol, "time": _iso(f.time),
             "price": f.price, "size": f.size, "commission": f.commission,
             "reason": f.reason} for f in rows]


def buy_and_hold_curve(closes: np.ndarray, cash: float) -> np.ndarray:
    """``cash`` put into a symbol at its first close and held: ``cash · close_t / close_0``
    (the backtester's ``buy_hold_equity``); several symbols (rows) share it equally."""
    c = np.atleast_2d(np.asarray(closes, np.float64))
    if c.shape[1] == 0:
        return np.zeros(0)
    return cash * np.mean(c / c[:, :1], axis=0)


def buy_and_hold(book_name: str) -> dict[str, Any]:
    """The book's benchmark at its equity snapshots: each sleeve's starting cash bought
    into its symbols (equally) at the book's first processed close and held, plus the
    unallocated cash. ``{"time": [iso], "equity": [...], "sleeves": {name: [...]}}``."""
    import polars as pl

    from engine.market import load_dataset
    from engine.paper.equity import book_equity

    book = get_book(book_name)
    eq = book_equity(book_name)
    times = eq["time"]
    out: dict[str, Any] = {"time": list(times), "equity": [], "sleeves": {}}
    if not times:
        return out
    grid = pl.DataFrame({"timestamp": [datetime.fromisoformat(t) for t in times]}).with_columns(
        pl.col("timestamp").cast(pl.Datetime("us")))
    total = np.full(len(times), 0.0)
    sleeves = sleeves_of(book)
    unallocated = book.cash0 - sum(sl.cash0 for sl in sleeves)
    for sl in sleeves:
        rows = []
        for sym in sl.symbols:
            df = load_dataset(sym, end=book.clock).select(
                pl.col("timestamp").cast(pl.Datetime("us")), pl.col("close").cast(pl.Float64))
            # the last close at or before each snapshot (a symbol without a bar that day
            # keeps its previous close)
            joined = grid.join_asof(df, on="timestamp", strategy="backward")
            rows.append(joined.get_column("close").fill_null(strategy="backward").to_numpy())
        curve = buy_and_hold_curve(np.vstack(rows), sl.cash0)
        out["sleeves"][sl.name] = curve.tolist()
        total += curve
    out["equity"] = (total + unallocated).tolist()
    return out


def correlation_matrix(closes: dict[str, np.ndarray], window: int
                       ) -> tuple[list[str], np.ndarray]:
    """Pairwise :func:`engine.risk.rolling_correlation` of aligned close series (the
    last ``window`` returns), 1 on the diagonal, NaN where it is undefined."""
    labels = list(closes)
    n = len(labels)
    m = np.full((n, n), np.nan)
    for i in range(n):
        m[i, i] = 1.0
        for j in range(i + 1, n):
            c = rolling_correlation(closes[labels[i]], closes[labels[j]], window)
            m[i, j] = m[j, i] = np.nan if c is None else c
    return labels, m


def position_correlations(book_name: str) -> dict[str, Any]:
    """The correlation of the open positions' symbols over the book's correlation window
    up to its clock, on the bars they share: ``{"labels", "matrix", "window", "end"}``."""
    import polars as pl

    from engine.market import load_dataset
    from engine.paper.ledger import open_positions

    book = get_book(book_name)
    window = int(book.correlation_window)
    symbols = list(dict.fromkeys(p["symbol"] for p in open_positions(book_name)))
    if len(symbols) < 2 or book.clock is None:
        return {"labels": symbols, "matrix": [], "window": window, "end": _iso(book.clock)}
    frames = [load_dataset(s, end=book.clock).select(
        pl.col("timestamp"), pl.col("close").cast(pl.Float64).alias(s)) for s in symbols]
    joined = frames[0]
    for f in frames[1:]:
        joined = joined.join(f, on="timestamp", how="inner")
    joined = joined.sort("timestamp").tail(window + 1)
    labels, m = correlation_matrix({s: joined.get_column(s).to_numpy() for s in symbols},
                                   window)
    return {"labels": labels, "matrix": m.tolist(), "window": window,
            "end": _iso(book.clock)}
