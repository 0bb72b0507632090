"""The Paper Trading page's sections: the new-book form, the book's cards, the clock
controls, and the tables of positions, orders, fills and risk events.

They draw what :mod:`engine.paper` returns; whether a button is enabled is the engine's
answer (:func:`engine.paper.clock_info`). The sleeves and the backtest-vs-paper view are in
:mod:`ui.paper_sleeves`; adding a sleeve is :mod:`ui.paper_add`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
import streamlit as st

from engine import paper
from engine.risk import BookLimits
from ui import components
from ui.tables import readable

ss = st.session_state
#: Session key of the page's notice (components.show_notice draws it).
NOTICE = "pt_notice"
SEED = BookLimits()  # the seed's limits: the form's defaults
DEFAULTS: dict[str, Any] = {
    "pt_new_name": "", "pt_new_cash": 100_000.0, "pt_new_commission": 0.0, "pt_new_start": None,
    "pt_new_max_pos": SEED.max_positions, "pt_new_max_size": SEED.max_position_size * 100,
    "pt_new_dll_on": SEED.daily_loss_limit_usd is not None,
    "pt_new_dll": SEED.daily_loss_limit_usd or 1000.0,
    "pt_new_corr_on": SEED.correlation_limit is not None,
    "pt_new_corr": SEED.correlation_limit or 0.8, "pt_new_corr_window": SEED.correlation_window,
    "pt_new_corr_action": SEED.correlation_action, "pt_new_breaker": True,
    "pt_new_fractional": False, "pt_bars": 20, "pt_to": None,
}


def init_state() -> None:
    for k, v in DEFAULTS.items():
        ss.setdefault(k, v)


# --------------------------------------------------------------------------- a new book

def _create() -> None:
    start = ss.get("pt_new_start")
    try:
        limits = BookLimits(
            max_positions=int(ss["pt_new_max_pos"]),
            max_position_size=round(float(ss["pt_new_max_size"]) / 100.0, 10),
            daily_loss_limit_usd=float(ss["pt_new_dll"]) if ss["pt_new_dll_on"] else None,
            correlation_limit=float(ss["pt_new_corr"]) if ss["pt_new_corr_on"] else None,
            correlation_window=int(ss["pt_new_corr_window"]),
            correlation_action=str(ss["pt_new_corr_action"]))
        settings = paper.BookSettings(
            cash=float(ss["pt_new_cash"]),
            commission=round(float(ss["pt_new_commission"]) / 100.0, 10),
            start=datetime.combine(start, datetime.min.time()) if start else None,
            limits=limits, breaker=bool(ss["pt_new_breaker"]),
            fractional=bool(ss["pt_new_fractional"]))
    except Exception as exc:  # noqa: BLE001 - BookSettings names the bad field
        components.set_notice(NOTICE, "error", components.error_line(exc))
        return
    name = (ss.get("pt_new_name") or "").strip()
    out = components.call_engine(NOTICE, paper.create_book, name, settings,
                                 ok=f"Created book **{name}**: add a sleeve, then replay.")
    if out is not None:
        ss["pt_book"] = out.name
        ss["pt_new_name"] = ""


def new_book_form() -> None:
    """Cash, commission, start and the book-wide limits; defaults are the seed's."""
    with st.form("pt_new_book", border=False):
        c = st.columns(4)
        c[0].text_input("Book name", key="pt_new_name", max_chars=64,
                        placeholder="e.g. demo")
        c[1].number_input("Cash (USD)", step=10_000.0, format="%.0f", key="pt_new_cash")
        c[2].number_input("Commission %", step=0.01, format="%.3f", key="pt_new_commission",
                          help="Of traded value, per side.")
        c[3].date_input("Start", key="pt_new_start", min_value=date(1900, 1, 1),
                        help="First bar the book trades (earlier bars warm the indicators "
                             "up). Empty: its sleeves' first stored bar.")
        c = st.columns(4)
        c[0].number_input("Max positions", step=1, min_value=1, key="pt_new_max_pos",
                          help="Open at once, across every sleeve.")
        c[1].number_input("Max position size %", step=5.0, format="%.1f",
                          key="pt_new_max_size", help="An entry's notional / book equity.")
        c[2].checkbox("Daily loss limit", key="pt_new_dll_on",
                      help="No new entry once the day's loss reaches it.")
        c[2].number_input("Daily loss limit (USD)", step=100.0, format="%.0f",
                          key="pt_new_dll", label_visibility="collapsed")
        c[3].checkbox("Correlation limit", key="pt_new_corr_on",
                      help="Refuse (or halve) an entry whose returns correlate above it "
                           "with an open position's.")
        c[3].number_input("Correlation limit", step=0.05, format="%.2f", key="pt_new_corr",
                          label_visibility="collapsed")
        c = st.columns(4)
        c[0].number_input("Correlation window (bars)", step=10, min_value=2,
                          key="pt_new_corr_window")
        c[1].radio("Above the limit", ["refuse", "halve"], key="pt_new_corr_action",
                   horizontal=True)
        c[2].toggle("Circuit breaker", key="pt_new_breaker",
                    help="Pause a sleeve whose hit rate over its last 20 closed trades is "
                         "below 35 % or whose drawdown passes -20 %.")
        c[3].checkbox("Fractional units", key="pt_new_fractional")
        st.form_submit_button("Create book", type="primary", on_click=_create,
                              icon=":material/add:")


# ------------------------------------------------------------------------- book's cards

def book_cards(status: dict[str, Any]) -> None:
    eq, cash0 = status["equity"], status["cash0"]
    c = st.columns(5)
    c[0].metric("Equity (USD)", f"{eq:,.0f}", delta=f"{eq - cash0:+,.2f}", border=True,
                help=f"{eq:,.2f} USD at the clock's close.")
    c[1].metric("Return", components.fmt((eq / cash0 - 1) * 100, "pct"), border=True)
    c[2].metric("Cash (USD)", f"{status['cash']:,.0f}", border=True,
                help="Unallocated cash plus every sleeve's cash.")
    c[3].metric("Open positions", f"{len(status['positions'])}", border=True,
                help=f"At most {status['limits']['max_positions']} book-wide.")
    c[4].metric("Sleeves", f"{len(status['sleeves'])}", border=True)
    lim = status["limits"]
    dll, corr = lim["daily_loss_limit_usd"], lim["correlation_limit"]
    dll_text = "off" if dll is None else f"{dll:,.0f} USD"
    corr_text = ("off" if corr is None else f"{corr:g} over {lim['correlation_window']} bars "
                 f"({lim['correlation_action']})")
    st.caption(
        f"Limits: {lim['max_positions']} positions · max size "
        f"{lim['max_position_size']:.0%} of equity · daily loss {dll_text} · correlation "
        f"{corr_text} · breaker {'on' if lim['breaker'] else 'off'} · "
        f"{'from ' + status['start'][:10] if status['start'] else 'from the first bar'}")


# --------------------------------------------------------------------------------- clock

def _progress_cb(bar: Any) -> Any:
    def cb(done: int, total: int, message: str = "") -> None:
        bar.progress(done / max(total, 1), text=f"{message} · bar {done:,} of {total:,}")
    return cb


def _is_live(book: str) -> bool:
    try:
        return book in paper.live_books()
    except Exception:  # noqa: BLE001 - no scheduler: the toggle reads off
        return False


def _set_live(book: str) -> None:
    on = bool(ss.get(f"pt_live_{book}"))
    components.call_engine(
        NOTICE, paper.set_live, book, on,
        ok=f"**{book}** is {'on' if on else 'off'} the live schedule (weekdays 22:30 UTC: "
           "download, then step)." if on else f"**{book}** is off the live schedule.")


def clock_controls(book: str) -> None:
    """Replay to a date (with a progress bar fed by step_book's on_progress) or step N
    bars. Runs in the page's script run, so the sections below read the new ledger."""
    info = components.call_engine(NOTICE, paper.clock_info, book)
    if info is None:
        return
    target = info.suggested_target()
    lo = (info.clock or info.first or datetime(1900, 1, 1)).date()
    hi = (info.last or datetime(2100, 1, 1)).date()
    if ss.get("pt_to_for") != (book, info.clock, info.last):
        ss["pt_to"] = target.date() if target is not None else None
        ss["pt_to_for"] = (book, info.clock, info.last)
    if ss.get("pt_to") is not None and not lo <= ss["pt_to"] <= hi:
        ss["pt_to"] = hi
    c = st.columns([1.6, 1, 1, 1, 3], vertical_alignment="bottom")
    to = c[0].date_input("Replay to", key="pt_to", min_value=lo, max_value=hi,
                         help="Processes every stored bar after the clock up to this date.")
    replay = c[1].button("Replay", key="pt_replay", type="primary",
                         disabled=not info.can_step or to is None,
                         icon=":material/fast_forward:")
    c[2].number_input("Bars", key="pt_bars", step=1, min_value=1)
    step = c[3].button("Step", key="pt_step", disabled=not info.can_step,
                       icon=":material/skip_next:")
    ss[f"pt_live_{book}"] = _is_live(book)  # the scheduler's job store says
    c[4].toggle("Live schedule", key=f"pt_live_{book}", on_change=_set_live, args=(book,),
                help="Weekdays at 22:30 UTC the scheduler downloads new daily bars for the "
                     "book's downloaded symbols and steps it (bundled samples never change).")
    where = (f"Clock **{info.clock:%Y-%m-%d}**" if info.clock else "Clock: not started")
    span = (f" · bars stored up to {info.last:%Y-%m-%d}" if info.last else "")
    c[4].caption(f"{where}{span}" + (f" · :orange[{info.reason}]" if info.reason else ""))
    if not (replay or step):
        return
    bar = st.progress(0.0, text="Replaying…")
    kwargs = {"to": to.isoformat()} if replay else {"bars": int(ss["pt_bars"])}
    out = components.call_engine(NOTICE, paper.step_book, book,
                                 on_progress=_progress_cb(bar), **kwargs)
    bar.empty()
    if out is not None:
        clock = f"{out.clock:%Y-%m-%d}" if out.clock else "—"
        components.set_notice(NOTICE, "success",
                              f"Processed {out.bars:,} bars: clock {clock}, equity "
                              f"{out.equity:,.2f}.")
    st.rerun()


# -------------------------------------------------------------------------------- tables

def frame(rows: list[dict[str, Any]], columns: dict[str, str]) -> pl.DataFrame:
    data = {label: [r.get(k) for r in rows] for k, label in columns.items()}
    return readable(pl.DataFrame(data, strict=False, infer_schema_length=None))


def positions_table(status: dict[str, Any]) -> None:
    rows = paper.open_positions(status["book"])
    if not rows:
        st.caption("No open positions.")
        return
    st.dataframe(frame(rows, {"sleeve": "Sleeve", "symbol": "Symbol", "size": "Size",
                               "entry_time": "Entry", "entry_price": "Entry price",
                               "last_price": "Last close",
                               "unrealised_pnl": "Unrealised P&L"}),
                 hide_index=True, width="stretch", key="pt_positions")
    total = sum(r["unrealised_pnl"] or 0.0 for r in rows)
    st.caption(f"Unrealised P&L {total:+,.2f} USD at the clock's close (exit commission "
               "not charged, as a backtest marks open trades).")


def orders_and_fills(book: str) -> None:
    left, right = st.columns(2)
    with left:
        st.markdown("**Orders** (newest first)")
        orders = paper.book_orders(book)
        if orders:
            st.dataframe(frame(orders, {"signal_time": "Signal", "sleeve": "Sleeve",
                                         "symbol": "Symbol", "side": "Side",
                                         "status": "Status", "fill_time": "Decided"}),
                         hide_index=True, width="stretch", key="pt_orders", height=320)
        else:
            st.caption("No orders yet.")
    with right:
        st.markdown("**Fills** (newest first)")
        fills = paper.book_fills(book)
        if fills:
            st.dataframe(frame(fills, {"time": "Time", "sleeve": "Sleeve", "symbol": "Symbol",
                                        "reason": "Reason", "size": "Size", "price": "Price",
                                        "commission": "Commission"}),
                         hide_index=True, width="stretch", key="pt_fills", height=320)
        else:
            st.caption("No fills yet.")
    trades = [t for t in paper.book_trades(book, include_open=False)]
    st.markdown(f"**Closed trades** ({len(trades)})")
    if trades:
        st.dataframe(frame(trades, {"sleeve": "Sleeve", "symbol": "Symbol",
                                     "entry_time": "Entry", "exit_time": "Exit",
                                     "size": "Size", "entry_price": "Entry price",
                                     "exit_price": "Exit price", "pnl": "P&L",
                                     "return_pct": "Return %", "exit_reason": "Exit reason"}),
                     hide_index=True, width="stretch", key="pt_trades")


def _detail(detail: Any) -> str:
    if not isinstance(detail, dict):
        return str(detail)
    if "text" in detail:
        return str(detail["text"])
    return ", ".join(f"{k} {v:,.4g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in detail.items())


def risk_events(book: str) -> None:
    events = paper.book_events(book)
    if not events:
        st.caption("No risk events: no entry was refused or resized, no sleeve paused.")
        return
    counts: dict[str, int] = {}
    for e in events:
        counts[e["rule"]] = counts.get(e["rule"], 0) + 1
    st.caption(" · ".join(f"{rule}: {n}" for rule, n in counts.items()))
    rows = [{**e, "detail": _detail(e["detail"])} for e in reversed(events)]
    st.dataframe(frame(rows, {"time": "Time", "sleeve": "Sleeve", "symbol": "Symbol",
                               "rule": "Rule", "action": "Action", "detail": "Detail"}),
                 hide_index=True, width="stretch", key="pt_events")


# ------------------------------------------------------------------ equity, correlation

def equity_section(book: str) -> None:
    from ui.paper_charts import equity_figure

    eq = paper.book_equity(book)
    if not eq["time"]:
        st.caption("No equity yet: replay some bars.")
        return
    hold = paper.buy_and_hold(book)
    sleeves = st.toggle("Per sleeve", value=True, key="pt_eq_sleeves")
    st.plotly_chart(equity_figure(eq, hold, sleeves=sleeves), key="pt_equity_chart")
    last, bh = eq["equity"][-1], hold["equity"][-1]
    st.caption(f"Book {last:,.2f} against buy-and-hold {bh:,.2f} ({last - bh:+,.2f}): the "
               "same cash, each sleeve's share bought into its symbols at the first "
               "processed close and held.")


def correlation_section(status: dict[str, Any]) -> None:
    from ui.paper_charts import correlation_heatmap

    doc = paper.position_correlations(status["book"])
    if len(doc["labels"]) < 2:
        st.caption("The heatmap needs open positions in two or more symbols "
                   f"({len(doc['labels'])} now).")
        return
    st.plotly_chart(correlation_heatmap(doc["labels"], doc["matrix"], window=doc["window"],
                                        limit=status["limits"]["correlation_limit"]),
                    key="pt_corr_chart")
    st.caption(f"Pearson correlation of the last {doc['window']} close-to-close returns up to "
               f"{(doc['end'] or '')[:10]}, as the risk manager measures it.")
