"""Text normalisation that sees through obfuscation, with offsets into the original text.

Every token keeps the character offsets (Python code points, ``end`` exclusive) of the
stretch of the *original* text it came from, so spans found on normalised text can be
shown on what the user wrote.

What is undone: Unicode compatibility forms (NFKC), accents, homoglyphs (Cyrillic and Greek
look-alikes), zero-width characters, case, letter runs (``stuuupid``), leetspeak
(``idi0t``, ``a$$``), masking (``f*ck``, ``sh!t``) and spaced or dotted letters
(``a s s h o l e``, ``s.h.i.t``; an ``a`` or ``I`` beside them stays a word of its
own, ``a c-u-n-t``). URLs, @mentions and HTML entities become marker tokens.
"""

from __future__ import annotations

import functools
import html
import itertools
import re
import unicodedata
from collections.abc import Container
from dataclasses import dataclass
from functools import cached_property
from html.parser import HTMLParser

URL_TOKEN = "xxurl"
USER_TOKEN = "xxuser"

_ZERO_WIDTH = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u034f\u180e"
)

# Look-alike letters from other scripts, mapped to the Latin letter they imitate.
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ɡ": "g",
        "ο": "o",
        "α": "a",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "τ": "t",
        "υ": "u",
        "ρ": "p",
        "β": "b",
        "η": "n",
        "μ": "u",
        "ω": "w",
        "ѡ": "w",
        "һ": "h",
        "ք": "q",
        "ɑ": "a",
        "ı": "i",
        "ℓ": "l",
    }
)

_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
    "€": "e",
}
_MASK_CHARS = "*#%"

# Words obfuscation most often hides; masked or stretched tokens are resolved against these
# (and against the model's vocabulary when one is given).
_TARGET_WORDS: tuple[str, ...] = tuple(
    """
    fuck fucking fucked fucker fuckers fucks motherfucker shit shitty shits bullshit bitch bitches
    cunt cunts ass asses asshole assholes arse arsehole bastard bastards dick dicks dickhead cock
    cocks pussy pussies whore whores slut sluts fag fags faggot faggots nigger niggers nigga niggas
    retard retards retarded idiot idiots stupid moron morons damn crap piss pissed twat wanker
    wankers dumb dumbass jackass douche douchebag prick penis vagina tits boobs porn sex sexy rape
    raped kill killed die hell hate loser losers scum trash ugly fat gay kike spic chink wetback
    tranny dyke homo jerk suck sucks sucker
    """.split()
)
OBFUSCATION_TARGETS: frozenset[str] = frozenset(_TARGET_WORDS)

_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|org|net|ly|io|co|info|biz|ru|uk|de|tk|gl|be)(?:/\S*)?\b",
    re.IGNORECASE,
)
# A cheap test that a lower-cased text may hold a URL at all (most comments hold none).
_DOMAIN_HINT_RE = re.compile(r"\.(?:com|org|net|ly|io|co|info|biz|ru|uk|de|tk|gl|be)")


def _may_hold_url(lowered: str) -> bool:
    return "://" in lowered or "www." in lowered or _DOMAIN_HINT_RE.search(lowered) is not None


_MENTION_RE = re.compile(r"(?<![\w@])@\w+")
_ENTITY_RE = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{1,6}|#x[0-9a-fA-F]{1,6});")
# A word: letters, digits and the symbols that stand in for letters, with an apostrophe inside.
_WORD_RE = re.compile(r"[\w*#%@$|€]+(?:[!'][\w*#%@$|€]+)*")
_ORDINAL_RE = re.compile(r"^\d+(?:st|nd|rd|th|s)$")
_RUN_RE = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True, slots=True)
class Token:
    """A normalised word and where it stands in the original text."""

    norm: str
    begin: int
    end: int


@dataclass(frozen=True)
class Normalized:
    """The normalised form of a text: its words, where each stands in the original, and
    the words joined by spaces (``text``). ``tokens`` pairs them up on first use (scoring
    without spans never needs it)."""

    original: str
    words: tuple[str, ...]
    begins: tuple[int, ...]
    ends: tuple[int, ...]

    @cached_property
    def tokens(self) -> tuple[Token, ...]:
        return tuple(map(Token, self.words, self.begins, self.ends))

    @property
    def text(self) -> str:
        return " ".join(self.words)


@functools.lru_cache(maxsize=65_536)
def _fold_char(ch: str) -> str:
    """NFKC, accents stripped, homoglyphs mapped, case folded: one character in, 0..n out."""
    if ch in _ZERO_WIDTH:
        return ""
    out = unicodedata.normalize("NFKC", ch)
    out = "".join(c for c in unicodedata.normalize("NFKD", out) if not unicodedata.combining(c))
    return out.translate(_HOMOGLYPHS).casefold()


_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")


def fold(text: str) -> tuple[str, list[int]]:
    """Fold every character of ``text``; return the folded string and, per folded character,
    the index of the original character it came from."""
    if text.isascii():  # the common case: only case to fold, one character per character
        return text.lower(), list(range(len(text)))
    parts: list[str] = []
    index: list[int] = []
    pos = 0
    for m in _NON_ASCII_RE.finditer(text):
        begin, end = m.span()
        parts.append(text[pos:begin].lower())  # ASCII: one character per character
        index.extend(range(pos, begin))
        for i in range(begin, end):
            folded = _fold_char(text[i])
            parts.append(folded)
            index.extend([i] * len(folded))
        pos = end
    parts.append(text[pos:].lower())
    index.extend(range(pos, len(text)))
    return "".join(parts), index


def _deleet(word: str) -> str:
    if word.isalpha() or _ORDINAL_RE.match(word):
        return word
    letters = sum(c.isalpha() for c in word)
    if letters == 0:
        return word
    digits = sum(c.isdigit() for c in word)
    if digits >= letters:
        return word
    # Digits that end a word ("covid19", "mp3") are data, not leet.
    tail = re.search(r"(?<=[a-z])\d+$", word)
    cut = tail.start() if tail else len(word)
    return "".join(_LEET.get(c, c) for c in word[:cut]) + word[cut:]


def _unmask(word: str, vocabulary: Container[str] | None) -> str:
    """Resolve mask characters (``f*ck``, ``sh#t``, ``f***``) against known words."""
    if not any(c in _MASK_CHARS for c in word):
        return word
    stripped = word.strip(_MASK_CHARS)
    if not stripped:
        return word
    pattern = re.compile(
        "^" + "".join("[a-z]{1,3}" if c in _MASK_CHARS else re.escape(c) for c in word) + "$"
    )
    candidates = [w for w in _TARGET_WORDS if pattern.match(w)]
    if candidates:
        # Commoner words come first; prefer one letter per mask character.
        same = [w for w in candidates if len(w) == len(word)]
        return (same or candidates)[0]
    return "".join(c for c in word if c not in _MASK_CHARS)


def _unstretch(word: str, vocabulary: Container[str] | None) -> str:
    """Collapse letter runs (``stuuupid``, ``fuuuck``): prefer a known word, else runs of one."""
    if not _RUN_RE.search(word):
        return word
    two = _RUN_RE.sub(r"\1\1", word)
    one = re.sub(r"(.)\1+", r"\1", word)
    for candidate in (two, one):
        if candidate in OBFUSCATION_TARGETS:
            return candidate
    if vocabulary is not None:
        for candidate in (two, one):
            if candidate in vocabulary:
                return candidate
    return one


def normalize_word(word: str, vocabulary: Container[str] | None = None) -> str:
    """Normalise one folded word: leet, masks, letter runs."""
    if word.isalpha() and not _RUN_RE.search(word):  # the common case: nothing to undo
        return word
    word = word.strip("!|'")
    if not word:
        return ""
    word = _unmask(_deleet(word), vocabulary)
    word = re.sub(r"[^\w']", "", word)
    return _unstretch(word, vocabulary)


def _raw_tokens(folded: str) -> list[tuple[str, int, int, str]]:
    """(kind, begin, end, text) over the folded string; kind is url, user, word."""
    taken: list[tuple[int, int, str]] = []
    regexes = (
        ("url", _URL_RE if _may_hold_url(folded) else None),
        ("user", _MENTION_RE if "@" in folded else None),
        ("skip", _ENTITY_RE if "&" in folded else None),
    )
    for kind, regex in regexes:
        if regex is None:
            continue
        for m in regex.finditer(folded):
            if not any(b < m.end() and m.start() < e for b, e, _ in taken):
                taken.append((m.start(), m.end(), kind))
    if not taken:  # the common case: words only
        return [("word", m.start(), m.end(), m.group()) for m in _WORD_RE.finditer(folded)]
    taken.sort()
    out: list[tuple[str, int, int, str]] = []
    pos = 0
    for b, e, kind in [*taken, (len(folded), len(folded), "end")]:
        out.extend(
            ("word", m.start(), m.end(), m.group()) for m in _WORD_RE.finditer(folded, pos, b)
        )
        if kind in ("url", "user"):
            out.append((kind, b, e, folded[b:e]))
        pos = e
    return out


# The one-letter English words ("a", "I"): when spaced letters meet one of these they may be
# a real word beside an obfuscated one ("you are a c-u-n-t", "I am a b i t c h").
_ONE_LETTER_WORDS = frozenset("ai")


def _known(word: str, vocabulary: Container[str] | None) -> bool:
    return word in OBFUSCATION_TARGETS or (vocabulary is not None and word in vocabulary)


def _run_bounds(
    run: list[tuple[str, int, int, str]], folded: str, vocabulary: Container[str] | None
) -> tuple[int, int]:
    """The part ``run[b:e]`` of a run of single letters that spells one word, leaving out a
    leading or trailing ``a``/``i`` that is a word of its own.

    Two rules, both keeping ``a s s`` and ``f u c k`` whole:

    - Letters joined by separators (a dot or dash in every gap, ``c-u-n-t``, ``f. u. c. k``)
      never take in an ``a``/``i`` that only whitespace separates from them: ``a c-u-n-t``
      is ``a`` and ``cunt``.
    - Letters joined by whitespace alone give no such sign, so there the ``a``/``i`` stands
      apart only when the word without it is a known one (an obfuscation target or in
      ``vocabulary``) and the word with it is not: ``a b i t c h`` is ``a`` and ``bitch``,
      while ``a s s`` stays ``ass``. The word left must still have three letters.
    """
    n = len(run)
    spaces = [folded[x[2] : y[1]].isspace() for x, y in itertools.pairwise(run)]
    lead = run[0][3] in _ONE_LETTER_WORDS and spaces[0]
    trail = run[-1][3] in _ONE_LETTER_WORDS and spaces[-1]
    if not (lead or trail):
        return 0, n
    candidates = [
        (b, e)
        for b, e in ((1, n), (0, n - 1), (1, n - 1))
        if (lead or b == 0) and (trail or e == n)
    ]
    if not all(spaces):
        for b, e in candidates:
            if e - b >= 2 and not any(spaces[b : e - 1]):
                return b, e
        return 0, n

    def spelled(b: int, e: int) -> str:
        return normalize_word("".join(t[3] for t in run[b:e]), vocabulary)

    if _known(spelled(0, n), vocabulary):
        return 0, n
    for b, e in candidates:
        if e - b >= 3 and _known(spelled(b, e), vocabulary):
            return b, e
    return 0, n


def _join_spaced(
    items: list[tuple[str, int, int, str]],
    folded: str,
    vocabulary: Container[str] | None = None,
) -> list[tuple[str, int, int, str]]:
    """Join runs of three or more single letters split by a space, dot or dash (``a s s``),
    each without a one-letter word at its edge that stands apart (:func:`_run_bounds`)."""
    out: list[tuple[str, int, int, str]] = []
    i = 0
    while i < len(items):
        j = i
        while (
            j < len(items)
            and items[j][0] == "word"
            and len(items[j][3]) == 1
            and (j == i or re.fullmatch(r"[ .\-_]{1,2}", folded[items[j - 1][2] : items[j][1]]))
        ):
            j += 1
        if j - i >= 3:
            run = items[i:j]
            b, e = _run_bounds(run, folded, vocabulary)
            out.extend(run[:b])
            if e - b >= 3:
                out.append(("word", run[b][1], run[e - 1][2], "".join(t[3] for t in run[b:e])))
            else:
                out.extend(run[b:e])
            out.extend(run[e:])
            i = j
        else:
            out.append(items[i])
            i += 1
    return out


def normalize(text: str, vocabulary: Container[str] | None = None) -> Normalized:
    """Normalise ``text`` into tokens that carry offsets into ``text`` itself.

    ``vocabulary``, when given (the model's), decides between candidate spellings of
    stretched words.
    """
    folded, index = fold(text)
    words: list[str] = []
    begins: list[int] = []
    ends: list[int] = []
    for kind, b, e, raw in _join_spaced(_raw_tokens(folded), folded, vocabulary):
        if kind == "word":
            norm = normalize_word(raw, vocabulary)
            if not norm:
                continue
        else:
            norm = URL_TOKEN if kind == "url" else USER_TOKEN
        words.append(norm)
        begins.append(index[b])
        ends.append(index[e - 1] + 1)
    return Normalized(text, tuple(words), tuple(begins), tuple(ends))


# A single-character word, a gap of one or two spaces, dots or dashes, another, a gap, a third
# (in ASCII text): where this is absent, _join_spaced has nothing to join. _SPACED_HINT_RE is
# a cheaper test that the first must pass (it finds the gap before the second).
_SPACED_RE = re.compile(
    r"(?<![\w*#%@$|])[\w*#%@$|][ .\-]{1,2}[\w*#%@$|][ .\-]{1,2}[\w*#%@$|](?![\w*#%@$|])", re.ASCII
)
_SPACED_HINT_RE = re.compile(r"[ .\-][\w*#%@$|][ .\-]{1,2}[\w*#%@$|](?![\w*#%@$|])", re.ASCII)


def _plain_ascii(low: str) -> bool:
    """True when lower-cased ASCII ``low`` holds no URL, mention, entity or spaced letters."""
    if "@" in low or "&" in low or _may_hold_url(low):
        return False
    return not (_SPACED_HINT_RE.search(low) and _SPACED_RE.search(low))


# _WORD_RE for ASCII text, and the ASCII characters it never takes as a space.
_ASCII_WORD_RE = re.compile(r"[\w*#%@$|]+(?:[!'][\w*#%@$|]+)*", re.ASCII)
_NON_WORD_TO_SPACE = str.maketrans(
    {c: " " for c in map(chr, range(128)) if not re.fullmatch(r"[\w*#%@$|!']", c, re.ASCII)}
)


class WordNormalizer:
    """The normalised words of texts (``normalize(text).words``) without their offsets: the
    way to score when no spans are wanted.

    A text that is ASCII, holds no URL, mention or HTML entity and no spaced letters needs no
    text-level work: its words are what ``normalize`` finds in it lower-cased, each through
    :func:`normalize_word`, whose results are kept per distinct word (up to ``cache_size``).
    Any other text goes through :func:`normalize`. tests/test_text.py checks that both give
    ``normalize``'s words.
    """

    def __init__(self, vocabulary: Container[str] | None = None, cache_size: int = 100_000) -> None:
        self.vocabulary = vocabulary
        self.cache_size = cache_size
        self._cache = _WordCache(vocabulary)

    def words(self, text: str) -> list[str]:
        if text.isascii():
            low = text.lower()
            if _plain_ascii(low):
                if len(self._cache) > self.cache_size:
                    self._cache.clear()
                # Without a joining ! or ' the words are the runs of word characters, which
                # str.split finds faster than the regex once everything else is a space.
                raw = (
                    _ASCII_WORD_RE.findall(low)
                    if "'" in low or "!" in low
                    else low.translate(_NON_WORD_TO_SPACE).split()
                )
                return list(filter(None, map(self._cache.__getitem__, raw)))
        return list(normalize(text, self.vocabulary).words)

    def text(self, text: str) -> str:
        """The normalised words joined by single spaces (``normalize(text).text``)."""
        return " ".join(self.words(text))


class _WordCache(dict[str, str]):
    def __init__(self, vocabulary: Container[str] | None) -> None:
        super().__init__()
        self.vocabulary = vocabulary

    def __missing__(self, word: str) -> str:
        norm = self[word] = normalize_word(word, self.vocabulary)
        return norm


_PLAIN = WordNormalizer()


def normalize_text(text: str, vocabulary: Container[str] | None = None) -> str:
    """The normalised words of ``text`` joined by single spaces."""
    return (_PLAIN if vocabulary is None else WordNormalizer(vocabulary)).text(text)


# ---------------------------------------------------------------- HTML to text


# Tags that end a line or a block of text: in the text they become a break (``strip_html``).
HTML_BLOCK_TAGS = frozenset(
    {
        "br",
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "hr",
        "table",
        "section",
        "article",
    }
)
_HTML_SKIP = frozenset({"script", "style"})  # their content is not text


@dataclass(frozen=True)
class Plain:
    """Text, and for each of its characters where it came from in the original (code points)."""

    text: str
    begins: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, begin: int, end: int) -> tuple[int, int]:
        """Map a ``[begin, end)`` range of ``text`` to code-point offsets into the original."""
        if not self.text:
            return 0, 0
        b = self.begins[min(begin, len(self.text) - 1)]
        e = self.ends[max(min(end, len(self.text)) - 1, 0)]
        return b, max(b, e)


def plain(text: str) -> Plain:
    """``text`` as its own original."""
    n = len(text)
    return Plain(text, tuple(range(n)), tuple(range(1, n + 1)))


class _HtmlText(HTMLParser):
    """The one HTML-to-text pass (``strip_html``): text kept with its offsets, entities and
    character references decoded, tags dropped (block tags becoming a break), comments,
    declarations and the content of scripts and styles left out."""

    def __init__(self, source: str, lines: bool) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.lines = lines
        self.out: list[str] = []
        self.begins: list[int] = []
        self.ends: list[int] = []
        self.skipping: str | None = None
        self._line_starts = [0] + [k + 1 for k, ch in enumerate(source) if ch == "\n"]

    def _here(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _emit(self, chunk: str, begin: int, end: int) -> None:
        self.out.append(chunk)
        self.begins.extend([begin] * len(chunk))
        self.ends.extend([end] * len(chunk))

    def _break(self, tag: str, begin: int, end: int) -> None:
        if self.skipping is None and tag in HTML_BLOCK_TAGS:
            if not self.lines:
                self._emit(" ", begin, end)
            else:
                self._emit("\n" if tag == "br" else "\n\n", begin, end)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        begin = self._here()
        self._break(tag, begin, begin + len(self.get_starttag_text() or ""))
        if self.skipping is None and tag in _HTML_SKIP:
            self.skipping = tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        begin = self._here()
        self._break(tag, begin, begin + len(self.get_starttag_text() or ""))

    def handle_endtag(self, tag: str) -> None:
        begin = self._here()
        end = self.source.find(">", begin) + 1 or len(self.source)
        if self.skipping == tag:
            self.skipping = None
        else:
            self._break(tag, begin, end)

    def handle_data(self, data: str) -> None:
        if self.skipping is None:
            begin = self._here()
            self.out.append(data)
            self.begins.extend(range(begin, begin + len(data)))
            self.ends.extend(range(begin + 1, begin + len(data) + 1))

    def _reference(self, name: str) -> None:
        if self.skipping is not None:
            return
        begin = self._here()
        end = begin + 1 + len(name)
        if self.source.startswith(";", end):
            end += 1
        raw = self.source[begin:end]
        self._emit(html.unescape(raw), begin, end)

    def handle_entityref(self, name: str) -> None:
        self._reference(name)

    def handle_charref(self, name: str) -> None:
        self._reference("#" + name)


def strip_html(source: str, *, lines: bool = False) -> Plain:
    """The visible text of HTML, each character with its offsets into ``source``.

    Tags vanish, except ``HTML_BLOCK_TAGS``, which become a space (or, with ``lines``, a line
    break for ``<br>`` and a paragraph break for the others); entities and character
    references become their character (an unknown one stays as written); comments,
    declarations and what scripts and styles hold vanish. Built on ``html.parser``.
    """
    parser = _HtmlText(source, lines)
    # A space after the end settles a reference or tag the source ends in (``a &amp``), which
    # html.parser would otherwise leave undecoded or drop; what it adds is cut off below.
    parser.feed(source + " ")
    parser.close()
    n = len(parser.begins) - (parser.begins[-1:] == [len(source)])
    return Plain("".join(parser.out)[:n], tuple(parser.begins[:n]), tuple(parser.ends[:n]))


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment (``strip_html``), paragraphs separated by blank lines
    and spaces within a line collapsed."""
    text = strip_html(fragment, lines=True).text
    kept = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
