"""Market Data: the chart with indicators and regimes, the quality summary, CSV import."""

from __future__ import annotations

from engine.market import get_dataset_info, list_datasets
from tests.pages.conftest import assert_clean, open_page, table

GOOD_CSV = (
    "Date,Open,High,Low,Close,Volume\n"
    "2024-01-02,10,11,9.5,10.5,1000\n"
    "2024-01-03,10.5,11.5,10,11,1200\n"
    "2024-01-03,10.5,11.5,10,11,1200\n"      # duplicate timestamp
    "2024-01-04,11,10,10.5,10.8,900\n"        # high below open/close: rejected
    "2024-01-05,10.8,11.2,10.1,abc,800\n"     # not a number: rejected
    "2024-01-08,10.9,11.4,10.6,11.2,1100\n"
    "2024-01-09,11.2,11.9,11.0,11.8,1300\n"
)


def test_chart_and_quality_summary(app):
    at = open_page(app, "market_data")
    assert_clean(at)
    assert [t.value for t in at.title] == ["Market Data"]
    assert len(at.get("plotly_chart")) == 1
    info = get_dataset_info(at.sidebar.selectbox(key="dataset").value)
    # synthetic data says so; real data (the SP500 / NASDAQ samples) does not
    assert any("synthetic" in c.value for c in at.caption) == info.synthetic
    assert any(c.value.startswith("Regimes in this range") for c in at.caption)
    kept = {m.label: m.value for m in at.metric}
    assert kept["Rows kept"] == f"{info.n_rows:,}"
    assert kept["Rows rejected"] == "0"
    assert kept["Timeframe"] == "1d"


def test_every_overlay_and_panel_and_settings(app):
    at = open_page(app, "market_data")
    at.multiselect(key="md_overlays").set_value(["SMA", "EMA", "Bollinger"])
    at.multiselect(key="md_panels").set_value(["Volume", "RSI", "MACD"])
    at.number_input(key="md_sma_n").set_value(10)
    at.number_input(key="md_bb_k").set_value(2.5)
    at.run()
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 1
    at.multiselect(key="md_overlays").set_value([])
    at.multiselect(key="md_panels").set_value([])
    at.toggle(key="md_regimes").set_value(False)
    at.sidebar.selectbox(key="dataset").set_value("SYN-VOLATILE")
    at.run()
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 1
    assert not any(c.value.startswith("Regimes in this range") for c in at.caption)


def test_import_csv_through_the_page(app):
    at = open_page(app, "market_data")
    at.file_uploader(key="md_upload").set_value(("mini.csv", GOOD_CSV.encode(), "text/csv"))
    at.run()
    at.text_input(key="md_import_symbol").set_value("mini-1")
    at.button(key="md_import_btn").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Imported **MINI-1**" in s.value for s in at.success)
    info = get_dataset_info("MINI-1")
    assert info.source == "import" and not info.synthetic
    assert info.n_rows == 4 and info.n_rejected == 3
    # the report on the page: kept, rejected by reason with examples, duplicates
    shown = {m.label: m.value for m in at.metric}
    assert shown["Rows kept"] == "4"
    assert shown["Rows rejected"] == "3"
    assert shown["Duplicates"] == "1"
    reasons = table(at, "Reason")
    assert reasons["Rows"].sum() == 3
    assert table(at, "reason").shape[0] >= 2
    # the new dataset became the active one and is charted
    assert at.sidebar.selectbox(key="dataset").value == "MINI-1"
    assert len(at.get("plotly_chart")) == 1


def test_failed_import_shows_the_error_and_imports_nothing(app):
    at = open_page(app, "market_data")
    before = {d.symbol for d in list_datasets()}
    at.file_uploader(key="md_upload").set_value(
        ("junk.csv", b"foo,bar\n1,2\n3,4\n", "text/csv"))
    at.run()
    at.text_input(key="md_import_symbol").set_value("JUNK")
    at.button(key="md_import_btn").click().run()
    assert not at.exception
    assert any(e.value.startswith("Nothing was imported") for e in at.error)
    assert {d.symbol for d in list_datasets()} == before


def test_samples_cannot_be_replaced_by_an_import(app):
    at = open_page(app, "market_data")
    at.file_uploader(key="md_upload").set_value(("x.csv", GOOD_CSV.encode(), "text/csv"))
    at.run()
    at.text_input(key="md_import_symbol").set_value("SYN-TREND")
    at.checkbox(key="md_import_overwrite").check()
    at.button(key="md_import_btn").click().run()
    assert not at.exception
    assert any("bundled sample" in e.value for e in at.error)
    assert get_dataset_info("SYN-TREND").source == "sample"


def test_import_error_names_the_page_control_not_a_cli_flag(app):
    """Defect 10: importing over an existing import without the box ticked says to tick
    *Replace an existing import*, not "pass --overwrite (overwrite=True)"."""
    at = open_page(app, "market_data")
    at.file_uploader(key="md_upload").set_value(("mini.csv", GOOD_CSV.encode(), "text/csv"))
    at.run()
    at.text_input(key="md_import_symbol").set_value("MINI-2")
    at.button(key="md_import_btn").click().run()
    at.file_uploader(key="md_upload").set_value(("mini.csv", GOOD_CSV.encode(), "text/csv"))
    at.run()
    at.text_input(key="md_import_symbol").set_value("MINI-2")
    at.button(key="md_import_btn").click().run()
    errors = [e.value for e in at.error]
    assert any("tick *Replace an existing import* to replace it" in e for e in errors), errors
    assert not any("--overwrite" in e or "overwrite=True" in e for e in errors)


def test_page_wording_maps_every_cli_advice():
    """Each CLI phrase the pages can meet has its page wording (hand-written examples of
    the engine's messages)."""
    from ui.components import page_error

    assert page_error("a backtest needs at least 2 bars, got 1; widen --start/--end") == (
        "a backtest needs at least 2 bars, got 1; widen the *Date range*")
    assert "type another name in *Symbol*" in page_error(
        "SP500 is a bundled sample and cannot be replaced; use another symbol "
        "(e.g. --symbol MY-DATA)")
    assert page_error("run 3 has none; evolve it with `python -m engine evolve --resume 3`"
                      ) == "run 3 has none; press **Evolve**"
    assert "--" not in page_error("no promoted strategy 'x'; promote one with "
                                  "`python -m engine evolution promote RUN UID --name NAME`")
