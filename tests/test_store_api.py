"""The API's keys, feedback and stored comments in the one store: a database that is down is
503 UNAVAILABLE (not the client's fault), feedback lives in ``calibration_feedback`` beside the
moderators' verdicts without mixing with them, and every datetime read back is aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import store_fixtures
from alembic import command
from api_support import InThread
from store_fixtures import make_thread

from civility.api import FeedbackPair, SqlStorage
from civility.policy import Policy
from civility.scorer import Scorer
from civility.settings import Settings
from civility.store import (
    QueueFilters,
    Store,
    StoreError,
    create_user,
    decide,
    import_thread,
    missed,
    overturns,
    queue,
)
from civility.store._store import alembic_config

db_url = store_fixtures.db_url
HOLD_ALL = Policy.from_dict({"name": "hold-all", "thresholds": {"TOXICITY": {"hold": 0.0}}})
MODERATOR_FEEDBACK = (
    "SELECT site_id, comment_id, attribute, model_score, verdict, policy_flagged, user_id"
    " FROM calibration_feedback WHERE comment_id IS NOT NULL ORDER BY id"
)


def test_a_database_that_is_down_answers_503_unavailable(tmp_path: Path) -> None:
    storage = SqlStorage(f"sqlite:///{tmp_path / 'api.db'}").create_all()
    key = storage.create_key("newsroom")
    settings = Settings(database_url=storage.url, secret_key="test-secret")
    with InThread(settings, storage) as live:
        with storage.engine.begin() as c:  # the database loses its tables under the server
            c.execute(sa.text("DROP TABLE api_keys"))
        r = httpx.post(
            f"{live.base}/v1alpha1/comments:analyze",
            params={"key": key},
            json={"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}},
            timeout=30,
        )
    assert r.status_code == 503, r.text
    error = r.json()["error"]
    assert (error["code"], error["status"]) == (503, "UNAVAILABLE")
    assert error["message"].startswith("Store error: OperationalError: ")
    assert "no such table: api_keys" in error["message"]
    assert r.content == (  # byte for byte what the server answered before the store was one
        b'{\n  "error": {\n    "code": 503,\n    "message": "Store error: OperationalError: '
        b'(sqlite3.OperationalError) no such table: api_keys",\n    "status": "UNAVAILABLE",\n'
        b'    "details": [\n      {\n        "@type": '
        b'"type.googleapis.com/google.commentanalyzer.v1alpha1.Error",\n'
        b'        "errorType": "INVALID_REQUEST"\n      }\n    ]\n  }\n}'
    )


def test_a_database_url_that_cannot_be_used_is_the_callers_error_and_an_outage_is_not() -> None:
    with pytest.raises(StoreError, match=r"^Database URL 'nosuch://x' is not usable: ") as bad:
        SqlStorage("nosuch://x")
    assert (bad.value.status, bad.value.exit_code, bad.value.grpc_status) == (
        400,
        2,
        "INVALID_ARGUMENT",
    )
    down = SqlStorage("postgresql+psycopg://postgres@127.0.0.1:1/test")  # nothing listens there
    with pytest.raises(StoreError, match=r"^Store error: OperationalError: ") as outage:
        down.check_key("civ_x")
    assert (outage.value.status, outage.value.exit_code, outage.value.grpc_status) == (
        503,
        1,
        "UNAVAILABLE",
    )


def _alembic(engine: sa.Engine, direction: str, revision: str) -> None:
    with engine.begin() as connection:
        getattr(command, direction)(alembic_config(connection), revision)


def test_migration_0007_moves_the_api_feedback_into_calibration_feedback(db_url: str) -> None:
    store = Store.open(db_url)  # foreign keys on, as the server runs
    import_thread(
        store, make_thread(4), site="news", key="a", scorer=Scorer().load(), policy=HOLD_ALL
    )
    mo = create_user(store, "mo", "mo-password")
    items, _ = queue(store, QueueFilters())
    decide(store, items[0].id, "reject", mo)
    decide(store, items[1].id, "approve", mo)
    with store.engine.connect() as c:
        verdicts = c.execute(sa.text(MODERATOR_FEEDBACK)).all()
        counts = [
            c.scalar(sa.text(f"SELECT count(*) FROM {t}"))
            for t in ("comments", "scores", "decisions")
        ]
    assert len(verdicts) > 2
    before = (overturns(store), missed(store))

    _alembic(store.engine, "downgrade", "0006")
    with store.engine.begin() as c:  # what a server of 0006 wrote: naive UTC timestamps
        c.execute(
            sa.text(
                "INSERT INTO feedback (community_id, attribute, model_score, suggested_score, created_at)"
                " VALUES ('c1', 'TOXICITY', 0.4, 0.3, '2026-11-01 10:00:00'),"
                " ('c2', 'TOXICITY', 0.5, 0.5, '2026-11-01 10:00:00'),"
                " ('c1', 'INSULT', 0.1, 0.0, '2026-11-01 10:00:00'),"
                " ('c1', 'TOXICITY', 0.2, 0.9, '2026-11-02 10:00:00')"
            )
        )
        c.execute(
            sa.text(
                "INSERT INTO api_keys (name, key_hash, hint, created_at, revoked_at)"
                " VALUES ('old', 'h', 'civ_abcd', '2026-11-01 10:00:00', '2026-11-03 12:30:00')"
            )
        )
    _alembic(store.engine, "upgrade", "head")

    with store.engine.connect() as c:
        assert "feedback" not in sa.inspect(c).get_table_names()
        assert c.execute(sa.text(MODERATOR_FEEDBACK)).all() == verdicts
        assert [
            c.scalar(sa.text(f"SELECT count(*) FROM {t}"))
            for t in ("comments", "scores", "decisions")
        ] == counts
        suggested = c.execute(
            sa.text(
                "SELECT verdict, suggested_score FROM calibration_feedback WHERE comment_id IS NOT NULL"
            )
        ).all()
    assert all(float(v) == s for v, s in suggested)
    assert (overturns(store), missed(store)) == before
    api = SqlStorage(db_url)
    assert api.feedback_pairs("c1", "TOXICITY") == [FeedbackPair(0.4, 0.3), FeedbackPair(0.2, 0.9)]
    assert api.feedback_pairs("c2", "TOXICITY") == [FeedbackPair(0.5, 0.5)]
    assert api.feedback_pairs("c1", "INSULT") == [FeedbackPair(0.1, 0.0)]
    (old,) = api.list_keys()
    assert (old.created_at, old.revoked_at) == (
        datetime(2026, 11, 1, 10, tzinfo=UTC),
        datetime(2026, 11, 3, 12, 30, tzinfo=UTC),
    )
    api.engine.dispose()
    store.close()


def test_api_feedback_is_no_moderator_verdict(db_url: str) -> None:
    store = Store.open(db_url)
    import_thread(
        store, make_thread(2), site="news", key="a", scorer=Scorer().load(), policy=HOLD_ALL
    )
    api = SqlStorage(db_url)
    api.add_feedback("news", {"TOXICITY": FeedbackPair(0.9, 1.0), "INSULT": FeedbackPair(0.1, 1.0)})
    assert (overturns(store), missed(store)) == ([], 0)
    mo = create_user(store, "mo", "mo-password")
    decide(store, queue(store, QueueFilters())[0][0].id, "reject", mo)
    assert api.feedback_pairs("news", "TOXICITY") == [FeedbackPair(0.9, 1.0)]
    api.engine.dispose()
    store.close()


def test_datetimes_read_back_are_aware_utc(db_url: str) -> None:
    store = Store.open(db_url)
    import_thread(
        store, make_thread(2), site="news", key="a", scorer=Scorer().load(), policy=HOLD_ALL
    )
    mo = create_user(store, "mo", "mo-password")
    decided = decide(store, queue(store, QueueFilters())[0][0].id, "approve", mo)
    api = SqlStorage(db_url)
    api.create_key("k")
    api.revoke_key("k")
    (key,) = api.list_keys()
    for when in (decided.decided_at, key.created_at, key.revoked_at):
        assert when is not None and when.tzinfo is UTC
    api.engine.dispose()
    store.close()
