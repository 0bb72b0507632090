"""The paper desk's analyst sleeves (issue 12): the link from a sleeve's orders to the
AI decisions that caused them.

Revision ID: 0005_paper_analyst
Revises: 0004_paper_desk
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0005_paper_analyst"
down_revision: str | Sequence[str] | None = "0004_paper_desk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
