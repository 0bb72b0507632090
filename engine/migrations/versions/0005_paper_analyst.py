"""The paper desk's analyst sleeves (issue 12): ``paper_decisions``, the link from an analyst
sleeve's decision at a bar (its ``ai_decisions`` row) to the order it caused
(``engine.paper.tables.PaperDecision``).

A new, empty table only, so the upgrade is safe on any lab; it is created only when missing.
``decision_id`` is indexed, not a foreign key: ``ai_decisions`` may be rebuilt by later
revisions (SQLite's batch mode copies a table), which a reference into it would block.

Revision ID: 0005_paper_analyst
Revises: 0004_paper_desk
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_paper_analyst"
down_revision: str | Sequence[str] | None = "0004_paper_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "paper_decisions"


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table(TABLE):
        return  # made by a build of this revision's models already
    op.create_table(TABLE,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('sleeve_id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.DateTime(), nullable=False),
    sa.Column('decision_id', sa.String(length=36), nullable=True),
    sa.Column('decision', sa.String(length=8), nullable=False),
    sa.Column('side', sa.Integer(), nullable=False),
    sa.Column('enter', sa.Boolean(), nullable=False),
    sa.Column('stop_loss', sa.Float(), nullable=True),
    sa.Column('take_profit', sa.Float(), nullable=True),
    sa.Column('size_suggested', sa.Float(), nullable=False),
    sa.Column('size', sa.Float(), nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=False),
    sa.Column('error', sa.String(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['paper_books.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['paper_orders.id'], ),
    sa.ForeignKeyConstraint(['sleeve_id'], ['paper_sleeves.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sleeve_id', 'symbol', 'as_of')
    )
    op.create_index(op.f('ix_paper_decisions_book_id'), TABLE, ['book_id'], unique=False)
    op.create_index(op.f('ix_paper_decisions_decision_id'), TABLE, ['decision_id'],
                    unique=False)
    op.create_index(op.f('ix_paper_decisions_sleeve_id'), TABLE, ['sleeve_id'], unique=False)


def downgrade() -> None:
    op.drop_table(TABLE)
