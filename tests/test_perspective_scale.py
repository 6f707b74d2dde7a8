"""Scores on Perspective's scale (model 1.1.0 on): a client's fixed threshold keeps its meaning,
FLIRTATION is scored, and the class-balanced scores stay available with ``scale="balanced"``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from civility.errors import InvalidInput
from civility.model import load_model, save_model
from civility.scorer import Scorer

FRIENDLY = [
    "you are a wonderful person",
    "Thanks for the great article!",
    "I disagree, but thanks for sharing.",
    "Good point, I had not thought of that.",
]


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer().load()


def test_friendly_texts_score_below_a_tenth_of_toxicity_as_perspective_scores_them(
    scorer: Scorer,
) -> None:
    for text, scores in zip(FRIENDLY, scorer.score(FRIENDLY), strict=True):
        assert scores["TOXICITY"] < 0.1, text


def test_the_shipped_model_serves_both_scales_and_they_differ(scorer: Scorer) -> None:
    assert scorer.model.scale_coef is not None
    texts = ["you are a wonderful person", "you stupid idiot, I will kill you"]
    main = scorer.score(texts)
    balanced = scorer.score(texts, scale="balanced")
    # The class-balanced heads put friendly text far from zero; Perspective's scale does not.
    assert balanced[0]["TOXICITY"] > 0.2 > main[0]["TOXICITY"]
    assert main[1]["TOXICITY"] > 0.9 and main[1]["THREAT"] > 0.5


def test_flirtation_is_scored_on_perspectives_scale(scorer: Scorer) -> None:
    assert "FLIRTATION" in scorer.attributes
    flirt, plain = scorer.score(
        ["Hey beautiful, want to come over tonight? ;)", "The council meets on Tuesday."]
    )
    assert flirt["FLIRTATION"] > 0.5 > plain["FLIRTATION"]


def test_an_unknown_scale_is_a_clear_error(scorer: Scorer) -> None:
    with pytest.raises(InvalidInput) as info:
        scorer.score(["hello"], scale="raw")
    assert str(info.value) == "Unknown score scale 'raw': expected one of perspective, balanced."


def test_both_scales_survive_saving_and_loading(scorer: Scorer, tmp_path: Path) -> None:
    save_model(scorer.model, tmp_path)
    again = load_model(tmp_path)
    texts = ["you stupid idiot", "thanks for the article", "hey gorgeous"]
    for scale in ("perspective", "balanced"):
        assert np.allclose(
            again.predict_proba(texts, scale=scale), scorer.model.predict_proba(texts, scale=scale)
        )


def test_a_model_without_perspective_heads_answers_both_scales_from_its_balanced_heads(
    scorer: Scorer,
) -> None:
    plain = dataclasses.replace(scorer.model, scale_coef=None, scale_intercept=None)
    texts = ["you stupid idiot", "thanks for the article"]
    assert np.array_equal(
        plain.predict_proba(texts, scale="perspective"),
        plain.predict_proba(texts, scale="balanced"),
    )
