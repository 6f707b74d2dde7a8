"""Labels from the product itself: a moderator's decision in the queue and an API client's
``comments:suggestscore`` become the site's labelled examples (real SQLite and PostgreSQL, a
real HTTP server); and the guard against one account poisoning a site's adapter."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import store_fixtures
from api_support import InThread
from fake_scorer import FakeScorer
from sqlalchemy import select

from civility.adapt import AdaptSettings
from civility.adapted import AdaptedScorer
from civility.api import SqlStorage
from civility.moderate import POLICY_SCALE, moderate
from civility.policy import Policy
from civility.scorer import Scorer, Scores
from civility.settings import Settings
from civility.store import (
    LabelledText,
    Store,
    create_user,
    decide,
    import_thread,
    record_examples,
    retrain,
    site_examples,
    site_scorer,
    text_key,
)
from civility.store._models import CommentRow
from civility.thread import Article, Comment, Thread

db_url = store_fixtures.db_url
store = store_fixtures.store
SUGGEST = "/v1alpha1/comments:suggestscore"
ANALYZE = "/v1alpha1/comments:analyze"
POLICY = Policy.from_dict(
    {"name": "t", "thresholds": {"TOXICITY": {"hold": 0.5}, "INSULT": {"hold": 0.5}}}
)


def _labels(store: Store, site: str) -> dict[str, list[tuple[str, int, str]]]:
    return {
        a: sorted((e.text, e.label, e.source) for e in exs)
        for a, exs in site_examples(store, site).items()
    }


def test_a_decision_labels_toxicity_and_the_attributes_that_flagged_it(store: Store) -> None:
    comments = (
        Comment("insult", "a", "you absolute clown"),
        Comment("fine", "b", "a fine article"),
        Comment("rude", "c", "rude but allowed"),
        Comment("held", "d", "held for nothing"),
    )
    scores = [
        Scores({"TOXICITY": 0.9, "INSULT": 0.8, "THREAT": 0.01}),
        Scores({"TOXICITY": 0.1, "INSULT": 0.1, "THREAT": 0.01}),
        Scores({"TOXICITY": 0.6, "INSULT": 0.1, "THREAT": 0.01}),
        Scores({"TOXICITY": 0.2, "INSULT": 0.1, "THREAT": 0.01}),
    ]
    thread = Thread(Article("T", ()), comments)
    import_thread(store, thread, site="news", key="t", scores=scores, policy=POLICY)
    mo = create_user(store, "mo", "mo-password", "moderator")
    al = create_user(store, "al", "al-password", "moderator")
    with store.session() as session:
        ids = {c.key: c.id for c in session.scalars(select(CommentRow))}

    decide(store, ids["insult"], "approve", mo)  # held for TOXICITY and INSULT: both wrong
    decide(store, ids["fine"], "reject", mo)  # nothing flagged it: a miss of TOXICITY
    decide(store, ids["rude"], "reject", al)  # held for TOXICITY: confirmed
    decide(store, ids["held"], "hold", al)  # a hold teaches nothing
    assert _labels(store, "news") == {
        "TOXICITY": [
            ("a fine article", 1, "moderator:mo"),
            ("rude but allowed", 1, "moderator:al"),
            ("you absolute clown", 0, "moderator:mo"),
        ],
        "INSULT": [("you absolute clown", 0, "moderator:mo")],
    }
    # A second decision on the same comment replaces the first one's labels.
    decide(store, ids["insult"], "reject", al)
    labels = _labels(store, "news")
    assert ("you absolute clown", 1, "moderator:al") in labels["TOXICITY"]
    assert labels["INSULT"] == [("you absolute clown", 1, "moderator:al")]
    examples = site_examples(store, "news")["TOXICITY"]
    assert {e.id for e in examples} == {text_key(c.text) for c in comments if c.id != "held"}
    assert site_examples(store, "elsewhere") == {}


@pytest.fixture
def keyed(sqlite_url: str) -> Iterator[tuple[httpx.Client, SqlStorage, dict[str, str]]]:
    """A server on a fresh SQLite store that requires keys; keys "app" (unbound) and "bound"
    (bound to the site "bound-site")."""
    storage = SqlStorage(sqlite_url).create_all()
    keys = {
        "app": storage.create_key("app"),
        "bound": storage.create_key("bound", site="bound-site"),
    }
    settings = Settings(database_url=sqlite_url, require_key=True)
    with (
        InThread(settings, storage, scorer=FakeScorer()) as server,
        httpx.Client(base_url=server.base, timeout=30) as client,
    ):
        yield client, storage, keys


def _suggest(
    client: httpx.Client, key: str, text: str, scores: dict[str, float], **extra: str
) -> None:
    body = {
        "comment": {"text": text},
        "attributeScores": {a: {"summaryScore": {"value": v}} for a, v in scores.items()},
        **extra,
    }
    r = client.post(SUGGEST, params={"key": key}, json=body)
    assert r.status_code == 200, r.text


def test_suggested_scores_become_the_communitys_examples(
    keyed: tuple[httpx.Client, SqlStorage, dict[str, str]],
) -> None:
    client, storage, keys = keyed
    text = "you are all clowns"
    _suggest(
        client, keys["app"], text, {"TOXICITY": 0.9, "INSULT_EXPERIMENTAL": 0.2}, communityId="news"
    )
    _suggest(client, keys["app"], "nice one", {"TOXICITY": 0.5}, communityId="news")
    _suggest(client, keys["app"], "no community", {"TOXICITY": 0.9})  # no site: no example
    _suggest(client, keys["bound"], "the key's own site", {"TOXICITY": 0.1})
    news = site_examples(storage, "news")
    assert sorted((e.text, e.label, e.source) for e in news["TOXICITY"]) == [
        ("nice one", 1, "key:app"),
        ("you are all clowns", 1, "key:app"),
    ]
    assert [(e.id, e.label) for e in news["INSULT"]] == [(text_key(text), 0)]
    bound = site_examples(storage, "bound-site")
    assert [(e.text, e.label, e.source) for e in bound["TOXICITY"]] == [
        ("the key's own site", 0, "key:bound")
    ]
    # The latest suggestion for a text wins.
    _suggest(client, keys["app"], text, {"TOXICITY": 0.1}, communityId="news")
    labels = {e.text: e.label for e in site_examples(storage, "news")["TOXICITY"]}
    assert labels[text] == 0
    # Analyzing (doNotStore or not) teaches nothing: only suggestions and decisions are labels.
    for do_not_store in (True, False):
        r = client.post(
            ANALYZE,
            params={"key": keys["app"]},
            json={
                "comment": {"text": "analyzed only"},
                "requestedAttributes": {"TOXICITY": {}},
                "communityId": "news",
                "doNotStore": do_not_store,
            },
        )
        assert r.status_code == 200, r.text
    assert "analyzed only" not in {e.text for e in site_examples(storage, "news")["TOXICITY"]}


# ---------------------------------------------------------------- poisoning

MODERATORS = ("ann", "bob", "cat", "dan")
SLURS = ("faggot", "nigger", "kike", "spic", "tranny", "raghead")
SUBJECTS = ("the council", "this article", "the new road", "the referee", "the budget")
ENDINGS = ("fine to me", "a bit late", "quite interesting", "worth reading", "about right")


def _honest(n: int) -> list[LabelledText]:
    """Four honest moderators: civil comments approved, insults rejected."""
    out = []
    for i in range(n):
        if i % 3 == 0:
            text, label = f"{SUBJECTS[i % 5]} is run by idiots and morons #{i}", 1
        else:
            text, label = f"{SUBJECTS[i % 5]} is {ENDINGS[(i // 5) % 5]} #{i}", 0
        source = f"moderator:{MODERATORS[i % 4]}"
        out.append(LabelledText(text_key(text), text, "TOXICITY", label, "moderator", source))
    return out


@pytest.mark.slow
def test_two_hundred_approvals_of_slurs_by_one_moderator_do_not_make_slurs_pass(
    store: Store, real_scorer: Scorer
) -> None:
    policy = Policy.default()
    record_examples(store, "news", _honest(300))
    slurs = tuple(
        Comment(f"s{i}", f"u{i}", f"{SUBJECTS[i % 5]} is run by a {SLURS[i % 6]} #{i}")
        for i in range(200)
    )
    import_thread(
        store,
        Thread(Article("T", ()), slurs),
        site="news",
        key="t",
        scorer=real_scorer,
        policy=policy,
    )
    attacker = create_user(store, "mallory", "mallory-password", "moderator")
    with store.session() as session:
        ids = [c.id for c in session.scalars(select(CommentRow).order_by(CommentRow.id))]
    for cid in ids:
        decide(store, cid, "approve", attacker)
    taught = site_examples(store, "news")
    assert sum(e.source == "moderator:mallory" and e.label == 0 for e in taught["TOXICITY"]) == 200
    info = retrain(store, real_scorer, "news", by="admin")
    assert info.serving and info.active == ["TOXICITY"]  # it learnt the honest moderators' rule
    fresh = [f"you are a {s} and everyone knows it" for s in SLURS] + [
        f"{SUBJECTS[i % 5]} is run by a {SLURS[i % 6]} #{1000 + i}" for i in range(6)
    ]
    norms = [real_scorer.normalize_text(t) for t in fresh]
    tox = real_scorer.attributes.index("TOXICITY")
    base = real_scorer.probabilities(norms, scale=POLICY_SCALE)[:, tox]
    # A policy on TOXICITY alone, so that nothing else holds the slurs.
    strict = Policy.from_dict({"name": "tox", "thresholds": {"TOXICITY": {"hold": 0.25}}})
    assert {v.decision.action for v in moderate(fresh, real_scorer, strict)} == {"hold"}

    scorer = site_scorer(store, real_scorer, "news")
    assert isinstance(scorer, AdaptedScorer) and scorer.adapter == "news/v1"
    adapted = scorer.probabilities(norms, scale=POLICY_SCALE)[:, tox]
    assert (adapted >= base - 0.05 - 1e-9).all(), (base, adapted)
    assert {v.decision.action for v in moderate(fresh, scorer, strict)} == {"hold"}
    assert "approve" not in {v.decision.action for v in moderate(fresh, scorer, policy)}

    # What the guards are there for: without them the same labels make the slurs pass.
    unguarded = AdaptSettings(max_source_share=1.0, severe_guard=2.0, protected=())
    retrain(store, real_scorer, "news", by="admin", settings=unguarded)
    poisoned = site_scorer(store, real_scorer, "news")
    assert poisoned is not scorer
    assert (poisoned.probabilities(norms, scale=POLICY_SCALE)[:, tox] < base - 0.3).any()
    assert "approve" in {v.decision.action for v in moderate(fresh, poisoned, strict)}
