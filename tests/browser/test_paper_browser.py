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

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)", allow_module_level=True)


# ------------------------------------------------- helpers (as tests/browser/test_app_browser)

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "STRATLAB_DATA_DIR": str(data_dir),
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    for var in ("DATABASE_URL", "ANTHROPIC_API_KEY", "STREAMLIT_SERVER_FILE_WATCHER_TYPE"):
        env.pop(var, None)
    return env


def _terminate(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def _launch(port: int, data_dir: Path, log_path: Path) -> subprocess.Popen:
    """``streamlit run app.py`` from the project folder, waited on until healthy."""
    log = open(log_path, "a")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=_env(data_dir), stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 40
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                        timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _terminate(proc)
            pytest.fail("streamlit did not start:\n" + log_path.read_text())
        time.sleep(0.3)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("paper_browser")
    port = _free_port()
    proc = _launch(port, tmp_path / "lab", tmp_path / "streamlit.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _terminate(proc)


def _settle(page, timeout: float = 60_000) -> None:
    """Wait for the app to load and its script run to finish."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(
        "() => { const a = document.querySelector(\"[data-testid='stApp']\");"
        " return a && a.getAttribute('data-test-script-state') !== 'running'"
        " && !document.querySelector(\"[data-testid='stStatusWidget']\"); }",
        timeout=timeout,
    )
    page.wait_for_timeout(400)  # let Plotly draw


def _no_exception(page, where: str) -> None:
    n = page.locator("[data-testid='stException']").count()
    if n:
        text = page.locator("[data-testid='stException']").first.inner_text()
        pytest.fail(f"{where}: {n} exception element(s) on the page:\n{text}")


def _shot(page, name: str) -> None:
    """Screenshot the whole page (the viewport stretched to the content for the shot)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[\"[data-testid='stMain']\", \"[data-testid='stAppViewContainer']\"]"
        ".map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight), 0)"
    )
    page.set_viewport_size({"width": size["width"], "height": int(min(max(height, 800), 8000))})
    page.wait_for_timeout(600)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def _go(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()
    _settle(page)
    page.get_by_role("heading", name=title).first.wait_for()


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
    _settle(page)


def _number(page, label: str, value: float) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    _settle(page)


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    page.wait_for_timeout(300)


# ---------------------------------------------------------------------------------- test

def test_create_book_add_two_sleeves_replay_a_year(server):
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(server)
            _settle(page)
            _go(page, "Paper Trading")
            _no_exception(page, "Paper Trading (empty)")
            page.get_by_text("No paper books yet").first.wait_for()
            _shot(page, "paper_01_empty")

            # a book through the form, with the seed's limits
            page.get_by_label("Book name", exact=True).fill("demo")
            page.get_by_role("button", name="Create book", exact=True).click()
            _settle(page)
            page.get_by_text("Created book").first.wait_for()
            _no_exception(page, "after Create book")

            # two sleeves: the symbol follows the sidebar's dataset
            sidebar = page.locator("[data-testid='stSidebar']")
            sidebar.get_by_label("Dataset", exact=True).click()
            page.get_by_role("option", name="SYN-TREND").first.click()
            _settle(page)
            _tab(page, "Add a sleeve")
            _number(page, "Allocation %", 50)
            page.get_by_role("button", name="Add sleeve").click()
            _settle(page)
            page.get_by_text("Added sleeve").first.wait_for()
            _no_exception(page, "after the first sleeve")

            sidebar.get_by_label("Dataset", exact=True).click()
            page.get_by_role("option", name="SYN-RANGE").first.click()
            _settle(page)
            _tab(page, "Add a sleeve")
            _select(page, "Strategy", "rsi")
            page.get_by_role("button", name="Add sleeve").click()
            _settle(page)
            page.get_by_text("Added sleeve").first.wait_for()
            _no_exception(page, "after the second sleeve")
            _shot(page, "paper_02_two_sleeves")

            # replay a year (the default target: a year after the first bar)
            page.get_by_role("button", name="Replay", exact=True).click()
            page.get_by_text("Processed 261 bars").first.wait_for(timeout=180_000)
            _settle(page, timeout=120_000)
            _no_exception(page, "after the replay")
            page.get_by_text("Clock 2016-01-01").first.wait_for()  # a year of bars
            _tab(page, "Equity")
            page.locator(".js-plotly-plot").first.wait_for()
            _shot(page, "paper_03_replayed_equity")

            _tab(page, "Positions")
            panel = page.get_by_role("tabpanel")
            panel.locator("[data-testid='stDataFrame']").first.wait_for()
            # sma_cross holds SYN-TREND at the clock (127 units from 2015-12-03 at 76.9135)
            panel.get_by_text("Unrealised P&L +299.43 USD").first.wait_for()
            _shot(page, "paper_04_positions")

            _tab(page, "Risk events")
            page.get_by_text("max_position_size:").first.wait_for()
            _shot(page, "paper_05_risk_events")

            _tab(page, "Orders & fills")
            page.get_by_text("Closed trades").first.wait_for()
            _shot(page, "paper_06_orders_fills")

            _tab(page, "Sleeves")
            page.get_by_role("tabpanel").get_by_role("button", name="Pause").first.click()
            _settle(page)
            page.get_by_text("Paused").first.wait_for()
            _no_exception(page, "after Pause")
            _tab(page, "Sleeves")
            # the caption beside the sleeve (the table's cell of the same text is drawn on a
            # canvas: its DOM twin is hidden)
            page.locator("[data-testid='stCaptionContainer']",
                         has_text="paused by hand on the Paper Trading page").first.wait_for()
            _shot(page, "paper_07_sleeve_paused")
            page.get_by_role("tabpanel").get_by_role("button", name="Resume").first.click()
            _settle(page)
            page.get_by_text("Resumed").first.wait_for()
            _no_exception(page, "after Resume")

            _tab(page, "Backtest vs paper")
            page.get_by_role("tabpanel").get_by_role("button", name="Compare", exact=True).click()
            _settle(page, timeout=120_000)
            _tab(page, "Backtest vs paper")
            page.get_by_text("differences: paper").first.wait_for()  # the cap resized entries
            page.get_by_role("tabpanel").locator(".js-plotly-plot").first.wait_for()
            _no_exception(page, "after Compare")
            _shot(page, "paper_08_backtest_vs_paper")

            _go(page, "Backtest")
            page.get_by_text("Add to a paper book as a sleeve").first.click()
            _settle(page)
            page.get_by_role("combobox", name="Paper book", exact=True).wait_for()
            _no_exception(page, "Backtest with the paper section")
            _shot(page, "paper_09_backtest_add_section")
        finally:
            browser.close()
