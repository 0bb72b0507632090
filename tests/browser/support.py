"""What every browser test shares: the app started on a free port with its own data
directory, Chromium, waiting for a script run to settle, the exception check, full-page
screenshots (``test-artifacts/screenshots/``, git-ignored; CI keeps them as an artefact) and
Streamlit widgets found by their labels (number inputs, selectboxes, metric cards).

Importing this module skips the importing test module cleanly when Chromium or the
playwright package is missing; it never downloads a browser.
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

ROOT = Path(__file__).resolve().parents[2]
#: Full-page screenshots of every page (CI keeps test-artifacts/ as an artefact).
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "STRATLAB_DATA_DIR": str(data_dir),
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    for var in ("DATABASE_URL", "ANTHROPIC_API_KEY", "POPULATION_SIZE", "MAX_GENERATIONS",
                "ELITE_SIZE", "FITNESS_THRESHOLD", "STREAMLIT_SERVER_FILE_WATCHER_TYPE"):
        env.pop(var, None)
    return env


def launch(port: int, data_dir: Path, log_path: Path, *extra: str) -> subprocess.Popen:
    """``streamlit run app.py`` from the project folder (so .streamlit/config.toml applies),
    waited on until healthy; fails with the server log if it does not come up."""
    log = open(log_path, "a")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", *extra],
        cwd=ROOT, env=app_env(data_dir), stdout=log, stderr=subprocess.STDOUT,
    )
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
            terminate(proc)
            pytest.fail("streamlit did not start:\n" + log_path.read_text())
        time.sleep(0.3)


def terminate(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def settle(page, timeout: float = 60_000) -> None:
    """Wait for the app to load and its script run to finish — including the removal of
    the previous run's stale elements (``data-stale="true"``), which a rerun leaves beside
    the new ones for a moment (two tab bars, two buttons of one name)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    page.wait_for_function(
        "() => { const a = document.querySelector(\"[data-testid='stApp']\");"
        " return a && a.getAttribute('data-test-script-state') !== 'running'"
        " && !document.querySelector(\"[data-testid='stStatusWidget']\")"
        " && !document.querySelector(\"[data-stale='true']\"); }",
        timeout=timeout,
    )
    page.wait_for_timeout(400)  # let Plotly draw


def no_exception(page, where: str) -> None:
    n = page.locator("[data-testid='stException']").count()
    if n:
        text = page.locator("[data-testid='stException']").first.inner_text()
        pytest.fail(f"{where}: {n} exception element(s) on the page:\n{text}")


def shot(page, name: str) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its main block, so the viewport
    is stretched to the content's height for the shot and restored afterwards."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[\"[data-testid='stMain']\", \"[data-testid='stAppViewContainer']\"]"
        ".map(s => document.querySelector(s)).filter(Boolean).map(e => e.scrollHeight), 0)"
    )
    page.set_viewport_size({"width": size["width"], "height": int(min(max(height, 800), 8000))})
    page.wait_for_timeout(600)  # Plotly re-lays out on resize
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def start_browser():
    """Chromium (Debian's, headless) under Playwright: a context manager's generator for a
    module fixture (``yield from start_browser()``)."""
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def serve(tmp_path_factory, name: str, *extra: str):
    """The app on a free port with an isolated data directory, as a module fixture's
    generator (``yield from serve(...)``): yields its URL, always stops it."""
    tmp_path = tmp_path_factory.mktemp(name)
    port = free_port()
    proc = launch(port, tmp_path / "lab", tmp_path / "streamlit.log", *extra)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        terminate(proc)


# ------------------------------------------------------------ widgets, by their labels

def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(url)
    settle(page)
    return page


def go(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()
    settle(page)
    page.get_by_role("heading", name=title).first.wait_for()


def number(page, label: str, value: int, scope=None) -> None:
    box = (scope or page).get_by_role("spinbutton", name=label,
                                      exact=True)  # not a tab of that name
    box.fill(str(value))
    box.press("Enter")
    settle(page)


def new_run_form(page):
    """The Evolution page's "New evolution run" form (its Walk-forward tab has inputs of the
    same names)."""
    return page.get_by_role("group").filter(has_text="New evolution run").first


def select(page, label: str, option: str, scope=None) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label`` (inside ``scope``)."""
    (scope or page).get_by_label(label, exact=True).click()
    wanted = page.get_by_role("option", name=option).first
    try:
        wanted.wait_for(timeout=3_000)
    except sync_api.TimeoutError:  # a long, virtualised list renders only its first options:
        page.keyboard.type(option.split(" · ")[0])  # filter it down, as a user would
    wanted.click()
    settle(page)


def selectbox(page, label: str):
    """The Streamlit selectbox container labelled exactly ``label`` (its text is the label
    and the selected option's label)."""
    import re

    root = getattr(page, "page", page)  # a Locator (e.g. the sidebar) or the Page
    return page.locator("[data-testid='stSelectbox']").filter(
        has=root.locator("[data-testid='stWidgetLabel']",
                         has_text=re.compile(rf"^{re.escape(label)}$"))).first


def selectbox_text(box) -> str:
    """What a selectbox shows: its text, its input's value and the accessible names of its
    parts (Streamlit versions draw the selected option in different ones)."""
    parts = [box.inner_text()]
    for el in box.locator("input, [aria-label], [title]").all():
        parts += [el.get_attribute("aria-label") or "", el.get_attribute("title") or ""]
        if el.evaluate("e => e.tagName") == "INPUT":
            parts.append(el.input_value())
    return " | ".join(p for p in parts if p)


def card(page, label: str) -> str:
    """The value of the st.metric card labelled ``label``."""
    card = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=label)).first
    return card.locator("[data-testid='stMetricValue']").inner_text().strip()
