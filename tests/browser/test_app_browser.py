"""The real app in a real browser: Debian's Chromium driven by Playwright.

Starts ``streamlit run app.py`` on a free port with its own data directory, visits every
page, runs one backtest from the Backtest page and checks its metrics appear, runs the
default sweep (heatmap) and reopens the saved run, with no exception element on any page.
Screenshots go to ``test-artifacts/`` (git-ignored). Skipped cleanly when Chromium or the
playwright package is missing; never downloads a browser.
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
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """The app on a free port with an isolated data directory; always stopped."""
    port = _free_port()
    env = {**os.environ, "STRATLAB_DATA_DIR": str(tmp_path / "lab"),
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    env.pop("DATABASE_URL", None)
    log = open(tmp_path / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("streamlit did not start:\n" + (tmp_path / "streamlit.log").read_text())
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


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
    """Screenshot the whole page: Streamlit scrolls inside its main block, so the viewport
    is stretched to the content's height for the shot and restored afterwards."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[\"[data-testid='stMain']\", \"[data-testid='stAppViewContainer']\"]"
        ".map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight), 0)"
    )
    page.set_viewport_size({"width": size["width"], "height": int(min(max(height, 800), 8000))})
    page.wait_for_timeout(600)  # Plotly re-lays out on resize
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def test_every_page_and_one_backtest(server):
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(server)
            _settle(page)
            assert page.get_by_role("heading", name="Strategy Lab").first.is_visible()
            _no_exception(page, "Overview")
            _shot(page, "01_overview")

            nav = page.locator("[data-testid='stSidebarNav']")
            nav.get_by_text("Market Data", exact=True).click()
            _settle(page)
            page.get_by_role("heading", name="Market Data").first.wait_for()
            page.locator(".js-plotly-plot").first.wait_for()
            _no_exception(page, "Market Data")
            _shot(page, "02_market_data")

            nav.get_by_text("Backtest", exact=True).click()
            _settle(page)
            page.get_by_role("heading", name="Backtest").first.wait_for()
            _no_exception(page, "Backtest")
            page.get_by_role("button", name="Run backtest").click()
            page.locator("[data-testid='stMetric']").first.wait_for(timeout=90_000)
            _settle(page, timeout=90_000)
            labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
            assert any("Total return" in t for t in labels), labels
            assert any("Sharpe" in t for t in labels), labels
            assert page.locator(".js-plotly-plot").count() >= 3
            _no_exception(page, "Backtest after a run")
            _shot(page, "03_backtest")

            page.get_by_role("tab", name="Parameter sweep").click()
            page.get_by_role("button", name="Run sweep").click()
            page.locator(".js-plotly-plot .heatmaplayer").first.wait_for(timeout=60_000)
            _settle(page)
            _no_exception(page, "Backtest after a sweep")
            _shot(page, "04_sweep")

            page.get_by_role("tab", name="Saved runs").click()
            page.get_by_role("button", name="Reopen").click()
            _settle(page)
            page.get_by_text("same results").first.wait_for()
            _no_exception(page, "Backtest after reopening a run")

            nav.get_by_text("Overview", exact=True).click()
            _settle(page)
            _no_exception(page, "Overview after a run")
            _shot(page, "05_overview_after_run")
        finally:
            browser.close()
