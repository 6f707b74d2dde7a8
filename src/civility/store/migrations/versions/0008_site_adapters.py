"""site adapters: a site's labelled examples, its fitted adapters, API keys bound to a site

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 17:00:00

``site_examples`` keeps every labelled text of a site (a moderator's decision, an API client's
suggested score, an import), one row per (site, example key, attribute): the latest label wins;
``fair`` is false for a comment the "review to teach" view picked by its priority (fitted on,
but left out of the activation check: civility.adapt).
``site_adapters`` keeps each fitted version of a site's adapter (civility.adapt), the base model
it belongs to, and which one serves (at most one per site: a partial unique index, which SQLite
and PostgreSQL both have). ``api_keys`` gains ``site``: a key bound to a site.

New tables and a new nullable column only: nothing existing is copied or rebuilt. ``site`` is
added only where it is missing (a database whose server created ``api_keys`` itself before
0003 may have today's shape already). Downgrading drops them (SQLite has DROP COLUMN since
3.35).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("attribute", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("fair", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "site_id", "key", "attribute", name="uq_site_examples_site_key_attribute"
        ),
    )
    op.create_index("ix_site_examples_site_updated", "site_examples", ["site_id", "updated_at"])
    op.create_table(
        "site_adapters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.String(length=100), nullable=False),
        sa.Column("base_sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("labels", sa.Integer(), nullable=False),
        sa.Column("serving", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "version", name="uq_site_adapters_site_version"),
    )
    op.create_index(
        "uq_site_adapters_serving",
        "site_adapters",
        ["site_id"],
        unique=True,
        sqlite_where=sa.text("serving"),
        postgresql_where=sa.text("serving"),
    )
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("api_keys")}
    if "site" not in columns:
        op.add_column("api_keys", sa.Column("site", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("api_keys", "site")
    op.drop_index("uq_site_adapters_serving", table_name="site_adapters")
    op.drop_table("site_adapters")
    op.drop_index("ix_site_examples_site_updated", table_name="site_examples")
    op.drop_table("site_examples")
