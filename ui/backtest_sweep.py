"""The Backtest page's parameter sweep: a grid over one or two parameters (the others as
set up), run by the engine with progress, drawn as a line or heatmap, the top results, and
**Use the best parameters**."""

from __future__ import annotations

import math

import polars as pl
import streamlit as st

from engine.backtest import METRIC_NAMES, STRATEGIES, parse_grid, sweep, sweep_holdout
from engine.errors import StratLabError
from ui import charts, components
from ui import sweep_charts as sc
from ui.backtest_results import describe
from ui.backtest_setup import NOTICE
from ui.params import decimals, default_grid, typed, widget_step
from ui.state import ensure, param_key

#: Most combinations one sweep from the page may run.
MAX_SWEEP = 20_000
SWEEP_METRICS = [m for m in METRIC_NAMES if m != "periods_per_year"]
ss = st.session_state


def _use_params(strategy: str, params: dict) -> None:
    """Copy a sweep result's parameters into the parameter widgets."""
    strat = STRATEGIES[strategy]
    ss["bt_strategy"] = strategy
    for p in strat.params:
        if p.name in params:
            ss[param_key(strategy, p.name)] = typed(p, params[p.name])
    components.set_notice(NOTICE, "info", "Sweep's best parameters copied into the setup; "
                          "press **Run backtest** to see them in full.")


def sweep_tab(info, data, strategy, params, settings) -> None:
    strat = STRATEGIES[strategy]
    names = strat.param_names
    key_sel = f"sw_params_{strategy}"
    ensure(key_sel, names[:2])
    sel = st.multiselect("Parameters to sweep (1–2)", names, key=key_sel, max_selections=2,
                         persist_state="session",
                         help="The other parameters keep the values set above.")
    grid: dict[str, list] = {}
    for name in sel:
        p = next(q for q in strat.params if q.name == name)
        lo, hi, step = default_grid(p)
        keys = [f"sw_{strategy}_{name}_{part}" for part in ("start", "stop", "step")]
        for k, v in zip(keys, (lo, hi, step), strict=True):
            ensure(k, v)
        c = st.columns(3)
        if p.kind is int:
            a = c[0].number_input(f"{name} from", int(p.low), int(p.high), step=1, key=keys[0],
                                  persist_state="session")
            b = c[1].number_input(f"{name} to", int(p.low), int(p.high), step=1, key=keys[1],
                                  persist_state="session")
            s = c[2].number_input(f"{name} step", 1, max(1, int(p.high - p.low)), step=1,
                                  key=keys[2], persist_state="session")
            spec = f"{name}={int(a)}:{int(b)}:{int(s)}"
        else:
            wstep = widget_step(p)
            fmt = f"%.{decimals(wstep)}f"
            a = c[0].number_input(f"{name} from", float(p.low), float(p.high), step=wstep,
                                  format=fmt, key=keys[0], persist_state="session")
            b = c[1].number_input(f"{name} to", float(p.low), float(p.high), step=wstep,
                                  format=fmt, key=keys[1], persist_state="session")
            s = c[2].number_input(f"{name} step", wstep, float(p.high - p.low) or wstep,
                                  step=wstep, format=fmt, key=keys[2], persist_state="session")
            spec = f"{name}={float(a)!r}:{float(b)!r}:{float(s)!r}"
        try:
            grid[name] = parse_grid(spec)[1]
        except StratLabError as exc:
            st.error(components.error_line(exc))
            return
    metric = st.selectbox("Metric", SWEEP_METRICS, key="sw_metric", persist_state="session",
                          help="Ranks the results and colours the chart.")
    ensure("sw_holdout", False)
    ensure("sw_holdout_pct", 30)
    hc = st.columns([1, 2])
    holdout = hc[0].checkbox("Hold out the last part", key="sw_holdout",
                             help="As the evolution does: rank on the in-sample part only, "
                                  "then test every combination on the held-out last bars.")
    pct = hc[1].slider("Held-out last %", 5, 90, step=5, key="sw_holdout_pct",
                       disabled=not holdout)
    n = math.prod(len(v) for v in grid.values()) if grid else 0
    too_many = n > MAX_SWEEP
    st.caption(f"{n:,} combinations" + (f" — more than {MAX_SWEEP:,}; use a coarser step."
                                        if too_many else ""))
    clicked = st.button("Run sweep", key="sw_run_btn", type="primary",
                        disabled=not grid or too_many or data is None or settings is None)
    if clicked:
        bar = st.progress(0.0, text="Starting sweep…")

        def on_progress(done: int, total: int, message: str = "") -> None:
            bar.progress(min(1.0, done / total) if total else 1.0, text=message or
                         f"{done}/{total} backtests")

        base = {k: v for k, v in params.items() if k not in grid}
        hs = None
        try:
            if holdout:
                hs = sweep_holdout(data, strategy, grid, settings, base_params=base,
                                   sort_by=metric, on_progress=on_progress,
                                   holdout_fraction=pct / 100.0)
                res = hs.in_sample
            else:
                res = sweep(data, strategy, grid, settings, base_params=base, sort_by=metric,
                            on_progress=on_progress)
        except StratLabError as exc:
            bar.empty()
            st.error(components.error_line(exc))
            return
        bar.progress(1.0, text=f"Done: {res.n_backtests:,} backtests")
        ss["sw_result"] = {"sweep": res, "symbol": info.symbol, "keys": list(grid),
                           "start": data["timestamp"][0], "end": data["timestamp"][-1],
                           "holdout": hs}
    out = ss.get("sw_result")
    if not out:
        return
    res, keys = out["sweep"], out["keys"]
    st.markdown(f"**{out['symbol']}** · {res.strategy} · {out['start']:%Y-%m-%d} → "
                f"{out['end']:%Y-%m-%d}")
    st.caption(f"{res.n_backtests:,} backtests in {res.seconds:.2f} s "
               f"({res.backtests_per_second:,.0f}/s)"
               + (f"; {res.n_skipped:,} combinations skipped (they break a constraint such "
                  "as fast < slow)" if res.n_skipped else ""))
    if not res.results:
        st.info("No results.")
        return
    show = metric if metric in SWEEP_METRICS else res.sort_by
    if len(keys) == 2:
        fig = charts.sweep_heatmap(res.results, keys[0], keys[1], show)
    else:
        fig = charts.sweep_line(res.results, keys[0], show)
    st.plotly_chart(fig, key="sw_chart", config={"displaylogo": False})
    hs = out.get("holdout")
    if hs is not None:
        st.markdown(f"**In-sample beside out-of-sample** — ranked on {hs.n_in_sample:,} bars "
                    f"to {hs.in_sample_end:%Y-%m-%d}; tested on the last {hs.n_out_of_sample:,} "
                    f"from {hs.out_of_sample_start:%Y-%m-%d} "
                    f"({hs.holdout_fraction:.0%} held out). The chart above is in-sample.")
        hf = sc.holdout_frame(hs.rows(), keys, show)
        st.plotly_chart(sc.is_oos_scatter(hf, keys, show), key="sw_holdout_chart",
                        config={"displaylogo": False})
        st.dataframe(hf.head(20), hide_index=True, key="sw_holdout_table",
                     column_config={c: st.column_config.NumberColumn(format="%.3f")
                                    for c in hf.columns if c not in keys})
        st.download_button("Download in-sample and out-of-sample (CSV)",
                           pl.DataFrame(hs.rows()).write_csv(),
                           file_name=f"sweep_holdout_{out['symbol']}_{res.strategy}.csv",
                           mime="text/csv", key="sw_holdout_csv")
    frame = sc.results_frame(res.results, keys)
    with st.expander("Filter the trials, parallel coordinates, export", expanded=False):
        values = frame.get_column(show).drop_nulls()
        lo = float(values.min()) if values.len() else 0.0
        at_least = st.number_input(f"Keep trials with {show} at least", value=lo,
                                   key="sw_filter_min",
                                   help="As optuna-dashboard's filter: only these are drawn.")
        kept = sc.filter_frame(frame, show, at_least)
        st.caption(f"{kept.height:,} of {frame.height:,} trials kept.")
        if kept.height:
            st.plotly_chart(sc.parallel_coordinates(kept, keys, show), key="sw_parcoords",
                            config={"displaylogo": False})
        st.download_button("Download sweep results (CSV)", frame.write_csv(),
                           file_name=f"sweep_{out['symbol']}_{res.strategy}.csv",
                           mime="text/csv", key="sw_results_csv")
    top = res.results[:20]
    shown = ["total_return_pct", "sharpe", "sortino", "max_drawdown_pct", "win_rate_pct",
             "profit_factor", "n_trades"]
    if show not in shown:
        shown.insert(0, show)
    table = pl.DataFrame(
        {**{k: [r["params"][k] for r in top] for k in keys},
         **{m: [r["metrics"].get(m) for r in top] for m in shown}},
        schema_overrides={m: pl.Float64 for m in shown},
    )
    st.markdown(f"**Top {len(top)}** by {res.sort_by}")
    st.dataframe(table, hide_index=True, key="sw_top_table",
                 column_config={m: st.column_config.NumberColumn(format="%.3f")
                                for m in shown if m != "n_trades"})
    best = res.results[0]["params"]
    st.button("Use the best parameters", key="sw_use_best", on_click=_use_params,
              args=(res.strategy, best),
              help=describe(res.strategy, best))
