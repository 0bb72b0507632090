"""Data-snooping statistics of evolution runs (issue 13 §1): PBO, SPA, minimum backtest
length, kept with the run and with promoted strategies.

Revision ID: 0006_run_statistics
Revises: 0005_paper_analyst
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006_run_statistics"
down_revision: str | Sequence[str] | None = "0005_paper_analyst"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
