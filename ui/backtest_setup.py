"""The Backtest page's setup: date range, strategy and its parameters (or a promoted
evolution individual's genes), stops, size, costs and direction, checked by the engine."""

from __future__ import annotations

import polars as pl
import streamlit as st

from engine.backtest import STRATEGIES, BacktestSettings
from engine.errors import StratLabError
from engine.market.store import filter_window  # not yet re-exported by engine.market
from ui import backtest_promoted as promoted
from ui import components, state
from ui.backtest_settings import gene_note, input_errors
from ui.params import decimals, typed, widget_step
from ui.state import ensure, param_key

SIZING = ["All-in", "Fraction of equity"]
DIRECTIONS = ["Long only", "Long & short"]
#: Session key of the Backtest page's notice (components.show_notice draws it).
NOTICE = "bt_notice"
ss = st.session_state


def pct_to_fraction(pct: float) -> float | None:
    """A percent widget (0 = off) as the engine's fraction, or None when off."""
    return round(pct / 100.0, 10) if pct else None


def _strategy_label(choice: str) -> str:
    return choice if choice in STRATEGIES else f"{choice} · promoted (genome)"


def setup(info) -> tuple[pl.DataFrame | None, str, dict, BacktestSettings | None]:
    """Draw the setup widgets; return (data window, strategy, params, settings)."""
    lo, hi = info.start.date(), info.end.date()
    rng = ss.get("bt_range")
    if (ss.get("bt_range_for") != info.symbol or not isinstance(rng, tuple) or len(rng) != 2
            or rng[0] < lo or rng[1] > hi):
        ss["bt_range"], ss["bt_range_for"] = (lo, hi), info.symbol

    left, right = st.columns([3, 2], gap="large")
    with left:
        c1, c2 = st.columns(2)
        rng = c1.date_input("Date range", key="bt_range", min_value=lo, max_value=hi,
                            persist_state="session",
                            help="Only the bars inside (both ends included) are used.")
        names = promoted.promoted_names()
        choices = [*STRATEGIES, *names]
        if ss.get("bt_strategy") not in choices:
            ss["bt_strategy"] = "sma_cross"
        choice = c2.selectbox("Strategy", choices, key="bt_strategy", persist_state="session",
                              format_func=_strategy_label, on_change=promoted._on_strategy_change,
                              help="The built-in strategies, then the strategies promoted on "
                                   "the Evolution page (genomes with stored genes; choosing "
                                   "one loads its run's data, window and settings).")
        strategy = promoted.strategy_of(choice)
        strat = STRATEGIES[strategy]
        st.caption(strat.description)
        if choice != strategy:
            promoted.window_buttons(choice)
        params = {}
        cols = st.columns(3)
        for i, p in enumerate(strat.params):
            key = param_key(strategy, p.name)
            ensure(key, typed(p, p.default))
            help_ = f"{p.doc}. Range {p.low:g}–{p.high:g}, default {p.default:g}."
            # No min/max on the widget: a browser refuses an out-of-range value silently;
            # the engine's resolve() names it and the run is blocked (defect 8).
            if p.kind is int:
                params[p.name] = cols[i % 3].number_input(
                    p.name, step=1, key=key, help=help_, persist_state="session")
            else:
                step = widget_step(p)
                params[p.name] = cols[i % 3].number_input(
                    p.name, step=step, key=key, help=help_,
                    format=f"%.{decimals(step)}f", persist_state="session")
    with right:
        c1, c2 = st.columns(2)
        sl = c1.number_input("Stop-loss %", step=0.5, key="bt_sl_pct",
                             persist_state="session",
                             help="Below the fill price, checked intrabar; 0 = off.")
        tp = c2.number_input("Take-profit %", step=0.5, key="bt_tp_pct",
                             persist_state="session",
                             help="Above the fill price, checked intrabar; 0 = off.")
        sizing = c1.radio("Position size", SIZING, key="bt_sizing", horizontal=True,
                          persist_state="session",
                          help="All-in buys as many units as the cash allows.")
        size = None
        if sizing == SIZING[1]:
            size = c2.number_input("Size, % of equity", step=5.0,
                                   key="bt_size_pct", persist_state="session")
        commission = c1.number_input("Commission %", step=0.01, format="%.3f",
                                     key="bt_commission_pct", persist_state="session",
                                     help="Of traded value, on entry and on exit.")
        cash = c2.number_input("Cash", step=1_000.0, format="%.0f",
                               key="bt_cash", persist_state="session")
        direction = c1.radio("Direction", DIRECTIONS, key="bt_direction", horizontal=True,
                             persist_state="session",
                             help="Long & short reverses the position on an opposite signal.")
        fractional = c2.checkbox("Fractional units", key="bt_fractional",
                                 persist_state="session",
                                 help="Allow fractions of a unit (crypto); off = whole units.")
        if strategy == "genome":
            st.caption(gene_note(params, sl, tp, size))
    errors = input_errors({"bt_sl_pct": sl, "bt_tp_pct": tp, "bt_size_pct": size,
                           "bt_commission_pct": commission, "bt_cash": cash})
    if errors:
        for line in errors:
            st.error(line)
        return None, strategy, params, None
    try:
        settings = BacktestSettings(
            cash=float(cash), commission=round(commission / 100.0, 10),
            stop_loss=pct_to_fraction(sl), take_profit=pct_to_fraction(tp),
            size=pct_to_fraction(size) if size else None,
            allow_short=direction == DIRECTIONS[1], fractional=bool(fractional),
        )
        strat.resolve(params)
    except StratLabError as exc:
        st.error(components.error_line(exc))
        return None, strategy, params, None
    if not isinstance(rng, tuple) or len(rng) != 2:
        st.info("Pick an end date to finish the range.")
        return None, strategy, params, settings
    try:
        full = state.load_full(info.symbol, state.dataset_version(info))
        data = filter_window(full, rng[0], rng[1], label=info.symbol)
    except StratLabError as exc:
        st.error(components.error_line(exc))
        return None, strategy, params, settings
    return data, strategy, params, settings
