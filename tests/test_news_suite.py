"""The news-comment suite: a valid, unseen data file, scored per functionality, spans measured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civility.cli import app
from civility.errors import InvalidInput
from civility.moderate import POLICY_SCALE
from civility.scorer import Scores, Span
from civility.text import normalize_text
from civility.train import synthetic
from civility.train.evaluate import bias_frame
from civility.train.suite import (
    FUNCTIONALITIES,
    Case,
    evaluate_suite,
    is_stopword_span,
    load_suite,
    span_faithfulness,
)

ISSUE_CASES = (
    "I know where you live.",
    "I know where your kids go to school",
    "You'd better watch your back, journalist",
    "you are a worthless idiot and I will kill you",
    "This is fucking brilliant news!",
    "As a gay Muslim woman I think the article is fair",
    "you are a wonderful person",
    "What a surprising coincidence :)))",
)


class FakeScorer:
    """Scores by the first rule whose word the text holds; spans as given per text."""

    def __init__(
        self,
        rules: Sequence[tuple[str, Mapping[str, float]]],
        spans: Mapping[str, Mapping[str, tuple[Span, ...]]] | None = None,
    ) -> None:
        self.rules = rules
        self.spans = spans or {}

    def score(
        self,
        texts: Sequence[str],
        *,
        attributes: Sequence[str] | None = None,
        spans: bool = False,
        scale: str = "balanced",
    ) -> list[Scores]:
        out = []
        for text in texts:
            values = next((dict(v) for word, v in self.rules if word in text.split()), {})
            out.append(Scores(values=values, spans=self.spans.get(text, {}) if spans else {}))
        return out


def test_the_suite_holds_enough_checkable_unique_cases() -> None:
    cases = load_suite()
    by_functionality = {f: [c for c in cases if c.functionality == f] for f in FUNCTIONALITIES}
    assert len(cases) >= 200
    assert len(by_functionality) >= 15 and all(len(v) >= 8 for v in by_functionality.values())
    assert all(c.action or c.high or c.low for c in cases)
    assert len({c.id for c in cases}) == len(cases)
    assert len({normalize_text(c.text) for c in cases}) == len(cases)
    assert {c.text for c in cases} >= set(ISSUE_CASES)


def test_the_suite_pairs_cases_to_catch_with_cases_to_let_through() -> None:
    names = set(FUNCTIONALITIES)
    caught = {n for n in names if n.endswith("_h")}
    assert len(caught) >= 10 and len(names - caught) >= 10
    assert all(n.endswith(("_h", "_nh")) for n in names)


def test_the_long_comment_ending_in_an_insult_is_about_2_4_kb() -> None:
    case = next(c for c in load_suite() if c.text.endswith("You are a worthless idiot."))
    assert 2300 <= len(case.text.encode()) <= 2500
    assert case.high == ("INSULT",)


def test_no_suite_case_is_a_training_template_or_a_bias_sentence() -> None:
    # The suite is evaluation only; the corpora themselves were checked by a script (no hit).
    cases = {normalize_text(c.text) for c in load_suite()}
    assert not cases & {normalize_text(t) for t in synthetic.template_frame()["text"]}
    assert not cases & {normalize_text(t) for t in bias_frame()["text"]}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "{",
            "s.jsonl line 1: not a JSON object (Expecting property name enclosed in double quotes).",
        ),
        (
            '{"id": "a", "functionality": "friendly_nh", "text": ""}',
            "s.jsonl line 1: a case needs non-empty 'id', 'functionality' and 'text' strings.",
        ),
        (
            '{"id": "a", "functionality": "nope", "text": "t", "expect": {"action": "approve"}}',
            "s.jsonl line 1: unknown functionality 'nope'.",
        ),
        (
            '{"id": "a", "functionality": "friendly_nh", "text": "t", "expect": {}}',
            "s.jsonl line 1: the case states no expectation.",
        ),
        (
            '{"id": "a", "functionality": "friendly_nh", "text": "t", "expect": {"action": "hold"}}',
            "s.jsonl line 1: 'action' must be one of approve, flag. Got 'hold'.",
        ),
        (
            '{"id": "a", "functionality": "friendly_nh", "text": "t", "expect": {"low": ["RUDENESS"]}}',
            "s.jsonl line 1: unknown attribute 'RUDENESS'.",
        ),
        (
            '{"id": "a", "functionality": "friendly_nh", "text": "t", "expect": {"high": ["INSULT"], "low": ["INSULT"]}}',
            "s.jsonl line 1: an attribute cannot be both high and low.",
        ),
        (
            '{"id": "a", "functionality": "friendly_nh", "text": "t"}',
            "s.jsonl line 1: 'expect' must be an object with 'action', 'high' and/or 'low'.",
        ),
        (
            '{"id": "a", "functionality": "friendly_nh", "text": "t", "expect": {"high": "INSULT"}}',
            "s.jsonl line 1: 'high' and 'low' must be lists of attribute names.",
        ),
    ],
    ids=[
        "not-json",
        "empty-text",
        "unknown-functionality",
        "no-expectation",
        "bad-action",
        "bad-attribute",
        "high-and-low",
        "no-expect",
        "high-not-a-list",
    ],
)
def test_a_bad_case_is_refused_with_its_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        load_suite(path)
    assert str(info.value) == message


def test_a_duplicate_id_is_refused(tmp_path: Path) -> None:
    row = '{{"id": "a", "functionality": "friendly_nh", "text": "{t}", "expect": {{"action": "approve"}}}}'
    path = tmp_path / "s.jsonl"
    path.write_text(row.format(t="one") + "\n" + row.format(t="two") + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"^s.jsonl line 2: duplicate id 'a'.$"):
        load_suite(path)


def test_accuracy_is_computed_per_functionality_from_policy_action_and_attributes() -> None:
    scorer = FakeScorer(
        [
            (
                "kill",
                {"THREAT": 0.9, "TOXICITY": 0.6},
            ),  # rejected by the default policy (THREAT >= 0.7)
            ("watch", {"THREAT": 0.45}),  # held (THREAT >= 0.4) but not high
            ("fucking", {"PROFANITY": 0.99, "INSULT": 0.1}),  # held (PROFANITY >= 0.8)
            ("thanks", {"TOXICITY": 0.1}),
        ]
    )
    cases = [
        Case("t1", "threat_direct_h", "I will kill you", "flag", ("THREAT",)),
        Case("t2", "threat_direct_h", "watch out", "flag", ("THREAT",)),  # flagged, THREAT not high
        Case("p1", "profanity_nonabusive_nh", "fucking great", None, ("PROFANITY",), ("INSULT",)),
        Case("p2", "profanity_nonabusive_nh", "fucking thanks", "approve"),  # held, not approved
        Case("f1", "friendly_nh", "thanks a lot", "approve", (), ("TOXICITY",)),
    ]
    report = evaluate_suite(scorer, cases)
    per = report["per_functionality"]
    assert {k: v["accuracy"] for k, v in per.items()} == {
        "threat_direct_h": 0.5,
        "profanity_nonabusive_nh": 0.5,
        "friendly_nh": 1.0,
    }
    assert per["threat_direct_h"]["failed"] == ["t2"] and per["profanity_nonabusive_nh"][
        "failed"
    ] == ["p2"]
    assert report["overall"] == 0.6 and report["mean_functionality"] == pytest.approx(
        0.6667, abs=1e-4
    )


class _TwoScales:
    """THREAT 0.9 on the class-balanced scale, 0.1 on any other: shows which one is read."""

    def score(
        self,
        texts: Sequence[str],
        *,
        attributes: Sequence[str] | None = None,
        spans: bool = False,
        scale: str = "perspective",
    ) -> list[Scores]:
        return [Scores(values={"THREAT": 0.9 if scale == "balanced" else 0.1}) for _ in texts]


def test_the_suite_is_scored_on_the_scale_the_policy_decides_on() -> None:
    cases = [Case("t1", "threat_direct_h", "I will kill you", "flag", ("THREAT",))]
    assert POLICY_SCALE == "balanced"
    assert evaluate_suite(_TwoScales(), cases)["overall"] == 1.0


def test_span_faithfulness_counts_spans_that_carry_the_score_and_stopword_spans() -> None:
    text = "you are an idiot"
    spans = {text: {"INSULT": (Span(11, 16, 0.8), Span(4, 7, 0.1)), "TOXICITY": (Span(0, 3, 0.2),)}}
    scorer = FakeScorer(
        [("idiot", {"INSULT": 0.9, "TOXICITY": 0.3}), ("are", {"INSULT": 0.1, "TOXICITY": 0.1})],
        spans,
    )
    report = span_faithfulness(scorer, [text])
    # "idiot" carries INSULT; "are" does not; "you" is a stopword that carries nothing either.
    assert report["spans"] == 3
    assert report["per_attribute"]["INSULT"] == {
        "spans": 2,
        "span_lowers": 0.5,
        "word_lowers": 0.5,
        "stopwords_only": 0.5,
    }
    assert report["per_attribute"]["TOXICITY"] == {
        "spans": 1,
        "span_lowers": 0.0,
        "word_lowers": 0.0,
        "stopwords_only": 1.0,
    }
    assert report["stopwords_only"] == pytest.approx(2 / 3, abs=1e-4)
    # Only INSULT scores >= 0.5: of its two spans, one ("are") is a stopword.
    assert report["flagged_spans"] == 2 and report["flagged_stopwords_only"] == 0.5


@pytest.mark.parametrize(
    ("span", "stop"),
    [
        ("is", True),
        ("Syria to", False),
        ("where they are so", True),
        (":)))", True),
        ("watch your back", False),
        ("thin", False),
    ],
)
def test_a_span_of_stopwords_or_punctuation_alone_counts_as_stopwords(
    span: str, stop: bool
) -> None:
    assert is_stopword_span(span) is stop


def test_eval_suite_only_prints_accuracy_per_functionality_and_span_shares(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "--suite-only", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    cases = load_suite()
    assert (
        f"news-comment suite ({len(cases)} hand-written cases, {len(FUNCTIONALITIES)} functionalities;"
        in result.output
    )
    assert all(f"  {name} " in result.output for name in FUNCTIONALITIES)
    assert "span faithfulness on the suite (" in result.output
