"""``create_app(scorer=...)`` answers with the scorer it is given: the seam the fast tests use."""

from __future__ import annotations

import httpx
from fake_scorer import FakeScorer


def test_the_app_scores_with_the_scorer_it_is_given(api_client: httpx.Client) -> None:
    assert api_client.get("/healthz").json()["model_version"] == FakeScorer.VERSION
    text = "well, you idiot"
    r = api_client.post(
        "/v1alpha1/comments:analyze",
        json={
            "comment": {"text": text},
            "requestedAttributes": {"INSULT": {}, "THREAT": {}},
            "spanAnnotations": True,
        },
    )
    assert r.status_code == 200, r.text
    scores = r.json()["attributeScores"]
    assert scores["INSULT"]["summaryScore"]["value"] == 0.95
    assert scores["THREAT"]["summaryScore"]["value"] == 0.02
    [span] = scores["INSULT"]["spanScores"]
    assert text[span["begin"] : span["end"]] == "idiot"
