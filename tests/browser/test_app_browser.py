"""The real app in a real browser: Debian's Chromium driven by Playwright.

Starts ``streamlit run app.py`` once (module fixture) on a free port with its own data
directory and visits every page in ``ui.components.NAV``; runs one backtest from the
Backtest page and checks its metrics appear, runs the default sweep (heatmap) and reopens
the saved run; creates a tiny evolution run on the Evolution page, presses **Evolve** and
waits for the live panel to report it finished; runs one offline analysis on AI Analyst (no
API key) and sees its decision card labelled offline; finds the evolution job on System.
No exception element on any page. One more test starts, stops and restarts its own server
exactly as a user does and opens a deep link (``/backtest``) first: it must render inside
the shell with its sidebar (the reason pages live in ``app_pages/``), and no file watcher
may run (``.streamlit/config.toml``). Screenshots go to ``test-artifacts/`` (git-ignored).
A run made for 3 generations evolved by 2 reads "2 of 3" with fresh picker labels (issue
10; its other journeys are in test_journeys_browser.py). Full-page screenshots of every page
go to
``test-artifacts/screenshots/`` (git-ignored; CI keeps them as an artefact).
Skipped cleanly when Chromium or the playwright package is missing; never downloads a
browser.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.browser.support import (  # skips this module without Chromium or playwright
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    go,
    launch,
    new_run_form,
    no_exception,
    number,
    open_page,
    select,
    selectbox,
    selectbox_text,
    serve,
    settle,
    shot,
    sync_api,
    terminate,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on a free port with an isolated data directory (one start for the whole
    module); always stopped."""
    yield from serve(tmp_path_factory, "browser", "--server.fileWatcherType", "none")


def test_every_page_and_one_backtest(server):
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(server)
            settle(page)
            assert page.get_by_role("heading", name="Strategy Lab").first.is_visible()
            no_exception(page, "Overview")
            shot(page, "01_overview")

            nav = page.locator("[data-testid='stSidebarNav']")
            nav.get_by_text("Market Data", exact=True).click()
            settle(page)
            page.get_by_role("heading", name="Market Data").first.wait_for()
            page.locator(".js-plotly-plot").first.wait_for()
            no_exception(page, "Market Data")
            shot(page, "02_market_data")

            nav.get_by_text("Backtest", exact=True).click()
            settle(page)
            page.get_by_role("heading", name="Backtest").first.wait_for()
            no_exception(page, "Backtest")
            page.get_by_role("button", name="Run backtest").click()
            page.locator("[data-testid='stMetric']").first.wait_for(timeout=90_000)
            settle(page, timeout=90_000)
            labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
            assert any("Total return" in t for t in labels), labels
            assert any("Sharpe" in t for t in labels), labels
            assert page.locator(".js-plotly-plot").count() >= 2  # linked panels + monthly
            no_exception(page, "Backtest after a run")
            shot(page, "03_backtest")

            page.get_by_role("tab", name="Parameter sweep").click()
            page.get_by_role("button", name="Run sweep").click()
            # in the open tab (the Results tab's monthly heatmap is hidden, not gone)
            page.get_by_role("tabpanel").locator(".js-plotly-plot .heatmaplayer") \
                .first.wait_for(timeout=60_000)
            settle(page)
            no_exception(page, "Backtest after a sweep")
            shot(page, "04_sweep")

            page.get_by_role("tab", name="Saved runs").click()
            page.get_by_role("button", name="Reopen").click()
            settle(page)
            page.get_by_text("same results").first.wait_for()
            no_exception(page, "Backtest after reopening a run")

            nav.get_by_text("Overview", exact=True).click()
            settle(page)
            no_exception(page, "Overview after a run")
            shot(page, "05_overview_after_run")
        finally:
            browser.close()


def test_every_page_in_nav_renders(server, browser):
    from ui.components import NAV

    page = open_page(browser, server)
    try:
        for nav in NAV:
            page.locator("[data-testid='stSidebarNav']").get_by_text(nav.title,
                                                                    exact=True).click()
            settle(page)
            no_exception(page, nav.title)
            assert page.locator("h1").count() >= 1, f"{nav.title}: no title"
            shot(page, f"page_{NAV.index(nav):02d}_{nav.key}")
    finally:
        page.close()


def test_evolution_ai_analyst_and_system(server, browser):
    page = open_page(browser, server)
    try:
        # Evolution: a tiny run from the form, evolved in the background from the page
        go(page, "Evolution")
        no_exception(page, "Evolution (empty)")
        page.get_by_text("No evolution runs yet").first.wait_for()
        form = new_run_form(page)
        number(page, "Population", 8, form)
        number(page, "Elite size", 1, form)
        number(page, "Generations", 3, form)  # the run's target
        page.get_by_text("Stop early", exact=True).click()
        settle(page)
        page.get_by_text("Multi-objective (NSGA-II)", exact=True).click()
        settle(page)
        page.get_by_role("button", name="Create run").click()
        settle(page)
        page.get_by_text("Run #1 created").first.wait_for()
        number(page, "N", 2)
        page.get_by_role("button", name="Evolve 2 generations").click()
        # the fragment polls the run; when it is done the whole page is redrawn
        # defect 5: evolving 2 of a run made for 3 leaves its target at 3 ("2 of 3")
        try:
            page.get_by_text("Generation 2 of 3").first.wait_for(timeout=120_000)
        except Exception:
            shot(page, "fail_evolution_progress")
            raise
        page.locator("[data-testid='stMarkdownContainer']", has_text="completed") \
            .first.wait_for(timeout=60_000)
        settle(page, timeout=90_000)
        page.get_by_role("heading", name="Inspect an individual").first.wait_for()
        page.get_by_text("Verdict:").first.wait_for(timeout=60_000)
        # defect 6: the Run picker's label is the finished run's, not "created · 0"
        run_label = selectbox_text(selectbox(page, "Run"))
        assert "completed" in run_label and "2 of 3 generations" in run_label, run_label
        settle(page)
        no_exception(page, "Evolution after evolving")
        assert page.locator(".js-plotly-plot").count() >= 2  # history + inspector equity
        shot(page, "06_evolution")
        # Pareto front: click a front member other than the inspected one → inspector
        page.get_by_role("tab", name="Pareto front").click()
        shown = page.locator("p", has_text="Individual #").first.inner_text()
        current = int(shown.split("#", 1)[1].split()[0])
        front_plot = page.locator(".js-plotly-plot").filter(has_text="Pareto front").first
        front_plot.wait_for()
        front_plot.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        front_trace = front_plot.evaluate(
            "el => el.data.findIndex(t => t.name === 'Pareto front')")
        uids = front_plot.evaluate("(el, i) => el.data[i].customdata", front_trace)
        points = front_plot.locator(".scatterlayer .trace").nth(front_trace) \
            .locator("path.point")
        centres = []
        for k in range(points.count()):
            box = points.nth(k).bounding_box()
            centres.append((box["x"] + box["width"] / 2, box["y"] + box["height"] / 2))
        here = [c for u, c in zip(uids, centres, strict=True) if u == current]
        others = [(u, c) for u, c in zip(uids, centres, strict=True) if u != current]
        target = None
        if others:  # the front member drawn farthest from the inspected one (no overlap)
            target = max(others, key=lambda uc: min(
                ((uc[1][0] - h[0]) ** 2 + (uc[1][1] - h[1]) ** 2 for h in here),
                default=0.0))
        if target is not None:  # a front of one point has nothing else to click
            x, y = target[1]
            page.mouse.move(x, y)  # plotly picks the hovered point on its drag layer
            page.wait_for_timeout(300)
            page.mouse.click(x, y)
            deadline = time.monotonic() + 60
            while True:  # the inspector follows the clicked (hovered) front member
                settle(page)
                shown = page.locator("p", has_text="Individual #").first.inner_text()
                uid = int(shown.split("#", 1)[1].split()[0])
                if uid != current:
                    break
                assert time.monotonic() < deadline, "clicking a Pareto point changed nothing"
                page.wait_for_timeout(500)
            assert uid in uids, (uid, uids)
            no_exception(page, "Evolution after picking a Pareto point")
            shot(page, "07_evolution_pareto_pick")
        page.get_by_role("tab", name="Parameters").click()
        page.locator(".js-plotly-plot").nth(3).wait_for()
        settle(page)
        no_exception(page, "Evolution tabs")
        shot(page, "08_evolution_parameters")

        # AI Analyst: one offline analysis (no API key), its decision card says offline
        go(page, "AI Analyst")
        page.get_by_text("Offline analyst").first.wait_for()
        page.get_by_role("button", name="Analyse").click()
        settle(page, timeout=90_000)
        card = page.locator("[data-testid='stMarkdownContainer']", has_text="Final decision")
        card.first.wait_for()
        assert "offline" in card.first.inner_text()
        assert "offline" in page.locator("h3").filter(has_text="as of").first.inner_text()
        no_exception(page, "AI Analyst after an analysis")
        shot(page, "09_ai_analyst_offline")

        # System: the evolution job's run, the scheduler, the GPU line
        go(page, "System")
        page.get_by_text("evolution-1", exact=True).first.wait_for()
        body = page.locator("[data-testid='stMain']").inner_text()
        assert "running" in body  # the scheduler card
        assert "CPU only" in body or " GB" in body
        no_exception(page, "System")
        shot(page, "10_system")
    finally:
        page.close()


def test_neural_models_trains_a_tiny_model_from_the_ui(server, browser):
    page = open_page(browser, server)
    try:
        go(page, "Neural Models")
        no_exception(page, "Neural Models (empty)")
        number(page, "Epochs", 2)
        select(page, "Batch size", "128")
        select(page, "Model size", "Small (fast, for trying out)")
        page.get_by_role("button", name="Train").click()
        # the job trains in a subprocess; the page polls the run and shows the result
        page.get_by_text("Test period").first.wait_for(timeout=240_000)
        settle(page, timeout=90_000)
        body = page.locator("[data-testid='stMain']").inner_text()
        assert "Test accuracy" in body and "Logistic baseline" in body
        assert "cpu" in body.lower()  # which device trained it
        page.locator(".js-plotly-plot").nth(2).wait_for()  # loss, confusion, equity...
        no_exception(page, "Neural Models after training")
        shot(page, "11_neural_models")

        # the new version is in the registry
        go(page, "Model Registry")
        page.get_by_text("1 of 1 versions").first.wait_for()
        assert page.get_by_text("No model versions yet").count() == 0
        no_exception(page, "Model Registry with a version")
        shot(page, "12_model_registry")
    finally:
        page.close()


def _inotify_fds(pid: int) -> int:
    """How many inotify instances a process holds (a watchdog file watcher opens one)."""
    fd_dir = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fd_dir.iterdir():
        try:
            count += "inotify" in os.readlink(fd)
        except OSError:  # closed meanwhile
            pass
    return count


def test_deep_link_after_a_restart_renders_inside_the_shell(browser, tmp_path):
    """The reason pages live in app_pages/, not pages/: after a server (re)start, the first
    request for a page URL must run app.py (shell, sidebar, session defaults) and not the
    page file alone as a legacy multipage app. Started exactly as a user does — no watcher
    flag — so it also checks .streamlit/config.toml's ``fileWatcherType = "none"`` holds."""
    from ui.components import NAV

    port, lab, log = free_port(), tmp_path / "lab", tmp_path / "streamlit.log"
    terminate(launch(port, lab, log))  # a first start creates the lab, then stops
    proc = launch(port, lab, log)  # the restart: no session has called st.navigation yet
    try:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(60_000)
        try:
            page.goto(f"http://127.0.0.1:{port}/backtest")  # the very first request
            settle(page)
            no_exception(page, "Backtest opened by a deep link after a restart")
            assert page.url.endswith("/backtest")
            page.get_by_role("heading", name="Backtest", level=1).wait_for()
            assert page.locator("h1").first.inner_text().strip() == "Backtest"
            nav = page.locator("[data-testid='stSidebarNav']")
            assert nav.is_visible(), "no sidebar navigation: the page ran outside the shell"
            links = [t.strip().splitlines()[-1]  # after the icon's ligature ("home")
                     for t in nav.locator("[data-testid='stSidebarNavLink']").all_inner_texts()]
            assert links == [n.title for n in NAV]  # app.py's st.navigation, in NAV order
            sidebar = page.locator("[data-testid='stSidebar']")
            assert "Strategy Lab" in sidebar.inner_text()  # app.py's header
            picker = sidebar.locator("[data-testid='stSelectbox']")  # ui.components.sidebar
            sync_api.expect(picker).to_have_count(1)
            sync_api.expect(picker.locator("[data-testid='stWidgetLabel']")).to_have_text(
                "Dataset")
            shot(page, "13_deep_link_backtest_after_restart")
            # the config's fileWatcherType = "none": a script has run, and no inotify
            # watcher was opened (with "auto" watchdog holds one per server process)
            assert _inotify_fds(proc.pid) == 0, log.read_text()[-2000:]
        finally:
            page.close()
    finally:
        terminate(proc)
