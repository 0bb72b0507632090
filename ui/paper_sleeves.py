"""The Paper Trading page's sleeves: their table with pause / resume, and "backtest vs paper"
for one sleeve (:func:`engine.paper.reconcile` drawn as two equity curves and the list of
differences, each with its cause).

Which of a sleeve's buttons is enabled is :func:`engine.paper.sleeve_controls`'s answer.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from engine import paper
from ui import components
from ui.paper_charts import reconcile_figure
from ui.paper_sections import NOTICE, frame

ss = st.session_state
HAND_REASON = "paused by hand on the Paper Trading page"


def _pause(book: str, sleeve: str) -> None:
    components.call_engine(NOTICE, paper.pause_sleeve, book, sleeve, HAND_REASON,
                           ok=f"Paused **{sleeve}**: no new entries; its exits, stops and "
                              "targets still run.")


def _resume(book: str, sleeve: str) -> None:
    components.call_engine(NOTICE, paper.resume_sleeve, book, sleeve,
                           ok=f"Resumed **{sleeve}**: the circuit breaker measures afresh "
                              "from here.")


def sleeves_table(status: dict[str, Any]) -> None:
    sleeves = status["sleeves"]
    if not sleeves:
        st.info("No sleeves yet: add one in **Add a sleeve**.", icon=":material/add:")
        return
    rows = [{**s, "symbols": ", ".join(s["symbols"]), "allocation": s["allocation"] * 100,
             "return_pct": s["pnl"] / (s["equity"] - s["pnl"]) * 100
             if s["equity"] - s["pnl"] else None} for s in sleeves]
    st.dataframe(frame(rows, {"name": "Sleeve", "kind": "Kind", "status": "Status",
                               "symbols": "Symbols", "allocation": "Allocation %",
                               "equity": "Equity", "pnl": "P&L", "return_pct": "Return %",
                               "n_trades": "Trades", "paused_reason": "Paused because"}),
                 hide_index=True, width="stretch", key="pt_sleeves")
    book = status["book"]
    for s in sleeves:
        ctl = paper.sleeve_controls(s)
        c = st.columns([2, 1, 1, 5], vertical_alignment="center")
        badge = "green" if s["status"] == "active" else "orange"
        c[0].markdown(f"**{s['name']}** :{badge}-badge[{s['status']}]")
        c[1].button("Pause", key=f"pt_pause_{s['name']}", disabled=not ctl.can_pause,
                    on_click=_pause, args=(book, s["name"]), icon=":material/pause:")
        c[2].button("Resume", key=f"pt_resume_{s['name']}", disabled=not ctl.can_resume,
                    on_click=_resume, args=(book, s["name"]), icon=":material/play_arrow:")
        if s["status"] == "paused":
            c[3].caption(f":orange[{ctl.note}]")


# ------------------------------------------------------------------- backtest vs paper

def _value_text(v: Any) -> str:
    """A difference's value as the table shows it: prices and P&L to 4 decimals."""
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.4f}".rstrip("0").rstrip(".")
    return str(v)


def _compare(book: str, sleeve: str, clock: str | None) -> None:
    def both() -> dict[str, Any]:
        rec = paper.reconcile(book, sleeve)
        bt = paper.sleeve_backtest(book, sleeve)
        eq = bt.equity.select("timestamp", "equity")
        return {"rec": rec, "bt_time": [f"{t:%Y-%m-%dT%H:%M:%S}" for t in eq["timestamp"]],
                "bt_equity": eq["equity"].to_list()}

    try:
        out = both()
    except Exception as exc:  # noqa: BLE001 - one line where the button is, no traceback
        ss["pt_rec"] = None
        st.error(components.error_line(exc))
        return
    ss["pt_rec"] = {"key": (book, sleeve, clock), **out}


def reconcile_section(status: dict[str, Any]) -> None:
    names = [s["name"] for s in status["sleeves"]]
    if not names:
        st.caption("Add a sleeve first.")
        return
    c = st.columns([2, 1, 4], vertical_alignment="bottom")
    sleeve = c[0].selectbox("Sleeve", names, key="pt_rec_sleeve")
    if c[1].button("Compare", key="pt_rec_btn", disabled=status["clock"] is None,
                   icon=":material/compare_arrows:"):
        _compare(status["book"], sleeve, status["clock"])
    c[2].caption("The sleeve's trades against `backtest` of its definition on the same bars "
                 "(`--trade-start` its start, `--cash` its starting cash; several symbols: "
                 "the portfolio backtest). Identical for a sleeve at allocation 1 whose book "
                 "vetoed or resized nothing.")
    got = ss.get("pt_rec")
    if not got or got["key"] != (status["book"], sleeve, status["clock"]):
        return
    rec = got["rec"]
    if rec["identical"]:
        st.success(f"Identical: {len(rec['paper_trades'])} trades, final equity "
                   f"{rec['paper_final_equity']:,.4f} in both.")
    else:
        st.warning(f"{len(rec['differences'])} differences: paper "
                   f"{len(rec['paper_trades'])} trades, final equity "
                   f"{rec['paper_final_equity']:,.2f}; backtest "
                   f"{len(rec['backtest_trades'])} trades, "
                   f"{rec['backtest_final_equity']:,.2f}.")
    eq = paper.book_equity(status["book"])["sleeves"].get(sleeve, {"time": [], "equity": []})
    first = eq["time"][0] if eq["time"] else None
    keep = [i for i, t in enumerate(got["bt_time"]) if first is None or t >= first]
    bt = {"time": [got["bt_time"][i] for i in keep],
          "equity": [got["bt_equity"][i] for i in keep]}
    st.plotly_chart(reconcile_figure(eq, bt, title=f"Backtest vs paper · {sleeve}"),
                    key="pt_rec_chart")
    if rec["differences"]:
        st.dataframe(pl.DataFrame({
            "Trade": [d["trade"] for d in rec["differences"]],
            "Field": [d["field"] for d in rec["differences"]],
            "Paper": [_value_text(d["paper"]) for d in rec["differences"]],
            "Backtest": [_value_text(d["backtest"]) for d in rec["differences"]],
            "Cause": [d["cause"] for d in rec["differences"]]}, strict=False),
            hide_index=True, width="stretch", key="pt_rec_diffs")
