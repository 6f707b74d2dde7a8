"""Scores on Perspective's scale (model 1.1.0 on): a client's fixed threshold keeps its meaning,
FLIRTATION is scored, and the class-balanced scores stay available with ``scale="balanced"``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge

from civility.errors import InvalidInput
from civility.model import load_model, save_model
from civility.scorer import Scorer
from civility.train import perspective as P

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


def _scored_frame(texts: list[str], toxic: list[float], imputed: list[bool]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "text": texts,
            "source": "rtp_perspective",
            "group": [f"g{i}" for i in range(len(texts))],
        }
    )
    for name in P.SCORED:
        frame[name] = toxic if name != "FLIRTATION" else [0.1 + 0.02 * i for i in range(len(texts))]
        frame[f"{name}_real"] = [name == "TOXICITY" or not m for m in imputed]
    return frame


def test_imputed_targets_weigh_less_than_perspectives_own_scores_except_toxicitys_anchors() -> None:
    frame = _scored_frame(["a", "b", "c"], [0.9, 0.1, 0.03], [False, True, True])
    rows = np.arange(3)
    assert P._row_weights(frame, "TOXICITY", rows).tolist() == [1.0, 1.0, 1.0]
    imputed = P.IMPUTED_WEIGHT
    assert P._row_weights(frame, "INSULT", rows).tolist() == [1.0, imputed, imputed]
    assert 0.0 < P.IMPUTED_WEIGHT < 1.0


def test_every_balanced_logit_the_perspective_heads_use_is_folded_into_their_weights(
    scorer: Scorer,
) -> None:
    """The shipped form (one weight vector per head) scores exactly what the fitted ridge
    regression on the features *and every balanced head's logit* predicts."""
    texts = [
        "you stupid idiot, I will kill you",
        "thanks for the article",
        "hey gorgeous, call me",
        "the council meets on tuesday",
        "go back where you came from, you filthy animals",
        "what a load of crap",
        "I disagree with the mayor",
        "you are a moron",
    ]
    toxic = [0.95, 0.02, 0.1, 0.03, 0.9, 0.6, 0.05, 0.8]
    frame = _scored_frame(texts, toxic, [False, True, False, True, False, True, False, False])
    coef, scale_coef = scorer.model.coef.copy(), scorer.model.scale_coef.copy()
    fitted = P.add_perspective_heads(scorer.model, frame)
    # The shipped model (shared by every test that loads it) is left as it was.
    assert np.array_equal(scorer.model.coef, coef)
    assert np.array_equal(scorer.model.scale_coef, scale_coef)
    served = Scorer.from_model(fitted).score(texts)
    x, base = P._features(scorer.model, texts)
    ks = P._balanced_columns(scorer.model)
    assert len(ks) == len(scorer.model.attributes) - 1  # all but FLIRTATION
    design = sp.hstack([x, sp.csr_matrix(P.BASE_WEIGHT * base[:, ks])], format="csr")
    for name in ("TOXICITY", "INSULT", "FLIRTATION"):
        rows = np.arange(len(texts))
        y = frame[name].to_numpy(dtype=np.float64)
        reg = Ridge(alpha=P.ALPHA).fit(
            design, P._logit(y), sample_weight=P._row_weights(frame, name, rows)
        )
        expected = 1.0 / (1.0 + np.exp(-reg.predict(design)))
        got = np.array([s[name] for s in served])
        assert np.allclose(got, expected, atol=1e-5), name
