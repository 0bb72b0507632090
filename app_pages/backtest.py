"""Backtest: set up a strategy, run it, read its results; sweep parameters; reopen saved runs.

Thin page; its sections live in ``ui/``: the setup (:mod:`ui.backtest_setup`), one run and
its results (:mod:`ui.backtest_results`), the parameter sweep (:mod:`ui.backtest_sweep`)
and the saved runs with **Reopen** (:mod:`ui.backtest_history`).
"""

from __future__ import annotations

import streamlit as st

from ui import (
    backtest_history,
    backtest_results,
    backtest_setup,
    backtest_sweep,
    components,
    paper_add,
)
from ui.backtest_setup import NOTICE

ss = st.session_state

st.title("Backtest")
infos = {i.symbol: i for i in ss["datasets"]}
info = infos.get(ss.get("dataset"))
components.show_notice(NOTICE)
if info is None:
    st.info("No dataset to test on: import one on **Market Data**.")
    st.stop()
if info.synthetic:
    st.caption(f":orange[{info.symbol} is synthetic data — not a real market.]")

with st.container(border=True):
    data, strategy, params, settings = backtest_setup.setup(info)
    c1, c2 = st.columns([1, 4], vertical_alignment="center")
    run_clicked = c1.button("Run backtest", key="bt_run_btn", type="primary",
                            disabled=data is None or settings is None)
    c2.caption("Signals at the close of a bar, fills at the next open; stops and targets "
               "intrabar (stop-loss first when both hit). Every run is saved.")
with st.expander("Add to a paper book as a sleeve", icon=":material/account_balance:"):
    paper_add.backtest_section(strategy, params, settings, info.symbol)

pending = ss.get("bt_pending")  # a saved run Reopen asked to run again
ss["bt_pending"] = None
if run_clicked:
    backtest_results.run(info, data, strategy, params, settings, save=True)
elif pending is not None and data is not None and settings is not None:
    out = backtest_results.run(info, data, strategy, params, settings, save=False)
    if out is not None:
        out["run_id"] = pending
        out["note"] = backtest_history.reopen_note(pending, out, data)

current = ss.get("bt_result")
if current and current.get("note"):  # above the tabs: seen from whichever tab is open
    kind, text = current["note"]
    getattr(st, kind)(text)
tab_results, tab_sweep, tab_history = st.tabs(["Results", "Parameter sweep", "Saved runs"])
with tab_results:
    if ss.get("bt_result"):
        backtest_results.show_result(ss["bt_result"])
    else:
        st.caption("Set up a run above and press **Run backtest**.")
with tab_sweep:
    backtest_sweep.sweep_tab(info, data, strategy, params, settings)
with tab_history:
    backtest_history.history_tab()
