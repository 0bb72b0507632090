"""The API key never reaches the database, the logs or a page; the CLI JSON contract."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from engine import db
from engine.cli import main
from engine.config import get_settings
from engine.llm.analyst import analyze
from tests.llm.conftest import SECRET, FakeAPI, decision_json, err, ok

SEED_KEYS = ["decision", "confidence", "entry_price", "stop_loss", "take_profit",
             "risk_reward_ratio", "position_size_suggestion", "reasoning", "key_risks",
             "timeframe"]


def test_key_never_in_db_logs_or_errors(make_client, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    seen_keys = []

    def echo(request):  # a server error that echoes the key back in its message
        seen_keys.append(request.headers.get("x-api-key") or request.headers.get("authorization"))
        return err(401, msg=f"invalid x-api-key {SECRET}")

    # SYN-TREND's last close is 256.84: levels plausible against it
    api = FakeAPI(ok(decision_json(entry=256.8, stop=250.0, target=270.0)), echo)
    client = make_client(api)
    assert repr(client) == "ClaudeClient(api_key=***)"
    doc = analyze("SYN-TREND", client=client)
    assert doc["decision"] and doc["provider"] == "anthropic"
    bad = analyze("SYN-RANGE", client=client)
    assert bad["decision"] is None and SECRET not in bad["error"] and "***" in bad["error"]
    assert SECRET in seen_keys[0]  # the key did go to the API, in its auth header
    logging.getLogger("engine.test").warning("key is %s", SECRET)  # even a careless log line
    db.dispose_all()  # flush the WAL into the file
    base = Path(get_settings().data_dir) / "lab.db"
    blob = b"".join(p.read_bytes() for p in base.parent.glob("lab.db*"))
    assert blob and SECRET.encode() not in blob
    assert SECRET not in caplog.text and SECRET not in json.dumps(doc) + json.dumps(bad)


def test_key_from_streamlit_secrets_is_not_rendered(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    root = Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / "app_pages" / "ai_analyst.py"), default_timeout=60)
    at.secrets["ANTHROPIC_API_KEY"] = SECRET
    at.run()
    assert not at.exception
    assert at.selectbox(key="ai_provider").options[-1] == "Claude (API key set)"
    shown = "\n".join(str(getattr(e, "value", "")) for kind in (
        "markdown", "caption", "info", "success", "warning", "error", "code", "text")
        for e in getattr(at, kind))
    assert SECRET not in shown


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, errout = capsys.readouterr()
    return code, out, errout


def test_analyze_json_contract(capsys):
    code, out, _ = run_cli(capsys, "analyze", "SYN-TREND", "--as-of", "2022-06-30",
                           "--provider", "offline", "--json")
    assert code == 0
    doc = json.loads(out)
    for k in ("symbol", "as_of", "provider", "models", "decision", "regime", "risk",
              "cost_usd", "cached"):
        assert k in doc
    assert list(doc["decision"]) == SEED_KEYS
    assert set(doc["risk"]) == {"approved", "reasons"}
    assert doc["provider"] == "offline" and doc["as_of"].startswith("2022-06-30")
    code, out, _ = run_cli(capsys, "analyze", "SYN-TREND", "--consensus", "--provider",
                           "offline", "--json")
    assert code == 0 and json.loads(out)["consensus"]["n_models"] == 3


def test_costs_screen_replay_accuracy_json(capsys):
    code, out, _ = run_cli(capsys, "screen", "SYN-TREND", "SYN-RANGE", "--provider",
                           "offline", "--json")
    assert code == 0 and [r["rank"] for r in json.loads(out)["rows"]] == [1, 2]
    code, out, errout = run_cli(capsys, "replay", "SYN-TREND", "--start", "2022-01-01",
                                "--end", "2022-06-30", "--every", "20", "--provider",
                                "offline", "--json")
    assert code == 0 and "replay estimate" in errout
    rep = json.loads(out)
    assert rep["n_decisions"] == len(rep["decisions"]) > 0 and rep["estimate"]["max_cost_usd"] == 0
    code, out, _ = run_cli(capsys, "costs", "--json")
    doc = json.loads(out)
    for k in ("today_usd", "month_usd", "daily_limit_usd", "monthly_limit_usd", "calls",
              "cache_hit_rate"):
        assert k in doc
    assert doc["daily_limit_usd"] == 5.0 and doc["monthly_limit_usd"] == 100.0
    code, out, _ = run_cli(capsys, "accuracy", "--json")
    acc = json.loads(out)
    assert code == 0 and acc["overall"]["decisions"] >= rep["n_decisions"]


def test_replay_over_the_cost_cap_is_refused_before_any_call(capsys, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    code, out, errout = run_cli(capsys, "replay", "SYN-TREND", "--start", "2022-01-01",
                                "--end", "2022-12-31", "--every", "5", "--provider",
                                "anthropic", "--max-cost", "0.01", "--json")
    assert code == 2 and "replay refused" in errout and "--max-cost" in errout
    assert SECRET not in out + errout


def test_anthropic_without_key_is_a_clear_error(capsys):
    code, _, errout = run_cli(capsys, "analyze", "SYN-TREND", "--provider", "anthropic")
    assert code == 2 and "ANTHROPIC_API_KEY" in errout and "offline" in errout
