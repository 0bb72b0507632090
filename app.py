"""Strategy Lab — the Streamlit entry point: ``streamlit run app.py``.

A router and a frame: page config, session state (initialised in one place,
:mod:`ui.state`), the shared sidebar, then ``st.navigation`` runs the chosen page from
``app_pages/``. The engine does the work; pages read state, call it and draw Plotly.

Why ``app_pages/`` and not ``pages/``: Streamlit treats a ``pages/`` folder beside the
entry point as a legacy multipage app until some session has called ``st.navigation``. The
first request after a server start that asks for a page URL directly (a reconnecting tab,
a bookmark) would then run that page file alone — no shell, no session defaults, the
legacy navigation — and AppTest's ``switch_page`` would do the same on every run.
"""

from __future__ import annotations

import streamlit as st

from engine.errors import StratLabError
from ui import components, state

st.set_page_config(
    page_title="Strategy Lab",
    page_icon=":material/query_stats:",
    layout="wide",
    initial_sidebar_state="expanded",
)
state.init_session_state()

# A page that just imported a dataset asks for it to become the active one; this must be
# applied before the sidebar's dataset picker is drawn.
if st.session_state.get("dataset_pending"):
    st.session_state["dataset"] = st.session_state.pop("dataset_pending")

page = st.navigation(
    [st.Page(nav.path, title=nav.title, icon=nav.icon, default=nav.key == "overview")
     for nav in components.NAV]
)

@st.cache_resource(show_spinner=False)
def _start_scheduler(database_url: str) -> bool:
    """Start the engine's one background scheduler once per process and database.

    Keyed by the database URL so a changed ``DATABASE_URL`` (or a test's own data
    directory) never reuses a scheduler bound to another job store; the engine shuts the
    old one down (engine.scheduler.get_scheduler).
    """
    import engine.evolution  # noqa: F401  (registers its start-up hook: dead runs → interrupted)
    from engine.llm import ensure_llm_jobs
    from engine.retrain import ensure_retrain_jobs
    from engine.scheduler import get_scheduler

    get_scheduler()
    ensure_llm_jobs()  # scores LLM decisions once their horizon has passed
    ensure_retrain_jobs()  # monitors deployed models against their deployment snapshot
    return True


try:
    from engine.config import get_settings

    _start_scheduler(get_settings().database_url)
except Exception as exc:  # background jobs are optional; the pages must still work
    st.sidebar.warning(f"Background scheduler not started: {exc}")

with st.sidebar:
    st.markdown("### :material/query_stats: Strategy Lab")
try:
    from engine.market import list_datasets

    st.session_state["datasets"] = list_datasets()
except StratLabError as exc:  # a broken catalogue must not take every page down
    st.session_state["datasets"] = []
    st.sidebar.error(str(exc))
components.sidebar(st.session_state["datasets"])

page.run()
