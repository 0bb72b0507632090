"""The backtest / sweep / history command-line contract (ARCHITECTURE.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from itertools import pairwise

import polars as pl
import pytest

from engine.backtest import BacktestSettings, run_backtest
from engine.backtest.history import list_runs
from engine.cli import main
from engine.market import load_dataset


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # a usage error: argparse exits (status 2)
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def goog_csv(goog, tmp_path):
    path = tmp_path / "goog.csv"
    goog.write_csv(path)
    return path


def test_backtest_json_contract(capsys, goog_csv, goog):
    code, out, err = run_cli(
        capsys, "backtest", "--data", str(goog_csv), "--strategy", "sma_cross",
        "--param", "fast=10", "--param", "slow=20", "--stop-loss", "0.05",
        "--take-profit", "0.1", "--json",
    )
    assert code == 0, err
    doc = json.loads(out)
    for key in ("total_return_pct", "max_drawdown_pct", "sharpe", "win_rate_pct",
                "profit_factor", "n_trades", "final_equity"):
        assert key in doc["metrics"]
    assert doc["metrics"]["n_trades"] == len(doc["trades"])
    t = doc["trades"][0]
    assert set(t) >= {"entry_time", "exit_time", "entry_price", "exit_price", "size", "pnl",
                      "exit_reason"}
    datetime.fromisoformat(t["entry_time"])  # ISO-8601
    assert {tr["exit_reason"] for tr in doc["trades"]} <= {"signal", "stop_loss",
                                                            "take_profit", "end"}
    # the same numbers as the engine call
    ref = run_backtest(goog, "sma_cross", {"fast": 10, "slow": 20},
                       BacktestSettings(stop_loss=0.05, take_profit=0.1))
    assert doc["metrics"]["final_equity"] == ref.metrics["final_equity"]
    assert doc["metrics"]["sharpe"] == ref.metrics["sharpe"]
    # saved in history
    runs = list_runs()
    assert len(runs) == 1 and runs[0].id == doc["run_id"] and runs[0].strategy == "sma_cross"


def test_backtest_start_end_inclusive_and_applied_before_indicators(capsys, goog_csv, goog):
    code, out, _ = run_cli(
        capsys, "backtest", "--data", str(goog_csv), "--strategy", "sma_cross",
        "--start", "2006-01-03", "--end", "2008-12-31", "--json", "--no-save",
    )
    assert code == 0
    doc = json.loads(out)
    window = goog.filter(
        (pl.col("timestamp") >= datetime(2006, 1, 3))
        & (pl.col("timestamp") <= datetime(2008, 12, 31))
    )
    ref = run_backtest(window, "sma_cross")
    assert doc["metrics"] == pytest.approx(ref.metrics, nan_ok=True)
    first = min(tr["entry_time"] for tr in doc["trades"])
    assert first >= "2006-01-03"
    assert list_runs() == []  # --no-save


def test_short_and_size_flags(capsys, goog_csv):
    code, out, _ = run_cli(capsys, "backtest", "--data", str(goog_csv), "--strategy", "macd",
                           "--short", "--size", "0.5", "--commission", "0.001", "--json")
    assert code == 0
    trades = json.loads(out)["trades"]
    assert any(t["size"] < 0 for t in trades) and any(t["size"] > 0 for t in trades)


def test_portfolio_with_comma_separated_symbols(capsys):
    code, out, err = run_cli(capsys, "backtest", "--data", "SYN-TREND,SYN-RANGE",
                             "--strategy", "genome", "--param", "max_positions=1", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["symbols"] == ["SYN-TREND", "SYN-RANGE"]
    assert {t["symbol"] for t in doc["trades"]} <= {"SYN-TREND", "SYN-RANGE"}
    # max_positions=1: holding periods never overlap
    spans = sorted((t["entry_time"], t["exit_time"]) for t in doc["trades"])
    for (_, exit_a), (entry_b, _) in pairwise(spans):
        assert entry_b >= exit_a


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--strategy", "nope"], "unknown strategy"),
        (["--strategy", "sma_cross", "--param", "fast=40", "--param", "slow=30"], "fast < slow"),
        (["--strategy", "sma_cross", "--param", "fast"], "KEY=VALUE"),
        (["--strategy", "rsi", "--param", "period=1.5"], "whole number"),
        (["--strategy", "sma_cross", "--stop-loss", "5"],
         "argument --stop-loss: 5 is not valid: must be a finite number in (0, 1)"),
        (["--strategy", "genome", "--param", "rsi_period=99"], "rsi_period"),
        (["--strategy", "sma_cross", "--start", "2030-01-01"],
         "no bars in goog.csv between 2030-01-01 and the end (it covers 2004-08-19 to "
         "2013-03-01); widen --start/--end"),
    ],
)
def test_bad_arguments_exit_nonzero_with_one_line(capsys, goog_csv, argv, needle):
    code, out, err = run_cli(capsys, "backtest", "--data", str(goog_csv), *argv)
    assert code != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert needle in lines[0]


def test_bad_file_exits_nonzero(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("this,is,not\nmarket,data,at all\n")
    code, _, err = run_cli(capsys, "backtest", "--data", str(bad), "--strategy", "rsi")
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_sweep_contract_grid_inclusive_best_first(capsys, goog_csv):
    code, out, err = run_cli(capsys, "sweep", "--data", str(goog_csv), "--strategy",
                             "sma_cross", "--grid", "fast=5:24", "--grid", "slow=30:60:10",
                             "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["n_backtests"] == 20 * 4
    assert len(doc["results"]) == 80
    assert doc["seconds"] > 0 and doc["backtests_per_second"] > 0
    fasts = {r["params"]["fast"] for r in doc["results"]}
    assert fasts == set(range(5, 25))
    sharpes = [r["metrics"]["sharpe"] for r in doc["results"]]
    assert sharpes == sorted(sharpes, reverse=True)


def test_sweep_skips_invalid_combinations(capsys, goog_csv):
    code, out, _ = run_cli(capsys, "sweep", "--data", str(goog_csv), "--strategy", "sma_cross",
                           "--grid", "fast=10:30:10", "--grid", "slow=20:30:10", "--json")
    doc = json.loads(out)
    # (10,20) (10,30) (20,30) valid; (20,20) (30,20) (30,30) skipped
    assert code == 0 and doc["n_backtests"] == 3 and doc["n_skipped"] == 3


def test_history_lists_and_shows_runs(capsys):
    assert run_cli(capsys, "backtest", "--data", "SYN-TREND", "--strategy", "rsi")[0] == 0
    code, out, _ = run_cli(capsys, "history", "--json")
    runs = json.loads(out)
    assert code == 0 and len(runs) == 1 and runs[0]["strategy"] == "rsi"
    code, out, _ = run_cli(capsys, "history", str(runs[0]["id"]), "--json")
    shown = json.loads(out)
    assert shown["metrics"]["n_trades"] == len(shown["trades"])
    code, _, err = run_cli(capsys, "history", "999")
    assert code == 2 and "no saved backtest" in err


def test_python_dash_m_engine_runs_as_a_process(tmp_path):
    env_dir = tmp_path / "lab2"
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "backtest", "--data", "SYN-RANGE", "--strategy",
         "bollinger", "--json", "--no-save"],
        capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "STRATLAB_DATA_DIR": str(env_dir)},
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    ref = run_backtest(load_dataset("SYN-RANGE"), "bollinger")
    assert doc["metrics"]["final_equity"] == ref.metrics["final_equity"]
