"""The README documents what the engine prints."""

from __future__ import annotations

from engine.backtest import METRIC_NAMES, STRATEGIES, GENOME_PARAMS
from engine.config import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def test_every_metric_is_documented():
    missing = [m for m in METRIC_NAMES if f"`{m}`" not in README]
    assert missing == []


def test_every_strategy_and_gene_is_documented():
    assert [s for s in STRATEGIES if f"`{s}`" not in README] == []
    assert [g.name for g in GENOME_PARAMS if f"| {g.name} |" not in README] == []


def test_readme_test_command_is_what_ci_runs():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "python -m pytest -q" in README
    assert ci.strip().splitlines()[-1] == "python -m pytest -q"
