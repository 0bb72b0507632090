"""Model Registry: versions (filter, sort, edit), compare two, deploy, roll back, archive,
lineage graph, deployment history. Every action is an ``engine.registry`` call; errors are
shown with ``st.error`` (a tampered file is refused with its message, never a traceback)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from engine import registry
from ui import components
from ui.components import error_line
from ui.formatting import fmt_num, fmt_pct
from ui.registry_charts import equity_overlay, lineage_figure

ss = st.session_state
ENVS = list(registry.ENVIRONMENTS)
SORTS = {"Newest": ("created_at", True), "Oldest": ("created_at", False),
         "Accuracy (high first)": ("accuracy", True), "Return (high first)": ("return_pct", True),
         "Sharpe (high first)": ("sharpe", True), "Type": ("model_type", False)}
NOTICE = "mr_notice"
for key, value in {"mr_type": "All", "mr_status": "Active", "mr_tag": "", "mr_search": "",
                   "mr_sort": "Newest", "mr_env": ENVS[0]}.items():
    ss.setdefault(key, value)


def _act(label: str, fn, *args, **kwargs) -> None:
    """Button callback: run an engine action, leave a notice for the next run of the page
    (``label`` is formatted with the action's result as ``out``)."""
    components.call_engine(NOTICE, fn, *args, ok=lambda out: label.format(out=out), **kwargs)


# -------------------------------------------------------------------------------- parts

def versions_table(infos: list[registry.ModelVersionInfo]) -> None:
    st.dataframe(pl.DataFrame({
        "version_id": [i.version_id for i in infos],
        "Type": [i.model_type for i in infos],
        "Status": [i.status for i in infos],
        "Accuracy": [i.accuracy for i in infos],
        "Return %": [i.return_pct for i in infos],
        "Deployed": [", ".join(i.deployed_to) for i in infos],
        "Parent": [i.parent_version or "" for i in infos],
        "Created": [f"{i.created_at:%Y-%m-%d %H:%M}" for i in infos],
        "By": [i.created_by for i in infos],
        "Tags": [", ".join(i.tags) for i in infos],
        "Description": [i.description for i in infos],
    }), hide_index=True, width="stretch")


def deployments_panel() -> None:
    cols = st.columns(len(ENVS))
    for col, env in zip(cols, ENVS, strict=True):
        with col:
            cur = registry.current_deployment(env)
            st.metric(f"{env.capitalize()}", cur.version_id if cur else "nothing deployed")
            if cur:
                snap = cur.performance_snapshot
                st.caption(f"since {cur.deployed_at:%Y-%m-%d %H:%M} · accuracy "
                           f"{fmt_num(snap.get('accuracy'))} · return "
                           f"{fmt_pct(snap.get('return_pct'), fraction=False)}")
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
    c1.metric("Accuracy", fmt_num(info.accuracy))
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
    with st.expander("Metrics and metadata"):
        st.json(info.performance_metrics, expanded=False)
        st.json({k: v for k, v in info.metadata.items() if k != "history"}, expanded=False)


def compare_tab(ids: list[str]) -> None:
    if len(ids) < 2:
        st.info("Compare needs at least two versions.")
        return
    c1, c2 = st.columns(2)
    a = c1.selectbox("Version A", ids, index=min(1, len(ids) - 1), key="mr_cmp_a")
    b = c2.selectbox("Version B", ids, index=0, key="mr_cmp_b")
    if a == b:
        st.info("Pick two different versions.")
        return
    try:
        cmp = registry.compare(a, b, recompute_equity=True)
    except Exception as exc:
        st.error(error_line(exc))
        return
    st.dataframe(pl.DataFrame({"Metric": [r["metric"] for r in cmp["metrics"]],
                               "A": [r["a"] for r in cmp["metrics"]],
                               "B": [r["b"] for r in cmp["metrics"]],
                               "B − A": [r["diff"] for r in cmp["metrics"]]}),
                 hide_index=True, width="stretch")
    if any(cmp["equity"].values()):
        st.plotly_chart(equity_overlay(cmp["equity"], {"a": f"A · {a}", "b": f"B · {b}"}),
                        key="mr_cmp_equity")
        st.caption(" · ".join(f"{k.upper()}: {v}" for k, v in cmp["equity_source"].items()))
    for key, err in cmp["equity_errors"].items():
        st.warning(f"No equity curve for {key.upper()}: {err}")
    st.markdown("**Configuration differences**")
    if cmp["config_diff"]:
        st.dataframe(pl.DataFrame({"Setting": [d["key"] for d in cmp["config_diff"]],
                                   "A": [str(d["a"]) for d in cmp["config_diff"]],
                                   "B": [str(d["b"]) for d in cmp["config_diff"]]}),
                     hide_index=True, width="stretch")
    else:
        st.caption("Same configuration.")


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
    st.dataframe(pl.DataFrame({
        "Deployed": [f"{d.deployed_at:%Y-%m-%d %H:%M:%S}" for d in deps],
        "Environment": [d.environment for d in deps],
        "version_id": [d.version_id for d in deps],
        "Status": [d.status for d in deps],
        "Accuracy at deploy": [registry.finite_number(d.performance_snapshot.get("accuracy"))
                               for d in deps],
        "Return % at deploy": [registry.finite_number(d.performance_snapshot.get("return_pct"))
                               for d in deps],
    }), hide_index=True, width="stretch")


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
