"""Text normalisation sees through obfuscation and keeps offsets into the original text."""

from __future__ import annotations

import pytest

from civility.model.lexicon import FEATURES, features_of, strip_artefacts
from civility.text import WordNormalizer, normalize, normalize_text


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


@pytest.mark.parametrize(
    ("text", "words", "pieces"),
    [
        # An article or "I" beside letters joined by dots or dashes is a word of its own.
        ("you are a c-u-n-t", ["you", "are", "a", "cunt"], ["you", "are", "a", "c-u-n-t"]),
        ("I have a b-a-d day", ["i", "have", "a", "bad", "day"], None),
        ("a f. u. c. k", ["a", "fuck"], ["a", "f. u. c. k"]),
        ("s-h-i-t i said", ["shit", "i", "said"], ["s-h-i-t", "i", "said"]),
        ("a c-u", ["a", "c", "u"], None),  # what is left is too short to join
        # Between spaced letters, only when the rest is a known word and the whole is not.
        ("I am a b i t c h", ["i", "am", "a", "bitch"], ["I", "am", "a", "b i t c h"]),
        ("you b i t c h i hate you", ["you", "bitch", "i", "hate", "you"], None),
        ("a s s", ["ass"], ["a s s"]),
        ("a s s h o l e", ["asshole"], None),
        ("f u c k you", ["fuck", "you"], None),
        ("i d i o t", ["idiot"], None),
        ("a b a d", ["abad"], None),  # "bad" is no obfuscation target; see the vocabulary
        ("a-s-s", ["ass"], None),
    ],
)
def test_a_one_letter_word_is_not_glued_to_spaced_letters(
    text: str, words: list[str], pieces: list[str] | None
) -> None:
    norm = normalize(text)
    assert list(norm.words) == words
    if pieces is not None:
        assert [text[t.begin : t.end] for t in norm.tokens] == pieces
    assert WordNormalizer().words(text) == words


def test_the_vocabulary_decides_spaced_letters_beside_a_one_letter_word() -> None:
    assert normalize("I had a b a d day", {"bad"}).words == ("i", "had", "a", "bad", "day")
    # The whole, when known, wins over the part: "a l o n e" is "alone", not "a lone".
    assert normalize("a l o n e", {"alone", "lone"}).words == ("alone",)
    assert normalize("a l o n e", {"lone"}).words == ("a", "lone")


def test_plain_words_and_numbers_are_left_alone() -> None:
    assert (
        normalize_text("In 2016 the 3rd covid19 wave hit 100 towns")
        == "in 2016 the 3rd covid19 wave hit 100 towns"
    )
    assert normalize_text("Assess the classic grass") == "assess the classic grass"
    assert normalize_text("I am a queer person") == "i am a queer person"


def test_links_and_mentions_become_markers_that_ngram_features_never_see() -> None:
    text = normalize_text("@USER RT you are an idi0t http://t.co/abc www.spam.com")
    assert text == "xxuser rt you are an idiot xxurl xxurl"
    assert strip_artefacts(text) == "you are an idiot"


def test_links_are_found_in_any_case_and_entities_dropped() -> None:
    assert (
        normalize_text("See Foo.COM/x or HTTP://X.ORG, &amp; ask @Editor")
        == "see xxurl or xxurl ask xxuser"
    )
    assert (
        normalize_text("no links here: just words, and co-operation")
        == "no links here just words and co operation"
    )


def test_offsets_survive_non_ascii_text() -> None:
    original = "Ｈｅｌｌｏ, you ѕtupіd idі0t — 😀 bye"
    norm = normalize(original)
    assert [original[t.begin : t.end] for t in norm.tokens] == [
        "Ｈｅｌｌｏ",
        "you",
        "ѕtupіd",
        "idі0t",
        "bye",
    ]
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


# WordNormalizer skips offsets and most of normalize's work for plain ASCII text; its words
# must be normalize's, for texts that take the short way and for those that may not.
TRICKY = [
    "Plain words, nothing to undo.",
    "Don't stop 'til it's done!",
    "great!! wow!!!great sh!t",
    "a s s h o l e",
    "s.h.i.t",
    "f - u - c - k you",
    "you are a c-u-n-t",
    "I am a b i t c h i said",
    "plan a! b c",
    "I a m here",
    "x y",
    "1 2 3 go",
    "f*ck f*** sh#t a$$ @$$ |d|0t",
    "idi0t m0r0n 3rd 2016 covid19 1st's 80's 1000 10000000 a_1 ab_1",
    "stuuupid fuuuck soooo gooood",
    "@user hi",
    "AT&amp;T &lt;b&gt;",
    "see www.x.com or HTTP://a.org/b",
    "example.CO.uk and e.g. the .com bubble",
    "ＦＵＣＫ you",
    "Idiót ѕtupіd",
    "zero\u200bwidth",
    "İstanbul ﬁne",
    "tabs\tand\nnew lines",
    "",
    "   ",
    "!!!",
    "'quoted' and ''double''",
    "under_score __init__ ___",
    "o'clock rock'n'roll y'all'd've",
    "e-mail co-op - -- a-b-c",
    "U.S.A. and u.k.",
    "$100 5% #1 |pipe| 24/7",
]


@pytest.mark.parametrize("text", TRICKY)
def test_word_normalizer_gives_normalize_words(text: str) -> None:
    vocabulary = {"soo", "good", "stupid"}
    for vocab in (None, vocabulary):
        fast = WordNormalizer(vocab)
        assert fast.words(text) == list(normalize(text, vocab).words)
        assert fast.words(text) == list(normalize(text, vocab).words)  # from its word cache
        assert fast.text(text) == normalize(text, vocab).text


def test_word_normalizer_agrees_on_random_obfuscated_text() -> None:
    import random

    rng = random.Random(3)
    pieces = [
        "you",
        "idiot",
        "i",
        "a",
        "f*ck",
        "sh!t",
        "0",
        "1st",
        "www",
        ".",
        "-",
        " ",
        "  ",
        "!",
        "'",
        "s",
        "h",
        "t",
        "ooo",
        "@",
        "&",
        ".com",
        "é",
        "\u200b",
        "_",
        "$",
        "%",
        "#",
        "|",
        "5",
    ]
    fast = WordNormalizer()
    for _ in range(3000):
        text = "".join(
            rng.choice(pieces) + rng.choice(["", " ", ".", "-"])
            for _ in range(rng.randrange(1, 12))
        )
        assert fast.words(text) == list(normalize(text).words), text
