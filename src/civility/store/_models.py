"""The store's tables, and the HTTP server's (``api_keys``, ``stored_comments``,
``rate_buckets``: plain Core tables that civility.store._api reads and writes): one schema,
migrated by Alembic. Feedback, a moderator's verdict or an API client's suggested score, is one
table, ``calibration_feedback``. Every datetime column is ``UtcDateTime``: aware UTC in and out,
on SQLite (which keeps no time zone) as on PostgreSQL.

A comment's key is the source's comment id, unique within a site (imports look it up there),
or, for page dumps and other sources without ids, a hash of author, parent and text, unique
within its thread (see civility.store._importer); a thread's natural key is (site, key).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that goes in and comes out aware, in UTC. SQLite keeps no time zone and
    returns naive values: they are UTC (that is all this type writes) and are read back as such;
    PostgreSQL returns its session's zone, converted to UTC. A naive value written is taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The site's policy as TOML; None means the default policy.
    policy_toml: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ThreadRow(Base):
    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("site_id", "key", name="uq_threads_site_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(500))
    title: Mapped[str | None] = mapped_column(Text, default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)
    paragraphs: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    site: Mapped[Site] = relationship()


class CommentRow(Base):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("thread_id", "key", name="uq_comments_thread_key"),
        Index("ix_comments_status_worst", "status", "worst_score"),
        Index("ix_comments_key", "key"),  # sourced ids are looked up within a whole site
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    author: Mapped[str | None] = mapped_column(String(300), default=None)
    text: Mapped[str] = mapped_column(Text)
    # What the source had besides prose: image placeholders, links, URL debris.
    attachments: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    parent_key: Mapped[str | None] = mapped_column(String(200), default=None)
    posted_at: Mapped[str | None] = mapped_column(String(100), default=None)
    # What the policy said at import, and where the comment stands now
    # (held | approved | rejected).
    policy_action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    worst_attribute: Mapped[str | None] = mapped_column(String(40), default=None)
    worst_score: Mapped[float] = mapped_column(Float, default=0.0)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    thread: Mapped[ThreadRow] = relationship()


class ScoreRow(Base):
    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("comment_id", "model_version", name="uq_scores_comment_model"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    model_version: Mapped[str] = mapped_column(String(100))
    # {attribute: probability} and {attribute: [[begin, end, score], ...]}
    values: Mapped[dict[str, float]] = mapped_column(JSON)
    spans: Mapped[dict[str, list[list[float]]]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DecisionRow(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))
    # "policy" for the decision made at import, "moderator" for a person's.
    source: Mapped[str] = mapped_column(String(20))
    policy_name: Mapped[str | None] = mapped_column(String(200), default=None)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CommentFlag(Base):
    """One attribute the policy flagged a comment for at import (one row per reason), so the
    queue can list a comment under every attribute it was held for, not only its worst."""

    __tablename__ = "comment_flags"
    __table_args__ = (
        UniqueConstraint("comment_id", "attribute", name="uq_comment_flags_comment_attribute"),
        Index("ix_comment_flags_attribute", "attribute", "comment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    attribute: Mapped[str] = mapped_column(String(40))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditEntry(Base):
    """Append-only: the migration installs triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    username: Mapped[str | None] = mapped_column(String(100), default=None)
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str | None] = mapped_column(String(200), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CalibrationFeedback(Base):
    """Feedback on the model's score of one attribute, for calibration: a moderator's verdict on
    a stored comment of a site (``site_id``, ``comment_id``, ``verdict``), or the score an API
    client suggested for a text of its community (``community_id``, from SuggestCommentScore).
    ``suggested_score`` is the score a person would have given either way (a rejection 1, an
    approval 0)."""

    __tablename__ = "calibration_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), index=True, default=None
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), default=None
    )
    community_id: Mapped[str | None] = mapped_column(String(200), index=True, default=None)
    attribute: Mapped[str] = mapped_column(String(40))
    model_score: Mapped[float] = mapped_column(Float)
    suggested_score: Mapped[float] = mapped_column(Float)
    # 1: the moderator found the comment unacceptable (rejected), 0: acceptable (approved).
    verdict: Mapped[int | None] = mapped_column(Integer, default=None)
    # Whether the policy had flagged this attribute (crossed a hold/reject threshold).
    policy_flagged: Mapped[bool] = mapped_column(default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class SiteExample(Base):
    """One labelled text of a site, for its adapter (civility.adapt): ``label`` 1 (the
    attribute applies) or 0, from a moderator's decision, an API client's suggested score or an
    import (``kind``), given by ``source`` ("moderator:NAME", "key:NAME", "import:FILE").
    ``key`` is the example's stable id (it fixes its hold-out fold for good); one row per
    (site, key, attribute): the latest label wins, updated in place (``updated_at``)."""

    __tablename__ = "site_examples"
    __table_args__ = (
        UniqueConstraint("site_id", "key", "attribute", name="uq_site_examples_site_key_attribute"),
        Index("ix_site_examples_site_updated", "site_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    attribute: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    label: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200))
    # False when the "review to teach" view picked the comment by its priority: not a fair
    # sample of the site, so left out of the adapter's activation check (civility.adapt).
    fair: Mapped[bool] = mapped_column(default=True, server_default=true())
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), default=None
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SiteAdapterRow(Base):
    """One fitted version of a site's adapter: ``SiteAdapter.to_bytes()`` and its summary, the
    base model it belongs to, and whether it serves (at most one per site: a partial unique
    index). ``status``: "candidate" (fitted, not serving), "serving", "rolled_back" (an admin
    rolled back from it), "stale" (its base is no longer the loaded model's)."""

    __tablename__ = "site_adapters"
    __table_args__ = (
        UniqueConstraint("site_id", "version", name="uq_site_adapters_site_version"),
        Index(
            "uq_site_adapters_serving",
            "site_id",
            unique=True,
            sqlite_where=text("serving"),
            postgresql_where=text("serving"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    base_version: Mapped[str] = mapped_column(String(100))
    base_sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    labels: Mapped[int] = mapped_column(Integer, default=0)
    serving: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200), default=None)


class LoginFailure(Base):
    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# The HTTP server's tables (civility.store._api): API keys as sha256 digests, analysed comments
# when doNotStore is false, and the per-key request buckets that every worker process spends
# from. Its feedback pairs are CalibrationFeedback rows.
API_KEYS = Table(
    "api_keys",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("hint", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("site", String(200), nullable=True),  # a key bound to a site (its adapter scores)
)
STORED_COMMENTS = Table(
    "stored_comments",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("key_name", String(200), nullable=False),
    Column("community_id", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("scores", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False, index=True),
)
RATE_BUCKETS = Table(
    "rate_buckets",
    Base.metadata,
    Column("key_name", String(200), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),  # seconds since the epoch
)
