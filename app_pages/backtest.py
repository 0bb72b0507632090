"""Backtest: set up a strategy, run it, read its results; sweep parameters; reopen saved runs."""

from __future__ import annotations

import math
import time

import polars as pl
import streamlit as st

from engine.backtest import (
    METRIC_NAMES,
    STRATEGIES,
    BacktestSettings,
    parse_grid,
    run_backtest,
    sweep,
)
from engine.backtest.history import get_run, list_runs, save_run
from engine.errors import StratLabError
from engine.market import dataset_fingerprint
from engine.market.store import filter_window
from ui import charts, components, state
from ui.params import decimals, default_grid, typed, widget_step
from ui.state import ensure, param_key

#: Most combinations one sweep from the page may run.
MAX_SWEEP = 20_000
SWEEP_METRICS = [m for m in METRIC_NAMES if m != "periods_per_year"]
SIZING = ["All-in", "Fraction of equity"]
DIRECTIONS = ["Long only", "Long & short"]
ss = st.session_state


# --------------------------------------------------------------------------- small helpers

def _pct_to_fraction(pct: float) -> float | None:
    return round(pct / 100.0, 10) if pct else None


def _describe(strategy: str, params: dict) -> str:
    return f"{strategy}(" + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in params.items()) + ")"


# ------------------------------------------------------------------------------ callbacks

def _reopen(run_id: int) -> None:
    """Put a saved run's inputs into the widgets and ask the page to run it again."""
    try:
        row = get_run(run_id)
    except StratLabError as exc:
        ss["bt_notice"] = ("error", str(exc))
        return
    strat = STRATEGIES.get(row.strategy)
    if strat is None:
        ss["bt_notice"] = ("error", f"run #{run_id} used an unknown strategy {row.strategy!r}")
        return
    if row.symbols not in {i.symbol for i in ss["datasets"]}:
        what = ("a multi-symbol portfolio run" if "," in row.symbols
                else f"dataset {row.symbols}, which no longer exists")
        ss["bt_notice"] = ("error", f"Run #{run_id} cannot be reopened here: it used {what}.")
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


def _use_params(strategy: str, params: dict) -> None:
    """Copy a sweep result's parameters into the parameter widgets."""
    strat = STRATEGIES[strategy]
    ss["bt_strategy"] = strategy
    for p in strat.params:
        if p.name in params:
            ss[param_key(strategy, p.name)] = typed(p, params[p.name])
    ss["bt_notice"] = ("info", "Sweep's best parameters copied into the setup; press "
                       "**Run backtest** to see them in full.")


def _load_promoted() -> None:
    """on_change of the promoted-strategy picker: copy its genes into the widgets."""
    name = ss.get("bt_promoted")
    if not name or name == "—":
        return
    from engine.evolution import get_promoted

    promoted = get_promoted(name)
    for p in STRATEGIES["genome"].params:
        if p.name in promoted.params:
            ss[param_key("genome", p.name)] = typed(p, promoted.params[p.name])
    ss["bt_notice"] = ("info", f"Genes of the promoted strategy **{name}** loaded (from "
                       f"evolution run #{promoted.source_run_id}); press **Run backtest**.")


def _promoted_picker() -> None:
    """Promoted evolution individuals are genome strategies with stored genes."""
    from engine.evolution import list_promoted

    names = [p.name for p in list_promoted()]
    if names:
        st.selectbox("Promoted strategy", ["—", *names], key="bt_promoted",
                     on_change=_load_promoted,
                     help="Strategies promoted from the Evolution page: loads their 15 "
                          "genes, which give the same metrics as during evolution.")


# ---------------------------------------------------------------------------------- setup

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
        strategy = c2.selectbox("Strategy", list(STRATEGIES), key="bt_strategy",
                                persist_state="session")
        strat = STRATEGIES[strategy]
        st.caption(strat.description)
        if strategy == "genome":
            _promoted_picker()
        params = {}
        cols = st.columns(3)
        for i, p in enumerate(strat.params):
            key = param_key(strategy, p.name)
            ensure(key, typed(p, p.default))
            help_ = f"{p.doc}. Range {p.low:g}–{p.high:g}, default {p.default:g}."
            if p.kind is int:
                params[p.name] = cols[i % 3].number_input(
                    p.name, int(p.low), int(p.high), step=1, key=key, help=help_,
                    persist_state="session")
            else:
                step = widget_step(p)
                params[p.name] = cols[i % 3].number_input(
                    p.name, float(p.low), float(p.high), step=step, key=key, help=help_,
                    format=f"%.{decimals(step)}f", persist_state="session")
    with right:
        c1, c2 = st.columns(2)
        sl = c1.number_input("Stop-loss %", 0.0, 99.0, step=0.5, key="bt_sl_pct",
                             persist_state="session",
                             help="Below the fill price, checked intrabar; 0 = off.")
        tp = c2.number_input("Take-profit %", 0.0, 1000.0, step=0.5, key="bt_tp_pct",
                             persist_state="session",
                             help="Above the fill price, checked intrabar; 0 = off.")
        sizing = c1.radio("Position size", SIZING, key="bt_sizing", horizontal=True,
                          persist_state="session",
                          help="All-in buys as many units as the cash allows.")
        size = None
        if sizing == SIZING[1]:
            size = c2.number_input("Size, % of equity", 1.0, 100.0, step=5.0,
                                   key="bt_size_pct", persist_state="session")
        commission = c1.number_input("Commission %", 0.0, 5.0, step=0.01, format="%.3f",
                                     key="bt_commission_pct", persist_state="session",
                                     help="Of traded value, on entry and on exit.")
        cash = c2.number_input("Cash", 100.0, 1e12, step=1_000.0, format="%.0f",
                               key="bt_cash", persist_state="session")
        direction = c1.radio("Direction", DIRECTIONS, key="bt_direction", horizontal=True,
                             persist_state="session",
                             help="Long & short reverses the position on an opposite signal.")
        fractional = c2.checkbox("Fractional units", key="bt_fractional",
                                 persist_state="session",
                                 help="Allow fractions of a unit (crypto); off = whole units.")
        if strategy == "genome":
            st.caption("genome: stop-loss, take-profit and size left at 0 / All-in use the "
                       "genome's own genes.")
    try:
        settings = BacktestSettings(
            cash=float(cash), commission=round(commission / 100.0, 10),
            stop_loss=_pct_to_fraction(sl), take_profit=_pct_to_fraction(tp),
            size=_pct_to_fraction(size) if size else None,
            allow_short=direction == DIRECTIONS[1], fractional=bool(fractional),
        )
        strat.resolve(params)
    except StratLabError as exc:
        st.error(str(exc))
        return None, strategy, params, None
    if not isinstance(rng, tuple) or len(rng) != 2:
        st.info("Pick an end date to finish the range.")
        return None, strategy, params, settings
    try:
        full = state.load_full(info.symbol, state.dataset_version(info))
        data = filter_window(full, rng[0], rng[1], label=info.symbol)
    except StratLabError as exc:
        st.error(str(exc))
        return None, strategy, params, settings
    return data, strategy, params, settings


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
        st.error(str(exc))
        return None
    out = {"result": result, "symbol": info.symbol, "run_id": run_id, "start": ts[0],
           "end": ts[-1], "seconds": time.perf_counter() - t0, "note": None}
    ss["bt_result"] = out
    return out


# -------------------------------------------------------------------------------- results

def show_result(out: dict) -> None:
    res = out["result"]
    saved = f"run #{out['run_id']}" if out.get("run_id") else "not saved"
    st.markdown(f"**{out['symbol']}** · `{_describe(res.strategy, res.params)}` · "
                f"{out['start']:%Y-%m-%d} → {out['end']:%Y-%m-%d} · {saved}")
    st.caption(f"cash {res.settings.cash:,.0f} · commission {res.settings.commission:.3%} · "
               f"stop-loss {res.settings.stop_loss or 'off'} · take-profit "
               f"{res.settings.take_profit or 'off'} · size "
               f"{res.settings.size or 'all-in'} · "
               f"{'long/short' if res.settings.allow_short else 'long only'} · "
               f"computed in {out['seconds'] * 1000:,.0f} ms")
    components.metric_cards(res.metrics)
    st.plotly_chart(charts.equity_chart(res.equity), key="bt_equity_chart",
                    config={"displaylogo": False})
    st.plotly_chart(charts.drawdown_chart(res.equity), key="bt_drawdown_chart",
                    config={"displaylogo": False})
    st.plotly_chart(charts.trades_chart(res.equity, res.trades), key="bt_trades_chart",
                    config={"displaylogo": False})
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
        st.download_button("Download trades (CSV)", res.trades.write_csv(),
                           file_name=f"trades_{out['symbol']}_{res.strategy}.csv",
                           mime="text/csv", key="bt_trades_csv")
    else:
        st.caption("No trades: the strategy never signalled in this range.")


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
            "Strategy": [_describe(r.strategy, r.params) for r in runs],
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
                               f"{_describe(by_id[i].strategy, by_id[i].params)}"),
    )
    c2.button("Reopen", key="bt_reopen_btn", on_click=_reopen, args=(pick,),
              help="Restore its dataset, range, strategy, parameters and settings, and "
                   "run it again.")


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
            st.error(str(exc))
            return
    metric = st.selectbox("Metric", SWEEP_METRICS, key="sw_metric", persist_state="session",
                          help="Ranks the results and colours the chart.")
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
        try:
            res = sweep(data, strategy, grid, settings, base_params=base, sort_by=metric,
                        on_progress=on_progress)
        except StratLabError as exc:
            bar.empty()
            st.error(str(exc))
            return
        bar.progress(1.0, text=f"Done: {res.n_backtests:,} backtests")
        ss["sw_result"] = {"sweep": res, "symbol": info.symbol, "keys": list(grid),
                           "start": data["timestamp"][0], "end": data["timestamp"][-1]}
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
              help=_describe(res.strategy, best))


# ----------------------------------------------------------------------------------- page

st.title("Backtest")
infos = {i.symbol: i for i in ss["datasets"]}
info = infos.get(ss.get("dataset"))
notice = ss.pop("bt_notice", None)
if notice:
    getattr(st, notice[0])(notice[1])
if info is None:
    st.info("No dataset to test on: import one on **Market Data**.")
    st.stop()
if info.synthetic:
    st.caption(f":orange[{info.symbol} is synthetic data — not a real market.]")

with st.container(border=True):
    data, strategy, params, settings = setup(info)
    c1, c2 = st.columns([1, 4], vertical_alignment="center")
    run_clicked = c1.button("Run backtest", key="bt_run_btn", type="primary",
                            disabled=data is None or settings is None)
    c2.caption("Signals at the close of a bar, fills at the next open; stops and targets "
               "intrabar (stop-loss first when both hit). Every run is saved.")

pending = ss.get("bt_pending")
ss["bt_pending"] = None
if run_clicked:
    run(info, data, strategy, params, settings, save=True)
elif pending is not None and data is not None and settings is not None:
    out = run(info, data, strategy, params, settings, save=False)
    if out is not None:
        saved = get_run(pending)
        out["run_id"] = pending
        same_data = saved.data_fingerprint == dataset_fingerprint(data)
        same = all(
            (saved.metrics.get(k) is None and out["result"].metrics.get(k) is None)
            or (saved.metrics.get(k) is not None and out["result"].metrics.get(k) is not None
                and math.isclose(saved.metrics[k], out["result"].metrics[k], rel_tol=1e-9,
                                 abs_tol=1e-9))
            for k in ("total_return_pct", "n_trades", "final_equity")
        )
        if same:
            out["note"] = ("success", f"Reopened run #{pending}: re-run on the same data with "
                           "the same results.")
        elif not same_data:
            out["note"] = ("warning", f"Reopened run #{pending}: the data changed since it "
                           "was saved, so the results differ.")
        else:
            out["note"] = ("warning", f"Reopened run #{pending}: the results differ from "
                           "the saved ones.")

current = ss.get("bt_result")
if current and current.get("note"):  # above the tabs: seen from whichever tab is open
    kind, text = current["note"]
    getattr(st, kind)(text)
tab_results, tab_sweep, tab_history = st.tabs(["Results", "Parameter sweep", "Saved runs"])
with tab_results:
    if ss.get("bt_result"):
        show_result(ss["bt_result"])
    else:
        st.caption("Set up a run above and press **Run backtest**.")
with tab_sweep:
    sweep_tab(info, data, strategy, params, settings)
with tab_history:
    history_tab()
