"""``Store``: one database (SQLite file or PostgreSQL URL), migrated to head when opened."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from civility.errors import CivilityError
from civility.store._models import AuditEntry, Site

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")


class StoreError(CivilityError):
    """The database cannot be used: as configured (a URL that is not usable, a directory that
    does not exist: the caller's to fix, exit 2, HTTP 400), or at the moment (``unavailable``:
    the server is down or refused a statement, exit 1, HTTP 503 UNAVAILABLE)."""

    status = 400
    exit_code = 2
    grpc_status = "INVALID_ARGUMENT"

    def __init__(self, message: str, *, unavailable: bool = False) -> None:
        super().__init__(message)
        self.unavailable = unavailable
        if unavailable:
            self.status, self.exit_code, self.grpc_status = 503, 1, "UNAVAILABLE"


def unavailable(fn: Callable[[], T]) -> T:
    """``fn()``, with the database's failures (other than a constraint refusing a row, which the
    caller handles) raised as an unavailable ``StoreError``."""
    try:
        return fn()
    except IntegrityError:
        raise
    except SQLAlchemyError as exc:
        raise StoreError(
            f"Store error: {type(exc).__name__}: {exc.args[0] if exc.args else exc}",
            unavailable=True,
        ) from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL and synchronous=NORMAL (a write costs no fsync on the request path), foreign keys
    enforced, and 15 seconds' patience with another process's write lock."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def connect(url: str) -> Engine:
    """The one engine of a database URL (SQLite file or PostgreSQL), with the store's SQLite
    pragmas; not migrated. A URL that cannot be used is a ``StoreError``."""
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"Database URL {url!r} is not usable: {exc}") from exc
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            parent = Path(database).parent
            if not parent.is_dir():
                raise StoreError(f"Database directory does not exist: {parent}")
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


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
        engine = connect(url)
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
