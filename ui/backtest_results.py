"""The Backtest page's results: running one backtest (saved to history) and drawing it —
metric cards, equity, drawdown, trades chart and table."""

from __future__ import annotations

import time

import streamlit as st

from engine.backtest import STRATEGIES, run_backtest
from engine.backtest.history import save_run  # not yet re-exported by engine.backtest
from engine.errors import StratLabError
from engine.market import dataset_fingerprint
from ui import backtest_charts as bc
from ui import backtest_promoted, charts, components
from ui.backtest_settings import settings_line

ss = st.session_state


def describe(strategy: str, params: dict) -> str:
    """``sma_cross(fast=10, slow=30)``: a run's strategy and parameters in one line."""
    return f"{strategy}(" + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in params.items()) + ")"


def run(info, data, strategy, params, settings, *, save: bool) -> dict | None:
    """One backtest; saved to history when ``save``; the page keeps it in session state."""
    t0 = time.perf_counter()
    try:
        with st.spinner("Running backtest…"):
            result = run_backtest(data, strategy, params, settings)
            ts = data.get_column("timestamp")
            run_id = save_run(result, info.symbol, start=ts[0], end=ts[-1],
                              fingerprint=dataset_fingerprint(data)) if save else None
    except StratLabError as exc:
        st.error(components.error_line(exc))
        return None
    out = {"result": result, "symbol": info.symbol, "run_id": run_id, "start": ts[0],
           "end": ts[-1], "seconds": time.perf_counter() - t0, "note": None,
           "bars": data.select("timestamp", "open", "high", "low", "close")}
    choice = ss.get("bt_strategy")
    if choice and choice not in STRATEGIES and strategy == "genome":
        try:  # a promoted strategy: do its numbers match what the evolution stored?
            out["note"] = backtest_promoted.reproduction(choice, result.metrics,
                                                         ts[0].date(), ts[-1].date())
            out["promoted"] = choice
        except StratLabError:
            pass
    ss["bt_result"] = out
    return out


def show_result(out: dict) -> None:
    res = out["result"]
    saved = f"run #{out['run_id']}" if out.get("run_id") else "not saved"
    st.markdown(f"**{out['symbol']}** · `{describe(res.strategy, res.params)}` · "
                f"{out['start']:%Y-%m-%d} → {out['end']:%Y-%m-%d} · {saved}")
    st.caption(f"{settings_line(res.strategy, res.params, res.settings)} · "
               f"computed in {out['seconds'] * 1000:,.0f} ms")
    components.metric_cards(res.metrics)
    log = st.toggle("Log scale (equity)", key="bt_log_equity",
                    help="Equal percentage moves as equal heights, as TradingView's log axis.")
    bars = out.get("bars")
    if bars is not None:
        st.plotly_chart(bc.linked_chart(bars, res.equity, res.trades, log_equity=log),
                        key="bt_linked_chart", config={"displaylogo": False,
                                                       "scrollZoom": True})
        st.caption("Price with each trade's entry → exit (green won, red lost), equity, "
                   "drawdown and each trade's P&L share one time axis: zoom or pan any "
                   "panel and the others follow; the crosshair runs through all four.")
    else:  # a result kept from before the linked chart existed
        st.plotly_chart(charts.equity_chart(res.equity), key="bt_equity_chart",
                        config={"displaylogo": False})
    monthly = bc.monthly_returns(res.equity)
    with st.expander("Monthly returns", expanded=True):
        st.plotly_chart(bc.monthly_heatmap(monthly), key="bt_monthly_chart",
                        config={"displaylogo": False})
    name = f"{out['symbol']}_{res.strategy}" + (f"_run{out['run_id']}" if out.get("run_id")
                                                else "")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Download equity curve (CSV)", res.equity.write_csv(),
                       file_name=f"equity_{name}.csv", mime="text/csv", key="bt_equity_csv")
    c2.download_button("Download monthly returns (CSV)", monthly.write_csv(),
                       file_name=f"monthly_{name}.csv", mime="text/csv", key="bt_monthly_csv")
    if res.trades.height:
        c3.download_button("Download trades (CSV)", res.trades.write_csv(),
                           file_name=f"trades_{name}.csv", mime="text/csv",
                           key="bt_trades_csv")
    st.markdown(f"**Trades** ({res.trades.height})")
    if res.trades.height:
        st.dataframe(
            res.trades, hide_index=True, key="bt_trades_table",
            column_config={
                "entry_price": st.column_config.NumberColumn(format="%.4f"),
                "exit_price": st.column_config.NumberColumn(format="%.4f"),
                "size": st.column_config.NumberColumn(format="%.4g"),
                "pnl": st.column_config.NumberColumn(format="%.2f"),
                "return_pct": st.column_config.NumberColumn("return %", format="%.2f"),
                "commission": st.column_config.NumberColumn(format="%.2f"),
            },
        )
    else:
        st.caption("No trades: the strategy never signalled in this range.")
