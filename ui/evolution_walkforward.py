"""The Evolution page's Walk-forward tab: set up an analysis, run it in the background,
follow it window by window, read the stitched out-of-sample result.

Thin over :mod:`engine.walkforward`: the form builds a ``WalkForwardConfig`` (its errors —
too few bars for the windows, say — become one error line), **Start** creates the analysis
and schedules it (``start_background``); the progress panel is an ``st.fragment`` polling
the analysis row (and each window's evolution run) every second while it runs, with one
full rerun once it stops; figures come from :mod:`ui.walkforward_charts`.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from engine import evolution as ev
from engine import scheduler
from engine import walkforward as wf
from ui import components
from ui import walkforward_charts as wc
from ui.state import ensure

ss = st.session_state
NOTICE = "wf_notice"
#: Session key set once a walk-forward is started: the page then opens this tab first.
FOCUS = "wf_focus"
POLL_SECONDS = 1.0
#: After Start/Resume queued a job, poll at least this long for the job to pick it up.
PICKUP_SECONDS = 15.0
STATUS_BADGE = {"created": "gray", "running": "blue", "completed": "green",
                "interrupted": "red", "failed": "red"}


def call(fn, *args: Any, ok: str | None = None, **kwargs: Any) -> Any:
    return components.call_engine(NOTICE, fn, *args, ok=ok, **kwargs)


def _ray_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


# ------------------------------------------------------------------------------ callbacks

def _config_from_widgets() -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "symbol": ss["wf_symbol"], "windows": int(ss["wf_windows"]),
        "is_bars": int(ss["wf_is_bars"]), "oos_bars": int(ss["wf_oos_bars"]),
        "anchored": bool(ss["wf_anchored"]), "population_size": int(ss["wf_population"]),
        "generations": int(ss["wf_generations"]), "backend": ss["wf_backend"],
        "commission": round(float(ss["wf_commission_pct"]) / 100.0, 10),
        "allow_short": bool(ss["wf_short"]),
    }
    if not ss["wf_random_seed"]:
        cfg["seed"] = int(ss["wf_seed"])
    return cfg


def _watch(analysis_id: int) -> None:
    info = call(wf.get_analysis, analysis_id)
    if info is not None:
        ss["wf_watch"] = {"id": analysis_id, "since": time.time(), "updated": info.updated_at}


def _start() -> None:
    cfg = call(wf.WalkForwardConfig, **_config_from_widgets())
    if cfg is None:
        return
    aid = call(wf.create_analysis, cfg, name=ss["wf_name"].strip())
    if aid is None:
        return
    ss["wf_analysis"] = aid
    ss[FOCUS] = True
    if call(wf.start_background, aid, ok=f"Walk-forward #{aid} started in the background "
            f"({cfg.windows} windows, seed {cfg.seed}).") is not None:
        _watch(aid)


def _resume(analysis_id: int) -> None:
    if call(wf.start_background, analysis_id,
            ok=f"Walk-forward #{analysis_id} resumed: finished windows are kept.") is not None:
        _watch(analysis_id)


# --------------------------------------------------------------------------------- form

def new_analysis_form(datasets: list[Any]) -> None:
    symbols = [i.symbol for i in datasets]
    active = ss.get("dataset")
    ensure("wf_symbol", active if active in symbols else symbols[0])
    if ss["wf_symbol"] not in symbols:
        ss["wf_symbol"] = symbols[0]
    for key, value in (("wf_name", ""), ("wf_windows", 5), ("wf_is_bars", 1000),
                       ("wf_oos_bars", 250), ("wf_anchored", False), ("wf_population", 50),
                       ("wf_generations", 30), ("wf_random_seed", True), ("wf_seed", 42),
                       ("wf_backend", "process"), ("wf_commission_pct", 0.0),
                       ("wf_short", False)):
        ensure(key, value)
    c = st.columns([3, 2])
    c[0].selectbox("Dataset", symbols, key="wf_symbol",
                   help="One dataset: each window is evolved and traded on it.")
    c[1].text_input("Name (optional)", key="wf_name", max_chars=80)
    c = st.columns(4)
    c[0].number_input("Windows", 1, 200, step=1, key="wf_windows",
                      help="In-sample / out-of-sample window pairs.")
    c[1].number_input("In-sample bars", 30, 10_000_000, step=50, key="wf_is_bars",
                      help="Bars each window's evolution sees.")
    c[2].number_input("Out-of-sample bars", 10, 10_000_000, step=10, key="wf_oos_bars",
                      help="Bars each chosen genome then trades, unseen by its evolution.")
    c[3].checkbox("Anchored", key="wf_anchored",
                  help="Every in-sample window starts at the first bar (it grows by the "
                       "out-of-sample length each window) instead of rolling.")
    info = next((i for i in datasets if i.symbol == ss["wf_symbol"]), None)
    need = int(ss["wf_is_bars"]) + int(ss["wf_windows"]) * int(ss["wf_oos_bars"])
    if info is not None:
        have = info.n_rows - info.n_rejected if info.n_rejected else info.n_rows
        st.caption(f"{info.symbol} has {have:,} bars; these windows use the last {need:,} "
                   f"({ss['wf_is_bars']:,} + {ss['wf_windows']} × {ss['wf_oos_bars']:,}).")
    c = st.columns(6)
    c[0].number_input("Population", 4, 5000, step=2, key="wf_population",
                      help="Of each window's evolution.")
    c[1].number_input("Generations", 0, 10_000, step=1, key="wf_generations",
                      help="Of each window's evolution (no early stop).")
    c[2].checkbox("Random seed", key="wf_random_seed")
    c[3].number_input("Seed", 0, 2**31 - 1, step=1, key="wf_seed",
                      disabled=bool(ss["wf_random_seed"]),
                      help="Window k evolves with seed + k: same seed → same result.")
    backends = ["process", "inline"] + (["ray"] if _ray_available() else [])
    if ss["wf_backend"] not in backends:
        ss["wf_backend"] = "process"
    c[4].selectbox("Backend", backends, key="wf_backend",
                   help="process: windows in parallel worker processes; inline: one after "
                        "another in the app; ray: Ray tasks.")
    c[5].number_input("Commission %", 0.0, 5.0, step=0.01, format="%.3f",
                      key="wf_commission_pct")
    st.checkbox("Allow short", key="wf_short")
    st.button("Start walk-forward", key="wf_start_btn", type="primary", on_click=_start)


# ------------------------------------------------------------------------------ polling

def _job_queued(analysis_id: int) -> bool:
    try:
        job = scheduler.get_scheduler().get_job(wf.job_id(analysis_id))
        return job is not None and job.next_run_time is not None
    except Exception:  # noqa: BLE001 - no scheduler: nothing is queued
        return False


def should_poll(info: Any) -> bool:
    """The analysis runs, its job is queued, or a job was just asked for."""
    if info.status == "running" or _job_queued(info.id):
        return True
    w = ss.get("wf_watch") or {}
    return (w.get("id") == info.id and time.time() - w.get("since", 0) < PICKUP_SECONDS
            and info.updated_at == w.get("updated"))


def progress_panel(analysis_id: int, polling: bool) -> None:
    """Status, windows done and each unfinished window's evolution progress."""
    info = call(wf.get_analysis, analysis_id)
    if info is None:
        return
    if should_poll(info) != polling:  # started or finished since the page ran
        st.rerun()
    badge = STATUS_BADGE.get(info.status, "gray")
    st.markdown(f"**Walk-forward #{info.id}**{' · ' + info.name if info.name else ''} · "
                f"{info.symbol} :{badge}-badge[{info.status}]")
    label = f"{info.windows_done} of {info.n_windows} windows evolved"
    if info.status == "created" and polling:
        label = "Queued: waiting for the background job to start…"
    st.progress(info.progress, text=label)
    if info.status != "completed":
        for w in info.windows:
            if w.finished or w.evolution_run_id is None:
                continue
            run = call(ev.get_run, w.evolution_run_id)
            if run is not None and run.generations_done:
                target = run.target_generations or run.config.get("generations") or 0
                st.caption(f"window {w.window}: generation {run.generations_done} of "
                           f"{target} (evolution run #{run.id}, {run.status})")
    if info.status == "failed" and info.error:
        st.error(f"The analysis failed: {info.error.strip().splitlines()[-1]}")
    if info.status == "interrupted":
        st.warning("This analysis was interrupted. Resume it: finished windows are kept, "
                   "a window in flight continues from its last generation.")
    if info.status in ("created", "interrupted", "failed"):
        st.button("Resume" if info.windows_done or info.status != "created" else "Start",
                  key="wf_resume_btn", type="primary", on_click=_resume, args=(info.id,),
                  disabled=polling)


# ------------------------------------------------------------------------------ results

def results(info: Any) -> None:
    """Stitched metrics and chart, the per-window table, the genes and their stability."""
    r = info.result or {}
    stitched = r.get("stitched") or {}
    st.subheader("Stitched out-of-sample result")
    st.caption(f"{stitched.get('start', '')[:10]} → {stitched.get('end', '')[:10]}, "
               f"{stitched.get('bars', 0):,} bars: each window traded with the genes its own "
               "in-sample evolution chose, starting from the equity the last one ended with.")
    components.metric_cards(stitched.get("metrics") or {})
    gs = r.get("gene_stability") or {}
    c = st.columns(3)
    c[0].metric("Walk-forward efficiency", components.fmt(r.get("efficiency")), border=True,
                help="Annualised out-of-sample return ÷ mean annualised in-sample return "
                     "(n/a when the in-sample return is not positive). Near 1: the "
                     "optimisation carries over; near 0 or negative: it does not.")
    c[1].metric("Gene dispersion", components.fmt(gs.get("mean_dispersion")), border=True,
                help="Mean over genes of the spread of the chosen values across windows "
                     "(0 = the same genes every window, ≈1 = as scattered as random).")
    c[2].metric("Windows", f"{info.n_windows}", border=True)
    st_curve = call(wf.stitched_curve, info.id)
    if st_curve is not None:
        st.plotly_chart(wc.stitched_chart(st_curve.equity), key="wf_equity_chart",
                        config={"displaylogo": False})
    st.subheader("Windows")
    st.dataframe(wc.windows_frame(info.windows, r.get("window_efficiency")), hide_index=True,
                 key="wf_windows_table")
    with st.expander("Chosen genes per window"):
        st.dataframe(wc.genes_frame(info.windows), hide_index=True, key="wf_genes_table")
    if gs.get("genes"):
        st.plotly_chart(wc.gene_stability_chart(gs), key="wf_stability_chart",
                        config={"displaylogo": False})


# --------------------------------------------------------------------------------- tab

def walkforward_tab(datasets: list[Any]) -> None:
    """The whole tab: form, analysis picker, live panel, results."""
    st.caption("Walk-forward analysis: evolve on each in-sample window, trade the best "
               "genome on the next, unseen window, move on — then judge the stitched "
               "out-of-sample curve (docs/walkforward.md).")
    components.show_notice(NOTICE)
    analyses = call(wf.list_analyses) or []
    with st.expander("New walk-forward analysis", expanded=not analyses,
                     icon=":material/add:"):
        if datasets:
            new_analysis_form(datasets)
        else:
            st.info("No datasets yet: import one on **Market Data** first.")
    if not analyses:
        st.info("No walk-forward analyses yet: set one up above and press **Start "
                "walk-forward**.", icon=":material/timeline:")
        return
    by_id = {a.id: a for a in analyses}
    if ss.get("wf_analysis") not in by_id:
        ss["wf_analysis"] = analyses[0].id
    key = "wf_pick_" + "_".join(f"{a.id}{a.status[:2]}{a.windows_done}" for a in analyses)
    aid = st.selectbox(
        "Analysis", list(by_id), index=list(by_id).index(ss["wf_analysis"]), key=key,
        format_func=lambda i: (f"#{i}{' · ' + by_id[i].name if by_id[i].name else ''} · "
                               f"{by_id[i].symbol} · {by_id[i].status} · "
                               f"{by_id[i].windows_done} of {by_id[i].n_windows} windows"))
    ss["wf_analysis"] = aid
    info = call(wf.get_analysis, aid)
    if info is None:
        return
    cfg = info.config
    st.caption(f"{cfg.get('windows')} windows · {cfg.get('is_bars'):,} in-sample + "
               f"{cfg.get('oos_bars'):,} out-of-sample bars · "
               f"{'anchored' if cfg.get('anchored') else 'rolling'} · population "
               f"{cfg.get('population_size')} × {cfg.get('generations')} generations · seed "
               f"{cfg.get('seed')} · backend {cfg.get('backend')}")
    polling = should_poll(info)
    st.fragment(run_every=POLL_SECONDS if polling else None)(progress_panel)(aid, polling)
    if info.status == "completed":
        results(info)
