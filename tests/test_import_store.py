"""Imports are idempotent: natural keys make a second import of the same thread add nothing."""

from __future__ import annotations

import sqlalchemy as sa
import store_fixtures
from fake_scorer import FakeScorer
from store_fixtures import make_thread

from civility.store import QueueFilters, Store, comment_key, import_thread, queue
from civility.store._models import CommentRow, DecisionRow, ScoreRow
from civility.thread import Comment, Thread

SCORER = FakeScorer()
db_url = store_fixtures.db_url
store = store_fixtures.store


def _counts(store: Store) -> tuple[int, int, int]:
    with store.session() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (CommentRow, ScoreRow, DecisionRow)
        )


def test_importing_the_same_thread_twice_adds_nothing(store: Store) -> None:
    thread = make_thread(12)
    first = import_thread(store, thread, site="news", key="article-1", scorer=SCORER, chunk_size=5)
    second = import_thread(store, thread, site="news", key="article-1", scorer=SCORER, chunk_size=5)
    assert (first.added, first.skipped) == (12, 0)
    assert (second.added, second.skipped) == (0, 12)
    assert _counts(store) == (12, 12, 12)


def test_a_grown_thread_imports_only_its_new_comments(store: Store) -> None:
    import_thread(store, make_thread(4), site="news", key="a", scorer=SCORER)
    result = import_thread(store, make_thread(9), site="news", key="a", scorer=SCORER)
    assert (result.added, result.skipped) == (5, 4)
    assert _counts(store)[0] == 9


def test_same_thread_key_on_another_site_is_another_thread(store: Store) -> None:
    import_thread(store, make_thread(3), site="one", key="a", scorer=SCORER)
    result = import_thread(store, make_thread(3), site="two", key="a", scorer=SCORER)
    assert result.added == 3


def test_comments_without_ids_are_keyed_by_content() -> None:
    a = Comment(id="", author="x", text="same words")
    b = Comment(id="", author="x", text="same words")
    c = Comment(id="", author="y", text="same words")
    assert comment_key(a) == comment_key(b) != comment_key(c)
    assert comment_key(Comment(id="c7", author=None, text="t")) == "c7"


def test_idless_duplicates_in_one_file_are_both_kept_and_reimport_adds_nothing(
    store: Store,
) -> None:
    # The page shows two comments (a double post, or two "+1"): a moderator sees both.
    dup = Comment(id="", author="x", text="posted twice by accident")
    result = import_thread(store, Thread(None, (dup, dup)), site="s", key="k", scorer=SCORER)
    assert (result.added, result.skipped) == (2, 0)
    again = import_thread(store, Thread(None, (dup, dup)), site="s", key="k", scorer=SCORER)
    assert (again.added, again.skipped) == (0, 2)


def test_queue_lists_held_and_rejected_worst_first_with_scores_and_spans(store: Store) -> None:
    import_thread(store, make_thread(12), site="news", key="a", scorer=SCORER)
    items, total = queue(store, QueueFilters(status="all"))
    assert total == 12
    worst = [i.worst_score for i in items]
    assert worst == sorted(worst, reverse=True)
    top = items[0]
    assert top.values and top.model_version
    assert top.worst_score == max(top.values.values())
    for spans in top.spans.values():
        for begin, end, _score in spans:
            assert 0 <= begin < end <= len(top.text)
    flagged = [i for i in items if i.policy_action != "approve"]
    assert flagged and all(i.reasons for i in flagged)


def test_ready_made_scores_are_stored_without_rescoring(store: Store) -> None:
    thread = make_thread(5)
    scores = SCORER.score([c.text for c in thread.comments], spans=True)
    result = import_thread(store, thread, site="news", key="a", scores=scores)
    assert result.added == 5
    items, _ = queue(store, QueueFilters(status="all"))
    by_text = {i.text: i.values for i in items}
    for comment, score in zip(thread.comments, scores, strict=True):
        assert by_text[comment.text] == dict(score.values)


def test_a_comment_without_prose_is_held_unscored(store: Store) -> None:
    blank = Comment(id="b1", author="x", text="   ")
    result = import_thread(store, Thread(None, (blank,)), site="s", key="k", scorer=SCORER)
    assert (result.added, result.held) == (1, 1)
    [held], _ = queue(store, QueueFilters())
    assert (held.values, held.policy_action) == ({}, "hold")


SPANISH = "Esto es una vergüenza, el gobierno miente siempre y nadie dice nada."


def test_a_comment_in_a_language_the_model_cannot_read_is_held_unscored_with_the_reason(
    store: Store,
) -> None:
    import re

    import httpx
    from web_fixtures import serve

    from civility.store import create_user, decide

    thread = Thread(
        None,
        (
            Comment(id="en", author="x", text="Thanks for the clear write-up."),
            Comment(id="es", author="y", text=SPANISH),
            Comment(id="short", author="y", text="Gracias!"),
        ),
    )
    result = import_thread(store, thread, site="s", key="k", scorer=SCORER)
    assert (result.added, result.held) == (3, 1)
    items, _ = queue(store, QueueFilters(status="all"))
    by_key = {i.text: i for i in items}
    spanish = by_key[SPANISH]
    assert (spanish.values, spanish.policy_action) == ({}, "hold")
    assert spanish.note == "language es not supported" and spanish.reasons == []
    assert by_key["Gracias!"].values and by_key["Gracias!"].note is None
    mo = create_user(store, "mo", "mo-password", "moderator")
    with serve(store) as base, httpx.Client(base_url=base, timeout=20) as c:
        login = c.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert token is not None
        c.post(
            "/login",
            data={"username": "mo", "password": "mo-password", "csrf_token": token.group(1)},
        )
        page = c.get("/queue")
        assert page.status_code == 200
        assert "language es not supported" in page.text
    # A moderator's decision on it still records (the note is not an attribute).
    assert decide(store, spanish.id, "approve", mo).status == "approved"
