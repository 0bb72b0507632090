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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "STRATLAB_DATA_DIR": str(data_dir),
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    for var in ("DATABASE_URL", "ANTHROPIC_API_KEY", "POPULATION_SIZE", "MAX_GENERATIONS",
                "ELITE_SIZE", "FITNESS_THRESHOLD", "STREAMLIT_SERVER_FILE_WATCHER_TYPE"):
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
    log = open(log_path, "a")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=_env(data_dir), stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    deadline = time.monotonic() + 30
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
    tmp_path = tmp_path_factory.mktemp("browser-wf")
    port = _free_port()
    proc = _launch(port, tmp_path / "lab", tmp_path / "streamlit.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _terminate(proc)


def _settle(page, timeout: float = 60_000) -> None:
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(
        "() => { const a = document.querySelector(\"[data-testid='stApp']\");"
        " return a && a.getAttribute('data-test-script-state') !== 'running'"
        " && !document.querySelector(\"[data-testid='stStatusWidget']\"); }",
        timeout=timeout,
    )
    page.wait_for_timeout(400)


def _no_exception(page, where: str) -> None:
    n = page.locator("[data-testid='stException']").count()
    if n:
        text = page.locator("[data-testid='stException']").first.inner_text()
        pytest.fail(f"{where}: {n} exception element(s) on the page:\n{text}")


def _shot(page, name: str) -> None:
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


def _number(scope, page, label: str, value: int) -> None:
    box = scope.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    _settle(page)


def test_a_small_walkforward_from_the_tab(server):
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(60_000)
            page.goto(server)
            _settle(page)
            page.locator("[data-testid='stSidebarNav']").get_by_text(
                "Evolution", exact=True).click()
            _settle(page)
            page.get_by_role("heading", name="Evolution").first.wait_for()
            page.get_by_role("tab", name="Walk-forward").first.wait_for()
            tab = page.get_by_role("tabpanel").first
            tab.get_by_text("No walk-forward analyses yet").first.wait_for()
            _no_exception(page, "Evolution (empty)")
            _number(tab, page, "Windows", 2)
            _number(tab, page, "In-sample bars", 300)
            _number(tab, page, "Out-of-sample bars", 100)
            _number(tab, page, "Population", 8)
            _number(tab, page, "Generations", 1)
            tab.get_by_text("windows use the last 500").first.wait_for()
            tab.get_by_role("button", name="Start walk-forward").click()
            _settle(page)
            page.get_by_text("Walk-forward #1 started").first.wait_for()
            # the page now has evolution runs (one per window) and opens this tab first
            tab = page.get_by_role("tabpanel").filter(has_text="Walk-forward #1").first
            try:
                tab.get_by_text("2 of 2 windows evolved").first.wait_for(timeout=300_000)
                tab.get_by_text("Stitched out-of-sample result").first.wait_for(
                    timeout=120_000)
            except Exception:
                _shot(page, "fail_walkforward_progress")
                raise
            _settle(page, timeout=90_000)
            _no_exception(page, "Walk-forward after the analysis")
            plots = tab.locator(".js-plotly-plot")
            plots.filter(has_text="Stitched out-of-sample equity").first.wait_for()
            plots.filter(has_text="Gene stability across windows").first.wait_for()
            labels = tab.locator("[data-testid='stMetricLabel']").all_inner_texts()
            assert any("Walk-forward efficiency" in t for t in labels), labels
            assert any("Total return" in t for t in labels), labels
            tab.get_by_role("heading", name="Windows").first.wait_for()  # the table's
            _shot(page, "walkforward_tab")
        finally:
            browser.close()
