"""The Evolution page's data-snooping figures (:mod:`engine.research`): the run summary
(PBO, SPA p-value, minimum backtest length beside the best genome's deflated Sharpe), the
inspected individual's own SPA p-value, and the promotion confirmation.

The engine computes and caches everything (per run and generation count); these functions
only ask for it and draw it. Nothing is computed while the run is being worked on: the
figures would be stale by the next generation.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from engine import research
from ui import components
from ui.evolution_controls import call

ss = st.session_state

PBO_HELP = ("Probability of backtest overfitting (CSCV, 16 blocks, 12,870 splits): the share "
            "of splits in which the in-sample best genome ranked in the lower half out of "
            "sample. Above 0.5, selection is more luck than skill.")
SPA_HELP = ("Hansen's SPA test of the top genomes against buy-and-hold (stationary bootstrap, "
            "consistent p-value). Above 0.05, none of them beats buy-and-hold beyond luck.")
MINBTL_HELP = ("Minimum backtest length (Bailey et al.): years of data needed before an "
               "annualised Sharpe of 1 can be told from luck after this many trials.")


def _p(value: Any) -> str:
    return "n/a" if components.missing(value) else f"{value:.3f}"


def _busy(run: Any) -> bool:
    return run.status in ("running", "stopping")


def statistics(run: Any) -> Any | None:
    """The run's :class:`~engine.research.RunStatistics` (None before generation 0 or while
    it evolves)."""
    if run.evaluations == 0 or _busy(run):
        return None
    key = (run.id, run.generations_done, run.evaluations)
    cached = ss.get("ev_research")
    if cached and cached[0] == key:
        return cached[1]
    with st.spinner("Computing PBO, SPA and the minimum backtest length…"):
        st_ = call(research.run_statistics, run.id)
    ss["ev_research"] = (key, st_) if st_ is not None else None
    return st_


def run_summary(run: Any) -> None:
    """Four cards: PBO, SPA p, MinBTL vs the data's years, the best genome's DSR."""
    if _busy(run):
        st.caption("Data-snooping statistics (PBO, SPA, minimum backtest length) are "
                   "computed once the run stops.")
        return
    s = statistics(run)
    if s is None:
        return
    st.markdown("**Data-snooping statistics** — can the best genome be told from luck?")
    c = st.columns(4)
    c[0].metric("PBO", components.fmt(s.pbo), border=True, help=PBO_HELP)
    c[1].metric("SPA p-value", _p(s.spa_pvalue), border=True, help=SPA_HELP)
    c[2].metric("Min backtest (years)", components.fmt(s.min_backtest_years), border=True,
                help=MINBTL_HELP + f" The in-sample data cover {s.data_years:.2f} years.")
    c[3].metric("Deflated Sharpe (best)", components.fmt(s.deflated_sharpe), border=True,
                help="Probability that the best genome's true Sharpe beats the best of "
                     f"{s.n_trials} lucky trials.")
    superior = (", ".join(f"#{u}" for u in s.superior_uids) if s.superior_uids else "none")
    slope = ("n/a" if s.degradation_slope is None else f"{s.degradation_slope:.2f}")
    st.caption(f"{s.n_genomes} genomes over {s.n_bars:,} in-sample bars "
               f"({s.data_years:.2f} years), {s.n_trials} trials. Degradation slope "
               f"{slope}, probability of out-of-sample loss "
               f"{components.fmt(s.probability_of_loss)}. StepM: of the top "
               f"{len(s.top_uids)}, beating buy-and-hold: {superior}.")
    for w in s.warnings:
        st.warning(w, icon=":material/warning:")
    for n in s.notes:
        st.caption(n)


def individual_card(column: Any, run: Any, uid: int) -> None:
    """The inspected genome's own SPA p-value against buy-and-hold, in ``column``."""
    if _busy(run):
        column.metric("SPA p (this genome)", "—", border=True)
        return
    key = (run.id, uid, run.generations_done, run.evaluations)
    cached = ss.get("ev_research_ind")
    if not (cached and cached[0] == key):
        cached = (key, call(research.individual_spa, run.id, uid))
        ss["ev_research_ind"] = cached
    res = cached[1]
    verdict = ("" if res is None or res.superior is None
               else " StepM: beats buy-and-hold." if res.superior
               else " StepM: does not beat buy-and-hold.")
    column.metric("SPA p (this genome)", _p(res.consistent if res else None),
                  border=True, help="Hansen's SPA of this genome alone against buy-and-hold "
                                    "on the in-sample bars (consistent p-value)." + verdict)


def run_line(run: Any) -> str:
    """One line of the run's figures for the inspector's caption ("" when not computed)."""
    s = None if _busy(run) else statistics(run)
    if s is None:
        return ""
    return (f" Run: PBO {components.fmt(s.pbo)}, SPA p {_p(s.spa_pvalue)}, minimum backtest "
            f"{components.fmt(s.min_backtest_years)} years (data: {s.data_years:.2f}).")


def force_key(run_id: int) -> str:
    """The session key of run ``run_id``'s "Promote anyway" box (one per run)."""
    return f"ev_promote_force_{run_id}"


def promotion_confirm(run: Any) -> bool:
    """Warn and offer "Promote anyway" when the engine's gate asks for it; True when
    promoting may go ahead (nothing to confirm, or confirmed)."""
    if _busy(run):
        return True
    check = call(research.promotion_check, run.id)
    if check is None or not check.needs_confirmation:
        return True
    st.warning(f"This run looks overfit ({'; '.join(check.reasons)}): promoting needs a "
               "confirmation.", icon=":material/warning:")
    return bool(st.checkbox("Promote anyway", key=force_key(run.id),
                            help="Promote although PBO > 0.5 or SPA p > 0.05; the figures "
                                 "are kept with the strategy."))
