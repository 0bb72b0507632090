"""Data-snooping statistics of evolution runs (issue 13 §1): PBO, SPA, minimum backtest
length, kept with the run (``run_statistics``, ``engine.research.tables``) and with promoted
strategies (``promoted_strategies.statistics``).

A new table and a new nullable column, each made only when missing, so the upgrade is safe
on any lab.

Revision ID: 0006_run_statistics
Revises: 0005_paper_analyst
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_run_statistics"
down_revision: str | Sequence[str] | None = "0005_paper_analyst"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    insp = sa.inspect(op.get_bind())
    if not insp.has_table("run_statistics"):
        op.create_table('run_statistics',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('generations_done', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('options', sa.JSON(), nullable=True),
        sa.Column('pbo', sa.Float(), nullable=True),
        sa.Column('spa_pvalue', sa.Float(), nullable=True),
        sa.Column('min_backtest_years', sa.Float(), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('run_id', 'generations_done')
        )
        op.create_index(op.f('ix_run_statistics_run_id'), 'run_statistics',
                        ['run_id'], unique=False)
    if insp.has_table("promoted_strategies") and "statistics" not in {
            c["name"] for c in insp.get_columns("promoted_strategies")}:
        with op.batch_alter_table("promoted_strategies") as batch:
            batch.add_column(sa.Column("statistics", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("promoted_strategies") as batch:
        batch.drop_column("statistics")
    op.drop_index(op.f('ix_run_statistics_run_id'), table_name='run_statistics')
    op.drop_table('run_statistics')
