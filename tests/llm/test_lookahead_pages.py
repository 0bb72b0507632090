"""AppTest: the look-ahead switches and sections of the AI Analyst and Costs & Accuracy
pages (the offline analyst, and Claude through the fake API transport)."""

from __future__ import annotations

from pathlib import Path

import httpx2
from streamlit.testing.v1 import AppTest

from tests.llm.conftest import SECRET, FakeAPI, decision_json, message

ROOT = Path(__file__).resolve().parents[2]


def page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=90)


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def texts(at: AppTest) -> str:
    parts = []
    for kind in ("subheader", "markdown", "caption", "info", "warning", "code"):
        parts += [str(getattr(el, "value", "")) for el in getattr(at, kind)]
    parts += [d.value.to_csv() for d in at.dataframe]
    return "\n".join(parts)


def test_blind_switch_on_the_analyse_tab():
    at = page("ai_analyst").run()
    at.selectbox(key="ai_symbol").set_value("SYN-TREND")
    at.toggle(key="ai_blind").set_value(True)
    at.button(key="ai_analyze_btn").click().run()
    clean(at)
    doc = at.session_state["ai_result"]
    assert doc["blind"] is True and doc["decision"] is not None
    body = texts(at)
    assert "The model saw no symbol, no dates and prices rebased to 100" in body
    shown = next(c.value for c in at.code if "rebased" in c.value)
    assert "SYN-TREND" not in shown and doc["as_of"][:10] not in shown
    # and off again: the named snapshot names the symbol
    at.toggle(key="ai_blind").set_value(False)
    at.button(key="ai_analyze_btn").click().run()
    assert at.session_state["ai_result"]["blind"] is False
    assert any("symbol: SYN-TREND" in c.value for c in at.code)


def test_paired_replay_on_the_replay_tab_offline():
    at = page("ai_analyst").run()
    at.selectbox(key="ai_rp_symbol").set_value("SYN-TREND").run()
    assert at.toggle(key="ai_rp_blind").value is False  # named by default offline
    at.checkbox(key="ai_rp_paired").check().run()
    assert any("arms named + blind" in i.value for i in at.info)
    at.number_input(key="ai_rp_every").set_value(25).run()
    at.button(key="ai_rp_btn").click().run()
    clean(at)
    res = at.session_state["ai_replay"]
    assert res["arms"] == ["named", "blind"] and res["paired"]["pairs"] > 0
    body = texts(at)
    assert "Look-ahead controls" in body and "Named and blind agreed on" in body
    assert "No training cutoff (offline analyst)" in body


def test_replay_tab_on_claude_is_blind_by_default_and_warns_before_the_cutoff(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    at = page("ai_analyst").run()
    at.selectbox(key="ai_provider").set_value("anthropic").run()
    at.selectbox(key="ai_rp_symbol").set_value("SYN-TREND").run()
    clean(at)
    assert at.toggle(key="ai_rp_blind").value is True
    warn = [w.value for w in at.warning if "training cutoff" in w.value]
    assert warn and "2026-06-30" in warn[0] and "offline control" in texts(at)
    assert SECRET not in texts(at)


def test_costs_and_accuracy_compares_claude_offline_and_buy_and_hold(make_client):
    from engine.llm.analyst import replay

    hold = decision_json("HOLD", 55, entry=None, stop=None, target=None, size=0.0)
    client = make_client(FakeAPI(httpx2.Response(200, json=message(hold))))
    replay("SYN-TREND", "2023-01-01", "2023-06-30", 15, client=client, paired=True)
    at = page("costs_accuracy").run()
    clean(at)
    body = texts(at)
    assert "Look-ahead controls" in body and "claude-sonnet-5-5 2026-06-30" in body
    assert "Both sides of the training cutoff" in body
    assert "Inside the training window (as of the cutoff or before)" in body
    assert "Claude, the offline control arm and buy-and-hold on the same dates" in body
    assert "Offline analyst (control arm)" in body and "Buy-and-hold" in body
    assert "Better than the offline analyst?" in body and "Better than always HOLD?" in body
    assert "Named against blind" in body and "Named and blind agreed on **100%**" in body
    assert "How sure can we be?" in body and "Wilson 95 % CI" in body
    at.radio(key="ca_arms_side").set_value("outside").run()
    clean(at)
    assert any("No replay decisions with a control arm on this side" in i.value
               for i in at.info)
    at.radio(key="ca_arms_side").set_value("inside").run()
    assert any("Offline analyst (control arm)" in d.value.to_csv() for d in at.dataframe)
