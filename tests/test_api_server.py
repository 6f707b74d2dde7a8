"""The Perspective-compatible door over real HTTP on 127.0.0.1: ``create_app`` with the real
model and a SQLite store under uvicorn in this process (real clients: httpx, Google's discovery
client), the wire format, errors, feedback, privacy; ``civility serve`` as a subprocess only
for several workers (slow)."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from adapt_support import crypto_site
from api_support import InThread, Subprocess, analyze_body, assert_google_error
from cli_support import Done, run_cli

from civility.api import SqlStorage
from civility.scorer import Scorer
from civility.settings import Settings
from civility.store import Store, record_examples, retrain

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"


class Server(InThread):
    """The app in a thread on a real socket; ``civility`` commands on its database in process;
    civility's log (as ``civility serve`` configures it: INFO and up) written to ``log``."""

    def __init__(self, tmp: Path, settings: Settings) -> None:
        self.env = {"CIVILITY_DATABASE_URL": settings.database_url}
        self.log = tmp / "server.log"
        self._handler = logging.FileHandler(self.log, encoding="utf-8")
        self._handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        )
        super().__init__(settings, SqlStorage(settings.database_url).create_all())

    def cli(self, *args: str) -> Done:
        return run_cli(*args, env=self.env)

    def __enter__(self) -> Server:
        logger = logging.getLogger("civility")
        self._level = logger.level
        logger.setLevel(logging.INFO)
        logger.addHandler(self._handler)
        super().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        logger = logging.getLogger("civility")
        logger.removeHandler(self._handler)
        logger.setLevel(self._level)
        self._handler.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("serve")
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'api.db'}",
        store_comments=True,
        log_comment_text=True,
        max_body_bytes=1048576,
    )
    with Server(tmp, settings) as live:
        yield live


@pytest.fixture(scope="module")
def key(server: Server) -> str:
    done = server.cli("keys", "create", "tests")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def client(server: Server, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base, params={"key": key}, timeout=30) as c:
        yield c


def analyze(client: httpx.Client, body: dict[str, Any], **params: str) -> httpx.Response:
    return client.post(ANALYZE, json=body, params=params or None)


def test_analyze_answers_perspectives_shape(client: httpx.Client) -> None:
    r = analyze(
        client, analyze_body("You are a complete idiot.", "TOXICITY", "insult", clientToken="tok-1")
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert list(data["attributeScores"]) == ["TOXICITY", "INSULT"]
    for scores in data["attributeScores"].values():
        assert set(scores["summaryScore"]) == {"value", "type"}
        assert scores["summaryScore"]["type"] == "PROBABILITY"
        assert 0.0 <= scores["summaryScore"]["value"] <= 1.0
        assert scores["spanScores"] == [{"begin": 0, "end": 25, "score": scores["summaryScore"]}]
    assert data["languages"] == ["en"]
    assert data["detectedLanguages"] == ["en"]
    assert data["clientToken"] == "tok-1"


def test_an_insult_scores_above_a_friendly_comment(client: httpx.Client) -> None:
    def toxicity(text: str) -> float:
        r = analyze(client, analyze_body(text))
        return float(r.json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"])

    assert toxicity("You are a stupid worthless idiot.") > toxicity("Thanks for the kind article.")


def _utf16_slice(text: str, begin: int, end: int) -> str:
    return text.encode("utf-16-le")[2 * begin : 2 * end].decode("utf-16-le")


def test_span_offsets_count_utf16_code_units(client: httpx.Client) -> None:
    text = "🙂🙂🙂 Nice day, but you are an idiot."
    r = analyze(client, analyze_body(text, "INSULT", spanAnnotations=True))
    spans = r.json()["attributeScores"]["INSULT"]["spanScores"]
    assert any("idiot" in _utf16_slice(text, s["begin"], s["end"]) for s in spans), spans
    assert all(s["end"] <= len(text.encode("utf-16-le")) // 2 for s in spans)


def test_html_is_scored_on_its_text_with_offsets_into_the_html(client: httpx.Client) -> None:
    html = "<p>Nice day, but you are an <b>idiot</b>.</p><script>var x = 'kill';</script>"
    body = analyze_body(html, "INSULT", spanAnnotations=True)
    body["comment"]["type"] = "HTML"
    spans = analyze(client, body).json()["attributeScores"]["INSULT"]["spanScores"]
    assert any("idiot" in html[s["begin"] : s["end"]] for s in spans), spans


def test_score_threshold_leaves_out_low_attributes(client: httpx.Client) -> None:
    body = {
        "comment": {"text": "What a lovely garden."},
        "requestedAttributes": {
            "TOXICITY": {"scoreThreshold": 1.0},
            "INSULT": {"scoreThreshold": 0.0},
        },
    }
    data = analyze(client, body).json()
    assert list(data["attributeScores"]) == ["INSULT"]
    body["requestedAttributes"] = {"TOXICITY": {"scoreThreshold": 1.0}}
    data = analyze(client, body).json()
    assert "attributeScores" not in data
    assert data["languages"] == ["en"] and "detectedLanguages" in data


def test_key_in_header_and_googles_standard_parameters_are_accepted(
    server: Server, key: str
) -> None:
    params = {
        "alt": "json",
        "prettyPrint": "false",
        "fields": "attributeScores",
        "quotaUser": "u1",
        "$.xgafv": "2",
        "callback": "",
        "access_token": "",
        "upload_protocol": "raw",
        "uploadType": "media",
    }
    r = httpx.post(
        server.base + ANALYZE,
        json=analyze_body("hello there"),
        params=params,
        headers={"x-goog-api-key": key},
    )
    assert r.status_code == 200, r.text
    assert "\n" not in r.text  # prettyPrint=false


def _big_text(n: int) -> str:
    return "a" * n


ERROR_CASES: list[tuple[str, dict[str, Any], int, str, str | None]] = [
    ("bad-json", {"content": b'{"comment": '}, 400, "INVALID_ARGUMENT", None),
    (
        "invalid-utf8",
        {"content": b'{"comment": {"text": "\xff\xfe"}}'},
        400,
        "INVALID_ARGUMENT",
        "Invalid JSON payload received. Invalid UTF-8 at byte 22.",
    ),
    (
        "top-level-array",
        {"json": [1, 2]},
        400,
        "INVALID_ARGUMENT",
        "Invalid JSON payload received. Expected an object at the top level.",
    ),
    (
        "text-not-string",
        {"json": {"comment": {"text": 5}, "requestedAttributes": {"TOXICITY": {}}}},
        400,
        "INVALID_ARGUMENT",
        "Invalid value at 'comment.text': Input should be a valid string. Got 5.",
    ),
    (
        "attributes-not-object",
        {"json": {"comment": {"text": "hi"}, "requestedAttributes": ["X"]}},
        400,
        "INVALID_ARGUMENT",
        None,
    ),
    (
        "unknown-field",
        {"json": {"comment": {"text": "hi", "lang": "en"}}},
        400,
        "INVALID_ARGUMENT",
        "Invalid JSON payload received. Unknown name \"lang\" at 'comment': Cannot find field.",
    ),
    (
        "empty-text",
        {"json": analyze_body("")},
        400,
        "INVALID_ARGUMENT",
        "Comment must be non-empty.",
    ),
    (
        "no-comment",
        {"json": {"requestedAttributes": {"TOXICITY": {}}}},
        400,
        "INVALID_ARGUMENT",
        "Comment must be non-empty.",
    ),
    (
        "too-long",
        {"json": analyze_body(_big_text(20481))},
        400,
        "INVALID_ARGUMENT",
        "Comment text was too many bytes. Value (20481) exceeded limit (20480).",
    ),
    (
        "too-long-multibyte",
        {"json": analyze_body("é" * 10241)},
        400,
        "INVALID_ARGUMENT",
        "Comment text was too many bytes. Value (20482) exceeded limit (20480).",
    ),
    (
        "no-attributes",
        {"json": {"comment": {"text": "hi"}}},
        400,
        "INVALID_ARGUMENT",
        "Must request at least one attribute.",
    ),
    (
        "unknown-attribute",
        {"json": analyze_body("hi", "FOO_BAR")},
        400,
        "INVALID_ARGUMENT",
        "Unknown requested attribute: FOO_BAR",
    ),
    (
        "unsupported-language",
        {"json": analyze_body("ciao", "TOXICITY", languages=["it"])},
        400,
        "INVALID_ARGUMENT",
        "Attribute TOXICITY does not support request languages: it",
    ),
    (
        "unsupported-score-type",
        {
            "json": {
                "comment": {"text": "hi"},
                "requestedAttributes": {"TOXICITY": {"scoreType": "RAW"}},
            }
        },
        400,
        "INVALID_ARGUMENT",
        None,
    ),
    (
        "threshold-out-of-range",
        {
            "json": {
                "comment": {"text": "hi"},
                "requestedAttributes": {"TOXICITY": {"scoreThreshold": 2}},
            }
        },
        400,
        "INVALID_ARGUMENT",
        "Invalid value at 'requestedAttributes.TOXICITY.scoreThreshold': must be between 0 "
        "and 1. Got 2.0.",
    ),
    (
        "bad-alt",
        {"json": analyze_body("hi"), "params": {"alt": "proto"}},
        400,
        "INVALID_ARGUMENT",
        None,
    ),
    (
        "ten-megabytes",
        {"content": b"{" + b" " * 10_000_000 + b"}"},
        413,
        "INVALID_ARGUMENT",
        "Request body was too many bytes. Value (10000002) exceeded limit (1048576).",
    ),
]


@pytest.mark.parametrize(
    ("case", "request_kwargs", "code", "status", "message"),
    ERROR_CASES,
    ids=[c[0] for c in ERROR_CASES],
)
def test_malformed_requests_get_googles_error_body(
    client: httpx.Client,
    case: str,
    request_kwargs: dict[str, Any],
    code: int,
    status: str,
    message: str | None,
) -> None:
    r = client.post(ANALYZE, **request_kwargs)
    assert_google_error(r, code, status, message)


def test_error_types_match_perspectives(client: httpx.Client) -> None:
    cases = {
        "COMMENT_EMPTY": analyze_body(""),
        "COMMENT_TOO_LONG": analyze_body("a" * 20481),
        "NO_REQUESTED_ATTRIBUTES": {"comment": {"text": "hi"}},
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE": analyze_body("hi", languages=["de"]),
    }
    for error_type, body in cases.items():
        details = analyze(client, body).json()["error"]["details"]
        assert details[0]["errorType"] == error_type


def test_a_chunked_body_over_the_limit_is_refused(client: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"comment": {"text": "'
        for _ in range(20):
            yield b"a" * 100_000
        yield b'"}}'

    assert_google_error(client.post(ANALYZE, content=chunks()), 413, "INVALID_ARGUMENT")


def test_missing_key_is_403_and_wrong_key_is_400(server: Server) -> None:
    r = httpx.post(server.base + ANALYZE, json=analyze_body("hi"))
    assert_google_error(r, 403, "PERMISSION_DENIED")
    r = httpx.post(server.base + ANALYZE, json=analyze_body("hi"), params={"key": "civ_wrong"})
    error = assert_google_error(
        r, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."
    )
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    r = httpx.get(
        server.base + "/$discovery/rest", params={"version": "v1alpha1", "key": "civ_wrong"}
    )
    assert_google_error(
        r, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."
    )


def test_keys_are_listed_without_the_secret_and_revoked_keys_stop_working(
    server: Server,
) -> None:
    key = SqlStorage(server.env["CIVILITY_DATABASE_URL"]).create_key("short-lived")
    assert (
        httpx.post(server.base + ANALYZE, json=analyze_body("hi"), params={"key": key}).status_code
        == 200
    )
    listing = server.cli("keys", "list").stdout
    assert "short-lived" in listing and key not in listing
    assert server.cli("keys", "revoke", "short-lived").returncode == 0
    r = httpx.post(server.base + ANALYZE, json=analyze_body("hi"), params={"key": key})
    assert_google_error(r, 400, "INVALID_ARGUMENT")
    again = server.cli("keys", "revoke", "short-lived")
    assert again.returncode == 2
    assert again.stderr.strip() == "Error: No active key named 'short-lived'."


def test_unknown_routes_and_methods_get_the_error_body(server: Server) -> None:
    assert_google_error(httpx.get(server.base + "/v1alpha1/nothing"), 404, "NOT_FOUND")
    assert_google_error(httpx.get(server.base + ANALYZE), 405, "INVALID_ARGUMENT")


# ---------------------------------------------------------------- Google's Python client


def _service(server: Server, key: str) -> Any:
    from googleapiclient import discovery

    return discovery.build(
        "commentanalyzer",
        "v1alpha1",
        discoveryServiceUrl=f"{server.base}/$discovery/rest?version=v1alpha1",
        developerKey=key,
        static_discovery=False,
        cache_discovery=False,
    )


def test_googles_python_client_works_unchanged(server: Server, key: str) -> None:
    service = _service(server, key)
    response = (
        service.comments()
        .analyze(
            body={
                "comment": {"text": "You are an idiot."},
                "requestedAttributes": {"TOXICITY": {}, "THREAT": {}},
                "clientToken": "g1",
            }
        )
        .execute()
    )
    assert set(response["attributeScores"]) == {"TOXICITY", "THREAT"}
    assert response["clientToken"] == "g1"
    feedback = (
        service.comments()
        .suggestscore(
            body={
                "comment": {"text": "You are an idiot."},
                "communityId": "google-client",
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.2}}},
                "languages": ["en"],
            }
        )
        .execute()
    )
    assert feedback["requestedLanguages"] == ["en"]


def test_googles_client_surfaces_errors_as_http_errors(server: Server, key: str) -> None:
    from googleapiclient.errors import HttpError

    service = _service(server, key)
    with pytest.raises(HttpError) as caught:
        service.comments().analyze(body=analyze_body("hi", languages=["it"])).execute()
    assert caught.value.status_code == 400
    assert "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE" in caught.value.content.decode()


def test_googles_batch_requests_get_matching_responses(server: Server, key: str) -> None:
    service = _service(server, key)
    results: dict[str, Any] = {}

    def callback(request_id: str, response: Any, exception: Exception | None) -> None:
        results[request_id] = exception if exception is not None else response

    batch = service.new_batch_http_request(callback=callback)
    texts = {"calm": "What a lovely garden.", "rude": "You are a stupid idiot.", "empty": ""}
    for rid, text in texts.items():
        batch.add(
            service.comments().analyze(body=analyze_body(text, clientToken=rid)), request_id=rid
        )
    batch.execute()
    assert set(results) == set(texts)
    assert results["calm"]["clientToken"] == "calm"
    assert results["rude"]["clientToken"] == "rude"
    calm = results["calm"]["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
    rude = results["rude"]["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
    assert rude > calm
    assert results["empty"].status_code == 400
    assert "Comment must be non-empty." in results["empty"].content.decode()


# ---------------------------------------------------------------- feedback


def _toxicity(client: httpx.Client, text: str, community: str | None) -> float:
    body = analyze_body(text, doNotStore=True)
    if community is not None:
        body["communityId"] = community
    return float(
        analyze(client, body).json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
    )


def test_feedback_moves_its_communitys_scores_and_no_others(client: httpx.Client) -> None:
    text = "This policy is dumb and the people defending it are clueless."
    before = {c: _toxicity(client, text, c) for c in (None, "strict-site", "other-site")}
    assert before[None] == before["strict-site"] == before["other-site"]
    for suggestion in (
        "This is dumb.",
        "What a clueless take.",
        "Dumb and clueless people.",
        "Stop being dumb.",
        "Clueless, as usual.",
        "That is a dumb policy.",
    ):
        r = client.post(
            SUGGEST,
            json={
                "comment": {"text": suggestion},
                "communityId": "strict-site",
                "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.99}}},
                "clientToken": "fb",
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["clientToken"] == "fb"
    after = {c: _toxicity(client, text, c) for c in (None, "strict-site", "other-site")}
    assert after["strict-site"] > before["strict-site"]
    assert after[None] == before[None]
    assert after["other-site"] == before["other-site"]


def test_feedback_needs_a_valid_suggested_score(client: httpx.Client) -> None:
    r = client.post(
        SUGGEST,
        json={
            "comment": {"text": "hi"},
            "attributeScores": {"TOXICITY": {"summaryScore": {"value": 3}}},
        },
    )
    assert_google_error(
        r,
        400,
        "INVALID_ARGUMENT",
        "Invalid value at 'attributeScores.TOXICITY.summaryScore.value': a probability between "
        "0 and 1 is required. Got 3.0.",
    )
    r = client.post(SUGGEST, json={"comment": {"text": "hi"}})
    assert_google_error(r, 400, "INVALID_ARGUMENT")


# ---------------------------------------------------------------- privacy


def test_do_not_store_leaves_no_trace_in_store_or_log(server: Server, client: httpx.Client) -> None:
    kept, secret = "kept-marker-7f3a you fool", "secret-marker-91c2 you fool"
    assert analyze(client, analyze_body(kept)).status_code == 200
    assert (
        analyze(client, analyze_body(secret, doNotStore=True, spanAnnotations=True)).status_code
        == 200
    )
    assert analyze(client, analyze_body(secret + "x" * 30000, doNotStore=True)).status_code == 400
    storage = SqlStorage(server.env["CIVILITY_DATABASE_URL"])
    stored = storage.stored_texts()
    log = Path(server.log).read_text(encoding="utf-8")
    # This server stores and logs comment text, so the kept comment shows the test can fail.
    assert kept in stored and kept in log
    assert not any("secret-marker" in t for t in stored)
    assert "secret-marker" not in log
    database = Path(server.env["CIVILITY_DATABASE_URL"].removeprefix("sqlite:///"))
    assert b"secret-marker" not in database.read_bytes()


# ---------------------------------------------------------------- native API and operations


def test_native_score_batches_comments_with_spans_and_decisions(client: httpx.Client) -> None:
    r = client.post(
        "/api/v1/score",
        json={
            "comments": [
                {"id": "a", "text": "Lovely piece, thank you."},
                {"id": "b", "text": "Shut up, you worthless idiot."},
            ],
            "spans": True,
            "attributes": ["toxicity", "INSULT"],
        },
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert [x["id"] for x in data["results"]] == ["a", "b"]
    first, second = data["results"]
    assert set(first["scores"]) == {"TOXICITY", "INSULT"}
    assert second["scores"]["TOXICITY"] > first["scores"]["TOXICITY"]
    assert first["decision"]["action"] in {"approve", "hold", "reject"}
    assert set(second["spans"]) == {"TOXICITY", "INSULT"}
    assert data["model_version"]


def test_native_score_refuses_more_than_a_thousand_comments(client: httpx.Client) -> None:
    r = client.post("/api/v1/score", json={"comments": [{"text": "x"}] * 1001})
    assert_google_error(r, 400, "INVALID_ARGUMENT")
    assert "comments" in r.json()["error"]["message"]


def test_threads_are_analysed_whole_with_replies_and_decisions(client: httpx.Client) -> None:
    r = client.post(
        "/api/v1/threads",
        json={
            "article": {"title": "Budget vote", "paragraphs": ["The council voted."]},
            "comments": [
                {"id": "1", "author": "ann", "text": "Good news for the town.", "parent_id": None},
                {"id": "2", "author": "bob", "text": "You are an idiot, ann.", "parent_id": "1"},
                {"id": "3", "author": "cy", "text": "Calm down, bob.", "parent_id": "2"},
            ],
        },
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert [c["depth"] for c in data["comments"]] == [0, 1, 2]
    assert sum(data["summary"]["actions"].values()) == 3
    assert data["article"]["title"] == "Budget vote"
    bad = client.post(
        "/api/v1/threads", json={"comments": [{"id": "1", "text": "a"}, {"id": "1", "text": "b"}]}
    )
    assert_google_error(
        bad, 400, "INVALID_ARGUMENT", "Comment ids must be unique. Got '1' more than once."
    )


def test_openapi_describes_the_perspective_request_bodies(server: Server) -> None:
    doc = httpx.get(server.base + "/openapi.json").json()
    body = doc["paths"][ANALYZE]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/AnalyzeCommentRequest"}
    schema = doc["components"]["schemas"]["AnalyzeCommentRequest"]
    assert {"comment", "requestedAttributes", "spanAnnotations", "doNotStore"} <= set(
        schema["properties"]
    )


def test_discovery_document_matches_perspectives_names(server: Server) -> None:
    doc = httpx.get(server.base + "/$discovery/rest", params={"version": "v1alpha1"}).json()
    assert (doc["name"], doc["version"], doc["servicePath"], doc["batchPath"]) == (
        "commentanalyzer",
        "v1alpha1",
        "",
        "batch",
    )
    assert doc["rootUrl"] == server.base + "/"
    methods = doc["resources"]["comments"]["methods"]
    assert methods["analyze"]["path"] == "v1alpha1/comments:analyze"
    assert methods["suggestscore"]["request"] == {"$ref": "SuggestCommentScoreRequest"}
    response = doc["schemas"]["AnalyzeCommentResponse"]["properties"]
    assert {"attributeScores", "languages", "clientToken", "civilityAdapter"} <= set(response)
    assert httpx.get(server.base + "/$discovery/rest", params={"version": "v9"}).status_code == 404


def test_metrics_count_requests_latency_and_scores(server: Server, client: httpx.Client) -> None:
    analyze(client, analyze_body("hello"))
    text = httpx.get(server.base + "/metrics").text
    assert re.search(
        r'civility_http_requests_total\{code="200",route="/v1alpha1/comments:analyze"\} \d', text
    )
    assert (
        'civility_http_request_seconds_bucket{le="0.05",route="/v1alpha1/comments:analyze"}' in text
    )
    assert 'civility_scores_bucket{adapter="base",attribute="TOXICITY",le="1.0"}' in text
    assert json.loads(httpx.get(server.base + "/healthz").text)["status"] == "ok"


def _scores_count(text: str, adapter: str) -> float:
    found = re.search(
        rf'civility_scores_count\{{adapter="{adapter}",attribute="TOXICITY"\}} (\S+)', text
    )
    return float(found.group(1)) if found else 0.0


def test_score_metrics_name_the_adapter_that_scored(
    server: Server, client: httpx.Client, real_scorer: Scorer
) -> None:
    # Site "metered" gets a serving adapter (version 1) in the server's own database: the
    # server picks it up on the next request that names the site.
    store = Store.open(server.env["CIVILITY_DATABASE_URL"])
    try:
        examples = crypto_site(300)
        record_examples(store, "metered", examples)
        assert retrain(store, real_scorer, "metered", by="test").serving
    finally:
        store.close()
    before = httpx.get(server.base + "/metrics").text
    base = analyze(client, analyze_body("hello there", "TOXICITY"))
    adapted = analyze(client, analyze_body("hello there", "TOXICITY", communityId="metered"))
    assert "civilityAdapter" not in base.json()
    assert adapted.json()["civilityAdapter"] == "metered/v1"
    native = client.post(
        "/api/v1/score", json={"site": "metered", "comments": [{"id": "1", "text": "hi"}]}
    )
    assert native.json()["adapter"] == "metered/v1"
    text = httpx.get(server.base + "/metrics").text
    assert _scores_count(text, "base") == _scores_count(before, "base") + 1
    assert _scores_count(text, "metered/v1") == _scores_count(before, "metered/v1") + 2
    assert 'civility_scores_bucket{adapter="metered/v1",attribute="TOXICITY",le="1.0"}' in text


def test_cors_is_off_by_default(server: Server) -> None:
    r = httpx.options(
        server.base + ANALYZE,
        headers={"Origin": "https://news.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in r.headers


def _analyze_concurrently(base: str, n: int) -> list[int]:
    """Status codes of ``n`` distinct analyze requests sent from 8 threads."""
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> int:
        body = analyze_body(f"comment number {i}", "TOXICITY")
        return httpx.post(base + ANALYZE, json=body, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


@pytest.mark.slow
def test_metrics_sum_every_worker_with_several(tmp_path: Path) -> None:
    # Requests land on either worker; /metrics must count all of them whichever answers.
    settings = {"database_url": f"sqlite:///{tmp_path / 'api.db'}", "require_key": "false"}
    with Subprocess(tmp_path, settings, args=("--workers", "2")) as live:
        codes = _analyze_concurrently(live.base, 60)
        assert codes == [200] * 60
        pattern = rf'civility_http_requests_total\{{code="200",route="{ANALYZE}"\}} (\S+)'
        for _ in range(6):
            text = httpx.get(live.base + "/metrics", timeout=30).text
            found = re.search(pattern, text)
            assert found is not None, text[:2000]
            assert float(found.group(1)) == 60
            assert _scores_count(text, "base") == 60


@pytest.mark.slow
def test_several_workers_spend_from_one_quota(tmp_path: Path) -> None:
    # Per-key buckets live in the database: two workers together allow the quota, not twice it.
    settings = {
        "database_url": f"sqlite:///{tmp_path / 'api.db'}",
        "require_key": "false",
        "rate_limit_per_minute": "20",
    }
    with Subprocess(tmp_path, settings, args=("--workers", "2")) as live:
        started = time.monotonic()
        codes = _analyze_concurrently(live.base, 60)
        refilled = (time.monotonic() - started) * 20 / 60
        assert set(codes) == {200, 429}
        assert 20 <= codes.count(200) <= 20 + refilled + 1
