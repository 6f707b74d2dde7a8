"""Hand-written word lists and the compositional features built from them.

The labelled data we have is small and mixed-domain, so a bag of words alone learns where a
text comes from. These lists carry what we know independently of any corpus: which words
are profane, insulting, sexual, slurs or dehumanising, which name identity groups, which
verbs threaten violence, which phrases sell. Features combine them the way abuse is built
("you" near an insult, someone "should" near a killing verb, a group near a dehumanising
word), so that a harmless mention of a group ("I am a queer person") carries no weight of
its own. All lists were written for civility (no third-party list is copied); they are
matched against *normalised* words (see :mod:`civility.text`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


PROFANE = _words(
    """
    fuck fucks fucked fucker fuckers fucking fuckin fuckwit fuckface motherfucker motherfuckers
    motherfucking mf shit shits shitty shite shithead shitheads shithole bullshit horseshit
    bitch bitches bitching bitchy cunt cunts asshole assholes arsehole arseholes ass asses arse
    dumbass jackass bastard bastards damn damned goddamn goddamned crap crappy piss pissed
    pissing dick dicks dickhead dickheads cock cocks cocksucker prick pricks twat twats wanker
    wankers bollocks bloody douche douchebag douchebags wtf stfu af bugger tits
    """
)
INSULTING = _words(
    """
    idiot idiots idiotic idiocy stupid stupidity moron morons moronic dumb dumber dumbest fool
    fools foolish loser losers retard retards retarded imbecile imbeciles cretin cretins clown
    clowns scum scumbag scumbags trash pathetic ignorant jerk jerks dimwit halfwit nitwit
    dope dopes dunce buffoon buffoons bozo twit twits lunatic lunatics psycho freak freaks creep
    creeps pig pigs hypocrite hypocrites liar liars coward cowards traitor traitors worthless
    useless disgusting disgrace shameful brainless clueless gullible sheep troll trolls hack
    hacks thug thugs crook crooks degenerate degenerates ugly fat lame sucker suckers
    asshat nutjob nutcase wacko sleazy slimy vile despicable idiotas libtard libtards
    """
)
SLURS = _words(
    """
    nigger niggers nigga niggas negro negroes kike kikes spic spics chink chinks wetback wetbacks
    faggot faggots fag fags dyke dykes tranny trannies raghead ragheads towelhead towelheads gook
    gooks kaffir paki pakis coon coons jigaboo beaner beaners muzzie muzzies yid yids sandnigger
    gypsies gyppo wop wops dago dagos camel jockey shemale retards mongoloid cripple cripples
    heeb hymie zionazi redskin redskins savages
    """
)
DEHUMANISING = _words(
    """
    vermin animals animal rats rat cockroaches cockroach parasites parasite subhuman subhumans
    savages savage filth filthy plague infestation disease diseased cancer scum trash garbage
    barbarians barbaric primitive inferior apes ape monkeys monkey dogs beasts swine leeches
    invaders infest breed breeding
    """
)
IDENTITY = _words(
    """
    muslim muslims islam islamic jew jews jewish judaism christian christians christianity
    catholic catholics hindu hindus sikh sikhs buddhist buddhists atheist atheists black blacks
    white whites asian asians african africans arab arabs latino latinos latina hispanic
    hispanics mexican mexicans chinese indian indians immigrant immigrants migrant migrants
    refugee refugees foreigner foreigners gay gays lesbian lesbians bisexual queer trans
    transgender homosexual homosexuals lgbt lgbtq women woman girls men man disabled deaf blind
    elderly old young jewish russian russians americans american syrian syrians kurd kurds
    turk turks iranian iranians israeli israelis palestinian palestinians male males female
    females straight heterosexual nonbinary european europeans protestant protestants teenage
    teenager teenagers
    """
)
THREAT_VERBS = _words(
    """
    kill kills killed killing murder murders murdered assassinate assassinated assassination
    shoot shoots shot shooting hang hanged hanging lynch lynched behead beheaded stab stabbed
    bomb bombed nuke execute executed execution slaughter slaughtered exterminate exterminated
    extermination strangle strangled torture tortured burn burned gas gassed bullet bullets
    die dies dead death rape raped beat beaten destroy eliminate annihilate wipe choke drown
    punch hurt
    """
)
THREAT_AGENTS = _words(
    """
    i i'll ill we we'll someone somebody anyone anybody someday should shall will gonna going
    must deserve deserves deserved ought need needs hope wish charity blessing let lets let's
    better gladly happily
    """
)
SECOND_PERSON = _words("you you're youre your yours yourself yourselves u ur ya")
SEXUAL = _words(
    """
    porn porno pornography sex sexy sexual sexually penis vagina cock cocks pussy pussies tits
    titties boobs blowjob cum horny naked nude nudes orgasm dildo anal erection masturbate
    masturbating hooker hookers slut sluts whore whores milf xxx nsfw fuck fucked fucking
    threesome genitals boner jerking suck sucking hentai webcam
    """
)
SPAM_WORDS = _words(
    """
    subscribe subscribed subscribers channel check visit click free win winner won prize cash
    offer call txt text reply claim urgent buy discount promo followers likes follow views
    video youtube mobile awarded guaranteed account apply bonus earn money income website
    download please share vote join sale shop deal order unlimited
    """
)
HATE_VERBS = _words("hate hates hated despise despises loathe loathes detest detests")
URL_TOKEN = "xxurl"

# Everything that shapes the features: changing a list changes the version, which the model
# artifact records and checks.
_ALL = (
    PROFANE,
    INSULTING,
    SLURS,
    DEHUMANISING,
    IDENTITY,
    THREAT_VERBS,
    THREAT_AGENTS,
    SECOND_PERSON,
    SEXUAL,
    SPAM_WORDS,
    HATE_VERBS,
)
LEXICON_VERSION = hashlib.sha256(
    "\n".join(" ".join(sorted(s)) for s in _ALL).encode("utf-8")
).hexdigest()[:16]

FEATURES: tuple[str, ...] = (
    "profane",
    "insulting",
    "slur",
    "dehumanising",
    "sexual",
    "spam_words",
    "url",
    "digits",
    "targeted_insult",
    "threat_pattern",
    "threat_at_you",
    "identity_negative",
    "identity_hate",
    "identity_mention_only",
    "hate_verb",
)
# Features that only the SPAM head may use: elsewhere they mark a corpus (tweets carry links).
SPAM_ONLY: frozenset[str] = frozenset({"url", "digits", "spam_words"})

_DIGITS_RE = re.compile(r"\d{5,}")  # phone numbers and codes, not years

# Tokens that mark where a text was posted (tweets' @USER, RT, URL), not what it says: the
# n-gram blocks never see them.
ARTEFACTS: tuple[str, ...] = ("xxuser", "rt", "url", "amp", "xxurl", "mt", "via")


_ARTEFACT_SET = frozenset(ARTEFACTS)
IDENTITY_TOKEN = "xxidentity"


def _without_artefacts(word: str) -> str | None:
    return None if word in _ARTEFACT_SET else word


def _ngram_word(word: str) -> str | None:
    if word in _ARTEFACT_SET:
        return None
    return IDENTITY_TOKEN if word in IDENTITY else word


def _view(text: str, word_view: Callable[[str], str | None]) -> str:
    return " ".join(v for t in text.split() if (v := word_view(t)) is not None)


def strip_artefacts(text: str) -> str:
    """``text`` (normalised) without source-artefact tokens."""
    return _view(text, _without_artefacts)


def ngram_view(text: str) -> str:
    """What the n-gram blocks see of a normalised text: no source artefacts, and every
    identity word replaced by one placeholder, so that no group's name carries weight of its
    own (attacks are learnt as patterns around any group; the lexicon block still sees the
    words themselves)."""
    return _view(text, _ngram_word)


# The same views word by word (None: the word is left out), by preprocessor name.
WORD_VIEWS = {"strip_artefacts": _without_artefacts, "ngram_view": _ngram_word}


# Each word's categories as bits. The first eight are counted as they are; the others feed
# the compositional features.
_TARGETABLE = INSULTING | PROFANE | SLURS
_NEGATIVE = INSULTING | DEHUMANISING | SLURS | PROFANE
_HOSTILE_ACTS = HATE_VERBS | THREAT_VERBS
_COUNTED: tuple[tuple[str, frozenset[str]], ...] = (
    ("profane", PROFANE),
    ("insulting", INSULTING),
    ("slur", SLURS),
    ("dehumanising", DEHUMANISING),
    ("sexual", SEXUAL),
    ("spam_words", SPAM_WORDS),
    ("url", frozenset({URL_TOKEN})),
    ("hate_verb", HATE_VERBS),
)
_CATEGORIES: tuple[tuple[str, frozenset[str]], ...] = (
    *_COUNTED,
    ("identity", IDENTITY),
    ("threat_verb", THREAT_VERBS),
    ("threat_agent", THREAT_AGENTS),
    ("second_person", SECOND_PERSON),
    ("targetable", _TARGETABLE),
    ("negative", _NEGATIVE),
    ("hostile", _HOSTILE_ACTS),
)
BIT: dict[str, int] = {name: 1 << i for i, (name, _) in enumerate(_CATEGORIES)}
_BITS: dict[str, int] = {}
for _name, _members in _CATEGORIES:
    for _word in _members:
        _BITS[_word] = _BITS.get(_word, 0) | BIT[_name]


def word_bits(word: str) -> int:
    """The lexicon categories ``word`` belongs to, as bits of :data:`BIT`."""
    return _BITS.get(word, 0)


def word_digit_runs(word: str) -> int:
    """How many runs of five or more digits ``word`` holds (phone numbers and codes, not
    years); a text's count is the sum of its words'."""
    return len(_DIGITS_RE.findall(word)) if len(word) >= 5 else 0


def batch_features(bits: IntArray, digit_runs: IntArray, doc_ptr: IntArray) -> FloatArray:
    """The lexicon features of a batch of texts, one row per text, from ``bits`` and
    ``digit_runs`` of every word of every text in order (``doc_ptr``: where each text's words
    begin, and the last text's end). Counts are log1p-scaled:

    - one count per word list (profane, insulting, slur, ...) and per run of 5+ digits;
    - targeted_insult: insulting, profane or slur words within 3 words of "you";
    - threat_pattern: violent verbs with an agent or modal ("someone", "should", "I'll") in
      the 5 words before; threat_at_you: of those, ones with "you" in the 3 words after;
    - identity_negative / identity_hate: negative words / hateful or violent verbs within 5
      words of an identity word; identity_mention_only: an identity word and none of those
      (nor a slur).

    tests/test_features.py holds the same definitions written word by word and checks them.
    """
    n_docs = len(doc_ptr) - 1
    lengths = np.diff(doc_ptr)
    doc = np.repeat(np.arange(n_docs), lengths)
    start = np.repeat(doc_ptr[:-1], lengths)
    end = np.repeat(doc_ptr[1:], lengths)

    def has(name: str) -> np.ndarray[Any, Any]:
        return np.asarray(bits & BIT[name] != 0)

    def per_doc(mask: np.ndarray[Any, Any]) -> IntArray:
        return np.bincount(doc[mask], minlength=n_docs)

    def near(a: str, b: str, window: int) -> IntArray:
        # Words within ``window`` of an ``a`` word (inside its own text) that are ``b`` words.
        pos = np.flatnonzero(has(a))
        if not pos.size:
            return np.zeros(n_docs, dtype=np.int64)
        marks = np.zeros(len(bits) + 1, dtype=np.int64)
        np.add.at(marks, np.maximum(pos - window, start[pos]), 1)
        np.add.at(marks, np.minimum(pos + window + 1, end[pos]), -1)
        return per_doc((np.cumsum(marks[:-1]) > 0) & has(b))

    count = {name: per_doc(has(name)) for name, _ in _COUNTED}
    count["digits"] = np.bincount(doc, weights=digit_runs, minlength=n_docs).astype(np.int64)
    count["targeted_insult"] = near("second_person", "targetable", 3)
    verbs = np.flatnonzero(has("threat_verb"))
    agents = np.concatenate(([0], np.cumsum(has("threat_agent"))))
    readers = np.concatenate(([0], np.cumsum(has("second_person"))))
    agent_before = agents[verbs] - agents[np.maximum(verbs - 5, start[verbs])] > 0
    reader_after = readers[np.minimum(verbs + 4, end[verbs])] - readers[verbs + 1] > 0
    count["threat_pattern"] = np.bincount(doc[verbs[agent_before]], minlength=n_docs)
    count["threat_at_you"] = np.bincount(doc[verbs[agent_before & reader_after]], minlength=n_docs)
    identity = per_doc(has("identity"))
    count["identity_negative"] = near("identity", "negative", 5)
    count["identity_hate"] = near("identity", "hostile", 5)
    hostile = (count["identity_negative"] > 0) | (count["identity_hate"] > 0) | (count["slur"] > 0)
    count["identity_mention_only"] = ((identity > 0) & ~hostile).astype(np.int64)
    counts = np.column_stack(
        [np.asarray(count[name], dtype=np.int64) for name in FEATURES]
    ).reshape(n_docs, len(FEATURES))
    # math.log1p of each count (numpy's log1p may differ from it in the last bit).
    log1p = np.array([math.log1p(k) for k in range(int(counts.max(initial=0)) + 1)])
    return np.asarray(log1p[counts], dtype=np.float64)


def texts_features(texts: Sequence[str]) -> FloatArray:
    """:func:`batch_features` of normalised texts (words joined by spaces)."""
    words = [t.split() for t in texts]
    flat = [w for ws in words for w in ws]
    doc_ptr = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum([len(ws) for ws in words], out=doc_ptr[1:])
    bits = np.array([word_bits(w) for w in flat], dtype=np.int64)
    digit_runs = np.array([word_digit_runs(w) for w in flat], dtype=np.int64)
    return batch_features(bits, digit_runs, doc_ptr)


def features_of(text: str) -> list[float]:
    """The lexicon features of one normalised text, in the order of :data:`FEATURES`."""
    return [float(v) for v in texts_features([text])[0]]


class LexiconBlock:
    """A feature block like the TF-IDF ones: ``transform(texts) -> csr_matrix``."""

    name = "lexicon"
    params: ClassVar[dict[str, Any]] = {"analyzer": "lexicon", "version": LEXICON_VERSION}

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def fit(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self.transform(texts)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return sp.csr_matrix(texts_features(texts) * self.scale)

    @property
    def size(self) -> int:
        return len(FEATURES)

    @property
    def vocabulary(self) -> dict[str, int]:
        return {}
