"""A site's labelled examples and adapters in the store: migration 0008, latest label wins,
retrain and serving, site_scorer for that site only, rollback, keys bound to a site, and an
adapter that never serves on another base until it is retrained against it. Real SQLite and
PostgreSQL; the real shipped model where an adapter is fitted."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa
import store_fixtures
from adapt_support import CRYPTO, crypto_site
from alembic import command

from civility.adapt import AdaptSettings
from civility.adapted import AdaptedScorer
from civility.api import SqlStorage
from civility.errors import InvalidInput, NotFound
from civility.scorer import Scorer
from civility.store import (
    LabelledText,
    Store,
    adapters,
    audit_log,
    maybe_retrain,
    record_examples,
    refresh_adapters,
    retrain,
    rollback,
    site_examples,
    site_scorer,
)
from civility.store._store import alembic_config

db_url = store_fixtures.db_url
store = store_fixtures.store


def _alembic(engine: sa.Engine, direction: str, revision: str) -> None:
    with engine.begin() as connection:
        getattr(command, direction)(alembic_config(connection), revision)


def test_migration_0008_adds_examples_adapters_and_key_sites_and_keeps_the_data(
    db_url: str,
) -> None:
    s = Store.open(db_url)
    api = SqlStorage(s)
    _alembic(s.engine, "downgrade", "0007")
    with s.engine.begin() as c:  # what a 0007 database holds
        assert not {"site_examples", "site_adapters"} & set(sa.inspect(c).get_table_names())
        c.execute(
            sa.text(
                "INSERT INTO api_keys (name, key_hash, hint, created_at)"
                " VALUES ('old', 'h', 'civ_abcd', '2026-11-01 10:00:00')"
            )
        )
        c.execute(sa.text("INSERT INTO sites (name, created_at) VALUES ('news', '2026-11-01')"))
    _alembic(s.engine, "upgrade", "head")
    with s.engine.connect() as c:
        assert c.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0008"
    assert [k.name for k in api.list_keys()] == ["old"]
    assert api.key_site("old") is None
    record_examples(s, "news", crypto_site(3))
    assert len(site_examples(s, "news")["TOXICITY"]) == 3
    # And back: 0007's schema, its rows kept.
    _alembic(s.engine, "downgrade", "0007")
    with s.engine.connect() as c:
        assert not {"site_examples", "site_adapters"} & set(sa.inspect(c).get_table_names())
        assert "site" not in {col["name"] for col in sa.inspect(c).get_columns("api_keys")}
        assert c.scalar(sa.text("SELECT count(*) FROM api_keys")) == 1
    _alembic(s.engine, "upgrade", "head")
    s.close()


def test_keys_can_be_bound_to_a_site(store: Store) -> None:
    api = SqlStorage(store)
    api.create_key("plain")
    api.create_key("newsroom", site="news")
    assert [api.key_site(n) for n in ("plain", "newsroom", "nobody")] == [None, "news", None]
    assert [(k.name, k.site) for k in api.list_keys()] == [("plain", None), ("newsroom", "news")]
    with pytest.raises(InvalidInput, match="site name"):
        api.create_key("bad", site=" ")


def test_the_latest_label_of_an_example_wins(store: Store) -> None:
    first = LabelledText("k1", "you are wrong", "TOXICITY", 1, "moderator", "moderator:ann")
    other = LabelledText("k2", "nice article", "insult", 0, "suggest", "key:app")
    assert record_examples(store, "news", [first, other]) == 2
    again = LabelledText("k1", "you are wrong", "TOXICITY", 0, "moderator", "moderator:bob")
    assert record_examples(store, "news", [again]) == 1
    got = site_examples(store, "news")
    assert [(e.id, e.label, e.source) for e in got["TOXICITY"]] == [("k1", 0, "moderator:bob")]
    assert [(e.id, e.label) for e in got["INSULT"]] == [("k2", 0)]  # the name, normalised
    assert site_examples(store, "elsewhere") == {}
    for bad, message in (
        (LabelledText("k", "t", "TOXICITY", 2, "moderator", "m"), "0 or 1"),
        (LabelledText("k", "t", "NOPE", 1, "moderator", "m"), "Unknown requested attribute"),
        (LabelledText("k", "t", "TOXICITY", 1, "rumour", "m"), "kind"),
        (LabelledText("", "t", "TOXICITY", 1, "moderator", "m"), "key"),
        (LabelledText("k", " ", "TOXICITY", 1, "moderator", "m"), "no text"),
    ):
        with pytest.raises(InvalidInput, match=message):
            record_examples(store, "news", [bad])


def test_retrain_serves_the_adapter_for_that_site_only(store: Store, real_scorer: Scorer) -> None:
    record_examples(store, "crypto", crypto_site(300))
    norms = [real_scorer.normalize_text(t) for t in (CRYPTO, "You are a stupid idiot.")]
    base = real_scorer.probabilities(norms)
    assert site_scorer(store, real_scorer, "crypto") is real_scorer  # nothing trained yet
    info = retrain(store, real_scorer, "crypto", by="admin")
    assert (info.version, info.serving, info.status, info.active) == (
        1,
        True,
        "serving",
        ["TOXICITY"],
    )
    assert info.labels == 300
    report = info.report["TOXICITY"]
    assert report["auc_adapted"] > report["auc_base"] + 0.1 and report["labels"] == 300
    adapted = site_scorer(store, real_scorer, "crypto")
    assert isinstance(adapted, AdaptedScorer) and adapted.adapter == "crypto/v1"
    assert site_scorer(store, real_scorer, "crypto") is adapted  # cached
    tox = real_scorer.attributes.index("TOXICITY")
    assert adapted.probabilities(norms)[0, tox] > base[0, tox] + 0.2
    # Another site, and no site: the base itself.
    record_examples(store, "other", crypto_site(5, seed=9))
    assert site_scorer(store, real_scorer, "other") is real_scorer
    assert site_scorer(store, real_scorer, None) is real_scorer
    assert real_scorer.probabilities(norms).tobytes() == base.tobytes()
    # Through the HTTP server's storage too.
    assert site_scorer(SqlStorage(store), real_scorer, "crypto").adapter == "crypto/v1"  # type: ignore[attr-defined]

    # A retrain that activates nothing leaves the serving version serving.
    idle = retrain(store, real_scorer, "crypto", settings=AdaptSettings(min_gain=1.0))
    assert (idle.version, idle.serving, idle.status, idle.active) == (2, False, "candidate", [])
    assert site_scorer(store, real_scorer, "crypto").adapter == "crypto/v1"  # type: ignore[attr-defined]
    listed = adapters(store, "crypto")
    assert [(a.version, a.serving, a.status) for a in listed] == [
        (2, False, "candidate"),
        (1, True, "serving"),
    ]
    assert [a.site for a in adapters(store)] == ["crypto", "crypto"]

    # Roll back to the base (0), then to version 1 again; each is audited.
    rollback(store, "crypto", 0, by="admin")
    assert site_scorer(store, real_scorer, "crypto") is real_scorer
    assert [a.status for a in adapters(store, "crypto")] == ["candidate", "rolled_back"]
    again = rollback(store, "crypto", 1, by="admin")
    assert (again.version, again.serving, again.status) == (1, True, "serving")
    assert site_scorer(store, real_scorer, "crypto").adapter == "crypto/v1"  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match="no active attribute"):
        rollback(store, "crypto", 2, by="admin")
    with pytest.raises(NotFound, match="no adapter version 7"):
        rollback(store, "crypto", 7, by="admin")
    events = [(e.action, e.detail.get("version")) for e in audit_log(store)]
    assert ("adapter.rollback", 0) in events and ("adapter.rollback", 1) in events
    assert ("adapter.retrain", 1) in events


def test_maybe_retrain_waits_for_enough_new_examples(store: Store, real_scorer: Scorer) -> None:
    assert maybe_retrain(store, real_scorer, "nowhere") is None
    record_examples(store, "crypto", crypto_site(40))
    assert maybe_retrain(store, real_scorer, "crypto", every=50) is None
    record_examples(store, "crypto", crypto_site(260, start=40))
    first = maybe_retrain(store, real_scorer, "crypto", every=50)
    assert first is not None and first.serving
    record_examples(store, "crypto", crypto_site(10, start=300))
    assert maybe_retrain(store, real_scorer, "crypto", every=50) is None
    record_examples(store, "crypto", crypto_site(50, start=310))
    second = maybe_retrain(store, real_scorer, "crypto", every=50)
    assert second is not None and second.version == 2 and second.labels == 360


def _other_base(real_scorer: Scorer) -> Scorer:
    """The shipped model with other weights on one feature: another base (its identity differs)."""
    import dataclasses

    model = real_scorer.model
    coef = np.array(model.coef, copy=True)
    coef[0, :] += 0.01
    metadata = {**model.metadata, "version": model.version + "+upgrade", "sha256": "f" * 64}
    other = dataclasses.replace(model, coef=coef, metadata=metadata)
    return Scorer.from_model(other, tagger=real_scorer.tagger_)


def test_an_adapter_never_serves_on_another_base_until_refresh_retrains_it(
    store: Store, real_scorer: Scorer
) -> None:
    record_examples(store, "crypto", crypto_site(300))
    assert retrain(store, real_scorer, "crypto").serving
    upgraded = _other_base(real_scorer)
    assert site_scorer(store, upgraded, "crypto") is upgraded  # the base serves meanwhile
    assert site_scorer(store, real_scorer, "crypto").adapter == "crypto/v1"  # type: ignore[attr-defined]
    refreshed = refresh_adapters(store, upgraded)
    assert [(r.site, r.version, r.serving, r.base_version) for r in refreshed] == [
        ("crypto", 2, True, upgraded.version)
    ]
    served = site_scorer(store, upgraded, "crypto")
    assert isinstance(served, AdaptedScorer) and served.adapter == "crypto/v2"
    assert served.base is upgraded
    assert [a.status for a in adapters(store, "crypto")] == ["serving", "stale"]
    assert refresh_adapters(store, upgraded) == []  # nothing left to refresh
    with pytest.raises(InvalidInput, match="another base model"):
        rollback(store, "crypto", 1, by="admin")


def test_an_unreadable_serving_adapter_leaves_the_base_serving(
    store: Store, real_scorer: Scorer
) -> None:
    """A damaged (or future-format) adapter in the database never breaks scoring: the base
    serves that site, and a retrain puts a readable version in its place."""
    from civility.store._models import SiteAdapterRow

    record_examples(store, "crypto", crypto_site(300))
    assert retrain(store, real_scorer, "crypto").serving
    with store.session() as session:
        session.execute(sa.update(SiteAdapterRow).values(data=b"not a zip"))
    rollback(store, "crypto", 0, by="admin")  # (forgets this process's cached copy)
    with store.session() as session:
        session.execute(sa.update(SiteAdapterRow).values(serving=True, status="serving"))
    assert site_scorer(store, real_scorer, "crypto") is real_scorer
    info = retrain(store, real_scorer, "crypto")
    assert info.serving
    served = site_scorer(store, real_scorer, "crypto")
    assert getattr(served, "adapter", None) == f"crypto/v{info.version}"


def test_the_sites_unlabelled_texts_are_its_comments_and_its_kept_api_texts(
    store: Store, real_scorer: Scorer
) -> None:
    """What the adapter learns the site's vocabulary from (no labels): the site's stored
    comments and the texts its API clients let the server keep; nobody else's."""
    from civility.policy import Policy
    from civility.store import import_thread, site_texts
    from civility.thread import Article, Comment, Thread

    comments = tuple(Comment(f"c{i}", f"u{i}", f"harbour comment number {i}") for i in range(3))
    import_thread(
        store,
        Thread(Article("T", ()), comments),
        site="crypto",
        key="t",
        scorer=real_scorer,
        policy=Policy.default(),
    )
    api = SqlStorage(store)
    api.save_comment("k", "crypto", "sent to analyze by a client", {"TOXICITY": 0.1})
    api.save_comment("k", "elsewhere", "another site's text", {"TOXICITY": 0.1})
    texts = site_texts(store, "crypto")
    assert sorted(texts) == sorted([*(c.text for c in comments), "sent to analyze by a client"])
    assert site_texts(store, "crypto", limit=2) == [
        "harbour comment number 2",
        "harbour comment number 1",
    ]
    assert site_texts(store, "nowhere") == []
    # retrain gives them to the adapter: its site n-grams' vocabulary comes from them too.
    record_examples(store, "crypto", crypto_site(300))
    assert retrain(store, real_scorer, "crypto").serving
    served = site_scorer(store, real_scorer, "crypto")
    assert isinstance(served, AdaptedScorer)
    (words,) = [
        b for b in served.site_adapter.adapters["TOXICITY"].site_blocks if b.name == "site_words"
    ]
    assert "harbour" in words.vocabulary  # in no labelled text


def test_retrains_of_one_site_from_two_processes_store_two_versions_one_serving(
    store: Store, db_url: str, real_scorer: Scorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``civility serve --workers 2`` (or ``civility adapt`` beside a server) can retrain one
    site in two processes at once; the process-local lock does not see the other process.
    Two Store objects on one database stand for the two processes; both fits finish together
    (a barrier after the real fit) so that their writes race."""
    import threading

    from civility.store import _adapters

    record_examples(store, "crypto", crypto_site(300))
    fit = _adapters.fit_adapter
    barrier = threading.Barrier(2, timeout=60)

    def fit_then_wait(*args: object, **kwargs: object) -> object:
        fitted = fit(*args, **kwargs)  # type: ignore[arg-type]
        barrier.wait()
        return fitted

    monkeypatch.setattr(_adapters, "fit_adapter", fit_then_wait)
    stores = [Store.open(db_url) for _ in range(2)]
    results: list[object] = []

    def run(other: Store) -> None:
        try:
            results.append(
                _adapters._retrain(other, real_scorer, "crypto", by=None, settings=AdaptSettings())
            )
        except Exception as exc:  # what the other process would log
            results.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for s in stores:
        s.close()
    assert not [r for r in results if isinstance(r, BaseException)], results
    listed = adapters(store, "crypto")
    assert sorted(i.version for i in listed) == [1, 2]
    assert [i.version for i in listed if i.serving] == [2]
