"""Auto-Retrain: the retrain policy, each deployed model against its deployment snapshot,
the retrain queue and history, and **Retrain now** (a background job on the shared
scheduler). Every action is an ``engine.retrain`` call; errors are shown with ``st.error``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import streamlit as st

from engine import registry, retrain
from ui import components
from ui.components import error_line
from ui.system import trigger_words
from ui.tables import readable

ss = st.session_state
NOTICE = "ar_notice"
POLL_SECONDS = 2.0
for key, value in {"ar_status": None, "ar_jobs_ready": False}.items():
    ss.setdefault(key, value)

#: policy field → (label, help, kind)
FIELDS: dict[str, tuple[str, str, str]] = {
    "accuracy_threshold": ("Accuracy drop that triggers, points (RETRAIN_THRESHOLD)",
                           "Drop of accuracy from the deployment snapshot in percentage "
                           "points (5 = 55 % → 50 %; RETRAIN_THRESHOLD holds it as a share "
                           "of 1, 0.05); a drop exactly at the threshold fires.", "points"),
    "return_threshold_pct": ("Return drop that triggers, points",
                             "Drop of the strategy return (percentage points) on the window.",
                             "float"),
    "interval_hours": ("Retrain interval, hours (RETRAIN_INTERVAL_HOURS)",
                       "Retrain at least this often, counted from the last training or "
                       "retrain attempt.", "float"),
    "performance_window_days": ("Performance window, days (PERFORMANCE_WINDOW_DAYS)",
                                "The newest days monitored, and held out from a retrain.",
                                "float"),
    "min_window_bars": ("Window at least, bars",
                        "The window is extended to at least this many bars.", "int"),
    "min_data_points": ("Fewest training bars (MIN_DATA_POINTS)",
                        "A retrain with fewer bars before the window fails.", "int"),
    "monitor_interval_minutes": ("Check every, minutes",
                                 "How often the background monitoring job runs.", "int"),
}


# ----------------------------------------------------------------------------- callbacks

def _retrain_now(version_id: str) -> None:
    components.call_engine(
        NOTICE, retrain.schedule_retrain, version_id, "manual",
        ok=lambda rec: f"Retrain of {version_id} queued (record #{rec.id}); it runs in the "
                       "background — the queue below updates.")


def _reset_policy_and_jobs() -> None:
    retrain.reset_policy()
    retrain.ensure_retrain_jobs()


def _reset_policy() -> None:
    components.call_engine(NOTICE, _reset_policy_and_jobs,
                           ok="Policy reset to the environment / seed defaults.")
    for name in FIELDS:
        ss.pop(f"ar_p_{name}", None)
    ss.pop("ar_p_auto_retrain", None)


def _save_policy(values: dict[str, Any]) -> None:
    retrain.save_policy(values)
    retrain.ensure_retrain_jobs()


def check_summary(statuses: list[dict[str, Any]], at: datetime) -> str:
    """What *Check now* found, with when it ran: "Checked at 21:04:05 UTC: 2 deployed
    models; triggers fired for paper · lstm-… (accuracy)." """
    head = f"Checked at {at:%H:%M:%S} UTC: "
    if not statuses:
        return head + "no deployed model to check."
    n = len(statuses)
    fired = [f"{s['environment']} · {s['version_id']} ({', '.join(s['triggers'])})"
             for s in statuses if s["triggers"]]
    broken = [f"{s['environment']} · {s['version_id']}" for s in statuses if s["error"]]
    parts = [f"{n} deployed model{'s' if n != 1 else ''}"]
    parts.append(f"triggers fired for {'; '.join(fired)}" if fired else "no trigger fired")
    if broken:
        parts.append(f"could not evaluate {', '.join(broken)}")
    return head + "; ".join(parts) + "."


def _run_check(announce: bool = True) -> None:
    statuses = components.call_engine(NOTICE, retrain.check)
    if statuses is not None:
        ss["ar_status"] = [s.to_dict() for s in statuses]
        if announce:
            components.set_notice(NOTICE, "info",
                                  check_summary(ss["ar_status"], datetime.now(UTC)))


# ---------------------------------------------------------------------------------- parts

def policy_form(policy: retrain.RetrainPolicy) -> None:
    with st.form("ar_policy"):
        cols = st.columns(4)
        values: dict[str, Any] = {}
        for i, (name, (label, help_, kind)) in enumerate(FIELDS.items()):
            current = getattr(policy, name)
            with cols[i % 4]:
                if kind == "points":  # a share of 1 shown and typed in percent points
                    values[name] = st.number_input(label, min_value=0.0, max_value=100.0,
                                                   value=round(100 * float(current), 6),
                                                   step=0.5, format="%.4g",
                                                   key=f"ar_p_{name}", help=help_) / 100
                elif kind == "int":
                    values[name] = st.number_input(label, min_value=1, step=1,
                                                   value=int(current), key=f"ar_p_{name}",
                                                   help=help_)
                else:
                    values[name] = st.number_input(label, min_value=0.0, value=float(current),
                                                   step=0.01 if current < 1 else 1.0,
                                                   format="%.4g", key=f"ar_p_{name}",
                                                   help=help_)
        values["auto_retrain"] = st.checkbox(
            "Retrain automatically when a trigger fires", value=policy.auto_retrain,
            key="ar_p_auto_retrain", help="Off: the monitor only reports.")
        if st.form_submit_button("Save policy", type="primary"):
            components.call_engine(NOTICE, _save_policy, values, ok="Policy saved.")
            st.rerun()
    st.button("Reset to defaults", key="ar_reset_btn", on_click=_reset_policy)


def monitoring(statuses: list[dict[str, Any]]) -> None:
    if not statuses:
        st.info("No deployed models: deploy a version on **Model Registry** to monitor it.")
        return
    st.dataframe(readable(status_frame(statuses)), hide_index=True, width="stretch")
    for s in statuses:
        if s["error"]:
            st.error(f"{s['environment']} · {s['version_id']}: {s['error']}")
    st.caption("Live = the newest window ("
               + ", ".join(sorted({f"{s['window'].get('window_start', '?')[:10]} → "
                                   f"{s['window'].get('window_end', '?')[:10]}"
                                   for s in statuses if s["window"]}) or "n/a")
               + "); a drop at or above its threshold fires.")


def _pct(v: Any) -> float | None:
    """An accuracy (a share of 1) as percent for a table: one convention across the app."""
    return None if v is None else round(100 * v, 2)


def status_frame(statuses: list[dict[str, Any]]) -> pl.DataFrame:
    """The monitoring table: what fired first (Triggers is the third column, visible without
    scrolling sideways), accuracies in percent like every other page."""
    return pl.DataFrame({
        "Environment": [s["environment"] for s in statuses],
        "version_id": [s["version_id"] for s in statuses],
        "Triggers": [", ".join(s["triggers"]) or "—" for s in statuses],
        "Accuracy at deploy %": [_pct(s["snapshot_accuracy"]) for s in statuses],
        "Accuracy now %": [_pct(s["live_accuracy"]) for s in statuses],
        "Accuracy drop, points": [_pct(s["accuracy_drop"]) for s in statuses],
        "Return % at deploy": [s["snapshot_return_pct"] for s in statuses],
        "Return % now": [s["live_return_pct"] for s in statuses],
        "Return drop": [s["return_drop"] for s in statuses],
        "Hours since training": [s["hours_since_training"] for s in statuses],
        "Retraining": [s["retrain_running"] for s in statuses],
        "Problem": [s["error"] for s in statuses],
    }, strict=False)


def retrain_button(statuses: list[dict[str, Any]]) -> None:
    deployed = list(dict.fromkeys(s["version_id"] for s in statuses))
    others = [v.version_id for v in registry.list_versions(status="ACTIVE")
              if v.version_id not in deployed]
    options = deployed + others
    if not options:
        return
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    vid = c1.selectbox("Version to retrain", options, key="ar_version",
                       format_func=lambda v: f"{v} (deployed)" if v in deployed else v)
    c2.button("Retrain now", key="ar_retrain_btn", type="primary", on_click=_retrain_now,
              args=(vid,))


def _records_frame(records: list) -> pl.DataFrame:
    def hold(r, side: str, key: str):
        return ((getattr(r, side) or {}).get("holdout") or {}).get(key)

    return pl.DataFrame({
        "#": [r.id for r in records],
        "When": [f"{(r.finished_at or r.created_at):%Y-%m-%d %H:%M}" for r in records],
        "Status": [r.status for r in records],
        "Trigger": [r.trigger for r in records],
        "Version": [r.version_id for r in records],
        "New version": [r.new_version_id or "" for r in records],
        "Old accuracy %": [_pct(hold(r, "old_metrics", "accuracy")) for r in records],
        "New accuracy %": [_pct(hold(r, "new_metrics", "accuracy")) for r in records],
        "Old return %": [hold(r, "old_metrics", "return_pct") for r in records],
        "New return %": [hold(r, "new_metrics", "return_pct") for r in records],
        "Decision": [r.decision for r in records],
        "Reason / error": [r.error or r.reason for r in records],
    }, strict=False)


def _poll() -> float | None:
    """Poll while something is queued or running; stop when the queue is empty."""
    try:
        return POLL_SECONDS if retrain.queue() else None
    except Exception:
        return None


def queue_and_history() -> None:
    """The queue and the history, redrawn every POLL_SECONDS while a retrain is queued or
    running (the fragment); when the queue empties the whole page is drawn again, so the
    finished record, the monitoring table and the version lists show it and polling stops."""
    q = retrain.queue()
    was_busy = ss.get("ar_busy", False)
    ss["ar_busy"] = bool(q)
    if was_busy and not q:
        ss["ar_status"] = None  # monitoring re-checked: a retrain may have deployed
        st.rerun()  # the job ended: redraw everything with the new record, stop polling
    st.subheader("Queue")
    if not q:
        st.caption("The retrain queue is empty.")
    else:
        st.dataframe(pl.DataFrame({
            "#": [r.id for r in q], "Status": [r.status for r in q],
            "Version": [r.version_id for r in q], "Trigger": [r.trigger for r in q],
            "Queued": [f"{r.created_at:%Y-%m-%d %H:%M:%S}" for r in q],
            "Started": [f"{r.started_at:%H:%M:%S}" if r.started_at else "" for r in q],
        }), hide_index=True, width="stretch")
        st.caption(f"Refreshing every {POLL_SECONDS:.0f} s until the queue is empty.")
    st.subheader("History")
    h = retrain.history(limit=100)
    if not h:
        st.caption("No retrains yet.")
        return
    st.dataframe(readable(_records_frame(h)), hide_index=True, width="stretch")


def job_panel() -> None:
    try:
        if not ss["ar_jobs_ready"]:
            retrain.ensure_retrain_jobs()
            ss["ar_jobs_ready"] = True
        info = retrain.monitor_job_info()
    except Exception as exc:
        st.warning(f"The background monitoring job is not available: {error_line(exc)}")
        return
    if info is None:
        st.caption("The monitoring job is not scheduled.")
        return
    nxt = info["next_run_time"]
    last = info["last_status"] or "never ran"
    st.caption(f"Background monitoring ({trigger_words(info['trigger'])}): next check "
               f"{nxt:%Y-%m-%d %H:%M} UTC · last run: {last}" if nxt else
               f"Background monitoring is paused · last run: {last}")


# ---------------------------------------------------------------------------------- page

st.title("Auto-Retrain")
st.caption("Deployed models are checked on the newest data; when accuracy or return drops by "
           "the thresholds (or the interval passes) they are retrained, and the new version "
           "is deployed only if it beats the deployed one on a held-out recent window.")
components.show_notice(NOTICE)

try:
    policy = retrain.get_policy()
except Exception as exc:  # a bad environment variable, for example
    st.error(error_line(exc))
    policy = None

st.subheader("Policy")
if policy is not None:
    policy_form(policy)
job_panel()

st.subheader("Monitoring")
c1, _ = st.columns([1, 4])
c1.button("Check now", key="ar_check_btn", on_click=_run_check)
if ss["ar_status"] is None:
    _run_check(announce=False)
statuses = ss["ar_status"] or []
monitoring(statuses)
try:
    retrain_button(statuses)
except Exception as exc:
    st.error(error_line(exc))

ss["ar_busy"] = bool(_poll())
st.fragment(queue_and_history, run_every=_poll())()
