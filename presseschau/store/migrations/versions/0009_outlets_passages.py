"""outlets and passages: outlet profiles (country, kind), editors' key passages, story intros, merged stories' redirects

Revision ID: 0009_outlets_passages
Revises: 0008_stories
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import presseschau.store.models

revision: str = "0009_outlets_passages"
down_revision: str | None = "0008_stories"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("outlet_kind", sa.String(length=20), nullable=True))
    with op.batch_alter_table("story_articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("passage_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("passage_sentence", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("passage", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("passage_by", sa.String(length=100), nullable=True))
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intro", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("intro_model", sa.String(length=300), nullable=True))
    op.create_table(
        "story_redirects",
        sa.Column("old_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("created_at", presseschau.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["story_id"], ["stories.id"], name=op.f("fk_story_redirects_story_id_stories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("old_id", name=op.f("pk_story_redirects")),
    )
    with op.batch_alter_table("story_redirects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_redirects_story_id"), ["story_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("story_redirects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_redirects_story_id"))
    op.drop_table("story_redirects")
    with op.batch_alter_table("stories", schema=None) as batch_op:
        batch_op.drop_column("intro_model")
        batch_op.drop_column("intro")
    with op.batch_alter_table("story_articles", schema=None) as batch_op:
        batch_op.drop_column("passage_by")
        batch_op.drop_column("passage")
        batch_op.drop_column("passage_sentence")
        batch_op.drop_column("passage_kind")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("outlet_kind")
        batch_op.drop_column("country")
