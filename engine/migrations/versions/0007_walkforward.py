"""Walk-forward analyses (issue 13 §2): the analysis, its windows and their genes/metrics
(``engine.walkforward.tables``).

New, empty tables only, so the upgrade is safe on any lab; each is created only when missing.

Revision ID: 0007_walkforward
Revises: 0006_run_statistics
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_walkforward"
down_revision: str | Sequence[str] | None = "0006_run_statistics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    have = sa.inspect(op.get_bind())
    if not have.has_table("walkforward_analyses"):
        op.create_table(
            "walkforward_analyses",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("symbol", sa.String(length=64), nullable=False),
            sa.Column("config", sa.JSON(), nullable=True),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("n_windows", sa.Integer(), nullable=False),
            sa.Column("windows_done", sa.Integer(), nullable=False),
            sa.Column("data_fingerprint", sa.String(), nullable=False),
            sa.Column("seconds", sa.Float(), nullable=False),
            sa.Column("result", sa.JSON(), nullable=True),
            sa.Column("error", sa.Text(), nullable=True),
            sa.Column("owner_pid", sa.Integer(), nullable=True),
            sa.Column("owner_host", sa.String(length=255), nullable=False),
            sa.Column("owner_started", sa.Float(), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(op.f("ix_walkforward_analyses_status"), "walkforward_analyses",
                        ["status"], unique=False)
    if not have.has_table("walkforward_windows"):
        op.create_table(
            "walkforward_windows",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("analysis_id", sa.Integer(), nullable=False),
            sa.Column("window_index", sa.Integer(), nullable=False),
            sa.Column("is_lo", sa.Integer(), nullable=False),
            sa.Column("is_hi", sa.Integer(), nullable=False),
            sa.Column("oos_lo", sa.Integer(), nullable=False),
            sa.Column("oos_hi", sa.Integer(), nullable=False),
            sa.Column("is_start", sa.DateTime(), nullable=False),
            sa.Column("is_end", sa.DateTime(), nullable=False),
            sa.Column("oos_start", sa.DateTime(), nullable=False),
            sa.Column("oos_end", sa.DateTime(), nullable=False),
            sa.Column("seed", sa.BigInteger(), nullable=False),
            sa.Column("evolution_run_id", sa.Integer(), nullable=True),
            sa.Column("params", sa.JSON(), nullable=True),
            sa.Column("fitness", sa.Float(), nullable=True),
            sa.Column("in_sample", sa.JSON(), nullable=True),
            sa.Column("out_of_sample", sa.JSON(), nullable=True),
            sa.Column("finished_at", sa.DateTime(), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["analysis_id"], ["walkforward_analyses.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("analysis_id", "window_index"),
        )
        op.create_index(op.f("ix_walkforward_windows_analysis_id"), "walkforward_windows",
                        ["analysis_id"], unique=False)


def downgrade() -> None:
    have = sa.inspect(op.get_bind())
    if have.has_table("walkforward_windows"):
        op.drop_index(op.f("ix_walkforward_windows_analysis_id"),
                      table_name="walkforward_windows")
        op.drop_table("walkforward_windows")
    if have.has_table("walkforward_analyses"):
        op.drop_index(op.f("ix_walkforward_analyses_status"), table_name="walkforward_analyses")
        op.drop_table("walkforward_analyses")
