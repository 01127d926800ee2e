"""hardening: source IDs never reused, removed sources remembered, sessions end with a disabled user

Revision ID: 0011_hardening
Revises: 0010_rights
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import presseschau.store.models

revision: str = "0011_hardening"
down_revision: str | None = "0010_rights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # AUTOINCREMENT needs a table rebuild on SQLite; the copied rows set its counter to the
        # largest ID in use. PostgreSQL's sequences never reuse an ID already.
        with op.batch_alter_table("sources", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass
    op.create_table(
        "removed_sources",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("removed_at", presseschau.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_removed_sources")),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
    op.drop_table("removed_sources")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("sources", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
