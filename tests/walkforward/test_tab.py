"""The Evolution page's Walk-forward tab (AppTest through app.py): the form's errors, a
small analysis started in the background, its stitched result, windows and genes.

AppTest does not tick ``run_every``: the test waits on the database for the background job
to finish, then runs the page again.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import walkforward as wf
from tests.pages.conftest import assert_clean, open_page

APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture
def app():
    return AppTest.from_file(str(APP), default_timeout=120)


def _wait_done(analysis_id: int, timeout: float = 240.0) -> wf.AnalysisInfo:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        info = wf.get_analysis(analysis_id)
        if info.status in ("completed", "failed", "interrupted"):
            return info
        time.sleep(0.3)
    raise AssertionError(f"analysis {analysis_id} did not finish: {wf.get_analysis(analysis_id)}")


def _fill(at, *, windows: int) -> None:
    at.selectbox(key="wf_symbol").set_value("SYN-TREND")
    at.number_input(key="wf_windows").set_value(windows)
    at.number_input(key="wf_is_bars").set_value(300)
    at.number_input(key="wf_oos_bars").set_value(100)
    at.number_input(key="wf_population").set_value(8)
    at.number_input(key="wf_generations").set_value(1)
    at.checkbox(key="wf_random_seed").uncheck()
    at.run()
    at.number_input(key="wf_seed").set_value(3)
    at.selectbox(key="wf_backend").set_value("inline")
    at.run()


def test_walkforward_tab_runs_an_analysis_in_the_background(app):
    at = open_page(app, "evolution")
    assert_clean(at)
    assert "Walk-forward" in [t.label for t in at.tabs]
    assert any("No walk-forward analyses yet" in i.value for i in at.info)
    # too many windows for SYN-TREND's 2,608 bars: one error line naming the fix
    _fill(at, windows=50)
    at.button(key="wf_start_btn").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "not enough bars for 50 windows" in errors[0]
    assert "lower --windows, --is-bars or --oos-bars" in errors[0]
    assert wf.list_analyses() == []
    # a small analysis: 300 + 2 × 100 bars
    at.number_input(key="wf_windows").set_value(2).run()
    at.button(key="wf_start_btn").click().run()
    assert not at.exception and not at.error
    (a,) = wf.list_analyses()
    info = _wait_done(a.id)
    assert info.status == "completed", info.error
    at.run()
    assert_clean(at)
    assert "Walk-forward" in [t.label for t in at.tabs]
    texts = "\n".join(str(m.label) + " " + str(m.value) for m in at.metric)
    eff = info.result["efficiency"]
    want = "n/a" if eff is None else f"{eff:,.2f}"
    assert f"Walk-forward efficiency {want}" in texts
    total = info.result["stitched"]["metrics"]["total_return_pct"]
    assert f"Total return {total:,.2f} %" in texts
    tables = {tuple(d.value.columns): d.value for d in at.dataframe}
    windows = next(v for k, v in tables.items() if "OOS CAGR %" in k)
    assert list(windows["window"]) == [0, 1]
    assert list(windows["OOS CAGR %"]) == pytest.approx(
        [w.out_of_sample["cagr_pct"] for w in info.windows])
    genes = next(v for k, v in tables.items() if k[:2] == ("window", "rsi_period"))
    assert list(genes["rsi_period"]) == [w.genes["rsi_period"] for w in info.windows]
    assert any("2 of 2 windows evolved" in str(getattr(p, "proto", p))
               for p in at.get("progress"))
