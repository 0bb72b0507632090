"""The browser tests' shared Chromium: one per module.

``tests.browser.support`` is imported inside the fixture, not here, so collecting this
folder never imports Playwright; a module without Chromium or playwright is skipped by its
own import of ``support`` before this fixture runs.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium under Playwright (``support.start_browser``)."""
    from tests.browser.support import start_browser

    yield from start_browser()
