"""What the HTTP server keeps in the store: hashed API keys, feedback pairs, (optionally)
analysed comments and the per-key request buckets.

``ApiStorage`` is the seam the app talks to; ``SqlStorage`` implements it with SQLAlchemy 2 Core
on the store's tables (``api_keys``, ``calibration_feedback``, ``stored_comments``,
``rate_buckets``), on the store's engine (civility.store._store.connect), migrated by its
Alembic migrations. Keys are kept as sha256 digests only: the clear key is shown once, at
creation. Datetimes are aware UTC.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from civility.errors import InvalidInput, NotFound
from civility.store._adapters import LabelledText, record_examples
from civility.store._models import (
    API_KEYS,
    RATE_BUCKETS,
    STORED_COMMENTS,
    CalibrationFeedback,
    utcnow,
)
from civility.store._store import Store, StoreError, connect, migrate, unavailable

KEY_PREFIX = "civ_"


@dataclass(frozen=True)
class ApiKey:
    """An API key as listed: never the key itself, only its first characters."""

    name: str
    hint: str
    created_at: datetime
    revoked_at: datetime | None = None
    site: str | None = None  # the site the key is bound to

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class FeedbackPair:
    """The model's score for a comment and the score a community suggested instead."""

    model_score: float
    suggested_score: float


class ApiStorage(Protocol):
    """What the HTTP door needs from a store."""

    def create_key(self, name: str, site: str | None = None) -> str: ...
    def check_key(self, key: str) -> str | None: ...
    def key_site(self, name: str) -> str | None: ...
    def list_keys(self) -> list[ApiKey]: ...
    def revoke_key(self, name: str) -> None: ...
    def add_feedback(self, community: str, pairs: dict[str, FeedbackPair]) -> None: ...
    def feedback_pairs(self, community: str, attribute: str) -> list[FeedbackPair]: ...
    def save_comment(
        self, key_name: str, community: str, text: str, scores: dict[str, float]
    ) -> None: ...
    def stored_texts(self) -> list[str]: ...
    def purge(self, retention_days: int) -> int: ...
    def take_token(self, who: str, per_minute: int, now: float | None = None) -> float: ...
    def record_examples(self, site: str, examples: Sequence[LabelledText]) -> int: ...


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _unconstrained_copy(table: sa.Table, metadata: sa.MetaData, name: str) -> sa.Table:
    """``table`` as ``name`` in ``metadata``: its columns, key and indexes, no foreign keys."""
    columns = [
        sa.Column(
            c.name,
            c.type,
            primary_key=c.primary_key,
            nullable=c.nullable,
            unique=bool(c.unique),
            index=bool(c.index),
        )
        for c in table.columns
    ]
    return sa.Table(name, metadata, *columns)


class SqlStorage:
    """``ApiStorage`` on a database URL, or on an open ``Store``'s engine (one process serving
    the API and the moderator UI keeps one engine); ``prefix`` namespaces the tables (tests use
    it). A URL is not migrated until ``create_all``; a ``Store`` is migrated already."""

    def __init__(self, database: str | Store, *, prefix: str = "") -> None:
        if isinstance(database, Store):
            self.url, self.engine = database.url, database.engine
        else:
            self.url, self.engine = database, connect(database)
        self.prefix = prefix
        feedback = cast(sa.Table, CalibrationFeedback.__table__)
        tables = (API_KEYS, feedback, STORED_COMMENTS, RATE_BUCKETS)
        if prefix:  # a namespace of their own, outside the migrated schema
            md = sa.MetaData()
            self.keys, self.feedback, self.comments, self.buckets = (
                _unconstrained_copy(t, md, prefix + t.name) for t in tables
            )
        else:
            md = API_KEYS.metadata
            self.keys, self.feedback, self.comments, self.buckets = tables
        self.metadata = md
        self._store: Store | None = database if isinstance(database, Store) else None

    @property
    def store(self) -> Store:
        """A ``Store`` on the same engine (sites, examples, adapters: the migrated schema)."""
        if self._store is None:
            self._store = Store(self.engine)
        return self._store

    def create_all(self) -> SqlStorage:
        """Bring the tables to the current schema: ``alembic upgrade head`` (the store's
        migrations; prefixed tables are created directly); returns ``self``."""
        if self.prefix:
            unavailable(lambda: self.metadata.create_all(self.engine, tables=self._tables))
        else:
            unavailable(lambda: migrate(self.engine))
        return self

    def drop_all(self) -> None:
        """Drop the prefixed tables (tests use it)."""
        if self.prefix:
            unavailable(lambda: self.metadata.drop_all(self.engine, tables=self._tables))
        self.engine.dispose()

    @property
    def _tables(self) -> list[sa.Table]:
        return [self.keys, self.feedback, self.comments, self.buckets]

    def _read(self, query: sa.Select[*tuple[Any, ...]]) -> list[sa.Row[*tuple[Any, ...]]]:
        def run() -> list[sa.Row[*tuple[Any, ...]]]:
            with self.engine.connect() as c:
                return list(c.execute(query).all())

        return unavailable(run)

    def _write(self, stmt: sa.Executable, rows: list[dict[str, Any]] | None = None) -> int:
        """Run ``stmt`` in a transaction of its own; returns the rows it touched. A constraint
        that refuses it raises ``IntegrityError``, other failures an unavailable ``StoreError``."""

        def run() -> int:
            with self.engine.begin() as c:
                return int(c.execute(stmt, rows).rowcount or 0)

        return unavailable(run)

    def create_key(self, name: str, site: str | None = None) -> str:
        """A new key called ``name`` (shown once: only its digest is kept), bound to ``site``
        when given (the site's adapter scores its requests that name no community)."""
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput(f"Key name must be 1 to 200 characters. Got {name!r}.")
        if site is not None and (not site.strip() or len(site) > 200):
            raise InvalidInput(f"A site name must be 1 to 200 characters. Got {site!r}.")
        key = KEY_PREFIX + secrets.token_urlsafe(30)
        row: dict[str, Any] = {
            "name": name,
            "key_hash": hash_key(key),
            "hint": key[:8],
            "created_at": utcnow(),
        }
        if site is not None:
            row["site"] = site.strip()
        try:
            self._write(self.keys.insert().values(**row))
        except IntegrityError:
            raise InvalidInput(f"A key named {name!r} already exists.") from None
        return key

    def check_key(self, key: str) -> str | None:
        """The name of the active key ``key``, or ``None``."""
        q = sa.select(self.keys.c.name).where(
            self.keys.c.key_hash == hash_key(key), self.keys.c.revoked_at.is_(None)
        )
        rows = self._read(q)
        return str(rows[0][0]) if rows else None

    def key_site(self, name: str) -> str | None:
        """The site the key called ``name`` is bound to, or ``None``."""
        rows = self._read(sa.select(self.keys.c.site).where(self.keys.c.name == name))
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def list_keys(self) -> list[ApiKey]:
        q = sa.select(self.keys).order_by(self.keys.c.created_at, self.keys.c.id)
        return [ApiKey(r.name, r.hint, r.created_at, r.revoked_at, r.site) for r in self._read(q)]

    def record_examples(self, site: str, examples: Sequence[LabelledText]) -> int:
        """Labelled examples for ``site``'s adapter (``civility.store.record_examples``)."""
        return record_examples(self, site, examples)

    def revoke_key(self, name: str) -> None:
        stmt = (
            self.keys.update()
            .where(self.keys.c.name == name, self.keys.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if self._write(stmt) == 0:
            raise NotFound(f"No active key named {name!r}.")

    def add_feedback(self, community: str, pairs: dict[str, FeedbackPair]) -> None:
        now = utcnow()
        rows = [
            {
                "community_id": community,
                "attribute": a,
                "model_score": p.model_score,
                "suggested_score": p.suggested_score,
                "policy_flagged": False,
                "created_at": now,
            }
            for a, p in pairs.items()
        ]
        if rows:
            self._write(self.feedback.insert(), rows)

    def feedback_pairs(self, community: str, attribute: str) -> list[FeedbackPair]:
        """The pairs clients of ``community`` suggested for ``attribute``, oldest first (the
        moderators' verdicts, kept in the same table, have no community id)."""
        f = self.feedback
        q = (
            sa.select(f.c.model_score, f.c.suggested_score)
            .where(f.c.community_id == community, f.c.attribute == attribute)
            .order_by(f.c.id)
        )
        return [FeedbackPair(float(r[0]), float(r[1])) for r in self._read(q)]

    def save_comment(
        self, key_name: str, community: str, text: str, scores: dict[str, float]
    ) -> None:
        row = {
            "key_name": key_name,
            "community_id": community,
            "text": text,
            "scores": scores,
            "created_at": utcnow(),
        }
        self._write(self.comments.insert().values(**row))

    def stored_texts(self) -> list[str]:
        return [r[0] for r in self._read(sa.select(self.comments.c.text))]

    def purge(self, retention_days: int) -> int:
        """Delete stored comments older than ``retention_days``; returns how many went."""
        cutoff = utcnow() - timedelta(days=retention_days)
        return self._write(self.comments.delete().where(self.comments.c.created_at < cutoff))

    def take_token(self, who: str, per_minute: int, now: float | None = None) -> float:
        """Spend one request of ``who`` from a token bucket kept in the database, so that
        every worker process spends from the same one (``per_minute`` a minute, bursts up to
        the same number). Returns 0 when allowed, else the seconds to wait.

        The spend is one conditional UPDATE, atomic on SQLite and PostgreSQL alike."""
        now = time.time() if now is None else now
        rate = per_minute / 60.0
        b = self.buckets
        refilled = b.c.tokens + (now - b.c.updated_at) * rate
        available = sa.case((refilled > float(per_minute), float(per_minute)), else_=refilled)
        spend = (
            b.update()
            .where(b.c.key_name == who, available >= 1.0)
            .values(tokens=available - 1.0, updated_at=now)
        )
        mine = sa.select(b.c.tokens, b.c.updated_at).where(b.c.key_name == who)

        def spend_or_look() -> tuple[bool, sa.Row[*tuple[Any, ...]] | None]:
            """(spent, else the bucket as it is: None when the key has none yet)."""
            with self.engine.begin() as c:
                if c.execute(spend).rowcount == 1:
                    return True, None
                return False, c.execute(mine).first()

        for _ in range(2):
            spent, row = unavailable(spend_or_look)
            if spent:
                return 0.0
            if row is not None:
                tokens = min(float(per_minute), row.tokens + (now - row.updated_at) * rate)
                return float(max(1.0, math.ceil((1.0 - tokens) / rate)))
            first = b.insert().values(key_name=who, tokens=float(per_minute) - 1.0, updated_at=now)
            try:  # the key's first request: a full bucket, less this one
                self._write(first)
                return 0.0
            except IntegrityError:  # another worker made it first: spend from it
                continue
        raise StoreError(
            f"Store error: the request bucket of {who!r} could not be updated.", unavailable=True
        )
