"""Which language a comment is written in, and whether civility can score it.

civility's model reads English only (``SUPPORTED_LANGUAGES``). A comment in another language
must not be scored as if it were English: the Perspective door refuses it as Perspective does
(``LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE``) and ``analyze``, ``import`` and ``batch`` hold it for
a moderator with the reason ``language xx not supported``.

The detector is py3langid (a naive Bayes model over byte n-grams; numpy, its model inside
the wheel, no download, deterministic), restricted to ``LANGUAGES``, the languages a comment
section is likely to see: the more languages it weighs, the more short English comments it
mistakes for Tswana or Volapük. ``benchmarks/language.py`` compares it with lingua and CLD2 on
short comments; docs/language.md has the figures and the reasons for the choice.

Detection is unreliable on short texts and mixed texts, and a wrongly refused English comment
costs more than a foreign one scored as English, so a text is read as another language only
when every one of these holds (``read_as``):

* it has at least ``MIN_LETTERS`` letters once links, @mentions and HTML entities are set
  aside (``ok``, ``lol``, ``Gracias!``, emoji, ``@someone naw``: English);
* the detector's first language is not English, and it and the runner-up (unless that is
  English) have at least ``MIN_CONFIDENCE`` between them (Russian or Ukrainian: unsure which,
  sure it is not English);
* English is not a close second: its confidence is below ``MAX_ENGLISH``;
* its words are not English enough: a text where at least two words, and at least
  ``ENGLISH_SHARE`` of them, are common English words (``the``, ``and``, ``you`` ...) is
  English, so a mostly English comment that quotes a foreign phrase stays English, while a
  lone ``a`` or ``so`` in Spanish or German does not make it English.

Otherwise the text is read as English and scored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en",)

# ISO 639-1 codes the detector chooses among.
LANGUAGES: tuple[str, ...] = tuple(
    """
    en es fr de it pt nl pl ru uk tr sv da no fi cs sk hu ro bg el hr sr sl ca
    ar he fa ur hi bn zh ja ko vi th id
    """.split()
)
MIN_LETTERS = 20
MIN_CONFIDENCE = 0.7
MAX_ENGLISH = 0.1
ENGLISH_SHARE = 0.3
# The detector reads a comment's first DETECT_CHARS characters (its cost grows with length).
DETECT_CHARS = 2000
# Languages reported in ``detectedLanguages``: at most this many, each at least this likely.
REPORTED = 3
REPORTED_MIN = 0.1

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# What says nothing of a comment's language: links, @mentions, HTML entities and tags.
_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+|&#?\w+;|</?[a-zA-Z][^>]*>")

ENGLISH_COMMON = frozenset(
    """
    the a an and or but if of to in on at by for with from as is are was were be been being am
    i you he she it we they me him her us them my your his its our their this that these those
    not no do does did have has had will would can could should shall may might must what who
    why how when where which there here so just all any some very more most than then too also
    up out about into over only own same such both each few other get got go going like know
    think people one s t don't it's i'm you're that's
    """.split()
)


@dataclass(frozen=True)
class Detection:
    """What the detector found in one text, and the language civility reads it as."""

    ranked: tuple[tuple[str, float], ...]
    """The detector's languages with their confidence, most likely first."""
    language: str
    """The language civility reads the text as: ``en`` unless ``read_as`` says otherwise."""

    @property
    def supported(self) -> bool:
        return self.language in SUPPORTED_LANGUAGES

    @property
    def detected(self) -> list[str]:
        """Perspective's ``detectedLanguages``: what the detector found, most likely first."""
        return [code for code, value in self.ranked[:REPORTED] if value >= REPORTED_MIN]

    @property
    def reason(self) -> str | None:
        """``language xx not supported`` when the text cannot be scored, else ``None``."""
        return None if self.supported else unsupported_reason(self.language)


def unsupported_reason(code: str) -> str:
    return f"language {code} not supported"


def clean(text: str) -> str:
    """``text`` without what says nothing of its language (links, @mentions, HTML entities)."""
    return _NOISE.sub(" ", text)


def letters(text: str, *, cleaned: bool = False) -> int:
    return sum(ch.isalpha() for ch in (text if cleaned else clean(text)))


def english_words(text: str, *, cleaned: bool = False) -> bool:
    """Whether at least two words, and ``ENGLISH_SHARE`` of them, are common English words."""
    words = _WORD.findall(text if cleaned else clean(text))
    hits = sum(w.lower() in ENGLISH_COMMON for w in words)
    return hits >= 2 and hits >= ENGLISH_SHARE * len(words)


def read_as(text: str, ranked: Sequence[tuple[str, float]]) -> str:
    """The language civility reads ``text`` as, given the detector's ranking (see the module)."""
    if not ranked or letters(text) < MIN_LETTERS:
        return "en"
    top, confidence = ranked[0]
    if len(ranked) > 1 and ranked[1][0] != "en":
        confidence += ranked[1][1]  # Russian or Ukrainian: unsure which, sure it is not English
    if top == "en" or confidence < MIN_CONFIDENCE:
        return "en"
    if dict(ranked).get("en", 0.0) >= MAX_ENGLISH or english_words(text):
        return "en"
    return top


@cache
def _detector() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def _ranked(text: str) -> tuple[tuple[str, float], ...]:
    ranked = _detector().rank(clean(text)[:DETECT_CHARS])
    return tuple((str(code), round(float(p), 4)) for code, p in ranked[:5] if p >= 1e-4)


def detect(text: str) -> Detection:
    """Detect the language of one text."""
    return detect_all([text])[0]


def detect_all(texts: Sequence[str]) -> list[Detection]:
    """Detect the language of each text (a text without letters is English: nothing to detect)."""
    out = []
    for text in texts:
        ranked = _ranked(text) if letters(text) else ()  # nothing to detect: English
        out.append(Detection(ranked, read_as(text, ranked)))
    return out


def unsupported(texts: Sequence[str]) -> list[str | None]:
    """For each text, ``language xx not supported`` when it cannot be scored, else ``None``.

    Texts that ``read_as`` keeps as English whatever the detector says (too short, or English
    words enough: 95% of news comments) skip the detector, which would otherwise halve the
    speed of ``civility batch``."""
    out: list[str | None] = []
    for text in texts:
        cleaned = clean(text)
        if letters(cleaned, cleaned=True) < MIN_LETTERS or english_words(cleaned, cleaned=True):
            out.append(None)
        else:
            out.append(detect(text).reason)
    return out
