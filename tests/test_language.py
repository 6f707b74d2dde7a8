"""The language rule: what is read as another language, and what is kept as English."""

from __future__ import annotations

import pytest

from civility.language import detect, read_as


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Esto es una vergüenza, el gobierno miente siempre.", "es"),
        ("Merci pour cet article très intéressant, enfin du vrai journalisme.", "fr"),
        ("Политики думают только о себе.", "ru"),  # Russian or Ukrainian: not English
        ("Thanks for the kind article, well done.", "en"),
    ],
)
def test_a_long_enough_text_is_read_as_its_language(text: str, language: str) -> None:
    assert detect(text).language == language


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "lol",
        "Gracias!",
        "Merci !",
        "👍👍",
        "@someone_with_a_long_handle naw http://example.com/a/very/long/link",
        "Great article, muchas gracias!",
        "He said “no pasarán” and then left the meeting early.",
    ],
)
def test_short_texts_and_mostly_english_texts_are_read_as_english(text: str) -> None:
    assert detect(text).language == "en"
    assert detect(text).reason is None


def test_a_lone_english_looking_word_does_not_make_a_foreign_text_english() -> None:
    # "a" and "to" are common English words, but one is not enough.
    assert detect("Te voy a encontrar y te vas a arrepentir de todo.").language == "es"


def test_an_unsure_detector_reads_english() -> None:
    assert read_as("some text of twenty letters or more", [("nl", 0.4), ("en", 0.3)]) == "en"
    assert read_as("some text of twenty letters or more", [("nl", 0.4), ("de", 0.2)]) == "en"
    assert read_as("de tekst heeft twintig letters of meer", [("nl", 0.9)]) == "nl"


def test_detected_languages_are_the_likely_ones_most_likely_first() -> None:
    found = detect("Esto es una vergüenza, el gobierno miente siempre.")
    assert found.detected[0] == "es" and found.reason == "language es not supported"
    assert detect("👍👍").detected == []
