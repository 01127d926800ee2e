"""rights: reuse modes per source, licences per article, readers' correction reports and notes

Revision ID: 0010_rights
Revises: 0009_outlets_passages
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import presseschau.store.models

revision: str = "0010_rights"
down_revision: str | None = "0009_outlets_passages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reuse", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("excerpt_words", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reuse_permission", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("bilingual", sa.Boolean(), nullable=True))
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("licence", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("licence_found", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("licence_url", sa.String(length=2048), nullable=True))
    op.create_table(
        "correction_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("paragraph_index", sa.Integer(), nullable=False),
        sa.Column("paragraph_text", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("handled_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", presseschau.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_correction_reports_publication_id_publications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_reports")),
    )
    with op.batch_alter_table("correction_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_correction_reports_publication_id"), ["publication_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_correction_reports_status"), ["status"], unique=False)
    op.create_table(
        "correction_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=True),
        sa.Column("created_at", presseschau.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_correction_notes_publication_id_publications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_notes")),
    )
    with op.batch_alter_table("correction_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_correction_notes_publication_id"), ["publication_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_correction_notes_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("correction_notes")
    op.drop_table("correction_reports")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("licence_url")
        batch_op.drop_column("licence_found")
        batch_op.drop_column("licence")
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("bilingual")
        batch_op.drop_column("reuse_permission")
        batch_op.drop_column("excerpt_words")
        batch_op.drop_column("reuse")
