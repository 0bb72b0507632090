"""Issue 10's journeys in a real browser (Debian's Chromium driven by Playwright), on an app
of their own (module fixture): a reload on a deep link keeps a non-default dataset
(``?dataset=``); an out-of-range input blocks the run with its reason; the trades and equity
CSVs download with the page's numbers; a tiny evolution created, evolved and promoted on the
Evolution page, picked in the Backtest Strategy list, reproduces its in-sample and
out-of-sample numbers; an Overview card opens its page with the dataset following.
Full-page screenshots go to ``test-artifacts/screenshots/``. Skipped cleanly when Chromium or
the playwright package is missing; never downloads a browser.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.support import (  # skips this module without Chromium or playwright
    card,
    go,
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
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve(tmp_path_factory, "journeys", "--server.fileWatcherType", "none")


def test_reload_deep_link_inputs_exports_and_promoted_strategy(server, browser):
    """Issue 10's journeys: a reload on a deep link keeps a non-default dataset (#11); an
    out-of-range input blocks the run with its reason (#8); the trades and equity CSVs
    download with the page's numbers; a strategy promoted on Evolution, picked in the
    Backtest Strategy list, reproduces the evolution's in-sample numbers (#4)."""
    import csv
    import io

    page = open_page(browser, f"{server}/backtest?dataset=SYN-RANGE")
    try:
        sidebar = page.locator("[data-testid='stSidebar']")
        assert "SYN-RANGE" in selectbox_text(selectbox(sidebar, "Dataset"))
        page.reload()
        settle(page)
        assert "dataset=SYN-RANGE" in page.url
        assert "SYN-RANGE" in selectbox_text(selectbox(sidebar, "Dataset"))
        go(page, "Market Data")
        assert "SYN-RANGE" in selectbox_text(selectbox(sidebar, "Dataset"))
        assert "dataset=SYN-RANGE" in page.url
        go(page, "Backtest")
        shot(page, "20_backtest_deep_link_reloaded")

        # defect 8: 150 % stop-loss: the reason is shown and Run is disabled
        number(page, "Stop-loss %", 150)
        page.get_by_text("must be in [0, 100)").first.wait_for()
        assert page.get_by_role("button", name="Run backtest").is_disabled()
        shot(page, "21_backtest_out_of_range_input")
        number(page, "Stop-loss %", 0)
        assert not page.get_by_role("button", name="Run backtest").is_disabled()

        page.get_by_role("button", name="Run backtest").click()
        page.locator("[data-testid='stMetric']").first.wait_for(timeout=90_000)
        settle(page, timeout=90_000)
        n_trades = int(card(page, "Trades").replace(",", ""))
        with page.expect_download() as dl:
            page.get_by_role("button", name="Download trades (CSV)").click()
        rows = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text())))
        assert len(rows) == n_trades
        assert {"entry_time", "exit_time", "entry_price", "exit_price", "pnl"} <= set(rows[0])
        with page.expect_download() as dl:
            page.get_by_role("button", name="Download equity curve (CSV)").click()
        eq = list(csv.DictReader(io.StringIO(Path(dl.value.path()).read_text())))
        final = float(eq[-1]["equity"])
        total = card(page, "Total return")  # "12.34 %" = (final / 10,000 - 1) · 100
        assert f"{(final / 10_000 - 1) * 100:,.2f} %" == total, (final, total)
        shot(page, "22_backtest_linked_charts")

        # a tiny single-objective run of its own (inline backend: no worker processes),
        # evolved from the page, then its best individual promoted
        go(page, "Evolution")
        form = new_run_form(page)
        if not form.get_by_role("spinbutton", name="Population", exact=True).is_visible():
            page.get_by_text("New evolution run").first.click()  # open when runs exist
            settle(page)
        if page.get_by_label("Fitness threshold", exact=True).is_enabled():
            page.get_by_text("Stop early", exact=True).click()  # evolve the full target
            settle(page)
        number(page, "Population", 8, form)
        number(page, "Elite size", 1, form)
        number(page, "Generations", 1, form)
        page.get_by_text("Advanced: islands, costs, backend").first.click()
        settle(page)
        select(page, "Backend", "inline", form)
        box = form.get_by_label("Name (optional)", exact=True)
        box.fill("journey")
        box.press("Enter")
        settle(page)
        page.get_by_role("button", name="Create run").click()
        settle(page)
        page.get_by_text("created (seed").first.wait_for()
        page.get_by_role("button", name="Start background evolution").click()
        page.get_by_text("Generation 1 of 1").first.wait_for(timeout=180_000)
        page.get_by_text("Verdict:").first.wait_for(timeout=90_000)
        settle(page, timeout=90_000)
        assert "journey" in selectbox_text(selectbox(page, "Run"))
        shown = page.locator("p", has_text="Individual #").first.inner_text()
        uid = int(shown.split("#", 1)[1].split()[0])
        box = page.get_by_label("Strategy name", exact=True)
        box.fill("browser-evolved")
        box.press("Enter")
        settle(page)
        anyway = page.get_by_text("Promote anyway", exact=True)
        if anyway.count():  # the run's PBO or SPA p-value asks for a confirmation
            anyway.first.click()
            settle(page)
        page.get_by_role("button", name="Promote", exact=True).click()
        settle(page)
        page.get_by_text(f"Promoted individual {uid} as").first.wait_for()

        go(page, "Backtest")
        select(page, "Strategy", "browser-evolved · promoted (genome)")
        page.get_by_text("Loaded the promoted strategy").first.wait_for()
        page.get_by_role("button", name="Run backtest").click()
        settle(page, timeout=90_000)
        same = page.get_by_text("Same in-sample numbers as the evolution stored")
        same.first.wait_for(timeout=60_000)
        text = same.first.inner_text()
        assert f"total return {card(page, 'Total return')}" in text, text
        no_exception(page, "Backtest of a promoted strategy")
        shot(page, "23_backtest_promoted_in_sample")
        page.get_by_role("button", name="Out-of-sample window").click()
        settle(page)
        page.get_by_role("button", name="Run backtest").click()
        settle(page, timeout=90_000)
        page.get_by_text("Same out-of-sample numbers").first.wait_for(timeout=60_000)

        # Overview cards are links as a whole: a click on a card's blurb opens its page
        page.locator("[data-testid='stSidebarNav']").get_by_text("Overview", exact=True).click()
        settle(page)
        blurb = page.get_by_text("Candlesticks, indicators, regimes").first
        box = blurb.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        settle(page)
        page.get_by_role("heading", name="Market Data").first.wait_for()
        assert "dataset=SYN-RANGE" in page.url  # the active dataset follows
    finally:
        page.close()
