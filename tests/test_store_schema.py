"""The store's schema: migrations, SQLite's WAL mode, the append-only audit log, filters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
import store_fixtures
from alembic import command
from fake_scorer import FakeScorer
from store_fixtures import make_thread

from civility.api import FeedbackPair
from civility.errors import InvalidInput, NotFound, PermissionDenied, RateLimited
from civility.policy import Policy
from civility.store import (
    QueueFilters,
    Store,
    StoreError,
    audit,
    authenticate,
    create_user,
    decide,
    import_thread,
    preview_policy,
    queue,
    set_site_policy,
)
from civility.store._models import AuditEntry
from civility.store._store import alembic_config

db_url = store_fixtures.db_url
store = store_fixtures.store
SCORER = FakeScorer()
HOLD_ALL = Policy.from_dict({"name": "hold-all", "thresholds": {"TOXICITY": {"hold": 0.0}}})


def test_opening_twice_keeps_the_schema_at_head(db_url: str) -> None:
    for _ in range(2):
        s = Store.open(db_url)
        with s.engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0008"
            assert {
                "sites",
                "threads",
                "comments",
                "scores",
                "decisions",
                "audit_log",
                "users",
                "calibration_feedback",
                "comment_flags",
                "api_keys",
                "stored_comments",
                "rate_buckets",
                "site_examples",
                "site_adapters",
            } <= set(sa.inspect(conn).get_table_names())
        s.close()


def test_sqlite_store_runs_in_wal_mode(tmp_path: Path) -> None:
    s = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    with s.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    s.close()


def test_an_unusable_database_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="Database directory does not exist: "):
        Store.open(f"sqlite:///{tmp_path / 'missing' / 'c.db'}")
    with pytest.raises(StoreError, match="is not usable"):
        Store.open("nosuchdialect://x")


def test_the_audit_log_refuses_updates_and_deletes(store: Store) -> None:
    with store.session() as s:
        audit(s, "test.event", target="x", n=1)
    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as c:
            c.execute(sa.text(statement))
    with store.session() as s:
        assert [e.action for e in s.scalars(sa.select(AuditEntry))] == ["test.event"]


def test_queue_filters_by_attribute_thread_author_and_day(store: Store) -> None:
    import_thread(store, make_thread(10), site="news", key="a", scorer=SCORER, policy=HOLD_ALL)
    import_thread(
        store,
        make_thread(4, title="Other", prefix="o"),
        site="news",
        key="b",
        scorer=SCORER,
        policy=HOLD_ALL,
    )
    everything, total = queue(store, QueueFilters())
    assert total == 14
    by_author, n = queue(store, QueueFilters(author="READER1"))
    assert n > 0 and all(i.author == "reader1" for i in by_author)
    by_day, n = queue(store, QueueFilters(day="2026-11-12"))
    assert n > 0 and all((i.posted_at or "").startswith("2026-11-12") for i in by_day)
    second = next(i.thread_id for i in everything if i.thread_title == "Other")
    assert queue(store, QueueFilters(thread_id=second))[1] == 4
    top = everything[0].worst_attribute
    by_attr, n = queue(store, QueueFilters(attribute=top))
    assert n > 0 and all(i.worst_attribute == top for i in by_attr)
    assert queue(store, QueueFilters(author="nobody-like-this"))[1] == 0


HOLD_FOR_TWO = Policy.from_dict(
    {
        "name": "hold-two",
        "thresholds": {"TOXICITY": {"hold": 0.0}, "SEXUALLY_EXPLICIT": {"hold": 0.0}},
    }
)


def test_the_attribute_filter_lists_a_comment_under_every_attribute_it_was_held_for(
    store: Store,
) -> None:
    import_thread(store, make_thread(10), site="news", key="a", scorer=SCORER, policy=HOLD_FOR_TWO)
    everything, total = queue(store, QueueFilters())
    assert total == 10
    assert any(i.worst_attribute != "SEXUALLY_EXPLICIT" for i in everything)
    for attribute in ("TOXICITY", "SEXUALLY_EXPLICIT"):
        items, n = queue(store, QueueFilters(attribute=attribute))
        assert n == 10 and all(attribute in {r["attribute"] for r in i.reasons} for i in items)
    worst = {i.worst_attribute for i in everything} - {"TOXICITY", "SEXUALLY_EXPLICIT"}
    for attribute in worst:  # not a reason, but the worst attribute: still listed under it
        items, n = queue(store, QueueFilters(attribute=attribute))
        assert n > 0 and all(i.worst_attribute == attribute for i in items)
    assert queue(store, QueueFilters(attribute="THREAT"))[1] == sum(
        i.worst_attribute == "THREAT" for i in everything
    )


def _alembic(engine: sa.Engine, direction: str, revision: str) -> None:
    with engine.begin() as connection:
        getattr(command, direction)(alembic_config(connection), revision)


def test_migration_0002_backfills_flags_from_the_policy_decisions(store: Store) -> None:
    import_thread(store, make_thread(4), site="news", key="a", scorer=SCORER, policy=HOLD_FOR_TWO)
    flags = "SELECT comment_id, attribute FROM comment_flags ORDER BY comment_id, attribute"
    with store.engine.connect() as conn:
        written = conn.execute(sa.text(flags)).all()
    assert len(written) == 8
    try:
        _alembic(store.engine, "downgrade", "0001")
        with store.engine.connect() as conn:
            assert "comment_flags" not in sa.inspect(conn).get_table_names()
    finally:
        _alembic(store.engine, "upgrade", "head")
    with store.engine.connect() as conn:
        assert conn.execute(sa.text(flags)).all() == written


def test_migration_0003_adopts_the_server_tables_an_older_civility_created(db_url: str) -> None:
    # Before 0003 the server created its tables with create_all beside a schema at 0002.
    from civility.api import SqlStorage
    from civility.store._models import API_KEYS, STORED_COMMENTS

    FEEDBACK = sa.Table(  # as the server created it then; 0007 moved its rows and dropped it
        "feedback",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("community_id", sa.String(200), nullable=False, index=True),
        sa.Column("attribute", sa.String(40), nullable=False),
        sa.Column("model_score", sa.Float, nullable=False),
        sa.Column("suggested_score", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )

    engine = sa.create_engine(db_url)
    _alembic(engine, "upgrade", "head")
    _alembic(engine, "downgrade", "0002")
    with engine.begin() as connection:
        assert "api_keys" not in sa.inspect(connection).get_table_names()
        API_KEYS.metadata.create_all(connection, tables=[API_KEYS, STORED_COMMENTS])
        FEEDBACK.create(connection)
    engine.dispose()
    old = SqlStorage(db_url)
    key = old.create_key("newsroom")
    old.engine.dispose()

    api = SqlStorage(db_url).create_all()  # what the server and `civility keys` run
    assert api.check_key(key) == "newsroom"  # the old table and its row kept
    api.add_feedback("c1", {"TOXICITY": FeedbackPair(0.2, 0.9)})
    with api.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0008"
    _alembic(api.engine, "downgrade", "0002")
    with api.engine.connect() as connection:
        assert not {"api_keys", "feedback", "stored_comments"} & set(
            sa.inspect(connection).get_table_names()
        )
    _alembic(api.engine, "upgrade", "head")
    assert api.list_keys() == []
    api.engine.dispose()


def test_decisions_are_recorded_with_who_and_when(store: Store) -> None:
    import_thread(store, make_thread(3), site="news", key="a", scorer=SCORER, policy=HOLD_ALL)
    mo = create_user(store, "mo", "mo-password")
    items, _ = queue(store, QueueFilters())
    decided = decide(store, items[0].id, "reject", mo)
    assert (decided.status, decided.decided_by) == ("rejected", "mo")
    assert decided.decided_at is not None
    with pytest.raises(
        InvalidInput, match=re.escape("Action must be one of approve, hold, reject. Got 'x'.")
    ):
        decide(store, items[0].id, "x", mo)
    with pytest.raises(NotFound):
        decide(store, 999_999, "approve", mo)


def test_login_throttles_after_five_failures(store: Store) -> None:
    create_user(store, "mo", "mo-password")
    for _ in range(5):
        with pytest.raises(PermissionDenied, match=re.escape("Wrong user name or password.")):
            authenticate(store, "mo", "nope-nope", "10.0.0.1")
    with pytest.raises(RateLimited):
        authenticate(store, "mo", "mo-password", "10.0.0.2")  # same user, other address
    with pytest.raises(RateLimited):
        authenticate(store, "someone", "whatever", "10.0.0.1")  # same address, other user


def test_users_need_a_known_role_and_a_real_password(store: Store) -> None:
    with pytest.raises(
        InvalidInput, match=re.escape("Role must be one of admin, moderator. Got 'root'.")
    ):
        create_user(store, "x", "long-enough", "root")
    with pytest.raises(InvalidInput, match=re.escape("Password must be at least 8 characters.")):
        create_user(store, "x", "short")
    create_user(store, "x", "long-enough")
    with pytest.raises(InvalidInput, match=re.escape("User 'x' already exists.")):
        create_user(store, "x", "long-enough")


def test_policy_preview_compares_with_the_sites_current_policy(store: Store) -> None:
    import_thread(store, make_thread(6), site="news", key="a", scorer=SCORER)
    admin = create_user(store, "ada", "ada-password", "admin")
    set_site_policy(store, "news", 'name = "lenient"\n', admin)  # no thresholds: all approved
    preview = preview_policy(store, "news", HOLD_ALL, last=4)
    assert preview.compared == 4
    assert preview.before == {"approve": 4, "hold": 0, "reject": 0}
    assert preview.after == {"approve": 0, "hold": 4, "reject": 0}
    assert len(preview.changed) == 4
