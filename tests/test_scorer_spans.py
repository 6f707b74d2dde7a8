"""The shipped model's spans are faithful to it and point at what the user wrote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from civility.scorer import Scorer
from civility.text import normalize_text
from civility.train import synthetic
from civility.train.evaluate import BIAS_TERMS, bias_frame


@pytest.fixture(scope="module")
def scorer(real_scorer: Scorer) -> Scorer:
    return real_scorer


@pytest.mark.parametrize(
    ("text", "attribute"),
    [
        ("You are a stupid idiot and everyone knows it", "TOXICITY"),
        ("You are a stupid idiot and everyone knows it", "INSULT"),
        ("This is a charity if somebody assassinate the minister", "THREAT"),
        ("what a load of bullshit, this article is crap", "PROFANITY"),
    ],
)
def test_removing_the_top_span_lowers_the_score(scorer: Scorer, text: str, attribute: str) -> None:
    scores = scorer.score([text], spans=True)[0]
    spans = scores.spans[attribute]
    assert spans, f"no {attribute} span in {text!r}"
    top = max(spans, key=lambda s: s.score)
    without = text[: top.begin] + text[top.end :]
    after = scorer.score([without], attributes=[attribute])[0][attribute]
    assert after < scores[attribute]


def test_a_harmless_text_has_no_toxicity_spans(scorer: Scorer) -> None:
    scores = scorer.score(
        ["The boars ate the grapes in my vineyard again this autumn."], spans=True
    )[0]
    assert scores.spans["TOXICITY"] == ()
    assert scores.spans["THREAT"] == ()


HATECHECK = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "hatecheck.parquet"


@pytest.mark.skipif(not HATECHECK.is_file(), reason="needs ../shared/data/hatecheck.parquet")
def test_no_training_template_is_a_hatecheck_case() -> None:
    # HateCheck is evaluation only: a template that happens to be one of its cases would be
    # training on the test (1.0.0's "I despise {g}" was seven of them).
    cases = {normalize_text(t) for t in pd.read_parquet(HATECHECK, columns=["text"])["text"]}
    templates = {normalize_text(t) for t in synthetic.template_frame()["text"]}
    assert len(cases) > 3000 and len(templates) > 1800
    assert not sorted(templates & cases)


def test_the_bias_set_shares_no_sentence_with_the_training_templates() -> None:
    training = set(synthetic.template_frame()["text"].str.lower())
    evaluation = set(bias_frame()["text"].str.lower())
    assert not training & evaluation
    assert len(evaluation) == 16 * len(BIAS_TERMS)
