"""LLM look-ahead controls (issue 13 §3): each decision's training-cutoff side, blind
context flag, paired replays and the offline control arm.

Revision ID: 0008_llm_lookahead
Revises: 0007_walkforward
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0008_llm_lookahead"
down_revision: str | Sequence[str] | None = "0007_walkforward"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
