"""comment attachments: what a comment held besides prose (image placeholders, links)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 14:00:00

Comments imported before this revision get an empty list: their attachments were not kept.
Plain ALTER TABLE both ways (SQLite has DROP COLUMN since 3.35): a batch copy of ``comments``
would cascade-delete every score and decision on SQLite, whose foreign keys are on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "comments", sa.Column("attachments", sa.JSON(), nullable=False, server_default="[]")
    )


def downgrade() -> None:
    op.drop_column("comments", "attachments")
