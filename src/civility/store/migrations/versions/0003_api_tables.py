"""api tables: the HTTP server's keys, feedback and stored comments under migration

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:00:00

Until now the server created these three tables itself (SQLAlchemy ``create_all``) on the
same database. A database that already has them keeps them, rows and all: each table is
created only where it is missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "api_keys" not in existing:
        op.create_table(
            "api_keys",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("name", sa.String(length=200), nullable=False, unique=True),
            sa.Column("key_hash", sa.String(length=64), nullable=False, unique=True),
            sa.Column("hint", sa.String(length=16), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("revoked_at", sa.DateTime(), nullable=True),
        )
    if "feedback" not in existing:
        op.create_table(
            "feedback",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("community_id", sa.String(length=200), nullable=False),
            sa.Column("attribute", sa.String(length=40), nullable=False),
            sa.Column("model_score", sa.Float(), nullable=False),
            sa.Column("suggested_score", sa.Float(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
        )
        op.create_index("ix_feedback_community_id", "feedback", ["community_id"])
    if "stored_comments" not in existing:
        op.create_table(
            "stored_comments",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("key_name", sa.String(length=200), nullable=False),
            sa.Column("community_id", sa.String(length=200), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("scores", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
        )
        op.create_index("ix_stored_comments_created_at", "stored_comments", ["created_at"])


def downgrade() -> None:
    op.drop_table("stored_comments")
    op.drop_table("feedback")
    op.drop_table("api_keys")
