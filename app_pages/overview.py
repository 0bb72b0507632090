"""Overview: what is in the lab — datasets, recent backtests — and a way to every page."""

from __future__ import annotations

import polars as pl
import streamlit as st

from engine.backtest.history import get_run, list_runs
from ui import components

datasets = st.session_state["datasets"]
runs = list_runs(10)

st.title("Strategy Lab")
st.markdown(
    "A workbench for trading strategies: look at market data, backtest rule strategies "
    "with realistic fills, stops and costs, and sweep their parameters."
)

if not runs:
    st.info(
        "**Welcome!** Nothing has been run yet. A good first hour: open **Market Data** to "
        "look at a bundled sample with indicators and market regimes, then go to "
        "**Backtest**, pick a strategy and press **Run backtest**. Every run is saved and "
        "shows up here.",
        icon=":material/waving_hand:",
    )

# Each card is one link: its page link is stretched over the whole card (CSS below), so
# a click anywhere on the card — the blurb included — opens the page.
st.html("""<style>
div[class*="st-key-ov_card_"] { position: relative; cursor: pointer; }
div[class*="st-key-ov_card_"]:hover { border-color: #2563eb; background: rgba(37,99,235,.04); }
div[class*="st-key-ov_card_"] [data-testid="stPageLink"] a::after {
  content: ""; position: absolute; inset: 0; z-index: 1; }
div[class*="st-key-ov_card_"] * { position: static; }
</style>""")
links = st.columns(3)
for i, nav in enumerate(components.NAV):
    with links[i % 3].container(border=True, key=f"ov_card_{nav.key}"):
        st.page_link(nav.path, label=nav.title, icon=nav.icon, help=nav.blurb)
        st.caption(nav.blurb)

st.subheader("Datasets")
if datasets:
    n_syn = sum(1 for d in datasets if d.synthetic)
    st.caption(
        f"{len(datasets)} dataset(s), {n_syn} of them synthetic (generated, not a real "
        "market — useful offline and for tests). Import your own on Market Data."
    )
    st.dataframe(components.datasets_frame(datasets), hide_index=True, key="ov_datasets")
else:
    st.warning("No datasets yet. Import a CSV or Parquet file on **Market Data**.")

st.subheader("Recent backtests")
if runs:
    details = {r.id: get_run(r.id).metrics for r in runs}
    st.dataframe(
        pl.DataFrame(
            {
                "Run": [r.id for r in runs],
                "When (UTC)": [r.created_at.strftime("%Y-%m-%d %H:%M") for r in runs],
                "Dataset": [r.symbols for r in runs],
                "Strategy": [r.strategy for r in runs],
                "Parameters": [", ".join(f"{k}={v}" for k, v in r.params.items()) for r in runs],
                "Return %": [r.total_return_pct for r in runs],
                "Buy & hold %": [details[r.id].get("buy_hold_return_pct") for r in runs],
                "Sharpe": [r.sharpe for r in runs],
                "Max DD %": [details[r.id].get("max_drawdown_pct") for r in runs],
                "Trades": [r.n_trades for r in runs],
            },
            schema_overrides={"Return %": pl.Float64, "Buy & hold %": pl.Float64,
                              "Sharpe": pl.Float64, "Max DD %": pl.Float64,
                              "Trades": pl.Int64},
        ),
        hide_index=True,
        key="ov_runs",
        column_config={
            "Return %": st.column_config.NumberColumn(format="%.2f"),
            "Buy & hold %": st.column_config.NumberColumn(format="%.2f"),
            "Sharpe": st.column_config.NumberColumn(format="%.2f"),
            "Max DD %": st.column_config.NumberColumn(format="%.2f"),
        },
    )
    st.caption("Reopen any of them from the Saved runs tab of **Backtest**.")
else:
    st.caption("No backtests yet.")
