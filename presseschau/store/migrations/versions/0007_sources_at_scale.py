"""sources at scale: source tags and filters, filtered articles, API tokens

Revision ID: 0007_sources_at_scale
Revises: 0006_original_dates_drafts
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import presseschau.store.models

revision: str = "0007_sources_at_scale"
down_revision: str | None = "0006_original_dates_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # All nullable: existing sources have no tags or filters, existing articles were never filtered.
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("filters", sa.JSON(), nullable=True))
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filter_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("filter_released_by", sa.String(length=100), nullable=True))
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", presseschau.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", presseschau.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", presseschau.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("filter_released_by")
        batch_op.drop_column("filter_reason")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("filters")
        batch_op.drop_column("tags")
