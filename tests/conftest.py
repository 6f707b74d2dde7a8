"""Shared fixtures: a small deterministic fake scorer behind the seam the app, the importer and
the report already take (a ``Scorer``), the real model loaded once per session for the tests that
pin real scores, the database URLs (a fresh SQLite file, and PostgreSQL when it is reachable) and
an httpx client of the API app served in this process.

``pytest -m "not slow"`` is the fast loop; the end-to-end tests (subprocesses, ``civility serve``
with several workers, Chromium, Spark, PostgreSQL, training) are marked ``slow``; CI runs all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import store_fixtures
from api_support import InThread, shared_scorer
from fake_scorer import FakeScorer

from civility.scorer import Scorer

# The database fixtures live in store_fixtures (modules import make_thread from it too).
db_url = store_fixtures.db_url
store = store_fixtures.store


@pytest.fixture(scope="session")
def fake_scorer() -> FakeScorer:
    return FakeScorer()


@pytest.fixture(scope="session")
def real_scorer() -> Scorer:
    """The shipped model, loaded once per session (about a second); the in-thread servers of
    api_support share it."""
    return shared_scorer()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'civility.db'}"


@pytest.fixture
def api_client(sqlite_url: str, fake_scorer: FakeScorer) -> Iterator[httpx.Client]:
    """An httpx client of the API app (``create_app`` with the fake scorer, a fresh SQLite store,
    keys not required) served by uvicorn in a thread on 127.0.0.1."""
    from civility.api import SqlStorage
    from civility.settings import Settings

    settings = Settings(database_url=sqlite_url, require_key=False)
    storage = SqlStorage(sqlite_url).create_all()
    with (
        InThread(settings, storage, scorer=fake_scorer) as server,
        httpx.Client(base_url=server.base, timeout=30) as client,
    ):
        yield client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need PostgreSQL or Chromium are end-to-end tests too: ``-m "not slow"``
    leaves them out, CI runs them."""
    for item in items:
        if item.get_closest_marker("postgres") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id at its lowest cost: a login costs under a millisecond instead of 0.2 s of
    CPU (the tests log in hundreds of times). Tests in processes of their own keep the default."""
    from argon2 import PasswordHasher

    from civility.store import _users

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(_users, "_HASHER", cheap)
    monkeypatch.setattr(_users, "_DUMMY_HASH", cheap.hash("civility-no-such-user"))


@pytest.fixture(scope="session", autouse=True)
def shipped_model_read_once() -> Iterator[None]:
    """The shipped model and span tagger are read from disk once per session: code under test
    that builds its own ``Scorer().load()`` (the CLI in process, ``analyze_page``) gets the same
    verified, read-only arrays instead of reading 9 MB again. Other model folders load as usual."""
    from civility import scorer as scorer_module
    from civility.model import LinearModel, default_model_dir
    from civility.model.spans import SpanTagger

    load_model, load_tagger = scorer_module.load_model, SpanTagger.load
    shipped: dict[str, object] = {}

    def read_model(directory: Path | None = None) -> LinearModel:
        if directory is not None and directory != default_model_dir():
            return load_model(directory)
        if "model" not in shipped:
            shipped["model"] = load_model(directory)
        return shipped["model"]  # type: ignore[return-value]

    def read_tagger(directory: Path) -> SpanTagger:
        if directory != default_model_dir():
            return load_tagger(directory)
        if "tagger" not in shipped:
            shipped["tagger"] = load_tagger(directory)
        return shipped["tagger"]  # type: ignore[return-value]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scorer_module, "load_model", read_model)
        patch.setattr(SpanTagger, "load", staticmethod(read_tagger))
        yield


# Debian's Chromium, which the browser tests drive through Playwright.
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium, closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()
