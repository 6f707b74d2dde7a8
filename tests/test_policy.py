"""Policies turn scores into decisions; bad policy files say what is wrong in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from civility.errors import InvalidInput, NotFound, UnknownAttribute
from civility.policy import Decision, Policy

POLICY = Policy.from_toml(
    """
    name = "test"
    [thresholds.TOXICITY]
    hold = 0.5
    reject = 0.9
    [thresholds.THREAT]
    hold = 0.3
    reject = 0.6
    [thresholds.PROFANITY]
    hold = 0.8
    """
)


def test_below_every_threshold_is_approved_without_reasons() -> None:
    assert POLICY.decide({"TOXICITY": 0.2, "THREAT": 0.1}) == Decision("approve", ())


def test_the_strictest_action_wins_and_every_crossed_threshold_is_a_reason() -> None:
    d = POLICY.decide({"TOXICITY": 0.55, "THREAT": 0.7, "PROFANITY": 0.85})
    assert d.action == "reject"
    assert [(r.attribute, r.action) for r in d.reasons] == [
        ("THREAT", "reject"),
        ("PROFANITY", "hold"),
        ("TOXICITY", "hold"),
    ]


def test_a_score_equal_to_the_threshold_crosses_it() -> None:
    assert POLICY.decide({"TOXICITY": 0.5}).action == "hold"


def test_attributes_without_thresholds_never_decide() -> None:
    assert POLICY.decide({"SPAM": 1.0}).action == "approve"


def test_the_default_policy_covers_every_attribute() -> None:
    from civility.attributes import NAMES

    assert set(Policy.default().thresholds) == set(NAMES)


def test_a_policy_round_trips_through_its_dict_form() -> None:
    assert Policy.from_dict(POLICY.to_dict()) == POLICY


@pytest.mark.parametrize(
    ("toml", "error", "message"),
    [
        ("[thresholds.TOXICITY\n", InvalidInput, "p.toml is not valid TOML"),
        (
            "[thresholds.TOXICTY]\nhold = 0.5\n",
            UnknownAttribute,
            "Unknown requested attribute: TOXICTY",
        ),
        (
            "[thresholds.TOXICITY]\nhold = 1.5\n",
            InvalidInput,
            "p.toml: thresholds.TOXICITY.hold must be a number in [0, 1]. Got 1.5.",
        ),
        (
            "[thresholds.TOXICITY]\nhold = 0.9\nreject = 0.5\n",
            InvalidInput,
            "p.toml: thresholds.TOXICITY: 'hold' must not exceed 'reject'.",
        ),
        (
            "[thresholds.TOXICITY]\nflag = 0.5\n",
            InvalidInput,
            "p.toml: thresholds.TOXICITY has unknown keys ['flag']; allowed: hold, reject.",
        ),
        (
            "[thresholds.TOXICITY]\nhold = -0.1\n",
            InvalidInput,
            "p.toml: thresholds.TOXICITY.hold must be a number in [0, 1]. Got -0.1.",
        ),
        (
            '[thresholds.TOXICITY]\nhold = "high"\n',
            InvalidInput,
            "p.toml: thresholds.TOXICITY.hold must be a number in [0, 1]. Got 'high'.",
        ),
        (
            "[thresholds.TOXICITY]\nhold = true\n",
            InvalidInput,
            "p.toml: thresholds.TOXICITY.hold must be a number in [0, 1]. Got True.",
        ),
        ("thresholds = 3\n", InvalidInput, "p.toml: 'thresholds' must be a table of attributes."),
    ],
    ids=[
        "syntax",
        "unknown-attribute",
        "out-of-range",
        "hold-above-reject",
        "unknown-key",
        "negative",
        "string",
        "boolean",
        "thresholds-not-a-table",
    ],
)
def test_bad_policy_files_are_one_line_errors(
    tmp_path: Path, toml: str, error: type, message: str
) -> None:
    path = tmp_path / "p.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(error) as info:
        Policy.load(path)
    assert str(info.value).replace(str(tmp_path) + "/", "").startswith(message)
    assert "\n" not in str(info.value)


def test_a_missing_policy_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        Policy.load(tmp_path / "none.toml")


def test_attribute_names_in_a_policy_are_case_insensitive() -> None:
    policy = Policy.from_toml("[thresholds.toxicity]\nhold = 0.5\n")
    assert list(policy.thresholds) == ["TOXICITY"]


def test_a_strict_policy_file_holds_what_the_default_lets_through() -> None:
    strict = Policy.load(Path(__file__).parent.parent / "examples" / "strict-policy.toml")
    scores = {"TOXICITY": 0.5, "THREAT": 0.3}
    assert Policy.default().decide(scores).action == "approve"
    assert strict.decide(scores).action == "hold"
    assert strict.decide(scores).attributes == ("TOXICITY", "THREAT")
