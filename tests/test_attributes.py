from __future__ import annotations

import pytest

from civility import attributes
from civility.errors import InvalidInput, UnknownAttribute


def test_every_served_perspective_attribute_is_registered_with_descriptions() -> None:
    assert attributes.NAMES == (
        "TOXICITY",
        "SEVERE_TOXICITY",
        "IDENTITY_ATTACK",
        "INSULT",
        "PROFANITY",
        "THREAT",
        "SEXUALLY_EXPLICIT",
        "FLIRTATION",
        "SPAM",
    )
    assert all(a.description.endswith(".") for a in attributes.ATTRIBUTES)
    assert [a.name for a in attributes.ATTRIBUTES if a.experimental] == ["FLIRTATION", "SPAM"]
    assert "FLIRTATION" not in attributes.UNSERVED


def test_names_are_matched_case_insensitively_as_perspective_clients_upper_case() -> None:
    assert attributes.normalize_names(["toxicity", " Threat "]) == ("TOXICITY", "THREAT")


def test_an_unknown_attribute_is_an_invalid_input_with_perspectives_message() -> None:
    with pytest.raises(UnknownAttribute) as info:
        attributes.get("FLIRTATIONS")
    assert isinstance(info.value, InvalidInput)
    assert str(info.value) == "Unknown requested attribute: FLIRTATIONS"
