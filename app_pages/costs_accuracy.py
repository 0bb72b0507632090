"""Costs & Accuracy: LLM spend against the limits, cache savings, decision accuracy,
calibration, P&L and ROI on API cost; the look-ahead controls (both sides of the models'
training cutoff, Claude against the offline control arm and buy-and-hold, named against
blind, intervals and paired tests); circuit breakers; the prompts file."""

from __future__ import annotations

import polars as pl
import streamlit as st

from engine.llm import (
    accuracy_report,
    acknowledge_anomalies,
    breaker_states,
    cost_summary,
    fill_outcomes,
    load_config,
)
from engine.llm.prompts import prompt_text  # not yet re-exported by engine.llm
from engine.llm.tracking import aggregate_daily  # not yet re-exported by engine.llm
from ui import llm_charts, llm_lookahead
from ui.formatting import fmt_pct
from ui.tables import readable


def _pct100(v) -> float | None:
    """A share of 1 as a percent number for a table (None stays missing)."""
    return None if v is None else round(100 * v, 2)


def pct(v) -> str:
    """A share of 1 as a whole percentage ("n/a" when nothing was scored)."""
    return fmt_pct(v, fraction=True, digits=0)


st.title("Costs & Accuracy")
cfg = load_config()
costs = cost_summary()
report = accuracy_report()
has_offline = any(g["key"] == "offline" for g in report["by_provider"])
OFF = " (incl. offline)" if has_offline else ""

# ------------------------------------------------------------------------------- spend
st.subheader("Spend against the limits")
m = st.columns(5)
m[0].metric("Today", f"${costs['today_usd']:.4f}", help=f"limit ${costs['daily_limit_usd']:.2f}")
m[1].metric("This month", f"${costs['month_usd']:.4f}",
            help=f"limit ${costs['monthly_limit_usd']:.2f}")
m[2].metric("API calls (month)", costs["calls"])
m[3].metric("Cache hit rate", pct(costs["cache_hit_rate"]))
m[4].metric("Saved by the cache", f"${costs['saved_usd']:.4f}")
st.progress(min(1.0, costs["today_usd"] / costs["daily_limit_usd"]),
            text=f"Daily: ${costs['today_usd']:.4f} of ${costs['daily_limit_usd']:.2f}")
st.progress(min(1.0, costs["month_usd"] / costs["monthly_limit_usd"]),
            text=f"Monthly: ${costs['month_usd']:.4f} of ${costs['monthly_limit_usd']:.2f}")
st.caption(f"{costs['offline_calls']} offline analyses this month (free, labelled offline); "
           f"{costs['refused']} calls refused by the budget; {costs['failed']} failed; "
           f"${costs['estimated_usd']:.4f} recorded at reservations (timeouts, anomalies).")
if costs["anomalies"]:
    n_an = len(costs["anomalies"])
    st.warning(f"**Paid calls are stopped**: {n_an} repl{'y' if n_an == 1 else 'ies'} reported "
               "usage that cannot be true (above the reservation, negative or unreadable). "
               "Each was recorded at its reservation, so the limits hold. Check them, then "
               "acknowledge to resume paid calls (or run `python -m engine costs "
               "--acknowledge`).")
    st.dataframe(pl.DataFrame([{k: str(a[k]) if k == "created_at" else a[k] for k in a}
                               for a in costs["anomalies"]]),
                 hide_index=True)
    if st.button("Acknowledge and resume paid calls", key="ca_ack_btn"):
        st.toast(f"{acknowledge_anomalies()} anomalies acknowledged")
        st.rerun()
if costs["by_day"]:
    st.plotly_chart(llm_charts.spend_per_day_chart(costs["by_day"], costs["daily_limit_usd"]),
                    key="ca_spend_day")
    c1, c2 = st.columns(2)
    c1.plotly_chart(llm_charts.bar_chart(costs["by_model"], "model", "cost_usd",
                                         "Spend by model (USD)", fmt=".4f"),
                    key="ca_spend_model")
    c2.plotly_chart(llm_charts.bar_chart(costs["by_prompt"], "prompt", "cost_usd",
                                         "Spend by prompt (USD)", fmt=".4f"),
                    key="ca_spend_prompt")
else:
    st.info("No Claude calls this month yet — offline analyses cost nothing.")

breakers = breaker_states()
if breakers:
    st.markdown("**Circuit breakers**")
    st.dataframe(pl.DataFrame(breakers), hide_index=True)

# ---------------------------------------------------------------------------- accuracy
st.subheader("Accuracy of recorded decisions")
if st.button("Score due outcomes now", key="ca_fill_btn"):
    n = fill_outcomes()
    aggregate_daily()
    st.toast(f"{n} decisions scored")
    report = accuracy_report()
o = report["overall"]
m = st.columns(6)
m[0].metric("Decisions", o["decisions"])
m[1].metric("Scored", o["scored"])
m[2].metric("Accuracy", pct(o["accuracy"]))
m[3].metric("Win rate (followed)", pct(o["win_rate"]))
m[4].metric("P&L of followed (USD)", f"{o['pnl_usd']:,.2f}")
roi = o["roi_on_api_cost"]
m[5].metric("ROI on API cost", "n/a" if roi is None else f"{roi:,.1f}×")
if has_offline:
    st.caption(":gray-badge[offline] Some decisions came from the offline analyst; they are "
               "grouped as provider/model *offline* below.")

if not o["scored"]:
    st.info("No decision has been scored yet: outcomes are filled once a decision's horizon "
            "has passed in the data. A **Replay** on the AI Analyst page scores at once.")
else:
    if any(d["accuracy"] is not None for d in report["by_day"]):
        st.plotly_chart(llm_charts.accuracy_over_time_chart(report["by_day"], OFF),
                        key="ca_acc_time")
    st.caption("Accuracy over time pools each date with the dates before it until at least "
               "20 scored decisions are in (one decision a day would read 0 % or 100 %); the "
               "grey bars are how many decisions each point covers.")
    c1, c2 = st.columns(2)
    for col, items, what, key in (
            (c1, report["by_model"], "model", "ca_acc_model"),
            (c2, report["by_regime"], "market regime", "ca_acc_regime")):
        col.plotly_chart(llm_charts.bar_chart(items, "key", "accuracy",
                                              f"Accuracy by {what}{OFF}", fmt=".0%",
                                              horizontal=True), key=key)
    # full width: prompt-version labels are long ("master_analyst v3 · contrarian v2 …")
    st.plotly_chart(llm_charts.bar_chart(report["by_prompt_version"], "key", "accuracy",
                                         f"Accuracy by prompt version{OFF}", fmt=".0%",
                                         horizontal=True), key="ca_acc_prompt")
    c3, c4 = st.columns(2)
    c3.plotly_chart(llm_charts.calibration_chart(report["calibration"], OFF),
                    key="ca_calibration")
    c4.markdown("**By confidence bucket**")
    c4.dataframe(readable(pl.DataFrame({
        "Confidence bucket": [g["key"] for g in report["by_confidence"]],
        "Decisions": [g["decisions"] for g in report["by_confidence"]],
        "Scored": [g["scored"] for g in report["by_confidence"]],
        "Accuracy %": [_pct100(g["accuracy"]) for g in report["by_confidence"]],
        "Followed": [g["followed"] for g in report["by_confidence"]],
        "Win rate %": [_pct100(g["win_rate"]) for g in report["by_confidence"]],
        "P&L (USD)": [g["pnl_usd"] for g in report["by_confidence"]],
        "API cost (USD)": [g["api_cost_usd"] for g in report["by_confidence"]],
    }, strict=False), digits={"API cost (USD)": 4, "Accuracy %": 1, "Win rate %": 1}),
        hide_index=True)
    c4.caption("— = not defined: no scored decision (accuracy) or none followed (win rate).")

# ------------------------------------------------------------------- look-ahead controls
st.subheader("Look-ahead controls")
cutoffs = sorted({f"{m.id} {m.training_cutoff:%Y-%m-%d}" for m in cfg.models.values()
                  if m.training_cutoff})
st.caption("A model may remember what followed any date before its training cutoff ("
           + (", ".join(cutoffs) or "none configured") + ", from prompts.yaml): accuracy "
           "there is not evidence of skill, so each side is shown apart.")
if o["decisions"]:
    st.markdown("**Both sides of the training cutoff**")
    st.dataframe(readable(llm_lookahead.window_frame(report["training_window"]),
                          digits={"Accuracy %": 1, "Win rate %": 1, "P&L (USD)": 2}),
                 hide_index=True)
arms = report["arms"]
if arms["dates"]:
    st.markdown("**Claude, the offline control arm and buy-and-hold on the same dates**")
    side = st.radio("Decisions", ["all", "inside", "outside"], horizontal=True,
                    key="ca_arms_side",
                    format_func=lambda s: {"all": "All", "inside": "Inside the training "
                                           "window", "outside": "After the cutoff"}[s])
    shown = arms if side == "all" else report["arms_by_window"][side]
    if shown["dates"]:
        a1, a2 = st.columns([3, 2])
        a1.dataframe(readable(llm_lookahead.arms_frame(shown),
                              digits={"Accuracy %": 1, "Win rate %": 1, "P&L (USD)": 2}),
                     hide_index=True)
        a2.plotly_chart(llm_lookahead.arms_chart(shown), key="ca_arms_chart")
        for line in llm_lookahead.significance_lines(shown["tests"]):
            st.markdown(line)
        st.caption("Buy-and-hold: a long of the largest allowed position held over each "
                   "decision's horizon from the same as-of dates.")
    else:
        st.info("No replay decisions with a control arm on this side of the cutoff.")
else:
    st.caption("Claude against its controls appears here after a Claude replay (every Claude "
               "replay records the offline analyst for the same dates at zero cost).")
pair = report["paired"]
if pair["pairs"]:
    st.markdown("**Named against blind (paired replays)**")
    st.markdown(llm_lookahead.paired_line(pair))
st.markdown("**How sure can we be?**")
unc = report["uncertainty"]
st.markdown("All decisions: " + llm_lookahead.uncertainty_line(unc["all"]))
if unc["claude"]["accuracy"]["n"]:
    st.markdown("Claude only: " + llm_lookahead.uncertainty_line(unc["claude"]))
    for line in llm_lookahead.significance_lines({"vs_hold": unc["claude"]["vs_hold"]}):
        st.markdown(line)

# ----------------------------------------------------------------------------- prompts
st.subheader("Prompts")
st.dataframe(pl.DataFrame({
    "Prompt": list(cfg.prompts),
    "Version": [p.version for p in cfg.prompts.values()],
    "Model": [cfg.model(p.model_preference).id for p in cfg.prompts.values()],
    "Output": [p.output for p in cfg.prompts.values()],
    "Max tokens": [p.max_tokens for p in cfg.prompts.values()],
    "Temperature": [p.temperature for p in cfg.prompts.values()],
}), hide_index=True)
with st.expander("prompts/prompts.yaml"):
    st.code(prompt_text(), language="yaml")
