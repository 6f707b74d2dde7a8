"""``Store``: one database (SQLite file or PostgreSQL URL), migrated to head when opened."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from civility.errors import InvalidInput
from civility.store._models import AuditEntry, Site

if TYPE_CHECKING:
    from alembic.config import Config


class StoreError(InvalidInput):
    """The database cannot be opened or used as configured."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration for the store's migrations, running on ``connection``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("civility.store") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine) -> None:
    """``alembic upgrade head`` on ``engine``'s database."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


class Store:
    """Sessions on a migrated database. Build with ``Store.open(url)``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect, run ``alembic upgrade head``, and return the store."""
        try:
            engine = create_engine(url, pool_pre_ping=True)
        except (ArgumentError, ImportError, ValueError) as exc:
            raise StoreError(f"Database URL {url!r} is not usable: {exc}") from exc
        if engine.dialect.name == "sqlite":
            database = engine.url.database
            if database and database != ":memory:":
                parent = Path(database).parent
                if not parent.is_dir():
                    raise StoreError(f"Database directory does not exist: {parent}")
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            migrate(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise StoreError(f"Cannot open database {engine.url!r}: {reason}") from exc
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def site(self, session: Session, name: str) -> Site:
        """The site called ``name``, created when missing (safe against a concurrent creator)."""
        found = session.scalar(select(Site).where(Site.name == name))
        if found is not None:
            return found
        try:
            with session.begin_nested():
                site = Site(name=name)
                session.add(site)
        except IntegrityError:
            return session.scalars(select(Site).where(Site.name == name)).one()
        return site


def audit(
    session: Session,
    event: str,
    *,
    user_id: int | None = None,
    username: str | None = None,
    target: str | None = None,
    **detail: Any,
) -> None:
    """Append one entry to the audit log."""
    session.add(
        AuditEntry(user_id=user_id, username=username, action=event, target=target, detail=detail)
    )
