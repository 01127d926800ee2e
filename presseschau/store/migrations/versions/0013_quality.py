"""quality: risk flags per translation, a per-source risk threshold, the `auto-unless-risky` policy

Revision ID: 0013_quality
Revises: 0011_hardening
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_quality"
down_revision: str | None = "0011_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("translations") as batch:
        batch.add_column(sa.Column("quality_risk", sa.Float(), nullable=True))
        batch.add_column(sa.Column("quality", sa.JSON(), nullable=True))
    # Rebuilt on SQLite to widen a column: keep 0011's AUTOINCREMENT (source IDs are never reused).
    with op.batch_alter_table("sources", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("risk_threshold", sa.Float(), nullable=True))
        # "auto-unless-risky" has 17 characters.
        batch.alter_column("publish_policy", existing_type=sa.String(length=16), type_=sa.String(length=32))


def downgrade() -> None:
    # Rebuilt on SQLite to widen a column: keep 0011's AUTOINCREMENT (source IDs are never reused).
    with op.batch_alter_table("sources", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("publish_policy", existing_type=sa.String(length=32), type_=sa.String(length=16))
        batch.drop_column("risk_threshold")
    with op.batch_alter_table("translations") as batch:
        batch.drop_column("quality")
        batch.drop_column("quality_risk")
