"""The Walk-forward tab in a real browser: Debian's Chromium driven by Playwright.

Starts ``streamlit run app.py`` on a free port with its own data directory, opens the
Evolution page of an empty lab, fills the Walk-forward tab's form with a small analysis
(2 windows of 300 in-sample and 100 out-of-sample bars, population 8 × 1 generation, the
default process backend), presses **Start walk-forward** and waits for the live panel to
report both windows evolved; then the stitched out-of-sample chart, the per-window table and
the gene stability chart must be drawn, with no exception element. Full-page screenshots go
to ``test-artifacts/screenshots/`` (git-ignored). Helpers copied from test_app_browser.py.
Skipped cleanly when Chromium or the playwright package is missing; never downloads a
browser.
"""

from __future__ import annotations

import pytest

from tests.browser.support import (  # skips this module without Chromium or playwright
    go,
    no_exception,
    number,
    open_page,
    serve,
    settle,
    shot,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve(tmp_path_factory, "browser-wf")


def test_a_small_walkforward_from_the_tab(server, browser):
    page = open_page(browser, server)
    try:
        go(page, "Evolution")
        page.get_by_role("tab", name="Walk-forward").first.wait_for()
        tab = page.get_by_role("tabpanel").first
        tab.get_by_text("No walk-forward analyses yet").first.wait_for()
        no_exception(page, "Evolution (empty)")
        number(page, "Windows", 2, tab)
        number(page, "In-sample bars", 300, tab)
        number(page, "Out-of-sample bars", 100, tab)
        number(page, "Population", 8, tab)
        number(page, "Generations", 1, tab)
        tab.get_by_text("windows use the last 500").first.wait_for()
        tab.get_by_role("button", name="Start walk-forward").click()
        settle(page)
        page.get_by_text("Walk-forward #1 started").first.wait_for()
        # the page now has evolution runs (one per window) and opens this tab first
        tab = page.get_by_role("tabpanel").filter(has_text="Walk-forward #1").first
        try:
            tab.get_by_text("2 of 2 windows evolved").first.wait_for(timeout=300_000)
            tab.get_by_text("Stitched out-of-sample result").first.wait_for(
                timeout=120_000)
        except Exception:
            shot(page, "fail_walkforward_progress")
            raise
        settle(page, timeout=90_000)
        no_exception(page, "Walk-forward after the analysis")
        plots = tab.locator(".js-plotly-plot")
        plots.filter(has_text="Stitched out-of-sample equity").first.wait_for()
        plots.filter(has_text="Gene stability across windows").first.wait_for()
        labels = tab.locator("[data-testid='stMetricLabel']").all_inner_texts()
        assert any("Walk-forward efficiency" in t for t in labels), labels
        assert any("Total return" in t for t in labels), labels
        tab.get_by_role("heading", name="Windows").first.wait_for()  # the table's
        shot(page, "walkforward_tab")
    finally:
        page.close()
