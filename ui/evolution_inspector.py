"""The Evolution page's inspector: one individual's overfitting verdict, in-sample and
out-of-sample equity, parameters, metrics and trades; **Promote** it to a named strategy;
the list of promoted strategies."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from engine import evolution as ev
from ui import components, research_panel
from ui import evolution_charts as ec
from ui.evolution_controls import NOTICE, call

ss = st.session_state


def _promote(run_id: int, uid: int) -> None:
    info = call(ev.promote, run_id, uid, ss.get("ev_promote_name", ""),
                force=bool(ss.get(research_panel.force_key(run_id))))
    if info is not None:
        data = ",".join(info.symbols)
        end = str(info.split.get("in_sample_end") or "")[:10]
        components.set_notice(
            NOTICE, "success", f"Promoted individual {uid} as **{info.name}**. Run it again "
            "on **Backtest** (pick it in the *Strategy* list: its run's window and "
            "settings load with it) or with "
            f"`python -m engine backtest --data {data} --strategy {info.name}"
            f"{' --end ' + end if end else ''} --json` (the in-sample metrics match).")


def _detail(run: Any, uid: int) -> Any:
    key = (run.id, uid, run.evaluations, run.generations_done)
    cached = ss.get("ev_detail")
    if cached and cached[0] == key:
        return cached[1]
    with st.spinner(f"Backtesting individual {uid} in-sample and out-of-sample…"):
        detail = call(ev.get_individual, run.id, uid)
    ss["ev_detail"] = (key, detail) if detail is not None else None
    return detail


def inspect_options(run: Any, latest: list[Any]) -> list[int]:
    """The uids the inspector offers (each once, best fitness first); ``ev_uid`` follows
    the run's best until the user picks another individual (then it stays theirs).

    Called before the Pareto chart is drawn so that chart's figure (which rings the
    inspected point) is the same on the rerun a click causes — a changed figure would be a
    new element and lose the click's selection.
    """
    options = [i.uid for i, _ in ec.distinct(latest)]
    following = ss.get("ev_uid_auto", True) or ss.get("ev_uid_run") != run.id
    if following and run.best_uid is not None:
        ss["ev_uid"] = run.best_uid  # the best moves on as the run evolves (#6)
    for extra in (run.best_uid, ss.get("ev_uid")):
        if extra is not None and extra not in options:
            options.append(extra)
    if options and ss.get("ev_uid") not in options:
        ss["ev_uid"] = run.best_uid if run.best_uid in options else options[0]
    if ss.get("ev_uid_run") != run.id:
        ss["ev_uid_run"], ss["ev_uid_auto"] = run.id, True
    return options


def _picked_uid(key: str) -> None:
    """on_change of the Individual picker: the user's choice, kept until they change it."""
    ss["ev_uid"] = ss[key]
    ss["ev_uid_auto"] = ss[key] == ss.get("ev_best_uid")


def inspector(run: Any, latest: list[Any]) -> None:
    st.subheader("Inspect an individual")
    if not latest:
        st.caption("Evolve the run to inspect its individuals.")
        return
    options = inspect_options(run, latest)
    copies = {i.uid: n for i, n in ec.distinct(latest)}
    by_uid = {i.uid: i for i in latest}
    ss["ev_best_uid"] = run.best_uid
    c = st.columns([3, 2, 1], vertical_alignment="bottom")
    # The key carries what the labels show (generation, best): when the fragment's
    # rerun brings new generations the picker is redrawn with fresh labels (#6).
    key = f"ev_uid_pick_{run.id}_{run.generations_done}_{run.best_uid}"
    # The widget keeps its own stored value across reruns and would ignore an ``index``:
    # write the inspected uid into its key first, so a Pareto click (which set ``ev_uid``
    # on this rerun) is what the picker shows and returns.
    ss[key] = ss["ev_uid"]
    uid = c[0].selectbox(
        "Individual", options, key=key,
        on_change=_picked_uid, args=(key,),
        format_func=lambda u: (f"#{u} · fitness {ec.fmt_fitness(by_uid[u].fitness)}"
                               + (f" · ×{copies[u]} copies" if copies.get(u, 1) > 1 else "")
                               + (" · best" if u == run.best_uid else "")
                               if u in by_uid else f"#{u}"))
    ss["ev_uid"] = uid
    detail = _detail(run, uid)
    if detail is None:
        return
    rep = detail.overfitting
    color = ec.VERDICT_COLORS.get(rep.verdict, "gray")
    st.markdown(f"**Individual #{detail.uid}** · generation {detail.generation} · island "
                f"{detail.island} · born {detail.born} · age {detail.age} · parents "
                f"{', '.join(map(str, detail.parents)) or 'none (initial population)'} · "
                f"fitness **{detail.fitness:.4f}** · :{color}-badge[{rep.verdict}]")
    c = st.columns(6)
    c[0].metric("Deflated Sharpe", components.fmt(rep.deflated_sharpe), border=True,
                help="Probability that the true Sharpe beats the best of "
                     f"{rep.n_trials} lucky trials (every evaluation of the run).")
    c[1].metric("Sharpe in-sample", components.fmt(rep.sharpe_in_sample), border=True)
    c[2].metric("Sharpe out-of-sample", components.fmt(rep.sharpe_out_of_sample), border=True)
    c[3].metric("IS − OOS Sharpe gap", components.fmt(rep.sharpe_gap), border=True,
                help="Above 1.0 counts as possibly overfit.")
    c[4].metric("Trials", components.fmt(rep.n_trials, "int"), border=True)
    research_panel.individual_card(c[5], run, uid)
    st.caption(f"Verdict: {rep.verdict} — {rep.reason}. Split: in-sample to "
               f"{str(detail.split.get('in_sample_end') or '')[:10]}, out-of-sample from "
               f"{str(detail.split.get('out_of_sample_start') or '—')[:10]}."
               + research_panel.run_line(run))
    oos = detail.out_of_sample_result
    st.plotly_chart(ec.split_equity_chart(detail.in_sample_result.equity,
                                          oos.equity if oos is not None else None),
                    key="ev_inspect_equity", config={"displaylogo": False})
    left, right = st.columns([1, 2])
    left.markdown("**Parameters**")
    left.dataframe(ec.params_frame(detail.params), hide_index=True, key="ev_inspect_params")
    right.markdown("**Metrics**")
    right.dataframe(ec.metrics_frame(detail.in_sample, detail.out_of_sample), hide_index=True,
                    key="ev_inspect_metrics",
                    column_config={c: st.column_config.NumberColumn(format="%.4g")
                                   for c in ("in-sample", "out-of-sample")})
    trades = ec.trades_frame(detail.in_sample_result.trades,
                             oos.trades if oos is not None else None)
    st.markdown(f"**Trades** ({trades.height})")
    if trades.height:
        st.dataframe(trades, hide_index=True, key="ev_inspect_trades")
    else:
        st.caption("No trades in either window.")

    st.markdown("**Promote** — save these genes as a named strategy")
    if ss.get("ev_promote_for") != (run.id, uid) or not ss.get("ev_promote_name"):
        ss["ev_promote_name"], ss["ev_promote_for"] = f"evo{run.id}-{uid}", (run.id, uid)
    confirmed = research_panel.promotion_confirm(run)  # PBO > 0.5 or SPA p > 0.05
    c = st.columns([3, 1], vertical_alignment="bottom")
    c[0].text_input("Strategy name", key="ev_promote_name", max_chars=64,
                    help="Letters, digits, '_', '.', '-'; runnable with "
                         "`backtest --strategy NAME`.")
    c[1].button("Promote", key="ev_promote_btn", on_click=_promote, args=(run.id, uid),
                type="primary", disabled=not confirmed)


def promoted_list() -> None:
    promoted = call(ev.list_promoted) or []
    with st.expander(f"Promoted strategies ({len(promoted)})"):
        if not promoted:
            st.caption("None yet: promote an individual above.")
            return
        st.dataframe(pl.DataFrame({
            "Name": [p.name for p in promoted],
            "Data": [",".join(p.symbols) for p in promoted],
            "Run": [p.source_run_id for p in promoted],
            "Individual": [p.source_uid for p in promoted],
            "Fitness": [p.fitness for p in promoted],
            "IS return %": [p.in_sample.get("total_return_pct") for p in promoted],
            "OOS return %": [(p.out_of_sample or {}).get("total_return_pct") for p in promoted],
            "Promoted (UTC)": [f"{p.created_at:%Y-%m-%d %H:%M}" for p in promoted],
        }, schema_overrides={"Fitness": pl.Float64, "IS return %": pl.Float64,
                             "OOS return %": pl.Float64}),
            hide_index=True, key="ev_promoted_table")
