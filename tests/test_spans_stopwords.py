"""No span the scorer returns is a stopword alone ("the", "you and your", "is"): such a span may
move a score, but it explains nothing to a moderator (issue #15). Benign identity mentions are
not highlighted either. The real shipped model, on the news-comment suite's own texts."""

from __future__ import annotations

import pytest

from civility.highlight import segments
from civility.model.spans import is_stopword_span
from civility.moderate import POLICY_SCALE
from civility.policy import Policy
from civility.scorer import Scorer
from civility.train.suite import load_suite


def test_stopword_spans_are_recognised() -> None:
    assert is_stopword_span("the")
    assert is_stopword_span("you and your")
    assert is_stopword_span("is, 2 a")
    assert not is_stopword_span("idiot")
    assert not is_stopword_span("watch your back")  # "back" is kept as a content word
    assert not is_stopword_span("the idiots")


@pytest.mark.parametrize("scale", ["perspective", "balanced"])
def test_no_span_is_a_stopword_alone_on_the_suites_texts(real_scorer: Scorer, scale: str) -> None:
    texts = [c.text for c in load_suite()]
    scored = real_scorer.score(texts, spans=True, scale=scale)
    spans = [
        (a, t[s.begin : s.end])
        for t, sc in zip(texts, scored, strict=True)
        for a, ss in sc.spans.items()
        for s in ss
    ]
    assert len(spans) > 100  # the suite's abuse is still explained
    assert [(a, x) for a, x in spans if is_stopword_span(x)] == []


def test_benign_identity_mentions_are_not_highlighted(real_scorer: Scorer) -> None:
    policy = Policy.default()
    texts = ["As a gay Muslim woman I think the article is fair"] + [
        c.text for c in load_suite() if c.functionality == "identity_benign_nh"
    ]
    for text, scores in zip(
        texts, real_scorer.score(texts, spans=True, scale=POLICY_SCALE), strict=True
    ):
        deciding = {r.attribute for r in policy.decide(scores).reasons}
        marked = [
            (seg.attribute, seg.text)
            for seg in segments(text, scores.spans, scores.values, deciding)
            if seg.attribute in ("TOXICITY", "IDENTITY_ATTACK")
        ]
        assert marked == [], text
