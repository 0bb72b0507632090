"""LLM guarantees: estimated costs, usage anomalies and a circuit breaker every process sees.

- ``llm_calls.estimated`` — the row's cost is its reservation, not the price of reported
  usage (a timeout the API may have billed; a reply whose usage cannot be true);
- ``llm_calls.anomaly`` / ``llm_calls.acknowledged_at`` — why a reply's usage cannot be true
  (above its reservation, negative, unreadable); an unacknowledged anomaly stops paid calls;
- ``llm_breakers`` — each model's circuit breaker (was per process, so separate command-line
  runs never saw it open).

Existing rows get the defaults (not estimated, no anomaly), so the upgrade is safe on any lab.

Revision ID: 0003_llm_guarantees
Revises: 0002_relative_paths
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_llm_guarantees"
down_revision: str | Sequence[str] | None = "0002_relative_paths"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    cols = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("llm_calls")}
    if "estimated" not in cols:
        op.add_column("llm_calls", sa.Column("estimated", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    if "anomaly" not in cols:
        op.add_column("llm_calls", sa.Column("anomaly", sa.Text(), nullable=False,
                                             server_default=""))
    if "acknowledged_at" not in cols:
        op.add_column("llm_calls", sa.Column("acknowledged_at", sa.DateTime(), nullable=True))
    if not sa.inspect(op.get_bind()).has_table("llm_breakers"):
        op.create_table(
            "llm_breakers",
            sa.Column("model_id", sa.String(length=64), nullable=False),
            sa.Column("failures", sa.Integer(), nullable=False),
            sa.Column("opened_at", sa.Float(), nullable=True),
            sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("model_id"),
        )


def downgrade() -> None:
    op.drop_table("llm_breakers")
    with op.batch_alter_table("llm_calls") as batch:
        batch.drop_column("acknowledged_at")
        batch.drop_column("anomaly")
        batch.drop_column("estimated")
