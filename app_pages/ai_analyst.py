"""AI Analyst: analyse a symbol (single or consensus), screen many, replay over history.

Thin page: it reads the key (Streamlit secrets or the environment — never shown), calls
``engine.llm.analyst`` and draws the result. Without a key everything runs on the offline
analyst, and every card and chart says "offline".
"""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from engine.config import get_settings
from engine.errors import StratLabError
from engine.llm import analyze, estimate_replay, replay, screen
from engine.market import list_datasets, load_dataset
from ui import llm_charts, llm_lookahead, paper_add
from ui.llm_charts import offline_tag
from ui.state import active_dataset
from ui.tables import readable


def api_key() -> str | None:
    """ANTHROPIC_API_KEY from Streamlit secrets, else the environment (never displayed)."""
    try:
        key = st.secrets.get("ANTHROPIC_API_KEY")
    except Exception:  # no secrets file
        key = None
    return key or get_settings().llm.api_key()


st.title("AI Analyst")
KEY = api_key()
infos = st.session_state.get("datasets") or list_datasets()
symbols = [i.symbol for i in infos]
by_symbol = {i.symbol: i for i in infos}
if not symbols:
    st.warning("No datasets yet: import one on **Market Data** first.")
    st.stop()

c1, c2 = st.columns([3, 2])
providers = ["offline", "anthropic"] if KEY else ["offline"]
provider = c2.selectbox(
    "Analyst", providers, key="ai_provider",
    format_func=lambda p: "Claude (API key set)" if p == "anthropic" else "Offline analyst",
    help="Claude needs ANTHROPIC_API_KEY in the environment or Streamlit secrets; the offline "
         "analyst is deterministic, rule-based and free.")
if provider == "offline":
    c1.info("**Offline analyst** — deterministic rules on indicators and the market regime, "
            "same JSON as Claude, zero cost. Every result below is labelled *offline*."
            + ("" if KEY else " Set ANTHROPIC_API_KEY to use Claude."),
            icon=":material/cloud_off:")
else:
    c1.success("**Claude** — calls are costed, capped by the daily and monthly budget, and "
               "cached for 5 minutes.", icon=":material/cloud_done:")


def _level(d: dict, key: str) -> str:
    v = d.get(key)
    return "—" if v is None else f"{v:,.2f}"


def prompt_line(doc: dict) -> str:
    """Which prompts (and versions) made the final decision: "consensus of master_analyst v3,
    momentum_catalyst v2" — never a bare "consensus v"."""
    analyses = doc.get("analyses") or []
    if not doc.get("consensus"):
        a = analyses[0] if analyses else {}
        return f"{a.get('prompt', '')} v{a.get('prompt_version', '?')}"
    members = dict.fromkeys(f"{a['prompt']} v{a['prompt_version']}" for a in analyses
                            if a.get("output") and "decision" in a["output"])
    return "consensus of " + (", ".join(members) or "no valid analysis")


def decision_card(title: str, d: dict, meta: dict, offline: bool, *,
                  compact: bool = False) -> None:
    """One decision. ``compact`` (the per-model cards, side by side) writes the numbers as
    wrapping text instead of metric tiles, so no number is cut to "8…"."""
    with st.container(border=True):
        tag = " :gray-badge[offline]" if offline else ""
        color = {"BUY": "green", "SELL": "red"}.get(d["decision"], "gray")
        st.markdown(f"**{title}**{tag} — :{color}[{d['decision']}]")
        levels = (("Confidence", f"{d['confidence']:.0f}"), ("Entry", _level(d, "entry_price")),
                  ("Stop", _level(d, "stop_loss")), ("Target", _level(d, "take_profit")))
        if compact:
            st.markdown("  \n".join(f"{k}: **{v}**" for k, v in levels))
        else:
            m = st.columns(4)
            for col, (k, v) in zip(m, levels, strict=True):
                col.metric(k, v)
        rr = d.get("risk_reward_ratio")
        st.caption(f"Risk/reward {'—' if rr is None else f'{rr:.2f}'} · size "
                   f"{d.get('position_size_suggestion', 0):.3f} · {d.get('timeframe')} · "
                   f"{meta.get('model', '')} · {meta.get('prompt', '')}")
        st.write(d.get("reasoning", ""))
        if d.get("key_risks"):
            st.caption("Key risks: " + "; ".join(d["key_risks"]))


def cost_table(doc: dict) -> None:
    rows = doc.get("analyses") or []
    if not rows:
        return
    st.dataframe(pl.DataFrame({
        "Prompt": [r["prompt"] for r in rows],
        "Model": [r["model"] for r in rows],
        "Provider": [r["provider"] for r in rows],
        "Status": [r["status"] for r in rows],
        "Tokens in": [r["input_tokens"] for r in rows],
        "Tokens out": [r["output_tokens"] for r in rows],
        "Cache read": [r["cache_read_tokens"] for r in rows],
        "Cached reply": [r["cached"] for r in rows],
        "Cost $": [r["cost_usd"] for r in rows],
    }), hide_index=True)


def follow_active(key: str) -> None:
    """Point the picker ``key`` at the sidebar's active dataset whenever that changes (and
    at first sight); a pick made here stays until the sidebar changes again."""
    active = active_dataset()
    if active not in symbols:
        active = symbols[0]
    if st.session_state.get(f"{key}_follows") != active or (
            st.session_state.get(key) not in symbols):
        st.session_state[key] = active
        st.session_state[f"{key}_follows"] = active


with st.expander("Trade the analyst in a paper book", icon=":material/account_balance:"):
    paper_add.analyst_section(provider)  # asked every N bars per symbol, under the book's limits

tab_an, tab_sc, tab_rp = st.tabs(["Analyse", "Screen", "Replay"])

# ------------------------------------------------------------------------------ analyse
with tab_an:
    a1, a2, a3 = st.columns([2, 2, 2])
    follow_active("ai_symbol")
    sym = a1.selectbox("Symbol", symbols, key="ai_symbol",
                       help="Follows the sidebar's dataset; pick another to analyse it.")
    info = by_symbol[sym]
    last = info.end.date() if info.end else date.today()
    if st.session_state.get("ai_asof_for") != sym:
        st.session_state["ai_asof"] = last
        st.session_state["ai_asof_for"] = sym
    as_of = a2.date_input("As of", key="ai_asof",
                          min_value=info.start.date() if info.start else None, max_value=last)
    mode = a3.radio("Mode", ["Single analysis", "Consensus"], key="ai_mode", horizontal=True,
                    help="Consensus: several models and prompts vote, a contrarian objects.")
    blind = st.toggle(
        "Blind analysis", key="ai_blind",
        help="A look-ahead control: the model is shown no symbol and no dates, and prices "
             "rebased to 100 at the first bar of its snapshot (returns, ratios and "
             "oscillators unchanged), so it cannot recall what followed. The levels it answers "
             "with are mapped back to real prices before they are checked and recorded.")
    if st.button("Analyse", key="ai_analyze_btn", type="primary"):
        try:
            with st.spinner("Analysing…"):
                st.session_state["ai_result"] = analyze(
                    sym, as_of, consensus=mode == "Consensus", provider=provider, api_key=KEY,
                    blind=blind)
        except StratLabError as exc:
            st.session_state["ai_result"] = None
            st.error(str(exc))
    doc = st.session_state.get("ai_result")
    if doc:
        off = doc["provider"] == "offline"
        st.subheader(f"{doc['symbol']} as of {doc['as_of'][:10]}{offline_tag(doc)}")
        if doc.get("blind"):
            st.caption(":violet-badge[blind] The model saw no symbol, no dates and prices "
                       "rebased to 100; the levels below are mapped back to real prices.")
        if doc.get("in_training_window"):
            st.warning(f"As of {doc['as_of'][:10]} is inside the training window of "
                       f"{', '.join(doc['models'])} (cutoff {doc['training_cutoff']}): the "
                       "model may know what happened next. Treat this decision as "
                       "illustration, not evidence — a blind analysis is the fairer test.",
                       icon=":material/history_toggle_off:")
        if doc.get("error"):
            st.warning(f"No decision: {doc['error']} (nothing was invented).")
        # short values only in metric tiles (a tile cuts what does not fit: "high_vol…");
        # the regime, a long word, is a line of text
        m = st.columns(4)
        m[0].metric("Decision", (doc["decision"] or {}).get("decision", "none"))
        m[1].metric("Signal", doc.get("signal") or "none")
        m[2].metric("Cost", f"${doc['cost_usd']:.4f}")
        m[3].metric("Cached replies", f"{doc.get('cache_hits', 0)}/{len(doc['analyses'])}")
        st.markdown(f"Market regime (rule-based): **{doc['regime'].replace('_', ' ')}**")
        risk = doc["risk"]
        if doc["decision"]:
            (st.success if doc["actionable"] else st.info)(
                ("**Actionable** — " if doc["actionable"] else "**Not actionable** — ")
                + f"risk check {'approved' if risk['approved'] else 'rejected'}: "
                + "; ".join(risk["reasons"]))
        if doc.get("consensus"):
            c = doc["consensus"]
            st.markdown(f"**Consensus** — agreement {c['agreement']:.0%} of "
                        f"{c['n_models']} analyses; confidence {c['raw_confidence']:.0f} − "
                        f"contrarian {c['penalty']:.0f} → {c['decision']['confidence']:.0f}"
                        f"{' · offline' if off else ''}")
            if c.get("note"):
                st.caption(f"Note: {c['note']}.")
        if doc["decision"]:
            decision_card("Final decision", doc["decision"],
                          {"model": ", ".join(doc["models"]), "prompt": prompt_line(doc)}, off)
            st.plotly_chart(llm_charts.decision_chart(load_dataset(doc["symbol"]), doc,
                                                      doc["symbol"]), key="ai_chart")
        cards = [a for a in doc["analyses"] if a["output"] and "decision" in a["output"]]
        if doc.get("consensus") and cards:
            st.markdown("**Each model's decision**")
            cols = st.columns(min(3, len(cards)))
            for i, a in enumerate(cards):
                with cols[i % len(cols)]:
                    decision_card(f"{a['prompt']} · {a['model']}", a["output"],
                                  {**a, "prompt": f"{a['prompt']} v{a['prompt_version']}"},
                                  off, compact=True)
        if doc.get("contrarian"):
            crit = doc["contrarian"].get("critique") or {}
            with st.container(border=True):
                st.markdown(f"**Contrarian's objections**{' :gray-badge[offline]' if off else ''}"
                            f" — penalty {crit.get('confidence_penalty', 0):.0f}")
                for o in crit.get("objections") or ["no objections"]:
                    st.write(f"- {o}")
        if doc.get("risk_view") and doc["risk_view"].get("output"):
            rv = doc["risk_view"]["output"]
            st.caption(f"Risk assessment{offline_tag(doc)}: score {rv['risk_score']:.0f}/100, "
                       f"max size {rv['max_position_size']:.3f}; "
                       + "; ".join(rv["concerns"]))
        if doc.get("regime_view") and doc["regime_view"].get("output"):
            gv = doc["regime_view"]["output"]
            st.caption(f"Regime view{offline_tag(doc)}: {gv['regime']} "
                       f"({gv['confidence']:.0f}) — {gv['reasoning']}")
        st.markdown("**What it cost**")
        cost_table(doc)
        with st.expander("What the model was shown"):
            st.code(doc.get("prompt_context") or "", language="text")

# ------------------------------------------------------------------------------- screen
with tab_sc:
    picks = st.multiselect("Symbols to screen", symbols, default=symbols, key="ai_screen_syms")
    s1, s2 = st.columns(2)
    use_batch = s1.checkbox("Batch (half price, results within minutes to hours)",
                            key="ai_screen_batch", disabled=provider == "offline")
    escalate = s2.checkbox("Escalate promising symbols (Haiku → Sonnet → Opus)", value=True,
                           key="ai_screen_escalate")
    if st.button("Screen", key="ai_screen_btn", disabled=not picks):
        bar = st.progress(0.0, text="Screening…")
        try:
            st.session_state["ai_screen"] = screen(
                picks, provider=provider, api_key=KEY, batch=use_batch, escalate=escalate,
                on_progress=lambda d, t, m="": bar.progress(min(1.0, d / max(t, 1)), text=m))
        except StratLabError as exc:
            st.error(str(exc))
        bar.empty()
    rows = st.session_state.get("ai_screen")
    if rows:
        off = rows[0]["provider"] == "offline"
        st.markdown(f"**Ranked screen**{' · offline' if off else ''}")
        st.dataframe(readable(pl.DataFrame({
            "Rank": [r["rank"] for r in rows], "Symbol": [r["symbol"] for r in rows],
            "As of": [(r.get("as_of") or "")[:10] or "—" for r in rows],
            "Decision": ["refused" if r["error"] and not r["decision"]
                         else r["decision"] or "—" for r in rows],
            "Confidence": [r["confidence"] for r in rows],
            "Tier": [r["tier"] or "—" for r in rows],
            "Actionable": [r["actionable"] for r in rows],
            "Models": [", ".join(r["models"]) for r in rows],
            "Cost $": [r["cost_usd"] for r in rows],
            "Note": [r["error"] or "" for r in rows],
        }, strict=False), digits={"Confidence": 1, "Cost $": 4}), hide_index=True)
        st.caption("As of = the last bar read for that symbol (datasets can end on different "
                   "dates); a refused symbol's reason is in Note.")

# ------------------------------------------------------------------------------- replay
with tab_rp:
    r1, r2, r3, r4 = st.columns(4)
    follow_active("ai_rp_symbol")
    rsym = r1.selectbox("Symbol", symbols, key="ai_rp_symbol",
                        help="Follows the sidebar's dataset; pick another to replay it.")
    rinfo = by_symbol[rsym]
    lo = rinfo.start.date() if rinfo.start else date(2000, 1, 1)
    hi = rinfo.end.date() if rinfo.end else date.today()
    if st.session_state.get("ai_rp_for") != rsym:
        st.session_state["ai_rp_start"] = max(lo, date(hi.year - 1, hi.month, 1))
        st.session_state["ai_rp_end"] = hi
        st.session_state["ai_rp_for"] = rsym
    start = r2.date_input("Start", key="ai_rp_start", min_value=lo, max_value=hi)
    end = r3.date_input("End", key="ai_rp_end", min_value=lo, max_value=hi)
    every = r4.number_input("One decision every N bars", 1, 250, 10, key="ai_rp_every")
    rcons = st.checkbox("Consensus at each date", key="ai_rp_consensus")
    if st.session_state.get("ai_rp_blind_for") != provider:  # blind by default on Claude
        st.session_state["ai_rp_blind"] = provider == "anthropic"
        st.session_state["ai_rp_blind_for"] = provider
    q1, q2 = st.columns(2)
    rblind = q1.toggle("Blind replay", key="ai_rp_blind",
                       help="No symbol, no dates, prices rebased to 100 (the default on "
                            "Claude): the model cannot answer from memory of what followed.")
    rpaired = q2.checkbox("Paired: a named and a blind decision for every date",
                          key="ai_rp_paired",
                          help="Their agreement and accuracy gap (named − blind) show how "
                               "much the name and the dates help — memorisation.")
    try:
        est = estimate_replay(rsym, start, end, int(every), consensus=rcons,
                              provider=provider, api_key=KEY, blind=rblind, paired=rpaired)
    except StratLabError as exc:
        est = None
        st.error(str(exc))
    if est:
        st.info(f"Estimate before starting: **{est['n_decisions']} decisions**, "
                f"{est['calls']} calls, up to **${est['max_cost_usd']:.4f}** "
                f"(expected ${est['expected_cost_usd']:.4f})"
                f"{' — offline, free' if est['provider'] == 'offline' else ''}; arms "
                f"{' + '.join(est['arms'])}"
                + (f", plus {est['control_decisions']} offline control decisions at no cost"
                   if est["control_decisions"] else "") + ".",
                icon=":material/calculate:")
        if est["lookahead_warning"]:
            st.warning(est["lookahead_warning"].capitalize() + ".",
                       icon=":material/history_toggle_off:")
        confirmed = True
        if est["provider"] != "offline":
            confirmed = st.checkbox(f"I accept a cost of up to ${est['max_cost_usd']:.4f}",
                                    key="ai_rp_confirm")
        if st.button("Run replay", key="ai_rp_btn", disabled=not confirmed):
            bar = st.progress(0.0, text="Replaying…")
            try:
                st.session_state["ai_replay"] = replay(
                    rsym, start, end, int(every), consensus=rcons, provider=provider,
                    blind=rblind, paired=rpaired,
                    api_key=KEY, max_cost_usd=est["max_cost_usd"] if est["provider"] != "offline"
                    else None,
                    on_progress=lambda d, t, m="": bar.progress(min(1.0, d / max(t, 1)), text=m))
            except StratLabError as exc:
                st.error(str(exc))
            bar.empty()
    res = st.session_state.get("ai_replay")
    if res:
        m = st.columns(4)
        m[0].metric("Decisions", res["n_decisions"])
        m[1].metric("Accuracy", "n/a" if res["accuracy"] is None else f"{res['accuracy']:.0%}")
        m[2].metric("Win rate", "n/a" if res["win_rate"] is None else f"{res['win_rate']:.0%}")
        m[3].metric("P&L of followed (USD)", f"{res['pnl_usd']:,.2f}")
        df = load_dataset(res["symbol"], start=res["start"], end=res["end"])
        fig = llm_charts.replay_chart(df, res["decisions"], res["symbol"],
                                      offline=bool(res["offline"]))
        st.plotly_chart(fig, key="ai_rp_chart")
        st.dataframe(readable(pl.DataFrame(res["decisions"], infer_schema_length=None).select(
            "as_of", "arm", "decision", "confidence", "actionable", "actual_outcome", "correct",
            "pnl_usd", "cost_usd"), digits={"cost_usd": 4}), hide_index=True)
        st.caption("pnl_usd is blank (—) for a decision that was not followed (HOLD, or not "
                   "actionable); correct is blank until its outcome is known.")
        st.markdown("**Look-ahead controls**")
        st.dataframe(readable(llm_lookahead.window_frame(res["training_window"]),
                              digits={"Accuracy %": 1, "Win rate %": 1, "P&L (USD)": 2}),
                     hide_index=True)
        if res.get("paired"):
            st.markdown(llm_lookahead.paired_line(res["paired"]))
        comp = res.get("comparison")
        if comp and comp["dates"]:
            k1, k2 = st.columns([3, 2])
            k1.dataframe(readable(llm_lookahead.arms_frame(comp),
                                  digits={"Accuracy %": 1, "Win rate %": 1, "P&L (USD)": 2}),
                         hide_index=True)
            k2.plotly_chart(llm_lookahead.arms_chart(comp), key="ai_rp_arms_chart")
            for line in llm_lookahead.significance_lines(comp["tests"]):
                st.markdown(line)
        st.markdown(llm_lookahead.uncertainty_line(res["uncertainty"]))
