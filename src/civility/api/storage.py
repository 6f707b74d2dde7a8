"""What the API keeps: hashed API keys, feedback pairs and (optionally) analysed comments.

``ApiStorage`` is the seam the app talks to; ``SqlStorage`` implements it with SQLAlchemy 2
Core tables (``api_keys``, ``feedback``, ``stored_comments``) on SQLite or PostgreSQL. The
tables are defined with the store's (civility.store._models) and created and upgraded by its
Alembic migrations, on the same database. Keys are kept as sha256 digests only: the clear key
is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from civility.errors import CivilityError, InvalidInput, NotFound

KEY_PREFIX = "civ_"
T = TypeVar("T")


class StorageError(CivilityError, RuntimeError):
    """The database could not be reached or refused a statement."""

    status = 503
    exit_code = 1
    grpc_status = "UNAVAILABLE"


@dataclass(frozen=True)
class ApiKey:
    """An API key as listed: never the key itself, only its first characters."""

    name: str
    hint: str
    created_at: datetime
    revoked_at: datetime | None = None

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

    def create_key(self, name: str) -> str: ...
    def check_key(self, key: str) -> str | None: ...
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


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    """WAL and synchronous=NORMAL: a stored comment costs no fsync on the request path."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SqlStorage:
    """``ApiStorage`` on a SQLAlchemy URL; ``prefix`` namespaces the tables (tests use it)."""

    def __init__(self, url: str, *, prefix: str = "") -> None:
        self.url = url
        self.prefix = prefix
        kwargs: dict[str, object] = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine = sa.create_engine(url, **kwargs)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise InvalidInput(f"database_url {url!r} is not usable: {exc}") from exc
        if url.startswith("sqlite") and ":memory:" not in url:
            sa.event.listen(self.engine, "connect", _sqlite_wal)
        from civility.store._models import API_KEYS, FEEDBACK, RATE_BUCKETS, STORED_COMMENTS

        tables = (API_KEYS, FEEDBACK, STORED_COMMENTS, RATE_BUCKETS)
        if prefix:  # a namespace of their own, outside the migrated schema
            md = sa.MetaData()
            self.keys, self.feedback, self.comments, self.buckets = (
                t.to_metadata(md, name=prefix + t.name) for t in tables
            )
        else:
            md = API_KEYS.metadata
            self.keys, self.feedback, self.comments, self.buckets = tables
        self.metadata = md

    def create_all(self) -> SqlStorage:
        """Bring the tables to the current schema: ``alembic upgrade head`` (the store's
        migrations; prefixed tables are created directly); returns ``self``."""
        from civility.store._store import migrate

        if self.prefix:
            self._run(lambda: self.metadata.create_all(self.engine, tables=self._tables))
        else:
            self._run(lambda: migrate(self.engine))
        return self

    def drop_all(self) -> None:
        """Drop the server's tables (tests use it)."""
        self._run(lambda: self.metadata.drop_all(self.engine, tables=self._tables))
        self.engine.dispose()

    @property
    def _tables(self) -> list[sa.Table]:
        return [self.keys, self.feedback, self.comments, self.buckets]

    def _run(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise StorageError(
                f"Store error: {type(exc).__name__}: {exc.args[0] if exc.args else exc}"
            ) from exc

    def create_key(self, name: str) -> str:
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput(f"Key name must be 1 to 200 characters. Got {name!r}.")
        key = KEY_PREFIX + secrets.token_urlsafe(30)
        row = {"name": name, "key_hash": hash_key(key), "hint": key[:8], "created_at": _now()}
        try:
            with self.engine.begin() as c:
                self._run(lambda: c.execute(self.keys.insert().values(**row)))
        except IntegrityError:
            raise InvalidInput(f"A key named {name!r} already exists.") from None
        return key

    def check_key(self, key: str) -> str | None:
        """The name of the active key ``key``, or ``None``."""
        q = sa.select(self.keys.c.name).where(
            self.keys.c.key_hash == hash_key(key), self.keys.c.revoked_at.is_(None)
        )
        with self.engine.connect() as c:
            name: str | None = self._run(lambda: c.execute(q).scalar_one_or_none())
        return name

    def list_keys(self) -> list[ApiKey]:
        q = sa.select(self.keys).order_by(self.keys.c.created_at, self.keys.c.id)
        with self.engine.connect() as c:
            rows = self._run(lambda: c.execute(q).all())
        return [ApiKey(r.name, r.hint, r.created_at, r.revoked_at) for r in rows]

    def revoke_key(self, name: str) -> None:
        stmt = (
            self.keys.update()
            .where(self.keys.c.name == name, self.keys.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        with self.engine.begin() as c:
            result = self._run(lambda: c.execute(stmt))
        if result.rowcount == 0:
            raise NotFound(f"No active key named {name!r}.")

    def add_feedback(self, community: str, pairs: dict[str, FeedbackPair]) -> None:
        now = _now()
        rows = [
            {
                "community_id": community,
                "attribute": a,
                "model_score": p.model_score,
                "suggested_score": p.suggested_score,
                "created_at": now,
            }
            for a, p in pairs.items()
        ]
        if rows:
            with self.engine.begin() as c:
                self._run(lambda: c.execute(self.feedback.insert(), rows))

    def feedback_pairs(self, community: str, attribute: str) -> list[FeedbackPair]:
        f = self.feedback
        q = (
            sa.select(f.c.model_score, f.c.suggested_score)
            .where(f.c.community_id == community, f.c.attribute == attribute)
            .order_by(f.c.id)
        )
        with self.engine.connect() as c:
            rows = self._run(lambda: c.execute(q).all())
        return [FeedbackPair(float(r[0]), float(r[1])) for r in rows]

    def save_comment(
        self, key_name: str, community: str, text: str, scores: dict[str, float]
    ) -> None:
        row = {
            "key_name": key_name,
            "community_id": community,
            "text": text,
            "scores": scores,
            "created_at": _now(),
        }
        with self.engine.begin() as c:
            self._run(lambda: c.execute(self.comments.insert().values(**row)))

    def stored_texts(self) -> list[str]:
        with self.engine.connect() as c:
            rows = self._run(lambda: c.execute(sa.select(self.comments.c.text)).all())
        return [r[0] for r in rows]

    def purge(self, retention_days: int) -> int:
        """Delete stored comments older than ``retention_days``; returns how many went."""
        cutoff = _now() - timedelta(days=retention_days)
        stmt = self.comments.delete().where(self.comments.c.created_at < cutoff)
        with self.engine.begin() as c:
            result = self._run(lambda: c.execute(stmt))
        return int(result.rowcount or 0)

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
        spend = b.update().where(b.c.key_name == who, available >= 1.0).values(tokens=available - 1.0, updated_at=now)
        for _ in range(2):
            with self.engine.begin() as c:
                if self._run(lambda: c.execute(spend)).rowcount == 1:
                    return 0.0
                row = self._run(lambda: c.execute(sa.select(b.c.tokens, b.c.updated_at).where(b.c.key_name == who)).first())
            if row is not None:
                tokens = min(float(per_minute), row.tokens + (now - row.updated_at) * rate)
                return float(max(1.0, math.ceil((1.0 - tokens) / rate)))
            try:  # the key's first request: a full bucket, less this one
                with self.engine.begin() as c:
                    c.execute(b.insert().values(key_name=who, tokens=float(per_minute) - 1.0, updated_at=now))
                return 0.0
            except IntegrityError:  # another worker made it first: spend from it
                continue
        raise StorageError(f"Store error: the request bucket of {who!r} could not be updated.")
