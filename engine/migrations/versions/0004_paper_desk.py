"""The paper desk's ledger (issue 12): books, sleeves, orders, fills, positions, closed
trades, equity snapshots per bar and risk events (``engine.paper.tables``).

New, empty tables only, so the upgrade is safe on any lab; each is created only when missing.

Revision ID: 0004_paper_desk
Revises: 0003_llm_guarantees
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_paper_desk"
down_revision: str | Sequence[str] | None = "0003_llm_guarantees"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("paper_books", "paper_sleeves", "paper_equity", "paper_fills", "paper_orders",
          "paper_positions", "paper_risk_events", "paper_trades")


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("paper_books"):
        return  # made by a build of this revision's models already
    op.create_table('paper_books',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('cash0', sa.Float(), nullable=False),
    sa.Column('cash', sa.Float(), nullable=False),
    sa.Column('commission', sa.Float(), nullable=False),
    sa.Column('fractional', sa.Boolean(), nullable=False),
    sa.Column('start', sa.DateTime(), nullable=True),
    sa.Column('clock', sa.DateTime(), nullable=True),
    sa.Column('max_positions', sa.Integer(), nullable=False),
    sa.Column('max_position_size', sa.Float(), nullable=False),
    sa.Column('daily_loss_limit_usd', sa.Float(), nullable=True),
    sa.Column('correlation_limit', sa.Float(), nullable=True),
    sa.Column('correlation_window', sa.Integer(), nullable=False),
    sa.Column('correlation_action', sa.String(length=16), nullable=False),
    sa.Column('breaker', sa.Boolean(), nullable=False),
    sa.Column('breaker_trades', sa.Integer(), nullable=False),
    sa.Column('breaker_hit_rate', sa.Float(), nullable=False),
    sa.Column('breaker_drawdown', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_paper_books_name'), 'paper_books',
                    ['name'], unique=True)
    op.create_table('paper_sleeves',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('symbols', sa.JSON(), nullable=True),
    sa.Column('allocation', sa.Float(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=True),
    sa.Column('cash0', sa.Float(), nullable=False),
    sa.Column('cash', sa.Float(), nullable=False),
    sa.Column('start', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('paused_reason', sa.String(), nullable=False),
    sa.Column('bankrupt', sa.Boolean(), nullable=False),
    sa.Column('peak_equity', sa.Float(), nullable=False),
    sa.Column('equity', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['paper_books.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('book_id', 'name')
    )
    op.create_index(op.f('ix_paper_sleeves_book_id'), 'paper_sleeves',
                    ['book_id'], unique=False)
    op.create_table('paper_equity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('sleeve_id', sa.Integer(), nullable=True),
    sa.Column('time', sa.DateTime(), nullable=False),
    sa.Column('cash', sa.Float(), nullable=False),
    sa.Column('equity', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['paper_books.id'], ),
    sa.ForeignKeyConstraint(['sleeve_id'], ['paper_sleeves.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_paper_equity_book_id'), 'paper_equity',
                    ['book_id'], unique=False)
    op.create_index(op.f('ix_paper_equity_time'), 'paper_equity',
                    ['time'], unique=False)
    op.create_table('paper_fills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('sleeve_id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('time', sa.DateTime(), nullable=False),
    sa.Column('price', sa.Float(), nullable=False),
    sa.Column('size', sa.Float(), nullable=False),
    sa.Column('commission', sa.Float(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['paper_books.id'], ),
    sa.ForeignKeyConstraint(['sleeve_id'], ['paper_sleeves.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_paper_fills_book_id'), 'paper_fills',
                    ['book_id'], unique=False)
    op.create_index(op.f('ix_paper_fills_sleeve_id'), 'paper_fills',
                    ['sleeve_id'], unique=False)
    op.create_table('paper_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('sleeve_id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('side', sa.Integer(), nullable=False),
    sa.Column('signal_time', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fill_time', sa.DateTime(), nullable=True),
    sa.Column('detail', sa.String(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['paper_books.id'], ),
    sa.ForeignKeyConstraint(['sleeve_id'], ['paper_sleeves.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_paper_orders_book_id'), 'paper_orders',
                    ['book_id'], unique=False)
    op.create_index(op.f('ix_paper_orders_sleeve_id'), 'paper_orders',
                    ['sleeve_id'], unique=False)
    op.create_table('paper_positions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('sleeve_id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Float(), nullable=False),
    sa.Column('entry_time', sa.DateTime(), nullable=False),
    sa.Column('entry_price', sa.Float(), nullable=False),
    sa.Column('entry_comm', sa.Float(), nullable=False),
    sa.Column('sl', sa.Float(), nullable=False),
    sa.Column('tp', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['paper_books.id'], ),
    sa.ForeignKeyConstraint(['sleeve_id'], ['paper_sleeves.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sleeve_id', 'symbol')
    )
    op.create_index(op.f('ix_paper_positions_book_id'), 'paper_positions',
                    ['book_id'], unique=False)
    op.create_index(op.f('ix_paper_positions_sleeve_id'), 'paper_positions',
                    ['sleeve_id'], unique=False)
    op.create_table('paper_risk_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('sleeve_id', sa.Integer(), nullable=True),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('time', sa.DateTime(), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['paper_books.id'], ),
    sa.ForeignKeyConstraint(['sleeve_id'], ['paper_sleeves.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_paper_risk_events_book_id'), 'paper_risk_events',
                    ['book_id'], unique=False)
    op.create_table('paper_trades',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('sleeve_id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=64), nullable=False),
    sa.Column('entry_time', sa.DateTime(), nullable=False),
    sa.Column('exit_time', sa.DateTime(), nullable=False),
    sa.Column('entry_price', sa.Float(), nullable=False),
    sa.Column('exit_price', sa.Float(), nullable=False),
    sa.Column('size', sa.Float(), nullable=False),
    sa.Column('pnl', sa.Float(), nullable=False),
    sa.Column('return_pct', sa.Float(), nullable=False),
    sa.Column('exit_reason', sa.String(length=16), nullable=False),
    sa.Column('commission', sa.Float(), nullable=False),
    sa.Column('bars_held', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['paper_books.id'], ),
    sa.ForeignKeyConstraint(['sleeve_id'], ['paper_sleeves.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_paper_trades_book_id'), 'paper_trades',
                    ['book_id'], unique=False)
    op.create_index(op.f('ix_paper_trades_sleeve_id'), 'paper_trades',
                    ['sleeve_id'], unique=False)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
