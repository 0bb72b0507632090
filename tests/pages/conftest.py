"""Fixtures for the page tests: an AppTest of the whole app (app.py → st.navigation)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "app.py"
#: The first backtest in a fresh process may compile (or load) the numba kernels.
TIMEOUT = 60


@pytest.fixture
def app():
    """A fresh AppTest of app.py (not yet run), on the isolated data directory."""
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def open_page(at: AppTest, page: str) -> AppTest:
    """Run the app (switch_page needs one run first), then switch to ``app_pages/<page>.py``."""
    at.run()
    return at.switch_page(f"app_pages/{page}.py").run()


def assert_clean(at: AppTest) -> None:
    """No uncaught exception and no error message on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def table(at: AppTest, column: str):
    """The first st.dataframe on the page with ``column`` (as pandas; AppTest has no keys
    for display-only tables)."""
    for df in at.dataframe:
        value = df.value
        if column in value.columns:
            return value
    raise AssertionError(f"no table with a {column!r} column; tables: "
                         f"{[list(d.value.columns) for d in at.dataframe]}")
