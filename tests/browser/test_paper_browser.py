"""The Paper Trading page in a real browser (Debian's Chromium driven by Playwright).

Starts ``streamlit run app.py`` on a free port with its own data directory, then, as a user:
creates a book through the form (the seed's limits), adds two strategy sleeves (sma_cross
on SYN-TREND, rsi on SYN-RANGE, half the cash each), replays a year with the progress bar,
and sees the equity chart, an open position with its unrealised P&L, the risk events
(the seed's 10 % position cap resizes the 50 % budgets), the correlation tab and the
sleeves with pause / resume; pauses and resumes a sleeve; opens the Backtest page and sees
its "add to a paper book" section. No exception element on any page. Full-page screenshots
go to ``test-artifacts/screenshots/paper_*.png`` (git-ignored). Skipped cleanly when
Chromium or the playwright package is missing; never downloads a browser.
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
    sync_api,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve(tmp_path_factory, "paper_browser")


def _select(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label`` (its combobox: a radio
    option may carry the same words)."""
    page.get_by_role("combobox", name=label, exact=True).click()
    wanted = page.get_by_role("option", name=option).first
    try:
        wanted.wait_for(timeout=3_000)
    except sync_api.TimeoutError:  # a long, virtualised list renders only its first options
        page.keyboard.type(option.split(" · ")[0])
    wanted.click()
    settle(page)


def _press_and_see(page, button: str, notice: str) -> None:
    """Press the open tab's first ``button``; its ``notice`` shows, with no exception."""
    page.get_by_role("tabpanel").get_by_role("button", name=button).first.click()
    settle(page)
    page.get_by_text(notice).first.wait_for()
    no_exception(page, f"after {button}")


def _tab(page, name: str) -> None:
    """Open the tab ``name``. After a rerun that moves the tabs (a message above them) the
    previous tab bar can stay in the DOM for a moment beside the new one, unmarked as
    stale: wait until one is left."""
    tab = page.get_by_role("tab", name=name, exact=True)
    for _ in range(75):  # up to 15 s
        if tab.count() == 1:
            break
        page.wait_for_timeout(200)
    tab.click()
    page.wait_for_timeout(300)


# ---------------------------------------------------------------------------------- test

def test_create_book_add_two_sleeves_replay_a_year(server, browser):
    page = open_page(browser, server)
    try:
        go(page, "Paper Trading")
        no_exception(page, "Paper Trading (empty)")
        page.get_by_text("No paper books yet").first.wait_for()
        shot(page, "paper_01_empty")

        # a book through the form, with the seed's limits
        page.get_by_label("Book name", exact=True).fill("demo")
        page.get_by_role("button", name="Create book", exact=True).click()
        settle(page)
        page.get_by_text("Created book").first.wait_for()
        no_exception(page, "after Create book")

        # two sleeves: the symbol follows the sidebar's dataset
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_label("Dataset", exact=True).click()
        page.get_by_role("option", name="SYN-TREND").first.click()
        settle(page)
        _tab(page, "Add a sleeve")
        number(page, "Allocation %", 50)
        page.get_by_role("button", name="Add sleeve").click()
        settle(page)
        page.get_by_text("Added sleeve").first.wait_for()
        no_exception(page, "after the first sleeve")

        sidebar.get_by_label("Dataset", exact=True).click()
        page.get_by_role("option", name="SYN-RANGE").first.click()
        settle(page)
        _tab(page, "Add a sleeve")
        _select(page, "Strategy", "rsi")
        page.get_by_role("button", name="Add sleeve").click()
        settle(page)
        page.get_by_text("Added sleeve").first.wait_for()
        no_exception(page, "after the second sleeve")
        shot(page, "paper_02_two_sleeves")

        # replay a year (the default target: a year after the first bar)
        page.get_by_role("button", name="Replay", exact=True).click()
        page.get_by_text("Processed 261 bars").first.wait_for(timeout=180_000)
        settle(page, timeout=120_000)
        no_exception(page, "after the replay")
        page.get_by_text("Clock 2016-01-01").first.wait_for()  # a year of bars
        _tab(page, "Equity")
        page.locator(".js-plotly-plot").first.wait_for()
        shot(page, "paper_03_replayed_equity")

        _tab(page, "Positions")
        panel = page.get_by_role("tabpanel")
        panel.locator("[data-testid='stDataFrame']").first.wait_for()
        # sma_cross holds SYN-TREND at the clock (127 units from 2015-12-03 at 76.9135)
        panel.get_by_text("Unrealised P&L +299.43 USD").first.wait_for()
        shot(page, "paper_04_positions")

        _tab(page, "Risk events")
        page.get_by_text("max_position_size:").first.wait_for()
        shot(page, "paper_05_risk_events")

        _tab(page, "Orders & fills")
        page.get_by_text("Closed trades").first.wait_for()
        shot(page, "paper_06_orders_fills")

        _tab(page, "Sleeves")
        _press_and_see(page, "Pause", "Paused")
        _tab(page, "Sleeves")
        # the caption beside the sleeve (the table's cell of the same text is drawn on a
        # canvas: its DOM twin is hidden)
        page.locator("[data-testid='stCaptionContainer']",
                     has_text="paused by hand on the Paper Trading page").first.wait_for()
        shot(page, "paper_07_sleeve_paused")
        _press_and_see(page, "Resume", "Resumed")

        _tab(page, "Backtest vs paper")
        page.get_by_role("tabpanel").get_by_role("button", name="Compare", exact=True).click()
        settle(page, timeout=120_000)
        _tab(page, "Backtest vs paper")
        page.get_by_text("differences: paper").first.wait_for()  # the cap resized entries
        page.get_by_role("tabpanel").locator(".js-plotly-plot").first.wait_for()
        no_exception(page, "after Compare")
        shot(page, "paper_08_backtest_vs_paper")

        go(page, "Backtest")
        page.get_by_text("Add to a paper book as a sleeve").first.click()
        settle(page)
        page.get_by_role("combobox", name="Paper book", exact=True).wait_for()
        no_exception(page, "Backtest with the paper section")
        shot(page, "paper_09_backtest_add_section")
    finally:
        page.close()
