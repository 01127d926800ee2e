"""date-only original dates and their source, the original's genre, editors' drafts, text update
time, disabled users

Revision ID: 0006_original_dates_drafts
Revises: 0005_revoked_sessions
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

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
    _mark_midnight_dates_as_date_only()


def _mark_midnight_dates_as_date_only() -> None:
    """Dates stored before this revision at exactly midnight UTC came from a date-only value (the
    URL's /YYYY/MM/DD/ or trafilatura's day); they were shown as "01:00". Marked date-only, they
    show the day alone: a made-up time is worse than none."""
    articles = sa.table(
        "articles",
        sa.column("id", sa.Integer()),
        sa.column("published_at", presseschau.store.models.UTCDateTime(timezone=True)),
        sa.column("published_date_only", sa.Boolean()),
    )
    bind = op.get_bind()
    midnight = [
        row.id
        for row in bind.execute(sa.select(articles.c.id, articles.c.published_at))
        if row.published_at is not None and row.published_at.timetz().replace(tzinfo=None) == datetime.min.time()
    ]
    for start in range(0, len(midnight), 500):
        chunk = midnight[start : start + 500]
        bind.execute(articles.update().where(articles.c.id.in_(chunk)).values(published_date_only=True))


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
