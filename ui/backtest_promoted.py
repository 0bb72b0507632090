"""Promoted evolution strategies on the Backtest page: listed in the Strategy picker,
loaded with their run's settings, and checked against the numbers the evolution stored.

A promoted strategy is the ``genome`` strategy with stored genes (engine.evolution.promote);
the evolution tested it with its run's cash, commission and direction on the in-sample
window, with the genes' own stops and size. Loading it puts all of that in the widgets, so
one **Run backtest** reproduces the inspector's in-sample numbers; **Out-of-sample window**
moves the range to the held-out part (issue 10, defect 4).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import streamlit as st

from engine.backtest import STRATEGIES
from engine.evolution import get_promoted, list_promoted
from ui import components
from ui.params import typed
from ui.state import param_key

ss = st.session_state
NOTICE = "bt_notice"
#: Metrics compared between a backtest and the evolution's stored numbers.
CHECKED = ("total_return_pct", "sharpe", "max_drawdown_pct", "n_trades", "final_equity")


def promoted_names() -> list[str]:
    """Every promoted strategy's name (newest first); empty when the lookup fails."""
    try:
        return [p.name for p in list_promoted()]
    except Exception:  # noqa: BLE001 - a broken table must not take the page down
        return []


def strategy_of(choice: str) -> str:
    """The engine strategy a Strategy-picker choice runs: promoted names run ``genome``."""
    return choice if choice in STRATEGIES else "genome"


def _day(iso: str | None) -> date | None:
    return date.fromisoformat(str(iso)[:10]) if iso else None


def window(info: Any, part: str) -> tuple[date, date] | None:
    """The (start, end) dates of a promoted strategy's ``"is"`` or ``"oos"`` window."""
    sp = info.split or {}
    if part == "is":
        lo, hi = _day(sp.get("in_sample_start")), _day(sp.get("in_sample_end"))
    else:
        lo, hi = _day(sp.get("out_of_sample_start")), _day(sp.get("out_of_sample_end"))
    return (lo, hi) if lo and hi else None


def load(name: str) -> None:
    """Put a promoted strategy's genes, data, in-sample window and run settings into the
    widgets (the stops and size are left to the genes, as during the evolution)."""
    promoted = components.call_engine(NOTICE, get_promoted, name)
    if promoted is None:
        return
    for p in STRATEGIES["genome"].params:
        if p.name in promoted.params:
            ss[param_key("genome", p.name)] = typed(p, promoted.params[p.name])
    symbols = list(promoted.symbols or [])
    known = {i.symbol for i in ss.get("datasets") or []}
    where = ""
    if len(symbols) == 1 and symbols[0] in known:
        ss["dataset"] = symbols[0]
        rng = window(promoted, "is")
        if rng:
            ss["bt_range"], ss["bt_range_for"] = rng, symbols[0]
            where = f" on **{symbols[0]}**, in-sample window {rng[0]} → {rng[1]}"
    else:
        where = (f" — it was evolved on {', '.join(symbols) or 'unknown data'}, which this "
                 "page cannot load as one dataset, so the window was left as it was")
    s = promoted.settings or {}
    ss["bt_commission_pct"] = round(float(s.get("commission") or 0.0) * 100, 6)
    ss["bt_cash"] = float(s.get("cash") or 10_000.0)
    ss["bt_direction"] = "Long & short" if s.get("allow_short") else "Long only"
    ss["bt_sl_pct"], ss["bt_tp_pct"], ss["bt_sizing"] = 0.0, 0.0, "All-in"
    ss["bt_fractional"] = False
    ss["bt_promoted_loaded"] = name
    components.set_notice(
        NOTICE, "info",
        f"Loaded the promoted strategy **{name}** (evolution run #{promoted.source_run_id}, "
        f"individual {promoted.source_uid}){where}, with the run's cash, commission and "
        "direction; its genes set the stops and size. Press **Run backtest** to reproduce "
        "the evolution's in-sample numbers.")


def _on_strategy_change() -> None:
    choice = ss.get("bt_strategy")
    if choice and choice not in STRATEGIES:
        load(choice)
    else:
        ss["bt_promoted_loaded"] = None


def _to_window(name: str, part: str) -> None:
    promoted = components.call_engine(NOTICE, get_promoted, name)
    rng = window(promoted, part) if promoted is not None else None
    if rng is None:
        components.set_notice(NOTICE, "warning",
                              f"**{name}** has no {'out-of-' if part == 'oos' else 'in-'}"
                              "sample window (its run held nothing out).")
        return
    ss["bt_range"] = rng
    ss["bt_range_for"] = ss.get("dataset")


def window_buttons(name: str) -> None:
    """One click to the out-of-sample window (and back to the in-sample one)."""
    c1, c2 = st.columns(2)
    c1.button("In-sample window", key="bt_promoted_is", on_click=_to_window,
              args=(name, "is"), help="The window the evolution selected this strategy on.")
    c2.button("Out-of-sample window", key="bt_promoted_oos", on_click=_to_window,
              args=(name, "oos"), help="The held-out window the evolution never selected on.")


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def reproduction(name: str, metrics: dict[str, Any], start: date, end: date
                 ) -> tuple[str, str] | None:
    """(kind, text) comparing a run of promoted ``name`` with the numbers the evolution
    stored for the window it ran on; None when the run covered neither window."""
    promoted = get_promoted(name)
    for part, stored, label in (("is", promoted.in_sample, "in-sample"),
                                ("oos", promoted.out_of_sample, "out-of-sample")):
        if stored and window(promoted, part) == (start, end):
            same = all(_close(stored.get(k), metrics.get(k)) for k in CHECKED if k in stored)
            if same:
                return "success", (f"Same {label} numbers as the evolution stored for "
                                   f"**{name}** (total return "
                                   f"{components.fmt(stored.get('total_return_pct'), 'pct')}"
                                   f", Sharpe {components.fmt(stored.get('sharpe'))}).")
            return "warning", (f"These differ from the {label} numbers the evolution stored "
                               f"for **{name}**: a setting was changed after loading it "
                               "(stops, size, commission, cash or direction).")
    return None
