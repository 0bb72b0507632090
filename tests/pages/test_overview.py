"""Overview: renders on a fresh lab, lists datasets and saved runs, links to every page."""

from __future__ import annotations

from engine.backtest import BacktestSettings, run_backtest
from engine.backtest.history import save_run
from engine.market import load_dataset
from tests.pages.conftest import assert_clean, table


def test_first_run_shows_welcome_datasets_and_links(app):
    at = app.run()
    assert_clean(at)
    assert [t.value for t in at.title] == ["Strategy Lab"]
    assert any("Welcome" in i.value for i in at.info)
    datasets = table(at, "Synthetic")
    symbols = list(datasets["Symbol"])
    assert {"SP500", "NASDAQ", "SYN-TREND", "SYN-RANGE", "SYN-VOLATILE"} <= set(symbols)
    synthetic = dict(zip(symbols, datasets["Synthetic"], strict=True))
    # the real samples are labelled real, the generated ones synthetic
    assert not synthetic["SP500"] and not synthetic["NASDAQ"]
    assert all(synthetic[s] for s in symbols if s.startswith("SYN-"))
    links = {link.proto.label: link.proto for link in at.get("page_link")}
    from ui.components import NAV

    assert set(links) == {nav.title for nav in NAV}  # a link to every page of the app
    assert {"Overview", "Market Data", "Backtest"} <= set(links)
    assert all(link.page_script_hash for link in links.values())  # resolved to app pages
    # the shared sidebar names the active dataset and flags synthetic data (only)
    active = at.sidebar.selectbox(key="dataset").value
    assert active in symbols
    flagged = any("Synthetic" in c.value for c in at.sidebar.caption)
    assert flagged == bool(synthetic[active])


def test_recent_backtests_are_listed(app):
    res = run_backtest(load_dataset("SYN-TREND"), "sma_cross", {"fast": 5, "slow": 20},
                       BacktestSettings())
    run_id = save_run(res, "SYN-TREND")
    at = app.run()
    assert_clean(at)
    assert not any("Welcome" in i.value for i in at.info)
    runs = table(at, "Parameters")
    assert list(runs["Run"]) == [run_id]
    assert runs["Strategy"][0] == "sma_cross"
    assert runs["Parameters"][0] == "fast=5, slow=20"
    assert abs(runs["Return %"][0] - res.metrics["total_return_pct"]) < 1e-9


def test_navigation_is_in_workflow_order():
    """data → backtest → evolution → neural → registry → retrain → AI → paper → costs →
    system."""
    from ui.components import NAV

    assert [n.key for n in NAV] == ["overview", "market", "backtest", "evolution", "neural",
                                    "registry", "retrain", "ai_analyst", "paper", "costs",
                                    "system"]
