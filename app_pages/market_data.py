"""Market Data: chart a dataset with indicators and regimes, check its quality, import files."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import streamlit as st

from engine.errors import StratLabError
from engine.market import import_file, regime_spans
from engine.market import indicators as ind
from engine.market.store import filter_window
from ui import charts, components, state

#: Candlesticks drawn at most (the most recent ones in the chosen range).
MAX_CANDLES = 4_000

st.title("Market Data")
infos = {i.symbol: i for i in st.session_state["datasets"]}
info = infos.get(st.session_state.get("dataset"))

# ---------------------------------------------------------------------------------- chart
def chart_tab(info) -> None:
    """Candlesticks, overlays, RSI/MACD panels and regime shading for the chosen range."""
    if info is None:
        st.info("No dataset yet: import one in the **Import a file** tab.")
        return
    if info.synthetic:
        st.caption(f":orange[**{info.symbol} is synthetic**] — {info.description}")
    elif info.description:
        st.caption(info.description)
    full = state.load_full(info.symbol, state.dataset_version(info))
    lo, hi = info.start.date(), info.end.date()
    if st.session_state.get("md_range_for") != info.symbol:
        st.session_state["md_range"] = (max(lo, hi - timedelta(days=730)), hi)
        st.session_state["md_range_for"] = info.symbol
    c1, c2, c3 = st.columns([2, 2, 2])
    rng = c1.date_input("Date range", key="md_range", min_value=lo, max_value=hi,
                        persist_state="session")
    overlays = c2.multiselect("Overlays", ["SMA", "EMA", "Bollinger"], key="md_overlays",
                              persist_state="session")
    panels = c3.multiselect("Panels", ["Volume", "RSI", "MACD"], key="md_panels",
                            persist_state="session")
    with st.expander("Indicator settings"):
        s = st.columns(8)
        sma_n = s[0].number_input("SMA period", 1, 500, key="md_sma_n", step=1,
                                  persist_state="session")
        ema_n = s[1].number_input("EMA period", 1, 500, key="md_ema_n", step=1,
                                  persist_state="session")
        bb_n = s[2].number_input("Bollinger period", 2, 500, key="md_bb_n", step=1,
                                 persist_state="session")
        bb_k = s[3].number_input("Bollinger width (σ)", 0.5, 5.0, key="md_bb_k", step=0.1,
                                 persist_state="session")
        rsi_n = s[4].number_input("RSI period", 2, 200, key="md_rsi_n", step=1,
                                  persist_state="session")
        m_fast = s[5].number_input("MACD fast", 1, 200, key="md_macd_fast", step=1,
                                   persist_state="session")
        m_slow = s[6].number_input("MACD slow", 2, 400, key="md_macd_slow", step=1,
                                   persist_state="session")
        m_sig = s[7].number_input("MACD signal", 1, 200, key="md_macd_signal", step=1,
                                  persist_state="session")
    show_regimes = st.toggle("Shade market regimes behind the price", key="md_regimes",
                             persist_state="session")

    if not isinstance(rng, tuple) or len(rng) != 2:
        st.info("Pick an end date to finish the range.")
        return
    # Indicators and regimes are computed on the whole series, then cut to the range,
    # so the chart starts with warmed-up values.
    exprs, lines, band, rsi_col, macd_cols = [], [], None, None, None
    if "SMA" in overlays:
        lines.append(f"SMA {sma_n}")
        exprs.append(ind.sma("close", sma_n).alias(lines[-1]))
    if "EMA" in overlays:
        lines.append(f"EMA {ema_n}")
        exprs.append(ind.ema("close", ema_n).alias(lines[-1]))
    if "Bollinger" in overlays:
        bb = ind.bollinger("close", bb_n, float(bb_k))
        band = (f"BB {bb_n} upper", f"BB {bb_n} lower", f"BB {bb_n} mid")
        exprs += [bb.upper.alias(band[0]), bb.lower.alias(band[1]), bb.mid.alias(band[2])]
    vol_line = None
    if "Volume" in panels:
        vol_line = "Volume SMA 20"
        exprs.append(ind.volume_sma(20).alias(vol_line))
    if "RSI" in panels:
        rsi_col = f"RSI {rsi_n}"
        exprs.append(ind.rsi("close", rsi_n).alias(rsi_col))
    if "MACD" in panels:
        m = ind.macd("close", m_fast, m_slow, m_sig)
        macd_cols = ("MACD", "Signal", "Histogram")
        exprs += [m.line.alias("MACD"), m.signal.alias("Signal"), m.hist.alias("Histogram")]
    try:
        frame = full.with_columns(exprs) if exprs else full
        if show_regimes:
            frame = frame.join(state.load_regimes(info.symbol, state.dataset_version(info)),
                               on="timestamp", how="left")
        view = filter_window(frame, rng[0], rng[1], label=info.symbol)
    except StratLabError as exc:
        st.error(components.error_line(exc))
        return
    if view.height > MAX_CANDLES:
        st.caption(f"Showing the last {MAX_CANDLES:,} of {view.height:,} bars in the range; "
                   "narrow the range to see earlier ones.")
        view = view.tail(MAX_CANDLES)
    spans = regime_spans(view) if show_regimes else []
    fig = charts.market_chart(
        view, lines=lines, band=band, volume="Volume" in panels, volume_line=vol_line,
        rsi=rsi_col,
        macd=macd_cols, regimes=spans,
    )
    st.plotly_chart(fig, key="md_chart", config={"displaylogo": False})
    if show_regimes:
        counts = view.get_column("regime").value_counts(sort=True) if view.height else None
        if counts is not None and counts.height:
            share = ", ".join(
                f"{charts.REGIME_LABELS.get(r, r)} {n / view.height:.0%}"
                for r, n in counts.iter_rows()
            )
            st.caption(
                f"Regimes in this range: {share}. Bull/bear/sideways come from the slope "
                "of a 50-bar SMA measured in units of recent volatility; high volatility "
                "means 20-bar volatility well above its own one-year median. Only past "
                "bars are used (the first bars are unknown while the rule warms up)."
            )


tab_chart, tab_quality, tab_import = st.tabs(["Chart", "Data quality", "Import a file"])
with tab_chart:
    chart_tab(info)

# -------------------------------------------------------------------------------- quality
with tab_quality:
    if info is None:
        st.info("No dataset yet.")
    else:
        st.markdown(f"**{components.dataset_label(info)}** — "
                    f"{info.description or 'no description'}")
        if info.report:
            components.import_report(info.report, key="md_quality")
        else:
            st.caption("No quality report stored for this dataset.")

# --------------------------------------------------------------------------------- import
with tab_import:
    st.markdown(
        "Import daily or intraday bars from a **CSV or Parquet** file with a timestamp "
        "(or date) column and open, high, low, close and (optionally) volume — column names "
        "in any case. Bad rows are rejected and explained; if the file cannot be used at "
        "all, nothing is imported."
    )
    uploaded = st.file_uploader("File", type=["csv", "parquet", "pq", "txt"], key="md_upload")
    c1, c2 = st.columns([2, 1])
    suggestion = Path(uploaded.name).stem.upper() if uploaded is not None else ""
    symbol = c1.text_input("Symbol", key="md_import_symbol", placeholder=suggestion or "e.g. AAPL",
                           help="1–32 letters, digits or . - _ ^ = ; empty: the file name.")
    overwrite = c2.checkbox("Replace an existing import", key="md_import_overwrite",
                            help="Imported datasets with this symbol are replaced; bundled "
                                 "samples never are.")
    if st.button("Import", key="md_import_btn", type="primary", disabled=uploaded is None):
        sym = (symbol or suggestion).strip()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(uploaded.name).name
            path.write_bytes(uploaded.getvalue())
            try:
                with st.spinner("Validating and importing…"):
                    report = import_file(path, sym, overwrite=overwrite)
            except StratLabError as exc:
                st.session_state["md_import_result"] = {
                    "ok": False, "symbol": sym, "error": components.page_error(str(exc))}
            else:
                state.clear_data_caches()
                st.session_state["md_import_result"] = {"ok": True, "symbol": report.symbol,
                                                        "report": report.to_dict()}
                st.session_state["dataset_pending"] = report.symbol
                st.rerun()
    result = st.session_state.get("md_import_result")
    if result:
        if result["ok"]:
            st.success(f"Imported **{result['symbol']}** — it is now the active dataset.")
            components.import_report(result["report"], key="md_import_report")
        else:
            st.error(f"Nothing was imported: {result['error']}")
