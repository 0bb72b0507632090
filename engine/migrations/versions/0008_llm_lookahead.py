"""LLM look-ahead controls (issue 13 §3): each decision's training-cutoff side, blind
context flag, paired replays and the offline control arm.

New ``ai_decisions`` columns, each added only when missing:

- ``training_cutoff`` (date) and ``in_training_window`` (bool) — the latest training cutoff
  of the models a decision used, and whether its as-of day is on or before it (None for the
  offline analyst, and for rows recorded before this revision);
- ``blind`` — the model saw a blind snapshot (no symbol, no dates, rebased prices);
- ``arm`` and ``replay_id`` — a replay's arm (named / blind / control) and the replay it
  belongs to, so paired and control decisions for one as-of date can be compared;
- ``raw_move_pct`` — the price move over the decision's horizon (the HOLD and
  buy-and-hold baselines).

Existing rows get the defaults (not blind, no arm), so the upgrade is safe on any lab.

Revision ID: 0008_llm_lookahead
Revises: 0007_walkforward
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_llm_lookahead"
down_revision: str | Sequence[str] | None = "0007_walkforward"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "ai_decisions"


def _columns() -> list[sa.Column]:
    return [
        sa.Column("training_cutoff", sa.Date(), nullable=True),
        sa.Column("in_training_window", sa.Boolean(), nullable=True),
        sa.Column("blind", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("arm", sa.String(length=16), nullable=False, server_default=""),
        sa.Column("replay_id", sa.String(length=36), nullable=False, server_default=""),
        sa.Column("raw_move_pct", sa.Float(), nullable=True),
    ]


def upgrade() -> None:
    insp = sa.inspect(op.get_bind())
    if not insp.has_table(TABLE):
        return  # a lab without the table gets it (with these columns) from the models
    have = {c["name"] for c in insp.get_columns(TABLE)}
    missing = [c for c in _columns() if c.name not in have]
    if missing:
        with op.batch_alter_table(TABLE) as batch:
            for c in missing:
                batch.add_column(c)


def downgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(TABLE)}
    with op.batch_alter_table(TABLE) as batch:
        for c in reversed(_columns()):
            if c.name in have:
                batch.drop_column(c.name)
