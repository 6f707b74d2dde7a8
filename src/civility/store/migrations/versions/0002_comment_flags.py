"""comment flags: every attribute the policy flagged a comment for

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 08:00:00

Backfills the flags from the reasons of the policy decisions already stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    flags = op.create_table(
        "comment_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("attribute", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("comment_id", "attribute", name="uq_comment_flags_comment_attribute"),
    )
    with op.batch_alter_table("comment_flags", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comment_flags_attribute", ["attribute", "comment_id"], unique=False
        )

    decisions = sa.table(
        "decisions",
        sa.column("comment_id", sa.Integer()),
        sa.column("source", sa.String()),
        sa.column("reasons", sa.JSON()),
    )
    seen: set[tuple[int, str]] = set()
    rows = op.get_bind().execute(
        sa.select(decisions.c.comment_id, decisions.c.reasons).where(decisions.c.source == "policy")
    )
    for comment_id, reasons in rows:
        for reason in reasons or []:
            attribute = reason.get("attribute") if isinstance(reason, dict) else None
            if attribute:
                seen.add((comment_id, str(attribute)))
    if seen:
        op.bulk_insert(flags, [{"comment_id": c, "attribute": a} for c, a in sorted(seen)])


def downgrade() -> None:
    with op.batch_alter_table("comment_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_comment_flags_attribute")
    op.drop_table("comment_flags")
