"""The Feedback page's figures on SQLite and PostgreSQL: overturns per attribute the policy
flagged, and rejections the policy missed, counted once per comment, not per attribute."""

from __future__ import annotations

import store_fixtures
from sqlalchemy import select

from civility.policy import Policy
from civility.scorer import Scores
from civility.store import Store, create_user, decide, import_thread, missed, overturns
from civility.store._models import CommentRow
from civility.thread import Article, Comment, Thread

db_url = store_fixtures.db_url
store = store_fixtures.store
POLICY = Policy.from_dict({"name": "t", "thresholds": {"TOXICITY": {"hold": 0.5}}})


def _values(toxicity: float) -> Scores:
    return Scores({"TOXICITY": toxicity, "INSULT": 0.1, "THREAT": 0.01}, model_version="t")


def test_a_rejection_nothing_flagged_is_one_miss_of_the_policy_not_one_per_attribute(
    store: Store,
) -> None:
    comments = (Comment("ok", "a", "fine"), Comment("bad", "b", "held"), Comment("ok2", "c", "x"))
    scores = [_values(0.2), _values(0.9), _values(0.1)]
    thread = Thread(Article("T", ()), comments)
    import_thread(store, thread, site="news", key="t", scores=scores, policy=POLICY)
    mo = create_user(store, "mo", "mo-password", "moderator")
    with store.session() as session:
        ids = {c.key: c.id for c in session.scalars(select(CommentRow))}

    decide(store, ids["ok"], "reject", mo)  # approved by the policy: a miss
    decide(store, ids["bad"], "reject", mo)  # held for TOXICITY: confirmed, not a miss
    assert missed(store) == 1
    assert [(o.attribute, o.flagged, o.overturned) for o in overturns(store)] == [
        ("TOXICITY", 1, 0)
    ]
    decide(store, ids["ok"], "reject", mo)  # the same comment again: still one miss
    assert missed(store) == 1
    decide(store, ids["ok"], "approve", mo)  # the moderator changed their mind: no miss
    decide(store, ids["ok2"], "approve", mo)
    assert missed(store) == 0
    decide(store, ids["bad"], "approve", mo)
    assert [(o.attribute, o.flagged, o.overturned) for o in overturns(store)] == [
        ("TOXICITY", 2, 1)
    ]
    assert missed(store, site="news") == 0 and overturns(store, site="elsewhere") == []
