"""Model Registry: versions (filter, sort, edit), compare two, deploy, roll back, archive,
lineage graph, deployment history. Every action is an ``engine.registry`` call; errors are
shown with ``st.error`` (a tampered file is refused with its message, never a traceback)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from engine import registry
from ui import components, paper_add
from ui.components import error_line
from ui.formatting import fmt_pct
from ui.registry_charts import equity_overlay, lineage_figure
from ui.tables import readable

ss = st.session_state
ENVS = list(registry.ENVIRONMENTS)
SORTS = {"Newest": ("created_at", True), "Oldest": ("created_at", False),
         "Accuracy (high first)": ("accuracy", True), "Return (high first)": ("return_pct", True),
         "Sharpe (high first)": ("sharpe", True), "Type": ("model_type", False)}
NOTICE = "mr_notice"
for key, value in {"mr_type": "All", "mr_status": "Active", "mr_tag": "", "mr_search": "",
                   "mr_filter": "",
                   "mr_sort": "Newest", "mr_env": ENVS[0]}.items():
    ss.setdefault(key, value)


def _act(label: str, fn, *args, **kwargs) -> None:
    """Button callback: run an engine action, leave a notice for the next run of the page
    (``label`` is formatted with the action's result as ``out``)."""
    components.call_engine(NOTICE, fn, *args, ok=lambda out: label.format(out=out), **kwargs)


# -------------------------------------------------------------------------------- parts

def versions_table(infos: list[registry.ModelVersionInfo]) -> None:
    st.dataframe(readable(pl.DataFrame({
        "version_id": [i.version_id for i in infos],
        "Type": [i.model_type for i in infos],
        "Status": [i.status for i in infos],
        "Accuracy %": [pct100(i.accuracy) for i in infos],
        "Return %": [i.return_pct for i in infos],
        "Deployed": [", ".join(i.deployed_to) for i in infos],
        "Parent": [i.parent_version or "" for i in infos],
        "Created": [f"{i.created_at:%Y-%m-%d %H:%M}" for i in infos],
        "By": [i.created_by for i in infos],
        "Tags": [", ".join(i.tags) for i in infos],
        "Description": [i.description for i in infos],
    }, strict=False)), hide_index=True, width="stretch")


def pct100(v) -> float | None:
    """A share of 1 as a percent number for a table: accuracy reads as a percentage on
    every page of the app."""
    return None if v is None else round(100 * v, 2)


def snapshot_source(snap: dict) -> str:
    """Which data a deployment's accuracy and return come from: the newest window of its
    dataset (dates and bars) or, when that could not be evaluated, the training test period."""
    if snap.get("source") == "window":
        start, end = (str(snap.get(k) or "?")[:10] for k in ("window_start", "window_end"))
        bars = snap.get("window_bars") or snap.get("n")
        return f"on the window {start} → {end}" + (f" ({bars:,} bars)" if bars else "")
    if snap.get("source") == "training":
        why = " (the newest window could not be evaluated)" if snap.get("window_error") else ""
        return f"on the training test period{why}"
    return "as given at deployment"


def deployments_panel() -> None:
    cols = st.columns(len(ENVS))
    for col, env in zip(cols, ENVS, strict=True):
        with col:
            cur = registry.current_deployment(env)
            st.metric(f"{env.capitalize()}", cur.version_id if cur else "nothing deployed")
            if cur:
                snap = cur.performance_snapshot
                st.caption(f"since {cur.deployed_at:%Y-%m-%d %H:%M} · accuracy "
                           f"{fmt_pct(snap.get('accuracy'), fraction=True, digits=1)} · return "
                           f"{fmt_pct(snap.get('return_pct'), fraction=False)} "
                           f"{snapshot_source(snap)}")
                st.button(f"Roll back {env}", key=f"mr_rollback_{env}",
                          on_click=_act, args=("Rolled back: {out.environment} now runs "
                                               "{out.version_id}.", registry.rollback, env))


def version_tab(infos: list[registry.ModelVersionInfo]) -> None:
    ids = [i.version_id for i in infos]
    vid = st.selectbox("Version", ids, key="mr_version")
    if vid is None:
        return
    info = registry.get_version(vid)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Accuracy", fmt_pct(info.accuracy, fraction=True, digits=1),
              help="On the version's test period (its training run).")
    c2.metric("Return", fmt_pct(info.return_pct, fraction=False))
    c3.metric("Status", info.status)
    c4.metric("Deployed to", ", ".join(info.deployed_to) or "—")
    created = f"{info.created_at:%Y-%m-%d %H:%M}"
    st.caption(f"{info.model_name} · {info.model_type} · created {created} by "
               f"{info.created_by} · parent {info.parent_version or '—'} · "
               f"{info.file_size:,} bytes · SHA-256 {info.file_hash[:16]}…")
    st.code(info.file_path, language=None)

    with st.form(f"mr_edit_{vid}"):
        tags = st.text_input("Tags (comma-separated)", value=", ".join(info.tags),
                             key=f"mr_tags_{vid}")
        desc = st.text_area("Description", value=info.description, key=f"mr_desc_{vid}")
        if st.form_submit_button("Save tags and description"):
            _act("Saved {out.version_id}.", registry.update_version, vid,
                 tags=tags.split(","), description=desc)
            st.rerun()

    c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    env = c1.selectbox("Environment", ENVS, key="mr_env")
    c2.button("Deploy", key="mr_deploy_btn", type="primary", on_click=_act,
              args=("Deployed {out.version_id} to {out.environment}.", registry.deploy, vid,
                    env))
    c3.button("Verify file", key="mr_verify_btn", on_click=_act,
              args=("The file matches its SHA-256: {out}", registry.verify_file, vid))
    c4.button("Archive", key="mr_archive_btn", disabled=info.status == "ARCHIVED",
              on_click=_act, args=("Archived {out.version_id}.", registry.archive, vid))
    if env == "paper":  # the registry's paper environment is the paper-trading desk
        with st.expander("Add to a paper book as a sleeve", icon=":material/account_balance:",
                         expanded="paper" in info.deployed_to):
            paper_add.version_section(vid)
    with st.expander("Metrics and metadata"):
        st.json(info.performance_metrics, expanded=False)
        st.json({k: v for k, v in info.metadata.items() if k != "history"}, expanded=False)


def _metric_label(name: str) -> tuple[str, float]:
    """How a metric is shown: accuracies (shares of 1) in percent, the rest as stored."""
    return (f"{name} %", 100.0) if name.split(".")[-1].endswith("accuracy") else (name, 1.0)


def compare_tab(ids: list[str]) -> None:
    if len(ids) < 2:
        st.info("Compare needs at least two versions.")
        return
    if "mr_cmp" not in ss or not set(ss["mr_cmp"]) <= set(ids):
        ss["mr_cmp"] = ids[:2][::-1]
    picked = st.multiselect("Versions to compare (two or more)", ids, key="mr_cmp",
                            help="Pick any number of versions; the first is the reference "
                                 "of the equity chart.")
    if len(picked) < 2:
        st.info("Pick at least two versions.")
        return
    try:
        cmp = registry.compare_versions(picked)
    except Exception as exc:
        st.error(error_line(exc))
        return
    st.markdown("**Metrics** (Highest = the version with the largest value; blank on a tie)")
    rows = []
    for r in cmp["metrics"]:
        label, scale = _metric_label(r["name"])
        rows.append({"Metric": label, **{
            vid: None if v is None else round(v * scale, 6) for vid, v in r["values"].items()},
            "Highest": r["best"] or ""})
    st.dataframe(readable(pl.DataFrame(rows, infer_schema_length=None), default_digits=4),
                 hide_index=True, width="stretch", key="mr_cmp_metrics")
    only_diff = st.toggle("Only parameters that differ", value=True, key="mr_cmp_diff")
    params = [r for r in cmp["params"] if r["differs"] or not only_diff]
    st.markdown("**Parameters**")
    if params:
        st.dataframe(pl.DataFrame({"Parameter": [r["name"] for r in params], **{
            vid: ["—" if r["values"][vid] is None else str(r["values"][vid]) for r in params]
            for vid in picked}}), hide_index=True, width="stretch", key="mr_cmp_params")
    else:
        st.caption("Same configuration.")
    st.download_button("Download comparison (CSV)", registry.comparison_csv(cmp),
                       file_name="registry-comparison.csv", mime="text/csv",
                       key="mr_cmp_csv", icon=":material/download:")
    curves, names, notes = {}, {}, []
    for vid in picked[1:]:
        try:
            pair = registry.compare(picked[0], vid, recompute_equity=True)
        except Exception as exc:
            notes.append(f"{vid}: {error_line(exc)}")
            continue
        for key, who in (("a", picked[0]), ("b", vid)):
            if pair["equity"][key] is not None and who not in curves:
                curves[who], names[who] = pair["equity"][key], who
            if key in pair["equity_errors"] and who not in curves:
                notes.append(f"{who}: {pair['equity_errors'][key]}")
    if curves:
        st.plotly_chart(equity_overlay(curves, names), key="mr_cmp_equity")
    for note in dict.fromkeys(notes):
        st.warning(f"No equity curve for {note}")


def lineage_tab(ids: list[str]) -> None:
    vid = st.selectbox("Lineage of", ids, key="mr_lineage_of")
    if vid is None:
        return
    graph = registry.lineage(vid)
    st.plotly_chart(lineage_figure(graph), key="mr_lineage_chart")
    st.dataframe(pl.DataFrame({"Parent": [e["source"] for e in graph["edges"]],
                               "Child": [e["target"] for e in graph["edges"]],
                               "Relationship": [e["relationship"] for e in graph["edges"]]},
                              schema={"Parent": pl.String, "Child": pl.String,
                                      "Relationship": pl.String}),
                 hide_index=True, width="stretch")


def history_tab() -> None:
    deps = registry.deployments()
    if not deps:
        st.caption("No deployments yet.")
        return
    st.dataframe(readable(pl.DataFrame({
        "Deployed": [f"{d.deployed_at:%Y-%m-%d %H:%M:%S}" for d in deps],
        "Environment": [d.environment for d in deps],
        "version_id": [d.version_id for d in deps],
        "Status": [d.status for d in deps],
        "Accuracy at deploy %": [pct100(registry.finite_number(
            d.performance_snapshot.get("accuracy"))) for d in deps],
        "Return % at deploy": [registry.finite_number(d.performance_snapshot.get("return_pct"))
                               for d in deps],
    }, strict=False)), hide_index=True, width="stretch")


# ---------------------------------------------------------------------------------- page

st.title("Model Registry")
st.caption("Every trained model is a version with its file's SHA-256; deploy one to paper or "
           "production, roll back, compare, and follow its lineage.")
components.show_notice(NOTICE)

try:
    all_versions = registry.list_versions()
    deployments_panel()
except Exception as exc:
    st.error(error_line(exc))
    st.stop()

if not all_versions:
    st.info("No model versions yet: train one on **Neural Models** (or `python -m engine "
            "train`), and it appears here.")
    st.stop()

types = sorted({v.model_type for v in all_versions})
all_tags = sorted({t for v in all_versions for t in v.tags})
f1, f2, f3, f4, f5 = st.columns([1, 1, 1, 2, 1.4])
mtype = f1.selectbox("Type", ["All", *types], key="mr_type")
status = f2.selectbox("Status", ["All", "Active", "Archived"], key="mr_status")
if ss["mr_tag"] not in ["", *all_tags]:
    ss["mr_tag"] = ""
tag = f3.selectbox("Tag", ["", *all_tags], key="mr_tag", format_func=lambda t: t or "Any")
search = f4.text_input("Search", key="mr_search", placeholder="id, name, description, tag")
sort = f5.selectbox("Sort by", list(SORTS), key="mr_sort")
sort_key, desc = SORTS[sort]
shown = registry.list_versions(
    model_type=None if mtype == "All" else mtype,
    status=None if status == "All" else status.upper(), tag=tag or None,
    search=search or None, sort=sort_key, descending=desc)
flt = st.text_input("Filter by parameters and metrics", key="mr_filter",
                    placeholder="metrics.accuracy > 0.55 and params.horizon = 10",
                    help=f"Like the MLflow search box: {registry.FILTER_HELP}.")
if flt.strip():
    try:
        shown = registry.search_versions(flt, versions=shown)
    except Exception as exc:
        st.error(error_line(exc))
st.caption(f"{len(shown)} of {len(all_versions)} versions")
versions_table(shown)

tab_v, tab_c, tab_l, tab_h = st.tabs(["Version", "Compare", "Lineage", "Deployments"])
ids = [v.version_id for v in (shown or all_versions)]
with tab_v:
    try:
        version_tab(shown or all_versions)
    except Exception as exc:
        st.error(error_line(exc))
with tab_c:
    compare_tab(ids)
with tab_l:
    try:
        lineage_tab(ids)
    except Exception as exc:
        st.error(error_line(exc))
with tab_h:
    history_tab()
