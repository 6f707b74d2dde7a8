"""Languages and attribute names as Perspective answers them, over real HTTP (uvicorn on
127.0.0.1, httpx): detected languages, refusal of a language civility cannot score (and no
spurious refusal of short or mixed English), the ``*_EXPERIMENTAL`` names and FLIRTATION (served since model 1.1.0)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import InThread, analyze_body

from civility.api import SqlStorage
from civility.settings import Settings

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
SPANISH = "Esto es una vergüenza, el gobierno miente siempre y nadie dice nada."


def _language_error(attribute: str, languages: str) -> dict[str, Any]:
    return {
        "error": {
            "code": 400,
            "message": f"Attribute {attribute} does not support request languages: {languages}",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.commentanalyzer.v1alpha1.Error",
                    "errorType": "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
                }
            ],
        }
    }


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    tmp: Path = tmp_path_factory.mktemp("language")
    storage = SqlStorage(f"sqlite:///{tmp / 'api.db'}").create_all()
    settings = Settings(database_url=storage.url, rate_limit_per_minute=0)
    key = storage.create_key("language")
    with (
        InThread(settings, storage) as srv,
        httpx.Client(base_url=srv.base, params={"key": key}, timeout=30) as c,
    ):
        yield c


def test_spanish_without_languages_is_refused_as_perspective_refuses_it(
    client: httpx.Client,
) -> None:
    r = client.post(ANALYZE, json=analyze_body(SPANISH, "TOXICITY", "INSULT"))
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == _language_error("TOXICITY", "es")


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "lol",
        "Gracias!",
        "👍👍",
        "My grandmother always said “Dios mío” when she read the news, and she was right.",
        "Great article, muchas gracias!",
    ],
)
def test_short_and_mixed_english_texts_are_scored_not_refused(
    client: httpx.Client, text: str
) -> None:
    r = client.post(ANALYZE, json=analyze_body(text))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["languages"] == ["en"]
    assert 0.0 <= data["attributeScores"]["TOXICITY"]["summaryScore"]["value"] <= 1.0


def test_detected_languages_are_filled_even_when_languages_are_given(
    client: httpx.Client,
) -> None:
    english = client.post(ANALYZE, json=analyze_body("Thanks for the kind article, well done."))
    assert english.json()["detectedLanguages"][0] == "en"
    # The caller says the text is English: it is scored as such, and told what was detected.
    told = client.post(ANALYZE, json=analyze_body(SPANISH, languages=["en"]))
    assert told.status_code == 200, told.text
    assert told.json()["languages"] == ["en"]
    assert told.json()["detectedLanguages"][0] == "es"
    emoji = client.post(ANALYZE, json=analyze_body("👍👍"))
    assert emoji.json()["detectedLanguages"] == []


def test_a_requested_language_civility_cannot_score_is_refused_as_today(
    client: httpx.Client,
) -> None:
    r = client.post(ANALYZE, json=analyze_body("hi", "INSULT", languages=["de", "en"]))
    assert r.json() == _language_error("INSULT", "de")


def test_experimental_names_are_answered_by_the_production_heads_under_their_own_names(
    client: httpx.Client,
) -> None:
    names = ["TOXICITY", "TOXICITY_EXPERIMENTAL", "severe_toxicity_experimental"]
    names += [f"{a}_EXPERIMENTAL" for a in ("IDENTITY_ATTACK", "INSULT", "PROFANITY", "THREAT")]
    r = client.post(ANALYZE, json=analyze_body("You are a stupid idiot.", *names))
    assert r.status_code == 200, r.text
    scores = r.json()["attributeScores"]
    assert list(scores) == [n.upper() for n in names]
    assert scores["TOXICITY_EXPERIMENTAL"] == scores["TOXICITY"]
    assert scores["TOXICITY"]["summaryScore"]["value"] > 0.5


def test_experimental_names_take_suggested_scores(client: httpx.Client) -> None:
    body = {
        "comment": {"text": "You are a stupid idiot."},
        "attributeScores": {"INSULT_EXPERIMENTAL": {"summaryScore": {"value": 0.9}}},
    }
    r = client.post(SUGGEST, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["detectedLanguages"] == ["en"]


@pytest.mark.parametrize(
    "attributes", [("FLIRTATION",), ("TOXICITY", "FLIRTATION")], ids=["alone", "with-toxicity"]
)
def test_flirtation_is_answered_like_any_served_attribute(
    client: httpx.Client, attributes: tuple[str, ...]
) -> None:
    r = client.post(
        ANALYZE, json=analyze_body("Hey beautiful, want to come over tonight? ;)", *attributes)
    )
    assert r.status_code == 200, r.text
    scores = r.json()["attributeScores"]
    assert set(scores) == set(attributes)
    flirt = scores["FLIRTATION"]["summaryScore"]
    assert flirt["type"] == "PROBABILITY"
    civil = client.post(
        ANALYZE,
        json=analyze_body("The council meets on Tuesday to vote on the budget.", "FLIRTATION"),
    )
    assert flirt["value"] > civil.json()["attributeScores"]["FLIRTATION"]["summaryScore"]["value"]


def test_an_attribute_perspective_knows_and_civility_does_not_serve_is_refused(
    client: httpx.Client,
) -> None:
    r = client.post(
        ANALYZE, json=analyze_body("You look lovely tonight.", "TOXICITY", "ATTACK_ON_AUTHOR")
    )
    assert r.status_code == 400
    assert r.json() == _language_error("ATTACK_ON_AUTHOR", "en")


def test_an_unknown_attribute_still_gets_the_unknown_attribute_error(
    client: httpx.Client,
) -> None:
    r = client.post(ANALYZE, json=analyze_body("hello there", "TOXICITY", "NOT_AN_ATTRIBUTE"))
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["message"] == "Unknown requested attribute: NOT_AN_ATTRIBUTE"
    assert error["details"][0]["errorType"] == "INVALID_REQUEST"


def test_the_native_api_holds_a_comment_in_another_language_with_the_reason(
    client: httpx.Client,
) -> None:
    r = client.post(
        "/api/v1/score",
        json={"comments": [{"id": "es", "text": SPANISH}, {"id": "ok", "text": "Gracias!"}]},
    )
    assert r.status_code == 200, r.text
    spanish, short = r.json()["results"]
    assert spanish["decision"] == {
        "action": "hold",
        "reasons": [],
        "note": "language es not supported",
    }
    assert "note" not in short["decision"]
    thread = client.post("/api/v1/threads", json={"comments": [{"id": "1", "text": SPANISH}]})
    assert thread.json()["comments"][0]["decision"]["note"] == "language es not supported"
    assert thread.json()["summary"]["actions"]["hold"] == 1
