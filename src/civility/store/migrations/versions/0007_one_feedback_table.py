"""one feedback table: the API's ``feedback`` rows move into ``calibration_feedback``

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 15:00:00

``calibration_feedback`` holds both kinds of feedback from now on: a moderator's verdict on a
comment of a site (``site_id``, ``comment_id``, ``verdict``), and the score an API client
suggested for a text of its community (``community_id``). Both have a ``suggested_score``; a
verdict's is the verdict (a rejection 1, an approval 0). ``site_id``, ``comment_id`` and
``verdict`` become nullable; the ``feedback`` rows are copied in, in their order, and the table
is dropped. On PostgreSQL the server's timestamps become ``timestamptz`` (they were written as
UTC); SQLite keeps no time zone either way.

SQLite cannot make a column nullable in place: ``calibration_feedback`` is rebuilt by hand
(CREATE, INSERT ... SELECT, DROP, RENAME), which is safe because no table refers to it; a
batch copy of a table others refer to would cascade-delete their rows, foreign keys being on.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "calibration_feedback"
SERVER_TIMESTAMPS = (
    ("api_keys", "created_at"),
    ("api_keys", "revoked_at"),
    ("stored_comments", "created_at"),
)


def _create_feedback(name: str, *, both_kinds: bool) -> None:
    """``calibration_feedback`` as of 0006 (``both_kinds=False``) or of 0007, called ``name``."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=both_kinds),
        sa.Column("comment_id", sa.Integer(), nullable=both_kinds),
        *([sa.Column("community_id", sa.String(length=200), nullable=True)] if both_kinds else []),
        sa.Column("attribute", sa.String(length=40), nullable=False),
        sa.Column("model_score", sa.Float(), nullable=False),
        *([sa.Column("suggested_score", sa.Float(), nullable=False)] if both_kinds else []),
        sa.Column("verdict", sa.Integer(), nullable=both_kinds),
        sa.Column("policy_flagged", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def _rebuild_sqlite(*, both_kinds: bool) -> None:
    """Replace ``calibration_feedback`` by a copy in the other shape, rows and ids kept."""
    common = "id, site_id, comment_id, attribute, model_score, verdict, policy_flagged, user_id, created_at"
    _create_feedback(f"_{TABLE}_new", both_kinds=both_kinds)
    if both_kinds:
        columns, values = f"{common}, suggested_score", f"{common}, CAST(verdict AS FLOAT)"
    else:
        columns = values = common
    op.execute(f"INSERT INTO _{TABLE}_new ({columns}) SELECT {values} FROM {TABLE} ORDER BY id")
    op.drop_table(TABLE)
    op.rename_table(f"_{TABLE}_new", TABLE)
    op.create_index(f"ix_{TABLE}_created_at", TABLE, ["created_at"])
    op.create_index(f"ix_{TABLE}_site_id", TABLE, ["site_id"])


def _utc(column: sa.ColumnElement[Any], postgresql: bool) -> sa.ColumnElement[Any]:
    """``column`` between ``timestamp`` (naive UTC) and ``timestamptz``, either way."""
    return sa.func.timezone("UTC", column) if postgresql else column


def upgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    if postgresql:
        op.add_column(TABLE, sa.Column("community_id", sa.String(length=200), nullable=True))
        op.add_column(TABLE, sa.Column("suggested_score", sa.Float(), nullable=True))
        op.execute(f"UPDATE {TABLE} SET suggested_score = verdict")
        op.alter_column(TABLE, "suggested_score", nullable=False)
        for column in ("site_id", "comment_id", "verdict"):
            op.alter_column(TABLE, column, nullable=True)
        for table, column in SERVER_TIMESTAMPS:
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE TIMESTAMP WITH TIME ZONE "
                f"USING {column} AT TIME ZONE 'UTC'"
            )
    else:
        _rebuild_sqlite(both_kinds=True)
    op.create_index(f"ix_{TABLE}_community_id", TABLE, ["community_id"])

    old = sa.table(
        "feedback",
        *(
            sa.column(c)
            for c in ("id", "community_id", "attribute", "model_score", "suggested_score")
        ),
        sa.column("created_at", sa.DateTime()),
    )
    new = sa.table(
        TABLE,
        *(sa.column(c) for c in ("community_id", "attribute", "model_score", "suggested_score")),
        sa.column("policy_flagged", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    moved = sa.select(
        old.c.community_id,
        old.c.attribute,
        old.c.model_score,
        old.c.suggested_score,
        sa.false(),
        _utc(old.c.created_at, postgresql),
    ).order_by(old.c.id)
    op.execute(sa.insert(new).from_select(list(new.c), moved))
    op.drop_table("feedback")


def downgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
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
    columns = ("community_id", "attribute", "model_score", "suggested_score")
    new = sa.table(
        TABLE, sa.column("id"), *(sa.column(c) for c in columns), sa.column("created_at")
    )
    old = sa.table("feedback", *(sa.column(c) for c in columns), sa.column("created_at"))
    api_rows = new.c.community_id.is_not(None)
    moved = (
        sa.select(*(new.c[c] for c in columns), _utc(new.c.created_at, postgresql))
        .where(api_rows)
        .order_by(new.c.id)
    )
    op.execute(sa.insert(old).from_select(list(old.c), moved))
    op.execute(sa.delete(new).where(api_rows))
    op.drop_index(f"ix_{TABLE}_community_id", TABLE)
    if postgresql:
        for table, column in SERVER_TIMESTAMPS:
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE TIMESTAMP WITHOUT TIME ZONE "
                f"USING {column} AT TIME ZONE 'UTC'"
            )
        for column in ("site_id", "comment_id", "verdict"):
            op.alter_column(TABLE, column, nullable=False)
        op.drop_column(TABLE, "suggested_score")
        op.drop_column(TABLE, "community_id")
    else:
        _rebuild_sqlite(both_kinds=False)
