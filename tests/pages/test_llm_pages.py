"""AI Analyst and Costs & Accuracy pages (AppTest on the page files, offline analyst)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-ant-test-PAGE-SECRET-91b2"


def page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=60)


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def texts(at: AppTest) -> str:
    parts = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "success", "warning",
                 "metric", "code", "text"):
        for el in getattr(at, kind):
            parts.append(str(getattr(el, "value", "")) + " " + str(getattr(el, "label", "")))
    for df in at.dataframe:
        parts.append(df.value.to_csv())
    return "\n".join(parts)


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)


def test_ai_analyst_offline_single_and_consensus():
    at = page("ai_analyst").run()
    clean(at)
    assert [t.value for t in at.title] == ["AI Analyst"]
    assert any("Offline analyst" in i.value for i in at.info)
    at.selectbox(key="ai_symbol").set_value("SYN-TREND")
    at.button(key="ai_analyze_btn").click().run()
    clean(at)
    body = texts(at)
    assert "offline" in at.subheader[0].value
    assert "Final decision" in body and ":gray-badge[offline]" in body
    doc = at.session_state["ai_result"]
    assert doc["provider"] == "offline" and doc["decision"]["decision"] in {"BUY", "SELL", "HOLD"}
    assert doc["cost_usd"] == 0
    at.radio(key="ai_mode").set_value("Consensus").run()
    at.button(key="ai_analyze_btn").click().run()
    clean(at)
    doc = at.session_state["ai_result"]
    assert doc["consensus"]["n_models"] == 3
    assert "Consensus" in texts(at) and "Each model's decision" in texts(at)


def test_ai_analyst_screen_and_replay_offline():
    at = page("ai_analyst").run()
    at.button(key="ai_screen_btn").click().run()
    clean(at)
    rows = at.session_state["ai_screen"]
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    table = next(d.value for d in at.dataframe if "Rank" in d.value.columns)
    assert len(table) == len(rows)
    assert any("offline" in m.value for m in at.markdown if "Ranked" in m.value)
    at.selectbox(key="ai_rp_symbol").set_value("SYN-TREND").run()
    assert any("Estimate before starting" in i.value for i in at.info)
    at.number_input(key="ai_rp_every").set_value(20).run()
    at.button(key="ai_rp_btn").click().run()
    clean(at)
    res = at.session_state["ai_replay"]
    assert res["offline"] and res["n_decisions"] > 5 and res["accuracy"] is not None


def test_costs_accuracy_page_after_a_replay():
    from engine.llm.analyst import replay

    at = page("costs_accuracy").run()
    clean(at)
    assert [t.value for t in at.title] == ["Costs & Accuracy"]
    assert any("No decision has been scored" in i.value for i in at.info)
    res = replay("SYN-TREND", "2023-01-01", "2023-12-31", 10, provider="offline")
    at = page("costs_accuracy").run()
    clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Today"] == "$0.0000"
    assert metrics["Decisions"] == str(res["n_decisions"])
    assert metrics["Accuracy"].endswith("%")
    assert "incl. offline" in texts(at) or "offline" in texts(at)
    assert "master_analyst" in texts(at)  # the prompts table and the YAML viewer
    assert any("claude-haiku-5-5" in c.value for c in at.code)
    # defect 16: the confidence table showed Python's None for undefined rates
    buckets = next(d.value for d in at.dataframe if "Confidence bucket" in d.value.columns)
    assert "None" not in buckets.to_csv() and buckets.isna().sum().sum() == 0


def test_key_never_reaches_the_page(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    at = page("ai_analyst").run()
    clean(at)
    assert at.selectbox(key="ai_provider").options == ["Offline analyst",
                                                       "Claude (API key set)"]
    assert SECRET not in texts(at)
    at = page("costs_accuracy").run()
    clean(at)
    assert SECRET not in texts(at)


def test_costs_page_shows_an_anomaly_and_its_button_resumes_paid_calls():
    """A reply whose usage cannot be true stops paid calls until acknowledged here."""
    from engine.llm import costs
    from engine.llm.prompts import load_config

    spec = load_config().model("haiku")
    cid = costs.reserve(model_key="haiku", spec=spec, prompt="master_analyst",
                        prompt_version="1", max_cost_usd=0.01)
    costs.settle(cid, spec=spec, usage=costs.Usage(-5_000_000, 10),
                 problems=["input_tokens is negative (-5000000)"])
    at = page("costs_accuracy").run()
    clean(at)
    [warn] = [w.value for w in at.warning if "Paid calls are stopped" in w.value]
    assert "1 reply reported usage that cannot be true" in warn
    assert "input_tokens is negative" in texts(at)
    with pytest.raises(costs.AnomalyPending):
        costs.reserve(model_key="haiku", spec=spec, prompt="p", prompt_version="1",
                      max_cost_usd=0.01)
    at.button(key="ca_ack_btn").click().run()
    clean(at)
    assert not [w for w in at.warning if "Paid calls are stopped" in w.value]
    assert costs.pending_anomalies() == []
    costs.reserve(model_key="haiku", spec=spec, prompt="p", prompt_version="1",
                  max_cost_usd=0.01)  # paid calls may run again


# ------------------------------------------------------------------ issue 10 defects

def test_consensus_cards_do_not_truncate_and_name_their_prompt_versions():
    # defect 7: the per-model cards sat three abreast with four metric tiles each, which cut
    # every number ("Confid…", Entry "8…"); they are wrapping text now, and only the
    # full-width final card uses tiles. Defect 16: "consensus v" without a version.
    at = page("ai_analyst").run()
    at.selectbox(key="ai_symbol").set_value("SYN-TREND")
    at.radio(key="ai_mode").set_value("Consensus").run()
    at.button(key="ai_analyze_btn").click().run()
    clean(at)
    labels = [m.label for m in at.metric]
    # 4 summary tiles + the final decision's 4; none from the three member cards
    assert labels.count("Confidence") == 1 and len(labels) == 8, labels
    assert "Market regime" not in labels  # a long word: text, not a tile that cuts it
    body = texts(at)
    assert "consensus v" not in body
    assert "consensus of master_analyst v" in body and "momentum_catalyst v" in body
    assert sum("Confidence: **" in m.value for m in at.markdown) == 3
    # the offline members that run the same rules are named
    assert "2 distinct rule sets (master_analyst ×2" in body


def test_screen_refuses_a_short_dataset_and_shows_as_of(tmp_path):
    from engine.market import import_file, load_dataset

    csv = tmp_path / "short.csv"
    load_dataset("SYN-TREND").head(37).write_csv(csv)
    import_file(csv, "SHORT37")
    at = page("ai_analyst").run()
    at.multiselect(key="ai_screen_syms").set_value(["SHORT37", "SYN-RANGE"])
    at.button(key="ai_screen_btn").click().run()
    clean(at)
    table = next(d.value for d in at.dataframe if "Rank" in d.value.columns)
    short = table[table["Symbol"] == "SHORT37"].iloc[0]
    assert short["Decision"] == "refused" and short["Confidence"] == "—"
    assert "too few for sma50 (needs 50 bars)" in short["Note"]
    rng = table[table["Symbol"] == "SYN-RANGE"].iloc[0]
    assert rng["As of"] == f"{load_dataset('SYN-RANGE')['timestamp'][-1]:%Y-%m-%d}"
    assert "None" not in table.to_csv()


def test_replay_follows_the_sidebar_dataset_and_shows_no_none():
    at = page("ai_analyst")
    at.session_state["dataset"] = "SYN-RANGE"
    at.run()
    assert at.selectbox(key="ai_rp_symbol").value == "SYN-RANGE"
    assert at.selectbox(key="ai_symbol").value == "SYN-RANGE"
    # a pick on the page stays until the sidebar changes
    at.selectbox(key="ai_rp_symbol").set_value("SYN-TREND").run()
    assert at.selectbox(key="ai_rp_symbol").value == "SYN-TREND"
    at.session_state["dataset"] = "SYN-VOLATILE"
    at.run()
    assert at.selectbox(key="ai_rp_symbol").value == "SYN-VOLATILE"
    at.selectbox(key="ai_rp_symbol").set_value("SYN-TREND").run()
    at.number_input(key="ai_rp_every").set_value(20).run()
    at.button(key="ai_rp_btn").click().run()
    clean(at)
    table = next(d.value for d in at.dataframe if "pnl_usd" in d.value.columns)
    # HOLD decisions are not followed: their P&L is a dash, not Python's None
    assert table["pnl_usd"].isna().sum() == 0
    assert "None" not in table.to_csv()
    assert (table["pnl_usd"] == "—").any()
