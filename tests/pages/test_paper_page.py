"""The Paper Trading page (AppTest): create a book through the form, add two sleeves, replay
a year, see positions and risk events, pause and resume a sleeve — checked against the
database through engine.paper; "add as a sleeve" from the Backtest and Model Registry pages."""

from __future__ import annotations

from datetime import date

import pytest

from tests.pages.conftest import assert_clean, open_page, table


def _create_book(at, name: str = "demo", **fields):
    at.text_input(key="pt_new_name").input(name)
    for key, value in fields.items():
        w = at.checkbox(key=key) if key.endswith("_on") else None
        if w is not None:
            w.set_value(value)
        elif key == "pt_new_start":
            at.date_input(key=key).set_value(value)
        elif key == "pt_new_breaker":
            at.toggle(key=key).set_value(value)
        else:
            at.number_input(key=key).set_value(value)
    at.button(key="FormSubmitter:pt_new_book-Create book").click()
    return at.run()


def _add_strategy(at, name: str, strategy: str, symbol: str, alloc: float, **params):
    at.radio(key="pt_new_kind").set_value("strategy").run()
    at.selectbox(key="pt_new_strategy").set_value(strategy).run()
    for p, v in params.items():
        at.number_input(key=f"pt_new_p_{strategy}_{p}").set_value(v)
    at.text_input(key="pt_add_name").input(name)
    at.multiselect(key="pt_add_symbols").set_value([symbol])
    at.number_input(key="pt_add_alloc").set_value(alloc)
    at.button(key="pt_add_btn").click()
    return at.run()


def test_empty_page_offers_the_new_book_form_with_the_seed_limits(app):
    at = open_page(app, "paper_trading")
    assert_clean(at)
    assert any("No paper books yet" in i.value for i in at.info)
    assert at.number_input(key="pt_new_max_pos").value == 10
    assert at.number_input(key="pt_new_max_size").value == pytest.approx(10.0)
    assert at.checkbox(key="pt_new_dll_on").value is True
    assert at.number_input(key="pt_new_dll").value == 1000.0
    assert at.checkbox(key="pt_new_corr_on").value is True
    assert at.number_input(key="pt_new_corr").value == pytest.approx(0.8)
    assert at.toggle(key="pt_new_breaker").value is True


def test_create_add_two_sleeves_replay_a_year_pause_and_resume(app):
    from engine.paper import book_events, book_status, get_book, open_positions

    at = open_page(app, "paper_trading")
    at = _create_book(at, "demo", pt_new_start=date(2018, 1, 1), pt_new_commission=0.1,
                      pt_new_corr_on=False)
    assert_clean(at)
    book = get_book("demo")
    assert book.start.date() == date(2018, 1, 1) and book.commission == pytest.approx(0.001)
    assert book.correlation_limit is None  # switched off in the form
    assert book.max_position_size == pytest.approx(0.1) and book.daily_loss_limit_usd == 1000
    assert at.selectbox(key="pt_book").value == "demo"

    at = _add_strategy(at, "trend", "sma_cross", "SYN-TREND", 50.0, fast=10, slow=30)
    assert_clean(at)
    at = _add_strategy(at, "range", "rsi", "SYN-RANGE", 50.0)
    assert_clean(at)
    st = book_status("demo")
    assert [(s["name"], s["kind"], s["symbols"], s["allocation"]) for s in st["sleeves"]] == [
        ("trend", "strategy", ["SYN-TREND"], 0.5), ("range", "strategy", ["SYN-RANGE"], 0.5)]

    # the replay target defaults to a year after the start; one click processes the year
    assert at.date_input(key="pt_to").value == date(2019, 1, 1)
    at.date_input(key="pt_to").set_value(date(2018, 12, 31))
    at.button(key="pt_replay").click()
    at = at.run()
    assert_clean(at)
    st = book_status("demo")
    assert st["clock"] == "2018-12-31T00:00:00"
    assert any("Processed 261 bars" in s.value for s in at.success)  # 2018's weekdays

    # positions and risk events as the engine reads them
    positions = open_positions("demo")
    assert positions  # SYN-TREND's sma_cross holds one at the year's end
    shown = table(at, "Unrealised P&L")
    assert list(shown["Symbol"]) == [p["symbol"] for p in positions]
    assert list(shown["Unrealised P&L"]) == pytest.approx(
        [p["unrealised_pnl"] for p in positions])
    events = book_events("demo")
    assert any(e["rule"] == "max_position_size" for e in events)  # 50 % budgets, 10 % cap
    ev = table(at, "Rule")
    assert len(ev) == len(events) and set(ev["Rule"]) == {e["rule"] for e in events}
    sl = table(at, "Paused because")
    assert list(sl["Trades"]) == [s["n_trades"] for s in st["sleeves"]]
    assert table(at, "Reason") is not None  # the fills

    # pause by hand: the DB says paused, the buttons swap; resume: active again
    assert at.button(key="pt_resume_trend").disabled
    at.button(key="pt_pause_trend").click()
    at = at.run()
    assert_clean(at)
    s = {x["name"]: x for x in book_status("demo")["sleeves"]}
    assert s["trend"]["status"] == "paused" and "by hand" in s["trend"]["paused_reason"]
    assert s["range"]["status"] == "active"
    assert at.button(key="pt_pause_trend").disabled
    assert not at.button(key="pt_resume_trend").disabled
    at.button(key="pt_resume_trend").click()
    at = at.run()
    assert_clean(at)
    assert book_status("demo")["sleeves"][0]["status"] == "active"

    # step 5 more bars
    at.number_input(key="pt_bars").set_value(5)
    at.button(key="pt_step").click()
    at = at.run()
    assert_clean(at)
    assert book_status("demo")["clock"] == "2019-01-07T00:00:00"  # 1, 2, 3, 4, 7 January


def test_backtest_vs_paper_is_identical_for_a_free_book(app):
    from engine.paper import reconcile

    at = open_page(app, "paper_trading")
    at = _create_book(at, "free", pt_new_start=date(2018, 1, 1), pt_new_max_size=100.0,
                      pt_new_dll_on=False, pt_new_corr_on=False, pt_new_breaker=False)
    at = _add_strategy(at, "trend", "sma_cross", "SYN-TREND", 100.0)
    at.date_input(key="pt_to").set_value(date(2019, 12, 31))
    at.button(key="pt_replay").click()
    at = at.run()
    at.button(key="pt_rec_btn").click()
    at = at.run()
    assert_clean(at)
    rec = reconcile("free", "trend")
    assert rec["identical"] is True
    assert any(f"Identical: {len(rec['paper_trades'])} trades" in s.value for s in at.success)


def test_add_as_a_sleeve_from_the_backtest_page_creates_a_book(app):
    from engine.paper import book_status

    at = open_page(app, "backtest")
    at.session_state["dataset"] = "SYN-TREND"
    at.run()
    at.number_input(key="bt_p_sma_cross_fast").set_value(7)
    at.number_input(key="bt_sl_pct").set_value(5.0)
    at = at.run()
    assert at.selectbox(key="bt_paper_book").value == "＋ New book (seed limits)"
    at.text_input(key="bt_paper_new_book").input("from-bt")
    at.button(key="bt_paper_btn").click()
    at = at.run()
    assert_clean(at)
    st = book_status("from-bt")
    (s,) = st["sleeves"]
    assert s["kind"] == "strategy" and s["symbols"] == ["SYN-TREND"] and s["allocation"] == 1
    from engine.paper import get_book
    from engine.paper.book import sleeves_of

    book = get_book("from-bt")
    assert book.max_positions == 10 and book.max_position_size == 0.1  # the seed's limits
    cfg = sleeves_of(book)[0].config
    assert cfg["params"] == {"fast": 7, "slow": 30} and cfg["stop_loss"] == pytest.approx(0.05)
    assert any("Added sleeve" in x.value for x in at.success)


def test_a_registry_version_in_the_paper_environment_is_offered_as_a_sleeve(app):
    from engine.paper import book_status, create_book
    from tests.registry.factories import make_version

    info = make_version(symbol="SYN-RANGE")
    create_book("desk")
    at = open_page(app, "model_registry")
    at.selectbox(key="mr_env").set_value("paper").run()
    assert at.selectbox(key="mr_paper_book").value == "desk"
    at.button(key="mr_paper_btn").click()
    at = at.run()
    assert_clean(at)
    (s,) = book_status("desk")["sleeves"]
    assert s["kind"] == "model" and s["symbols"] == ["SYN-RANGE"]
    from engine.paper import get_book
    from engine.paper.book import sleeves_of

    assert sleeves_of(get_book("desk"))[0].config["version"] == info.version_id


def test_an_ensemble_of_two_sleeves_is_added_on_the_page(app):
    from engine.paper import add_sleeve, create_book, get_book
    from engine.paper.book import sleeves_of

    create_book("ens")
    add_sleeve("ens", "a", "strategy", ["SYN-TREND"], {"strategy": "sma_cross"}, 0.3)
    add_sleeve("ens", "b", "strategy", ["SYN-TREND"], {"strategy": "rsi"}, 0.3)
    at = open_page(app, "paper_trading")
    at.radio(key="pt_new_kind").set_value("ensemble").run()
    assert at.multiselect(key="pt_new_members").options == ["a", "b"]
    at.multiselect(key="pt_new_members").set_value(["a", "b"]).run()
    at.radio(key="pt_new_weighting").set_value("sharpe")
    assert at.number_input(key="pt_add_alloc").value == pytest.approx(40.0)  # what is left
    at.multiselect(key="pt_add_symbols").set_value(["SYN-TREND"])
    at.button(key="pt_add_btn").click()
    at = at.run()
    assert_clean(at)
    e = sleeves_of(get_book("ens"))[-1]
    assert e.kind == "ensemble" and e.allocation == pytest.approx(0.4)
    assert list(e.config["members"]) == ["a", "b"] and e.config["weighting"] == "sharpe"


def test_the_ai_analyst_page_offers_an_analyst_sleeve_where_the_kind_exists(app):
    from engine.paper import analyst_available, book_status, create_book

    create_book("ai")
    at = open_page(app, "ai_analyst")
    assert_clean(at)
    if not analyst_available():
        assert any("not available" in c.value for c in at.caption)
        return
    at.number_input(key="ai_paper_every").set_value(10)
    at.multiselect(key="ai_paper_symbols").set_value(["SYN-TREND"])
    at.button(key="ai_paper_btn").click()
    at = at.run()
    assert_clean(at)
    (s,) = book_status("ai")["sleeves"]
    assert s["kind"] == "analyst" and s["symbols"] == ["SYN-TREND"]


def test_the_browser_journey_step_by_step(app):
    """What tests/browser/test_paper_browser.py does and reads, as AppTest sees it: the
    symbols follow the sidebar, the default target replays a year, and the texts it waits
    for are on the page."""
    at = open_page(app, "paper_trading")
    at = _create_book(at, "demo")
    at.session_state["dataset"] = "SYN-TREND"
    at = at.run()
    assert at.multiselect(key="pt_add_symbols").value == ["SYN-TREND"]  # follows the sidebar
    at.number_input(key="pt_add_alloc").set_value(50.0)
    at.button(key="pt_add_btn").click()
    at = at.run()
    at.session_state["dataset"] = "SYN-RANGE"
    at = at.run()
    at.selectbox(key="pt_new_strategy").set_value("rsi")
    at = at.run()
    assert at.multiselect(key="pt_add_symbols").value == ["SYN-RANGE"]
    assert at.text_input(key="pt_add_name").value == "rsi"
    assert at.number_input(key="pt_add_alloc").value == pytest.approx(50.0)
    at.button(key="pt_add_btn").click()
    at = at.run()
    assert_clean(at)
    assert at.date_input(key="pt_to").value == date(2016, 1, 2)  # a year after 2015-01-02
    at.button(key="pt_replay").click()
    at = at.run()
    assert_clean(at)
    assert any("Processed 261 bars" in s.value for s in at.success)
    captions = [c.value for c in at.caption]
    assert any("Clock **2016-01-01**" in c for c in captions)
    assert any("Unrealised P&L +299.43 USD" in c for c in captions)
    assert any(c.startswith("max_position_size:") for c in captions)
    at.button(key="pt_pause_sma_cross").click()
    at = at.run()
    assert any("paused by hand on the Paper Trading page" in c.value for c in at.caption)
    at.button(key="pt_resume_sma_cross").click()
    at = at.run()
    at.button(key="pt_rec_btn").click()
    at = at.run()
    assert_clean(at)
    assert any("differences: paper" in w.value for w in at.warning)


def test_the_figures_draw_what_the_engine_returned():
    import numpy as np

    from ui.paper_charts import correlation_heatmap, equity_figure, reconcile_figure

    eq = {"time": ["2018-01-02T00:00:00", "2018-01-03T00:00:00"], "equity": [100.0, 101.0],
          "sleeves": {"a": {"time": ["2018-01-02T00:00:00", "2018-01-03T00:00:00"],
                            "equity": [50.0, 51.0]}}}
    hold = {"time": eq["time"], "equity": [100.0, 99.0], "sleeves": {"a": [50.0, 49.0]}}
    fig = equity_figure(eq, hold)
    assert [t.name for t in fig.data] == ["Book", "Buy & hold (book)", "Sleeve a", "B&H a"]
    assert list(fig.data[1].y) == [100.0, 99.0] and fig.data[3].visible == "legendonly"
    assert [t.name for t in equity_figure(eq, hold, sleeves=False).data] == [
        "Book", "Buy & hold (book)"]
    m = [[1.0, 0.5], [0.5, 1.0]]
    heat = correlation_heatmap(["X", "Y"], m, window=60, limit=0.8)
    np.testing.assert_array_equal(heat.data[0].z, np.array(m))
    assert heat.data[0].text[0][1] == "0.50" and "limit 0.8" in heat.layout.title.text
    nan = correlation_heatmap(["X", "Y"], [[1.0, float("nan")], [float("nan"), 1.0]],
                              window=60)
    assert nan.data[0].text[0][1] == "—"
    rec = reconcile_figure({"time": eq["time"], "equity": [1.0, 2.0]},
                           {"time": eq["time"], "equity": [1.0, 3.0]})
    assert [t.name for t in rec.data] == ["Backtest", "Paper"]
    assert list(rec.data[0].y) == [1.0, 3.0]


def test_the_correlation_tab_draws_the_open_positions(app):
    from datetime import datetime

    from engine.paper import BookSettings, add_sleeve, create_book, step_book

    create_book("c", BookSettings(start=datetime(2018, 1, 1)))
    for name, sym in (("t", "SYN-TREND"), ("v", "SYN-VOLATILE")):
        add_sleeve("c", name, "strategy", [sym],
                   {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}}, 0.4)
    step_book("c", to="2018-05-31")  # both hold a position here
    at = open_page(app, "paper_trading")
    assert_clean(at)
    assert any("last 60 close-to-close returns up to 2018-05-31" in c.value
               for c in at.caption)
    assert not any("heatmap needs open positions" in c.value for c in at.caption)


def test_the_live_schedule_toggle_puts_the_book_on_the_scheduled_job(app):
    from engine.paper import add_sleeve, create_book, live_books

    create_book("live")
    add_sleeve("live", "a", "strategy", ["SYN-TREND"], {"strategy": "sma_cross"}, 0.5)
    at = open_page(app, "paper_trading")
    assert at.toggle(key="pt_live_live").value is False
    at.toggle(key="pt_live_live").set_value(True)
    at = at.run()
    assert_clean(at)
    assert live_books() == ["live"]
    assert at.toggle(key="pt_live_live").value is True
    at.toggle(key="pt_live_live").set_value(False)
    at = at.run()
    assert live_books() == []


def test_backtest_vs_paper_of_a_two_symbol_sleeve_lists_its_differences(app):
    from datetime import datetime

    from engine.paper import BookSettings, add_sleeve, create_book, reconcile, step_book

    create_book("m", BookSettings(start=datetime(2018, 1, 1)))
    add_sleeve("m", "pair", "strategy", ["SYN-TREND", "SYN-RANGE"], {"strategy": "sma_cross"},
               0.5)
    step_book("m", to="2018-12-31")
    at = open_page(app, "paper_trading")
    at.button(key="pt_rec_btn").click()
    at = at.run()
    assert_clean(at)
    rec = reconcile("m", "pair")
    assert not rec["identical"]  # the seed's 10 % cap resized its entries
    assert any(f"{len(rec['differences'])} differences: paper" in w.value for w in at.warning)
    diffs = table(at, "Cause")
    assert list(diffs["Field"]) == [d["field"] for d in rec["differences"]]
