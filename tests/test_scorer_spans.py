"""The shipped model's spans are faithful to it and point at what the user wrote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from civility.scorer import Scorer
from civility.text import normalize_text
from civility.train import synthetic
from civility.train.evaluate import BIAS_TERMS, bias_frame
from civility.train.spans import char_f1


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


def test_spans_point_at_the_obfuscated_original(scorer: Scorer) -> None:
    text = "honestly you are an idi0t"
    spans = scorer.score([text], spans=True)[0].spans["INSULT"]
    assert any("idi0t" in text[s.begin : s.end] for s in spans)


def test_a_harmless_text_has_no_toxicity_spans(scorer: Scorer) -> None:
    scores = scorer.score(["The boars ate the grapes in my vineyard again this autumn."], spans=True)[0]
    assert scores.spans["TOXICITY"] == ()
    assert scores.spans["THREAT"] == ()


def test_semeval_char_f1_follows_the_task_definition() -> None:
    assert char_f1(set(), set()) == 1.0
    assert char_f1(set(), {1, 2}) == 0.0
    assert char_f1({1}, set()) == 0.0
    # precision 2/4, recall 2/3 → F1 = 2·(1/2)(2/3)/(1/2+2/3) = 4/7
    assert char_f1({2, 3, 4, 5}, {1, 2, 3}) == pytest.approx(4 / 7)


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
