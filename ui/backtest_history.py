"""The Backtest page's saved runs: the history table, **Reopen** (a saved run's inputs back
into the widgets, run again) and the note saying whether the re-run matched."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import streamlit as st

from engine.backtest import STRATEGIES
from engine.backtest.history import get_run, list_runs  # not yet re-exported by engine.backtest
from engine.market import dataset_fingerprint
from ui import components
from ui.backtest_results import describe
from ui.backtest_settings import settings_line
from ui.backtest_setup import DIRECTIONS, NOTICE, SIZING
from ui.params import typed
from ui.state import param_key

ss = st.session_state


def _reopen(run_id: int) -> None:
    """Put a saved run's inputs into the widgets and ask the page to run it again."""
    row = components.call_engine(NOTICE, get_run, run_id)
    if row is None:
        return
    strat = STRATEGIES.get(row.strategy)
    if strat is None:
        components.set_notice(NOTICE, "error",
                              f"run #{run_id} used an unknown strategy {row.strategy!r}")
        return
    if row.symbols not in {i.symbol for i in ss["datasets"]}:
        what = ("a multi-symbol portfolio run" if "," in row.symbols
                else f"dataset {row.symbols}, which no longer exists")
        components.set_notice(NOTICE, "error",
                              f"Run #{run_id} cannot be reopened here: it used {what}.")
        return
    ss["dataset"] = row.symbols
    if row.start and row.end:
        ss["bt_range"] = (row.start.date(), row.end.date())
        ss["bt_range_for"] = row.symbols
    ss["bt_strategy"] = strat.name
    for p in strat.params:
        if p.name in row.params:
            ss[param_key(strat.name, p.name)] = typed(p, row.params[p.name])
    s = row.settings or {}
    ss["bt_sl_pct"] = round((s.get("stop_loss") or 0.0) * 100, 6)
    ss["bt_tp_pct"] = round((s.get("take_profit") or 0.0) * 100, 6)
    if s.get("size"):
        ss["bt_sizing"], ss["bt_size_pct"] = SIZING[1], round(s["size"] * 100, 6)
    else:
        ss["bt_sizing"] = SIZING[0]
    ss["bt_commission_pct"] = round((s.get("commission") or 0.0) * 100, 6)
    ss["bt_cash"] = float(s.get("cash", 10_000.0))
    ss["bt_direction"] = DIRECTIONS[1] if s.get("allow_short") else DIRECTIONS[0]
    ss["bt_fractional"] = bool(s.get("fractional", False))
    ss["bt_pending"] = run_id


def history_tab() -> None:
    runs = list_runs(50)
    if not runs:
        st.caption("No saved runs yet: every backtest you run is saved here.")
        return
    by_id = {r.id: r for r in runs}
    st.dataframe(
        pl.DataFrame({
            "Run": [r.id for r in runs],
            "When (UTC)": [r.created_at.strftime("%Y-%m-%d %H:%M:%S") for r in runs],
            "Dataset": [r.symbols for r in runs],
            "Strategy": [describe(r.strategy, r.params) for r in runs],
            "Window": [f"{r.start:%Y-%m-%d} → {r.end:%Y-%m-%d}" if r.start and r.end else ""
                       for r in runs],
            "Settings": [_settings_text(r) for r in runs],
            "Return %": [r.total_return_pct for r in runs],
            "Sharpe": [r.sharpe for r in runs],
            "Trades": [r.n_trades for r in runs],
        }, schema_overrides={"Return %": pl.Float64, "Sharpe": pl.Float64, "Trades": pl.Int64}),
        hide_index=True, key="bt_history_table",
        column_config={"Return %": st.column_config.NumberColumn(format="%.2f"),
                       "Sharpe": st.column_config.NumberColumn(format="%.2f")},
    )
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    pick = c1.selectbox(
        "Saved run", list(by_id), key="bt_history_pick",
        format_func=lambda i: (f"#{i} · {by_id[i].symbols} · "
                               f"{describe(by_id[i].strategy, by_id[i].params)}"),
    )
    c2.button("Reopen", key="bt_reopen_btn", on_click=_reopen, args=(pick,),
              help="Restore its dataset, range, strategy, parameters and settings, and "
                   "run it again.")


def _settings_text(r: Any) -> str:
    """The settings a saved run actually used (a genome's genes included), or what was
    stored when they can no longer be read as settings."""
    try:
        return settings_line(r.strategy, r.params, r.settings)
    except Exception:  # noqa: BLE001 - an old row with odd settings: show it raw
        return ", ".join(f"{k}={v}" for k, v in (r.settings or {}).items())


def _same(saved: dict[str, Any], new: dict[str, Any], key: str) -> bool:
    a, b = saved.get(key), new.get(key)
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def reopen_note(run_id: int, out: dict[str, Any], data: pl.DataFrame) -> tuple[str, str]:
    """(kind, text) for a reopened run re-run on ``data``: the same results, or different
    because the data changed since it was saved, or different on the same data."""
    saved = get_run(run_id)
    metrics = out["result"].metrics
    if all(_same(saved.metrics, metrics, k) for k in ("total_return_pct", "n_trades",
                                                       "final_equity")):
        return "success", (f"Reopened run #{run_id}: re-run on the same data with the same "
                           "results.")
    if saved.data_fingerprint != dataset_fingerprint(data):
        return "warning", (f"Reopened run #{run_id}: the data changed since it was saved, so "
                           "the results differ.")
    return "warning", f"Reopened run #{run_id}: the results differ from the saved ones."
