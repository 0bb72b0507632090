"""Walk-forward analyses (issue 13 §2): the analysis, its windows and their genes/metrics.

Revision ID: 0007_walkforward
Revises: 0006_run_statistics
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0007_walkforward"
down_revision: str | Sequence[str] | None = "0006_run_statistics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
