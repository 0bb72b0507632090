"""Costs & Accuracy: LLM spend against the limits, cache savings, decision accuracy,
calibration, P&L and ROI on API cost; circuit breakers; the prompts file."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from engine.llm.client import breaker_states
from engine.llm.costs import cost_summary
from engine.llm.prompts import load_config, prompt_text
from engine.llm.tracking import accuracy_report, aggregate_daily, fill_outcomes


def pct(v) -> str:
    return "n/a" if v is None else f"{v:.0%}"


def bar(items: list[dict], x: str, y: str, title: str, *, fmt: str = ".2f") -> go.Figure:
    fig = go.Figure(go.Bar(x=[str(i[x]) for i in items], y=[i[y] or 0 for i in items],
                           texttemplate=f"%{{y:{fmt}}}"))
    fig.update_layout(title=title, height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


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
           f"{costs['refused']} calls refused by the budget; {costs['failed']} failed.")
if costs["by_day"]:
    fig = bar(costs["by_day"], "day", "cost_usd", "Spend per day (USD)", fmt=".4f")
    fig.add_hline(y=costs["daily_limit_usd"], line_dash="dash", line_color="#dc2626",
                  annotation_text="daily limit")
    st.plotly_chart(fig, key="ca_spend_day")
    c1, c2 = st.columns(2)
    c1.plotly_chart(bar(costs["by_model"], "model", "cost_usd", "Spend by model (USD)",
                        fmt=".4f"), key="ca_spend_model")
    c2.plotly_chart(bar(costs["by_prompt"], "prompt", "cost_usd", "Spend by prompt (USD)",
                        fmt=".4f"), key="ca_spend_prompt")
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
    days = [d for d in report["by_day"] if d["accuracy"] is not None]
    if days:
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=[d["date"] for d in days], y=[d["accuracy"] for d in days],
                                 mode="lines+markers", name="accuracy"))
        fig.add_trace(go.Scatter(x=[d["date"] for d in days], y=[d["win_rate"] for d in days],
                                 mode="markers", name="win rate"))
        fig.update_layout(title=f"Accuracy over time (by as-of date){OFF}", height=320,
                          yaxis={"tickformat": ".0%", "range": [0, 1]},
                          margin={"l": 10, "r": 10, "t": 40, "b": 10})
        st.plotly_chart(fig, key="ca_acc_time")
    c1, c2 = st.columns(2)
    c1.plotly_chart(bar(report["by_model"], "key", "accuracy", f"Accuracy by model{OFF}",
                        fmt=".0%"), key="ca_acc_model")
    c2.plotly_chart(bar(report["by_prompt_version"], "key", "accuracy",
                        f"Accuracy by prompt version{OFF}", fmt=".0%"), key="ca_acc_prompt")
    c3, c4 = st.columns(2)
    c3.plotly_chart(bar(report["by_regime"], "key", "accuracy",
                        f"Accuracy by market regime{OFF}", fmt=".0%"), key="ca_acc_regime")
    cal = [c for c in report["calibration"] if c["hit_rate"] is not None]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 1], mode="lines", name="perfect",
                             line={"dash": "dash", "color": "#94a3b8"}))
    fig.add_trace(go.Scatter(x=[c["mean_confidence"] for c in cal],
                             y=[c["hit_rate"] for c in cal], mode="lines+markers+text",
                             text=[f"n={c['scored']}" for c in cal], textposition="top center",
                             name="observed"))
    fig.update_layout(title=f"Calibration: is 80 % confidence right 80 % of the time?{OFF}",
                      xaxis_title="confidence", yaxis_title="hit rate", height=320,
                      yaxis={"tickformat": ".0%", "range": [0, 1.05]},
                      margin={"l": 10, "r": 10, "t": 40, "b": 10})
    c4.plotly_chart(fig, key="ca_calibration")
    st.dataframe(pl.DataFrame([{k: g[k] for k in ("key", "decisions", "scored", "accuracy",
                                                   "followed", "win_rate", "pnl_usd",
                                                   "api_cost_usd")}
                               for g in report["by_confidence"]]).rename(
        {"key": "confidence bucket"}), hide_index=True)

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
