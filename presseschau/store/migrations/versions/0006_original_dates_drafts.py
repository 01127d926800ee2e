"""date-only original dates and their source, the original's genre, editors' drafts, text update
time, disabled users

Revision ID: 0006_original_dates_drafts
Revises: 0005_revoked_sessions
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import presseschau.store.models

revision: str = "0006_original_dates_drafts"
down_revision: str | None = "0005_revoked_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("published_date_only", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("published_at_source", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("genre", sa.String(length=20), nullable=True))
    with op.batch_alter_table("translations") as batch:
        batch.add_column(sa.Column("draft", sa.JSON(), nullable=True))
    with op.batch_alter_table("publications") as batch:
        batch.add_column(
            sa.Column("text_updated_at", presseschau.store.models.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled")
    with op.batch_alter_table("publications") as batch:
        batch.drop_column("text_updated_at")
    with op.batch_alter_table("translations") as batch:
        batch.drop_column("draft")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("genre")
        batch.drop_column("published_at_source")
        batch.drop_column("published_date_only")
