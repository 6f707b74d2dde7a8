"""Text normalisation sees through obfuscation and keeps offsets into the original text."""

from __future__ import annotations

import pytest

from civility.model.lexicon import FEATURES, features_of, strip_artefacts
from civility.text import normalize, normalize_text


@pytest.mark.parametrize(
    ("written", "word"),
    [
        ("f*ck", "fuck"),
        ("sh!t", "shit"),
        ("a s s h o l e", "asshole"),
        ("s.h.i.t", "shit"),
        ("idi0t", "idiot"),
        ("stuuupid", "stupid"),
        ("ѕtupіd", "stupid"),  # Cyrillic ѕ and і
        ("ＦＵＣＫ", "fuck"),  # full-width (NFKC)
        ("st\u200bu\u200dpid", "stupid"),  # zero-width space and joiner
        ("Idiót", "idiot"),  # accents
        ("m0r0n", "moron"),
    ],
)
def test_obfuscated_words_are_seen_through(written: str, word: str) -> None:
    norm = normalize(f"you {written} !")
    assert [t.norm for t in norm.tokens] == ["you", word]
    token = norm.tokens[1]
    assert norm.original[token.begin : token.end] == written


def test_plain_words_and_numbers_are_left_alone() -> None:
    assert normalize_text("In 2016 the 3rd covid19 wave hit 100 towns") == "in 2016 the 3rd covid19 wave hit 100 towns"
    assert normalize_text("Assess the classic grass") == "assess the classic grass"
    assert normalize_text("I am a queer person") == "i am a queer person"


def test_links_and_mentions_become_markers_that_ngram_features_never_see() -> None:
    text = normalize_text("@USER RT you are an idi0t http://t.co/abc www.spam.com")
    assert text == "xxuser rt you are an idiot xxurl xxurl"
    assert strip_artefacts(text) == "you are an idiot"


def test_links_are_found_in_any_case_and_entities_dropped() -> None:
    assert normalize_text("See Foo.COM/x or HTTP://X.ORG, &amp; ask @Editor") == "see xxurl or xxurl ask xxuser"
    assert normalize_text("no links here: just words, and co-operation") == "no links here just words and co operation"


def test_offsets_survive_non_ascii_text() -> None:
    original = "Ｈｅｌｌｏ, you ѕtupіd idі0t — 😀 bye"
    norm = normalize(original)
    assert [original[t.begin : t.end] for t in norm.tokens] == ["Ｈｅｌｌｏ", "you", "ѕtupіd", "idі0t", "bye"]
    assert norm.text == "hello you stupid idiot bye"


def test_lexicon_features_compose_words_into_abuse() -> None:
    def f(text: str) -> dict[str, float]:
        return dict(zip(FEATURES, features_of(normalize_text(text)), strict=True))

    assert f("you are a stupid idiot")["targeted_insult"] > 0
    assert f("he wrote a stupid idea")["targeted_insult"] == 0
    assert f("somebody should assassinate him")["threat_pattern"] > 0
    assert f("the airstrike killed twelve militants")["threat_pattern"] == 0
    assert f("I will kill you")["threat_at_you"] > 0
    assert f("I am a queer person")["identity_mention_only"] > 0
    assert f("muslims are vermin")["identity_negative"] > 0
    assert f("muslims are vermin")["identity_mention_only"] == 0
