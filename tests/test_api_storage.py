"""``SqlStorage`` on SQLite and on the PostgreSQL server: keys hashed, feedback per
community, stored comments purged after the retention period."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from civility.api import FeedbackPair, SqlStorage
from civility.errors import InvalidInput, NotFound
from civility.store import hash_key

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_available() -> bool:
    try:
        with sa.create_engine(POSTGRES).connect():
            return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStorage]:
    if request.param == "sqlite":
        store = SqlStorage(f"sqlite:///{tmp_path / 'api.db'}").create_all()
    else:
        if not _postgres_available():
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        store = SqlStorage(POSTGRES, prefix=f"t{uuid.uuid4().hex[:10]}_").create_all()
    yield store
    store.drop_all()


def test_keys_are_stored_hashed_and_checked(storage: SqlStorage) -> None:
    key = storage.create_key("newsroom")
    assert storage.check_key(key) == "newsroom"
    assert storage.check_key(key + "x") is None
    with storage.engine.connect() as c:
        rows = c.execute(sa.select(storage.keys)).all()
    assert [r.key_hash for r in rows] == [hash_key(key)]
    assert all(key not in str(tuple(r)) for r in rows)


def test_revoked_keys_fail_and_stay_listed(storage: SqlStorage) -> None:
    key = storage.create_key("old")
    storage.create_key("new")
    storage.revoke_key("old")
    assert storage.check_key(key) is None
    listed = {k.name: k.active for k in storage.list_keys()}
    assert listed == {"old": False, "new": True}
    with pytest.raises(NotFound, match=r"^No active key named 'old'\.$"):
        storage.revoke_key("old")


def test_duplicate_key_names_are_refused(storage: SqlStorage) -> None:
    storage.create_key("dup")
    with pytest.raises(InvalidInput, match=r"^A key named 'dup' already exists\.$"):
        storage.create_key("dup")


def test_feedback_is_kept_per_community_and_attribute(storage: SqlStorage) -> None:
    storage.add_feedback(
        "a", {"TOXICITY": FeedbackPair(0.2, 0.9), "INSULT": FeedbackPair(0.1, 0.0)}
    )
    storage.add_feedback("b", {"TOXICITY": FeedbackPair(0.5, 0.1)})
    assert storage.feedback_pairs("a", "TOXICITY") == [FeedbackPair(0.2, 0.9)]
    assert storage.feedback_pairs("b", "TOXICITY") == [FeedbackPair(0.5, 0.1)]
    assert storage.feedback_pairs("c", "TOXICITY") == []


def test_purge_deletes_comments_older_than_the_retention(storage: SqlStorage) -> None:
    storage.save_comment("k", "", "recent text", {"TOXICITY": 0.1})
    storage.save_comment("k", "", "old text", {"TOXICITY": 0.2})
    with storage.engine.begin() as c:
        c.execute(
            storage.comments.update()
            .where(storage.comments.c.text == "old text")
            .values(
                created_at=sa.func.now() - sa.text("INTERVAL '40 days'")
                if storage.engine.dialect.name == "postgresql"
                else sa.text("datetime('now', '-40 days')")
            )
        )
    assert storage.purge(30) == 1
    assert storage.stored_texts() == ["recent text"]


def test_request_buckets_are_spent_refilled_and_kept_per_key(storage: SqlStorage) -> None:
    t = 1_000_000.0
    assert [storage.take_token("k", 3, now=t) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert storage.take_token("k", 3, now=t) == 20.0  # one request every 20 s at 3 a minute
    assert storage.take_token("other", 3, now=t) == 0.0
    assert storage.take_token("k", 3, now=t + 21) == 0.0
    assert storage.take_token("k", 3, now=t + 21) > 0
    # A long pause fills the bucket to its size, not beyond.
    assert [storage.take_token("k", 3, now=t + 900) for _ in range(4)] == [0.0, 0.0, 0.0, 20.0]
