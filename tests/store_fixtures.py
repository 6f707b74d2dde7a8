"""Database fixtures shared by the store, import and web tests: every test runs against a fresh
SQLite file and against PostgreSQL (a database created for this test session, dropped after)."""

from __future__ import annotations

import atexit
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from civility.store import Store
from civility.store._models import Base
from civility.thread import Article, Comment, Thread

PG_ADMIN_URL = os.environ.get(
    "CIVILITY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_pg: dict[str, str] = {}


def _drop_pg_database(name: str) -> None:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def pg_url() -> str:
    """A database of its own for this test session; skipped when PostgreSQL is unreachable."""
    if "url" not in _pg:
        name = f"civility_test_{uuid.uuid4().hex[:12]}"
        try:
            engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            engine.dispose()
        except sa.exc.OperationalError as exc:
            pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc.orig}")
        atexit.register(_drop_pg_database, name)
        _pg["url"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    return _pg["url"]


def _truncate(store: Store) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty, migrated database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'civility.db'}"
        return
    url = pg_url()
    store = Store.open(url)
    _truncate(store)
    store.close()
    yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def make_thread(
    n: int = 6, *, title: str = "Example article", url: str | None = None, prefix: str = "c"
) -> Thread:
    """A thread mixing civil and hostile comments, with replies; ids are ``prefix`` + number
    (ids identify a comment within a site, so two threads of one site need two prefixes)."""
    texts = [
        "Thanks for the clear reporting, very informative.",
        "You are a stupid idiot and a moron.",
        "I disagree with the author about the budget numbers.",
        "Shut up, you pathetic loser, nobody wants you here.",
        'Interesting point about the <b>schools</b> & "parents".',
        "I will find you and hurt you.",
    ]
    comments = tuple(
        Comment(
            id=f"{prefix}{i}",
            author=f"reader{i % 4}",
            text=texts[i % len(texts)] + ("" if i < len(texts) else f" ({i})"),
            parent_id=f"{prefix}{i - 1}" if i % 2 else None,
            created_at=f"2026-11-{10 + i % 5:02d}T12:00:00",
        )
        for i in range(n)
    )
    article = Article(title, ("First paragraph of the article.", "Second paragraph."), url)
    return Thread(article, comments)


def write_jsonl(path: Path, thread: Thread) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for c in thread.comments:
            f.write(
                json.dumps(
                    {
                        "id": c.id,
                        "author": c.author,
                        "text": c.text,
                        "parent_id": c.parent_id,
                        "created_at": c.created_at,
                    }
                )
                + "\n"
            )
    return path
