"""ui.formatting's number formats and ui.components' engine-call helper (the one copy of
each that every page uses)."""

from __future__ import annotations

import math

import pytest
from streamlit.testing.v1 import AppTest

from ui.components import error_line, fmt
from ui.formatting import fmt_num, fmt_pct


@pytest.mark.parametrize(("value", "fraction", "digits", "text"), [
    (0.553, True, 1, "55.3 %"),          # a share of 1: accuracy 0.553
    (0.5, True, 0, "50 %"),
    (1.0, True, 0, "100 %"),
    (12.346, False, 2, "12.35 %"),       # already in percent: total_return_pct
    (1234.5, False, 2, "1,234.50 %"),
    (-3.0, False, 1, "-3.0 %"),
    (0.553, False, 2, "0.55 %"),         # the same number read as percent points
])
def test_fmt_pct_says_which_unit_it_reads(value, fraction, digits, text):
    assert fmt_pct(value, fraction=fraction, digits=digits) == text


@pytest.mark.parametrize("missing", [None, math.nan, math.inf, -math.inf])
def test_fmt_pct_missing_is_na(missing):
    assert fmt_pct(missing, fraction=True) == "n/a"
    assert fmt_pct(missing, fraction=False) == "n/a"


def test_fmt_pct_needs_the_unit():
    with pytest.raises(TypeError, match="fraction"):
        fmt_pct(0.5)  # type: ignore[call-arg]


def test_fmt_num():
    assert fmt_num(0.5) == "0.5000" and fmt_num(1 / 3, 2) == "0.33"
    assert fmt_num(None) == fmt_num(math.nan) == "n/a"


def test_metric_card_pct_is_percent_points():
    assert fmt(12.346, "pct") == "12.35 %" and fmt(None, "pct") == "n/a"


def test_error_line():
    from engine.errors import DataError

    assert error_line(DataError("bad file; fix it")) == "bad file; fix it"
    assert error_line(ValueError("boom")) == "Unexpected error (ValueError: boom)."


def _page(mode: str) -> None:
    import streamlit as st

    from engine.errors import StratLabError
    from ui import components

    def fail_domain():
        raise StratLabError("no dataset XYZ; import it on Market Data first")

    def fail_bug():
        raise KeyError("k")

    fn = {"domain": fail_domain, "bug": fail_bug, "ok": lambda: 41 + 1}[mode]
    out = components.call_engine("t_notice", fn, ok=lambda v: f"done: {v}")
    st.write(f"returned {out}")
    components.show_notice("t_notice")


@pytest.mark.parametrize(("mode", "kind", "text", "returned"), [
    ("domain", "error", "no dataset XYZ; import it on Market Data first", "None"),
    ("bug", "error", "Unexpected error (KeyError: 'k').", "None"),
    ("ok", "success", "done: 42", "42"),
])
def test_call_engine_turns_a_failure_into_one_notice(mode, kind, text, returned):
    at = AppTest.from_function(_page, args=(mode,)).run()
    assert not at.exception
    assert [e.value for e in getattr(at, kind)] == [text]
    other = "success" if kind == "error" else "error"
    assert not getattr(at, other)
    assert any(m.value == f"returned {returned}" for m in at.markdown)
    assert "t_notice" not in at.session_state  # shown once, then forgotten


def test_active_dataset_survives_a_reload_through_the_address():
    """Defect 11: a reload (a fresh session) on ``?dataset=SYN-RANGE`` keeps SYN-RANGE
    active — not the default SP500 — and the page in view uses it; choosing another
    dataset writes it into the address."""
    from tests.pages.conftest import APP, TIMEOUT, assert_clean

    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["dataset"] = "SYN-RANGE"
    at.run()
    assert_clean(at)
    assert at.sidebar.selectbox(key="dataset").value == "SYN-RANGE"
    at.switch_page("app_pages/backtest.py").run()
    assert at.session_state["bt_range_for"] == "SYN-RANGE"
    at.sidebar.selectbox(key="dataset").set_value("SYN-TREND").run()
    assert at.query_params["dataset"] in ("SYN-TREND", ["SYN-TREND"])
    # an address naming no known dataset falls back to the default
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    fresh.query_params["dataset"] = "NOPE"
    fresh.run()
    assert fresh.sidebar.selectbox(key="dataset").value == "SP500"
