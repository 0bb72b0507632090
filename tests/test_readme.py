"""The README and the docs document what the engine prints, and the README's test command
is the one CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from engine.backtest import GENOME_PARAMS, METRIC_NAMES, STRATEGIES

PROJECT_ROOT = Path(__file__).resolve().parents[1]

README = (PROJECT_ROOT / "README.md").read_text()
METRICS_PAGE = (PROJECT_ROOT / "docs" / "metrics.md").read_text()
BACKTESTING_PAGE = (PROJECT_ROOT / "docs" / "backtesting.md").read_text()


def _table_first_column(markdown: str) -> list[str]:
    """The first cell of every table row, back-quotes stripped (header and rule rows too)."""
    return [m.group(1) for m in re.finditer(r"^\|\s*`?([^|`]+?)`?\s*\|", markdown, re.M)]


def test_every_metric_is_a_row_of_the_metrics_table():
    rows = _table_first_column(METRICS_PAGE)
    assert [m for m in METRIC_NAMES if m not in rows] == []
    # and the table documents nothing the engine does not print
    documented = [r for r in rows if r not in ("metric", "---")]
    assert [r for r in documented if r not in METRIC_NAMES] == []


def test_every_strategy_and_gene_is_documented():
    assert [s for s in STRATEGIES if f"| `{s}` |" not in BACKTESTING_PAGE] == []
    assert [g.name for g in GENOME_PARAMS if f"| {g.name} |" not in BACKTESTING_PAGE] == []


def test_readme_names_every_strategy():
    assert [s for s in STRATEGIES if f"`{s}`" not in README] == []


def test_readme_stays_short():
    assert len(README.splitlines()) <= 300


def test_readme_test_command_is_what_ci_runs():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert "```bash\npython -m pytest -q\n```" in README
    assert ci.strip().splitlines()[-1] == "python -m pytest -q"


def test_readme_install_puts_the_pinned_cpu_torch_first():
    install = "python -m pip install torch==2.13.0 && python -m pip install -e \".[dev]\""
    assert install in README
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert ci.index("pip install -q torch==2.13.0") < ci.index("pip install -q -e \".[dev]\"")
