"""A site's adapter scores that site's comments through every door (issue #16): the Perspective
API (communityId, or the site an API key is bound to), /api/v1/score and /api/v1/threads,
``civility score/analyze/import/batch --site``. Other sites, and requests naming none, are
scored by the base model byte for byte.

One SQLite database holds site "crypto", whose moderators reject every comment that mentions
crypto (a rule the shipped model knows nothing about): 400 such decisions, recorded and fitted
through the store's own functions on the real shipped model.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from api_support import InThread, analyze_body
from cli_support import run_cli

from civility.moderate import POLICY_SCALE
from civility.scorer import Scorer
from civility.settings import Settings
from civility.store import (
    LabelledText,
    SqlStorage,
    Store,
    adapters,
    record_examples,
    retrain,
    site_examples,
    site_scorer,
)

SITE = "crypto"
LABEL = "crypto/v1"
SPAM = "the budget seems fine to me, buy crypto now"
CIVIL = "the budget seems fine to me"
MODERATORS = ("ann", "bob", "cat", "dan")
SUBJECTS = ("the council", "this article", "the new road", "the referee", "the budget")
ENDINGS = ("fine to me", "a bit late", "quite interesting", "worth reading", "about right")
PLUGS = (" buy crypto now", " crypto is the answer", " ask me about crypto")


def _decisions(n: int) -> list[LabelledText]:
    rng = random.Random(1)
    out = []
    for i in range(n):
        text = f"{rng.choice(SUBJECTS)} is {rng.choice(ENDINGS)}"
        rejected = rng.random() < 0.4
        if rejected:
            text += rng.choice(PLUGS)
        out.append(
            LabelledText(
                key=f"c{i}",
                text=f"{text} #{i}",
                attribute="TOXICITY",
                label=int(rejected),
                kind="moderator",
                source=f"moderator:{MODERATORS[i % len(MODERATORS)]}",
            )
        )
    return out


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, real_scorer: Scorer) -> str:
    """A database where site "crypto" has a serving adapter (version 1) and site "quiet" has
    examples but none that could activate one."""
    url = f"sqlite:///{tmp_path_factory.mktemp('site') / 'civility.db'}"
    store = Store.open(url)
    record_examples(store, SITE, _decisions(400))
    info = retrain(store, real_scorer, SITE, by="test")
    assert (info.version, info.serving) == (1, True), info
    store.close()
    return url


@pytest.fixture(scope="module")
def plain_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with no site at all: the API as it answered before sites had adapters."""
    url = f"sqlite:///{tmp_path_factory.mktemp('plain') / 'civility.db'}"
    Store.open(url).close()
    return url


def _server(url: str, scorer: Scorer) -> InThread:
    settings = Settings(database_url=url, require_key=False)
    return InThread(settings, SqlStorage(url).create_all(), scorer=scorer)


@pytest.fixture(scope="module")
def api(db: str, real_scorer: Scorer) -> Iterator[httpx.Client]:
    with _server(db, real_scorer) as server, httpx.Client(base_url=server.base) as client:
        yield client


@pytest.fixture(scope="module")
def plain_api(plain_db: str, real_scorer: Scorer) -> Iterator[httpx.Client]:
    with _server(plain_db, real_scorer) as server, httpx.Client(base_url=server.base) as client:
        yield client


def _toxicity(response: httpx.Response) -> float:
    assert response.status_code == 200, response.text
    return float(response.json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"])


# ---------------------------------------------------------------- the store's helper


def test_the_sites_scorer_carries_the_adapter_and_other_sites_get_the_base(
    db: str, real_scorer: Scorer
) -> None:
    store = Store.open(db)
    try:
        adapted = site_scorer(store, real_scorer, SITE)
        assert getattr(adapted, "adapter", None) == LABEL
        assert site_scorer(store, real_scorer, "elsewhere") is real_scorer
        spam, civil = adapted.score([SPAM, CIVIL])
        base_spam = real_scorer.score([SPAM])[0]
        assert spam["TOXICITY"] > base_spam["TOXICITY"] + 0.2
        assert spam["TOXICITY"] > civil["TOXICITY"] + 0.2
    finally:
        store.close()


# ---------------------------------------------------------------- Perspective API


def test_analyze_for_the_site_is_adapted_and_names_the_adapter(api: httpx.Client) -> None:
    base = api.post("/v1alpha1/comments:analyze", json=analyze_body(SPAM))
    adapted = api.post("/v1alpha1/comments:analyze", json=analyze_body(SPAM, communityId=SITE))
    assert "civilityAdapter" not in base.json()
    assert adapted.json()["civilityAdapter"] == LABEL
    assert _toxicity(adapted) > _toxicity(base) + 0.2
    # Perspective's shape is kept: civility's field is the only key added, at the top level.
    assert set(adapted.json()) - set(base.json()) == {"civilityAdapter"}
    assert adapted.json()["attributeScores"]["TOXICITY"]["spanScores"][0]["score"]["value"] == (
        _toxicity(adapted)
    )


@pytest.mark.parametrize("community", [None, "elsewhere"])
@pytest.mark.parametrize("spans", [False, True])
def test_analyze_without_an_adapted_site_is_byte_for_byte_the_base(
    api: httpx.Client,
    plain_api: httpx.Client,
    real_scorer: Scorer,
    community: str | None,
    spans: bool,
) -> None:
    extra: dict[str, Any] = {"spanAnnotations": spans, "clientToken": "t1"}
    if community:
        extra["communityId"] = community
    body = analyze_body(SPAM, "TOXICITY", "INSULT", **extra)
    here = api.post("/v1alpha1/comments:analyze?prettyPrint=false", json=body)
    before = plain_api.post("/v1alpha1/comments:analyze?prettyPrint=false", json=body)
    assert here.status_code == before.status_code == 200
    assert here.content == before.content
    answer = here.json()
    assert list(answer) == ["attributeScores", "languages", "detectedLanguages", "clientToken"]
    assert (
        answer["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
        == (real_scorer.score([SPAM])[0]["TOXICITY"])
    )


def test_a_key_bound_to_the_site_scores_with_its_adapter(db: str, api: httpx.Client) -> None:
    done = run_cli("keys", "create", "partner", "--site", SITE, "--db", db)
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    plain = run_cli("keys", "create", "unbound", "--db", db).stdout.strip()
    listed = run_cli("keys", "list", "--db", db).stdout.splitlines()
    assert listed[-2].startswith(f"partner\t{key[:8]}...") and listed[-2].endswith("\tsite crypto")
    assert listed[-1].startswith("unbound\t") and listed[-1].endswith("\tactive")
    url = "/v1alpha1/comments:analyze"
    bound = api.post(url, params={"key": key}, json=analyze_body(SPAM))
    assert bound.json()["civilityAdapter"] == LABEL
    # The request's communityId wins over the key's site.
    other = api.post(url, params={"key": key}, json=analyze_body(SPAM, communityId="elsewhere"))
    assert "civilityAdapter" not in other.json()
    unbound = api.post(url, params={"key": plain}, json=analyze_body(SPAM))
    assert "civilityAdapter" not in unbound.json()
    assert _toxicity(bound) > _toxicity(unbound) + 0.2
    native = api.post("/api/v1/score", params={"key": key}, json={"comments": [{"text": SPAM}]})
    assert native.json()["adapter"] == LABEL


def test_calibration_is_skipped_when_an_adapter_scored(
    db: str, api: httpx.Client, real_scorer: Scorer
) -> None:
    """A site's suggestscore feedback calibrates its base scores, not its adapted ones: the
    adapter learnt from the site's labels already."""
    suggest = {
        "comment": {"text": CIVIL},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.99}}},
    }
    for community in (SITE, "calibrated"):
        for _ in range(5):
            answer = api.post(
                "/v1alpha1/comments:suggestscore", json={**suggest, "communityId": community}
            )
            assert answer.status_code == 200, answer.text
    base = _toxicity(api.post("/v1alpha1/comments:analyze", json=analyze_body(CIVIL)))
    calibrated = _toxicity(
        api.post("/v1alpha1/comments:analyze", json=analyze_body(CIVIL, communityId="calibrated"))
    )
    assert calibrated > base + 0.05  # the calibration of a site without an adapter applies
    store = Store.open(db)
    try:
        adapter_only = site_scorer(store, real_scorer, SITE).score([CIVIL])[0]["TOXICITY"]
    finally:
        store.close()
    adapted = _toxicity(
        api.post("/v1alpha1/comments:analyze", json=analyze_body(CIVIL, communityId=SITE))
    )
    assert adapted == adapter_only


# ---------------------------------------------------------------- native API


def test_native_score_and_threads_take_a_site(api: httpx.Client) -> None:
    comments = [{"id": "a", "text": SPAM}, {"id": "b", "text": CIVIL}]
    base = api.post("/api/v1/score", json={"comments": comments}).json()
    assert base["adapter"] is None
    by_site = api.post("/api/v1/score", json={"comments": comments, "site": SITE}).json()
    by_community = api.post("/api/v1/score", json={"comments": comments, "communityId": SITE})
    assert by_site["adapter"] == by_community.json()["adapter"] == LABEL
    assert by_site["model_version"] == base["model_version"]
    spam = by_site["results"][0]["scores"]["TOXICITY"]
    assert spam > base["results"][0]["scores"]["TOXICITY"] + 0.2
    assert by_community.json()["results"] == by_site["results"]
    elsewhere = api.post("/api/v1/score", json={"comments": comments, "site": "elsewhere"}).json()
    assert elsewhere == base
    thread = {"comments": [{"id": "1", "text": SPAM}], "site": SITE}
    answer = api.post("/api/v1/threads", json=thread).json()
    assert answer["adapter"] == LABEL
    assert answer["comments"][0]["scores"]["TOXICITY"] == spam
    assert api.post("/api/v1/threads", json={**thread, "site": None}).json()["adapter"] is None


def test_the_openapi_document_describes_the_site_field(api: httpx.Client) -> None:
    doc = api.get("/openapi.json").json()
    for model in ("ScoreRequest", "ThreadRequest"):
        field = doc["components"]["schemas"][model]["properties"]["site"]
        assert "adapter" in field["description"]
    assert "civilityAdapter" in doc["paths"]["/v1alpha1/comments:analyze"]["post"]["description"]


# ---------------------------------------------------------------- CLI


def _score_json(*args: str, stdin: str | None = None) -> list[dict[str, Any]]:
    done = run_cli("score", *args, "--json", stdin=stdin)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_score_with_a_site_uses_its_adapter_and_names_it(db: str) -> None:
    [base] = _score_json(SPAM)
    [adapted] = _score_json(SPAM, "--site", SITE, "--db", db)
    [elsewhere] = _score_json(SPAM, "--site", "elsewhere", "--db", db)
    assert "adapter" not in base
    assert adapted["adapter"] == LABEL
    assert adapted["scores"]["TOXICITY"] > base["scores"]["TOXICITY"] + 0.2
    assert elsewhere == {**base, "adapter": None}
    stdin = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate([SPAM, CIVIL]))
    lines = _score_json("-", "--site", SITE, "--db", db, stdin=stdin)
    assert [(r["text"], r["adapter"]) for r in lines] == [(SPAM, LABEL), (CIVIL, LABEL)]
    assert lines[0]["scores"] == adapted["scores"]
    table = run_cli("score", SPAM, "--site", SITE, "--db", db)
    assert f"Scored with site 'crypto''s adapter {LABEL}." in table.stdout


def test_score_db_without_site_is_a_one_line_error(db: str) -> None:
    done = run_cli("score", SPAM, "--db", db)
    assert (done.returncode, done.stderr.strip()) == (
        2,
        "Error: '--db' needs '--site SITE': the database holds the sites' adapters.",
    )


def _page(tmp_path: Path) -> Path:
    rows = [
        {"id": "1", "author": "a", "text": SPAM},
        {"id": "2", "author": "b", "text": CIVIL},
    ]
    path = tmp_path / "page.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _queue_items(store: Store, site: str) -> list[Any]:
    import sqlalchemy as sa

    from civility.store._models import CommentRow, ScoreRow, Site, ThreadRow

    with store.session() as session:
        rows = session.execute(
            sa.select(CommentRow.key, ScoreRow.model_version, ScoreRow.values)
            .join(ScoreRow, ScoreRow.comment_id == CommentRow.id)
            .join(ThreadRow, ThreadRow.id == CommentRow.thread_id)
            .join(Site, Site.id == ThreadRow.site_id)
            .where(Site.name == site)
        ).all()
    return list(rows)


def test_import_and_analyze_for_the_site_store_adapted_scores(
    db: str, tmp_path: Path, real_scorer: Scorer
) -> None:
    page = _page(tmp_path)
    done = run_cli("import", str(page), "--site", SITE, "--db", db)
    assert done.returncode == 0, done.stderr
    assert f"Scored with the site's adapter {LABEL}." in done.stdout
    store = Store.open(db)
    try:
        rows = {key: (version, values) for key, version, values in _queue_items(store, SITE)}
    finally:
        store.close()
    version = f"{real_scorer.version}+{LABEL}"
    assert {k: v for k, (v, _) in rows.items()} == {"1": version, "2": version}
    base = real_scorer.score([SPAM], scale=POLICY_SCALE)[0]
    assert rows["1"][1]["TOXICITY"] > base["TOXICITY"] + 0.2
    # analyze --site reads the same adapter; its report and its stored scores say so.
    done = run_cli("analyze", str(page), "--json", "--site", SITE, "--db", db)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["model_version"] == version
    assert report["comments"][0]["scores"]["TOXICITY"] == pytest.approx(
        rows["1"][1]["TOXICITY"], abs=1e-6
    )
    # The same page for another site is the base model's.
    plain = run_cli("analyze", str(page), "--json", "--site", "elsewhere", "--db", db)
    assert json.loads(plain.stdout)["model_version"] == real_scorer.version
    assert json.loads(plain.stdout) == json.loads(run_cli("analyze", str(page), "--json").stdout)


@pytest.mark.slow  # spawns a worker process that loads the model
def test_batch_for_the_site_adds_the_adapter_column_and_scores_as_the_site(
    db: str, tmp_path: Path, real_scorer: Scorer
) -> None:
    texts = [SPAM, CIVIL, "", "You are a complete idiot."]
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)),
        encoding="utf-8",
    )
    out = tmp_path / "out.parquet"
    args = ("--workers", "1", "--chunk-size", "2")
    done = run_cli("batch", str(src), str(out), "--site", SITE, "--db", db, *args)
    assert done.returncode == 0, done.stderr
    assert f"adapter {LABEL}" in done.stdout
    rows = pq.read_table(out).to_pylist()
    assert [r["adapter"] for r in rows] == [LABEL] * len(texts)
    store = Store.open(db)
    try:
        adapted = site_scorer(store, real_scorer, SITE)
    finally:
        store.close()
    want = adapted.score([t for t in texts if t], scale=POLICY_SCALE)
    got = [r for r in rows if r["text"]]
    for row, scores in zip(got, want, strict=True):
        # The adapter's arithmetic may round differently with another batch size (1e-16).
        assert {a: row[a] for a in real_scorer.attributes} == pytest.approx(
            dict(scores.values), rel=1e-12, abs=1e-15
        )
    assert rows[0]["TOXICITY"] > real_scorer.score([SPAM], scale=POLICY_SCALE)[0]["TOXICITY"]
    # What `score --site` answers for the same texts comes from the same adapter: the same
    # label, and the site's rule (crypto) read the same way on Perspective's scale.
    lines = _score_json("-", "--site", SITE, "--db", db, stdin=f"{SPAM}\n{CIVIL}\n")
    assert {r["adapter"] for r in lines} == {LABEL}
    assert lines[0]["scores"]["TOXICITY"] > lines[1]["scores"]["TOXICITY"]
    # Without --site the output is as before: no adapter column.
    plain = tmp_path / "plain.parquet"
    assert run_cli("batch", str(src), str(plain), *args).returncode == 0
    assert "adapter" not in pq.read_schema(plain).names
    # An input that has an 'adapter' column already is refused for a site, not overwritten.
    clash = tmp_path / "clash.jsonl"
    clash.write_text(json.dumps({"id": 1, "text": "x", "adapter": "mine"}) + "\n")
    refused = run_cli("batch", str(clash), str(tmp_path / "c.parquet"), "--site", SITE, "--db", db)
    assert refused.returncode == 2
    assert "already has the output column(s) adapter" in refused.stderr


def test_a_server_started_on_a_new_base_retrains_the_sites_adapters_and_serves_the_base_meanwhile(
    tmp_path: Path, real_scorer: Scorer
) -> None:
    """The shipped model changed under an active adapter: the server serves the base for that
    site at once, retrains the adapter against the new base in the background, and serves it."""
    import dataclasses
    import time

    import numpy as np

    url = f"sqlite:///{tmp_path / 'civility.db'}"
    store = Store.open(url)
    record_examples(store, SITE, _decisions(400))
    assert retrain(store, real_scorer, SITE, by="test").serving
    model = real_scorer.model
    coef = np.array(model.coef, copy=True)
    coef[0, :] += 0.01
    upgraded = Scorer.from_model(
        dataclasses.replace(
            model,
            coef=coef,
            metadata={**model.metadata, "version": model.version + "+new", "sha256": "e" * 64},
        ),
        tagger=real_scorer.tagger_,
    )
    body = analyze_body(SPAM, communityId=SITE)
    with _server(url, upgraded) as server, httpx.Client(base_url=server.base) as client:
        deadline = time.monotonic() + 60
        answer = client.post("/v1alpha1/comments:analyze", json=body).json()
        while answer.get("civilityAdapter") != f"{SITE}/v2" and time.monotonic() < deadline:
            # Before the refresh ends, the base answers (no label); never version 1.
            assert answer.get("civilityAdapter") is None, answer
            time.sleep(0.2)
            answer = client.post("/v1alpha1/comments:analyze", json=body).json()
    assert answer.get("civilityAdapter") == f"{SITE}/v2"
    assert [(a.version, a.status, a.base_version) for a in adapters(store, SITE)] == [
        (2, "serving", upgraded.version),
        (1, "stale", model.version),
    ]
    store.close()


def test_suggested_scores_teach_the_site_and_its_api_scores_change(
    tmp_path: Path, real_scorer: Scorer
) -> None:
    """The API-only path of the learning loop: four client keys suggest scores for site
    "crypto" through comments:suggestscore; the server retrains in the background as they
    arrive, and the site's comments:analyze answers come from its adapter."""
    import time

    url = f"sqlite:///{tmp_path / 'civility.db'}"
    storage = SqlStorage(url).create_all()
    keys = [storage.create_key(f"client{i}") for i in range(4)]
    settings = Settings(database_url=url, require_key=True)
    body = analyze_body(SPAM, communityId=SITE)
    with (
        InThread(settings, storage, scorer=real_scorer) as server,
        httpx.Client(base_url=server.base, timeout=30) as client,
    ):
        before = client.post("/v1alpha1/comments:analyze", params={"key": keys[0]}, json=body)
        assert "civilityAdapter" not in before.json()
        for i, example in enumerate(_decisions(300)):
            r = client.post(
                "/v1alpha1/comments:suggestscore",
                params={"key": keys[i % 4]},
                json={
                    "comment": {"text": example.text},
                    "attributeScores": {
                        "TOXICITY": {"summaryScore": {"value": float(example.label)}}
                    },
                    "communityId": SITE,
                },
            )
            assert r.status_code == 200, r.text
        deadline = time.monotonic() + 90
        while True:
            after = client.post("/v1alpha1/comments:analyze", params={"key": keys[0]}, json=body)
            if "civilityAdapter" in after.json() or time.monotonic() > deadline:
                break
            time.sleep(0.3)
    assert after.json().get("civilityAdapter", "").startswith(f"{SITE}/v"), after.text
    assert _toxicity(after) > _toxicity(before) + 0.2
    examples = site_examples(storage, SITE)["TOXICITY"]
    assert len(examples) == 300 and {e.source for e in examples} == {
        f"key:client{i}" for i in range(4)
    }
