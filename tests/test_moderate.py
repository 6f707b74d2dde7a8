"""The one flow (score, then decide), its one rule for text it cannot score, the one HTML
stripper and the one highlighter."""

from __future__ import annotations

import pytest

from civility.highlight import segments
from civility.moderate import NO_TEXT_NOTE, decide, moderate, unscorable
from civility.policy import Decision, Policy, Reason
from civility.scorer import Scorer, Scores, Span
from civility.text import html_to_text, strip_html

SPANISH = "Esto es una vergüenza, el gobierno miente siempre y nadie dice nada."
RUDE = "You are a stupid idiot and everyone knows it."


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer().load()


def test_no_text_and_an_unsupported_language_are_the_two_reasons_not_to_score() -> None:
    assert unscorable(["", "   \n", None, SPANISH, "Gracias!", RUDE]) == [
        NO_TEXT_NOTE,
        NO_TEXT_NOTE,
        NO_TEXT_NOTE,
        "language es not supported",
        None,
        None,
    ]


def test_text_that_cannot_be_scored_is_held_unscored_and_the_rest_decided(scorer: Scorer) -> None:
    blank, spanish, rude = moderate(["  ", SPANISH, RUDE], scorer, Policy.default())
    assert (blank.scores, blank.decision, blank.note) == (None, Decision("hold"), NO_TEXT_NOTE)
    assert spanish.scores is None
    assert spanish.decision == Decision("hold", note="language es not supported")
    assert rude.scores is not None and rude.note is None
    assert rude.decision == Policy.default().decide(rude.scores) != Decision("approve")


def test_held_texts_can_be_scored_for_the_response_but_stay_held(scorer: Scorer) -> None:
    [spanish] = moderate([SPANISH], scorer, Policy.default(), score_held=True)
    assert spanish.scores is not None and spanish.scores.values
    assert spanish.decision == Decision("hold", note="language es not supported")


def test_scores_made_earlier_are_decided_by_the_same_rule() -> None:
    scores = Scores({"TOXICITY": 0.99})
    policy = Policy.from_dict({"thresholds": {"TOXICITY": {"reject": 0.9}}})
    rude, blank, spanish = decide([RUDE, "", SPANISH], [scores, None, None], policy)
    assert rude.decision.action == "reject"
    assert (blank.decision, blank.note) == (Decision("hold"), NO_TEXT_NOTE)
    assert spanish.decision.note == "language es not supported"


def test_a_decision_has_one_plain_data_form() -> None:
    d = Decision("hold", (Reason("INSULT", 0.123456789, 0.5, "hold"),), note="n")
    assert d.as_dict() == {
        "action": "hold",
        "reasons": [
            {"attribute": "INSULT", "score": 0.123456789, "threshold": 0.5, "action": "hold"}
        ],
        "note": "n",
    }
    assert d.as_dict(ndigits=3)["reasons"][0]["score"] == 0.123
    assert "note" not in Decision("approve").as_dict()


def test_html_text_keeps_offsets_even_for_a_reference_at_the_very_end() -> None:
    source = "<p>Tom &amp; Jerry</p> say &amp"
    text = strip_html(source)
    assert text.text == " Tom & Jerry  say &"
    assert source[slice(*text.to_original(len(text.text) - 1, len(text.text)))] == "&amp"


def test_a_quoted_angle_bracket_does_not_end_a_tag() -> None:
    source = "<a title='x>y'>idiot</a> tail"
    text = strip_html(source)
    assert text.text == "idiot tail"
    assert source[slice(*text.to_original(0, 5))] == "idiot"


def test_exported_html_keeps_paragraphs_and_drops_scripts() -> None:
    fragment = (
        "<ul><li>one</li><li>two &lt;3</li></ul><script>var x = 'kill';</script><p>a<br>b</p>"
    )
    assert html_to_text(fragment) == "one\n\ntwo <3\n\na\nb"
    assert html_to_text("a < b and c > d") == "a < b and c > d"


def test_the_highlighter_reads_store_lists_and_model_spans_alike() -> None:
    text = "go back to the shithole"
    values = {"PROFANITY": 0.85, "INSULT": 0.1}
    stored = segments(text, {"PROFANITY": [[15, 23, 0.3]], "INSULT": [[0, 2, 0.3]]}, values)
    scored = segments(
        text, {"PROFANITY": (Span(15, 23, 0.3),), "INSULT": (Span(0, 2, 0.3),)}, values
    )
    assert stored == scored
    assert [(s.text, s.attributes) for s in stored] == [
        ("go back to the ", ()),
        ("shithole", ("PROFANITY",)),
    ]
    # a deciding attribute shows even when its score is low
    decided = segments(text, {"INSULT": [[0, 2, 0.3]]}, values, ["INSULT"])
    assert decided[0] == segments("go", {"INSULT": [[0, 2, 0.3]]}, values, ["INSULT"])[0]
    assert decided[0].label == "INSULT +0.30"
