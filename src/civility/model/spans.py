"""``SpanTagger``: which tokens of a text belong to a toxic span.

A logistic classifier per head over hashed, sparse token features: the normalised word, its
character n-grams (so unseen spellings of a known word still score), its neighbours, whether
it follows a second-person phrase (``you ___``), whether it is in a built-in list of
offensive words, and whether the writer disguised it. Head ``toxic`` is generic; typed heads
(``insult``, ``threat``, ``identity_attack``, ``profane``) are trained where typed spans exist.

Saved as ``span_tagger.npz`` (arrays only, loaded with ``allow_pickle=False``) and
``span_tagger.json`` (heads, thresholds, version, the SHA-256 of the npz, checked on load).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from civility.errors import ModelError
from civility.text import OBFUSCATION_TARGETS, Normalized, normalize

TAGGER_FORMAT = 1
ARRAYS_FILE = "span_tagger.npz"
META_FILE = "span_tagger.json"
GENERIC = "toxic"
HEADS: tuple[str, ...] = (GENERIC, "insult", "threat", "identity_attack", "profane")
N_BITS = 20
_PRUNE = 0.002
_SILENT = -30.0  # the intercept of a head fitted on one class only: its probability is ~1e-13

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

# Offensive words beyond the obfuscation targets of text.py: insults, slurs' common forms,
# threats and contempt words that annotators mark in news comments.
LEXICON: frozenset[str] = OBFUSCATION_TARGETS | frozenset(
    """
    idiotic idiocy stupidity stupidest stupider dumber dumbest dummy dummies dunce imbecile
    imbeciles imbecilic cretin cretins halfwit nitwit dimwit dimwits numbskull fool fools foolish
    moronic ignorant ignoramus clown clowns buffoon buffoons loon loons lunatic lunatics
    maniac maniacs nutjob nutcase nuts crazy insane psycho psychos pathetic worthless useless
    scumbag scumbags lowlife lowlifes vermin parasite parasites pig pigs swine rat rats snake
    snakes weasel weasels coward cowards cowardly hypocrite hypocrites hypocritical liar liars
    lying thug thugs thief thieves crook crooks criminal criminals traitor traitors treasonous
    disgusting disgrace disgraceful despicable vile evil sick sicko creep creepy pervert
    perverts pedophile pedophiles pedo racist racists bigot bigots bigoted nazi nazis fascist
    fascists commie commies libtard libtards libtart trumptard dotard deplorable deplorables
    snowflake snowflakes sheep sheeple troll trolls garbage rubbish filth filthy scum
    shithole shitty bullcrap crappy damned goddamn goddamned hell bloody bugger bollocks
    fucktard dipshit shithead jackasses asshat dumbasses douchebags pricks dicks twats
    murder murderer murderers shoot shot hang hanged lynch burn kill killing killer killers
    stab beat die dead destroy
    """.split()
)
SECOND_PERSON: frozenset[str] = frozenset("you your you're youre ur u yourself yours ya".split())
_STRIP_RE = re.compile(r"[^\w]")


def _hash(feature: str, mask: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) & mask


class _Featurizer:
    """Hashed token features, with per-word results cached (words repeat a lot)."""

    def __init__(self, n_bits: int) -> None:
        self.mask = (1 << n_bits) - 1
        self._word_cache: dict[str, list[int]] = {}
        self._ctx_cache: dict[tuple[str, str], int] = {}

    def _word(self, word: str) -> list[int]:
        cached = self._word_cache.get(word)
        if cached is not None:
            return cached
        m = self.mask
        feats = [_hash("w:" + word, m)]
        padded = f"<{word}>"
        for n in (3, 4, 5):
            feats.extend(
                _hash(f"c{n}:{padded[k : k + n]}", m) for k in range(max(1, len(padded) - n + 1))
            )
        if word in LEXICON:
            feats.append(_hash("lex", m))
        elif len(word) >= 5 and any(word.startswith(w) for w in _LEX_STEMS):
            feats.append(_hash("lexstem", m))
        if len(self._word_cache) < 500_000:
            self._word_cache[word] = feats
        return feats

    def _ctx(self, prefix: str, word: str) -> int:
        key = (prefix, word)
        cached = self._ctx_cache.get(key)
        if cached is None:
            cached = _hash(f"{prefix}:{word}", self.mask)
            if len(self._ctx_cache) < 1_000_000:
                self._ctx_cache[key] = cached
        return cached

    def text(self, norm: Normalized) -> list[list[int]]:
        words = [t.norm for t in norm.tokens]
        n = len(words)
        m = self.mask
        out: list[list[int]] = []
        for k, (word, tok) in enumerate(zip(words, norm.tokens, strict=True)):
            feats = [_hash("bias", m), *self._word(word)]
            prev = words[k - 1] if k > 0 else "<s>"
            prev2 = words[k - 2] if k > 1 else "<s>"
            nxt = words[k + 1] if k + 1 < n else "</s>"
            nxt2 = words[k + 2] if k + 2 < n else "</s>"
            feats += [
                self._ctx("p1", prev),
                self._ctx("p2", prev2),
                self._ctx("n1", nxt),
                self._ctx("n2", nxt2),
                self._ctx("bg", f"{prev}|{word}"),
                self._ctx("fg", f"{word}|{nxt}"),
            ]
            if any(w in SECOND_PERSON for w in words[max(0, k - 3) : k]):
                feats.append(_hash("you3", m))
            if prev in LEXICON or nxt in LEXICON:
                feats.append(_hash("lexnb", m))
            raw = norm.original[tok.begin : tok.end]
            if _STRIP_RE.sub("", raw.casefold()) != word:
                feats.append(_hash("obf", m))
            if len(raw) > 1 and raw.isupper():
                feats.append(_hash("caps", m))
            out.append(feats)
        return out

    def matrix(self, norms: Sequence[Normalized]) -> sp.csr_matrix:
        """One row per token of every text, in order."""
        indices: list[int] = []
        indptr = [0]
        for norm in norms:
            for feats in self.text(norm):
                indices.extend(feats)
                indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.float64)
        x = sp.csr_matrix(
            (data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
            shape=(len(indptr) - 1, self.mask + 1),
        )
        x.sum_duplicates()
        return x


_LEX_STEMS: tuple[str, ...] = tuple(sorted(w for w in LEXICON if len(w) >= 4))


def _sigmoid(z: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class SpanTagger:
    """Token-level toxic-span classifier; ``fit`` or ``load`` before ``tag``."""

    threshold: dict[str, float] = field(default_factory=dict)
    fallback: float = 1.0
    # Generic head: tokens at least ``relative`` times as likely as the post's likeliest one
    # are tagged too, where that one clears ``fallback`` (1.0: off).
    relative: float = 1.0
    version: str = "dev"
    n_bits: int = N_BITS
    heads_: tuple[str, ...] = ()
    coef_: FloatArray | None = None  # (n_heads, 2**n_bits)
    intercept_: FloatArray | None = None  # (n_heads,)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._featurizer = _Featurizer(self.n_bits)

    # -- fitting -----------------------------------------------------------------------
    def fit(
        self,
        norms: Sequence[Normalized],
        labels: Mapping[str, Sequence[Sequence[int] | None]],
        *,
        seed: int = 0,
        c: float = 0.1,
    ) -> SpanTagger:
        """Fit one head per key of ``labels``: per text, a 0/1 label per token, or ``None``
        where that text says nothing about the head. ``toxic`` must be among the heads."""
        from sklearn.linear_model import LogisticRegression

        if GENERIC not in labels:
            raise ModelError(
                f"SpanTagger.fit needs labels for the '{GENERIC}' head. Got {sorted(labels)}."
            )
        x = self._featurizer.matrix(norms)
        offsets = np.cumsum([0, *(len(n.tokens) for n in norms)])
        heads = [h for h in HEADS if h in labels] + [h for h in labels if h not in HEADS]
        coef = np.zeros((len(heads), 1 << self.n_bits))
        intercept = np.full(len(heads), _SILENT)  # a head with nothing to learn never fires
        for j, head in enumerate(heads):
            rows: list[int] = []
            ys: list[int] = []
            for i, lab in enumerate(labels[head]):
                if lab is None:
                    continue
                if len(lab) != len(norms[i].tokens):
                    raise ModelError(
                        f"Text {i} has {len(norms[i].tokens)} tokens but {len(lab)} '{head}' labels."
                    )
                rows.extend(range(int(offsets[i]), int(offsets[i + 1])))
                ys.extend(int(v) for v in lab)
            y = np.asarray(ys)
            if len(np.unique(y)) < 2:
                continue  # nothing to learn: zero weights and a very negative intercept
            # The dual solver is ~7x faster than the primal one here (many more tokens than active
            # features per token) and reaches the same weights.
            clf = LogisticRegression(
                C=c, solver="liblinear", dual=True, random_state=seed, max_iter=1000
            )
            clf.fit(x[rows], y)
            # Weights under _PRUNE are dropped (they move a token's log-odds by a few hundredths
            # at most) and the rest rounded to the float16 the artifact stores, which keeps it
            # under 5 MB and makes a loaded tagger tag identically.
            w = clf.coef_[0]
            coef[j] = np.where(np.abs(w) < _PRUNE, 0.0, w).astype(np.float16)
            intercept[j] = clf.intercept_[0]
        self.heads_ = tuple(heads)
        self.coef_ = coef
        self.intercept_ = intercept
        for head in heads:
            self.threshold.setdefault(head, 0.5)
        return self

    # -- inference ---------------------------------------------------------------------
    def _weights(self) -> tuple[FloatArray, FloatArray]:
        if self.coef_ is None or self.intercept_ is None:
            raise ModelError("SpanTagger is not fitted: call fit() or SpanTagger.load() first.")
        return self.coef_, self.intercept_

    def tag_many(self, norms: Sequence[Normalized]) -> list[dict[str, FloatArray]]:
        """Probabilities per head per token for every text: one vectorised pass."""
        coef, intercept = self._weights()
        x = self._featurizer.matrix(norms)
        probs = (
            _sigmoid(np.asarray(x @ coef.T) + intercept)
            if x.shape[0]
            else np.zeros((0, len(self.heads_)))
        )
        out: list[dict[str, FloatArray]] = []
        start = 0
        for norm in norms:
            stop = start + len(norm.tokens)
            out.append({h: probs[start:stop, j] for j, h in enumerate(self.heads_)})
            start = stop
        return out

    def tag(self, norm: Normalized, head: str = GENERIC) -> list[float]:
        """Probability, per token of ``norm``, that it belongs to a span of ``head``."""
        self._check_head(head)
        return [float(p) for p in self.tag_many([norm])[0][head]]

    def selected(
        self, probs: FloatArray, head: str = GENERIC, *, fallback: bool = True
    ) -> list[int]:
        """Token indices tagged for ``head``: those over its threshold; for the generic head
        (and ``fallback``), where the likeliest token clears ``self.fallback`` (in a post
        known to be toxic, something is), that token and every token at least
        ``self.relative`` times as likely: a post's spans are its likeliest words, whatever
        the tagger's absolute confidence in them."""
        over = probs >= self.threshold.get(head, 0.5)
        if fallback and head == GENERIC and len(probs):
            top = float(probs.max())
            if top >= self.fallback and self.relative < 1.0:
                over = over | (probs >= self.relative * top)
            elif top >= self.fallback and not over.any():
                over[int(np.argmax(probs))] = True
        return [int(k) for k in np.flatnonzero(over)]

    def spans(self, text: str, head: str = GENERIC) -> list[tuple[int, int, float]]:
        """Merged character spans of ``text`` (original offsets) with their highest token
        probability."""
        self._check_head(head)
        norm = normalize(text)
        probs = self.tag_many([norm])[0][head]
        return [
            (norm.tokens[g[0]].begin, norm.tokens[g[-1]].end, float(probs[g].max()))
            for g in merge_tokens(norm, self.selected(probs, head))
        ]

    def _check_head(self, head: str) -> None:
        self._weights()
        if head not in self.heads_:
            raise ModelError(
                f"Span head {head!r} is not in this tagger. Known heads: {', '.join(self.heads_)}."
            )

    # -- artifact ----------------------------------------------------------------------
    def save(self, directory: Path) -> Path:
        """Write ``span_tagger.npz`` and ``span_tagger.json``; return the json's path."""
        coef, intercept = self._weights()
        directory.mkdir(parents=True, exist_ok=True)
        # Most hashed features are never seen: store the non-zero columns only.
        used = np.flatnonzero(np.any(coef != 0, axis=0)).astype(np.int32)
        arrays: dict[str, np.ndarray[Any, Any]] = {
            "index": used,
            "coef": coef[:, used].astype(np.float16),
            "intercept": intercept.astype(np.float64),
        }
        arrays_path = directory / ARRAYS_FILE
        with zipfile.ZipFile(arrays_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(arrays):
                buf = io.BytesIO()
                np.lib.format.write_array(buf, arrays[name], allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, buf.getvalue())
        meta = {
            "format": TAGGER_FORMAT,
            "kind": "span_tagger",
            "version": self.version,
            "heads": list(self.heads_),
            "threshold": {h: float(self.threshold.get(h, 0.5)) for h in self.heads_},
            "fallback": float(self.fallback),
            "relative": float(self.relative),
            "n_bits": self.n_bits,
            "metadata": self.metadata,
            "sha256": _sha256(arrays_path),
        }
        meta_path = directory / META_FILE
        meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return meta_path

    @classmethod
    def load(cls, directory: Path) -> SpanTagger:
        """Load and verify the tagger in ``directory``."""
        meta_path = directory / META_FILE
        arrays_path = directory / ARRAYS_FILE
        if not meta_path.is_file() or not arrays_path.is_file():
            raise ModelError(
                f"No span tagger in {directory}: expected {META_FILE} and {ARRAYS_FILE}."
            )
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"Span tagger metadata {meta_path} is unreadable: {exc}") from exc
        if meta.get("format") != TAGGER_FORMAT or meta.get("kind") != "span_tagger":
            raise ModelError(
                f"Span tagger format {meta.get('format')!r} is not supported; expected {TAGGER_FORMAT}."
            )
        if meta.get("sha256") != _sha256(arrays_path):
            raise ModelError(
                f"Span tagger arrays {arrays_path} do not match the checksum in {META_FILE}."
            )
        try:
            with np.load(arrays_path, allow_pickle=False) as npz:
                index = np.asarray(npz["index"], dtype=np.int64)
                packed = np.asarray(npz["coef"], dtype=np.float64)
                intercept = np.asarray(npz["intercept"], dtype=np.float64)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise ModelError(f"Span tagger arrays {arrays_path} are unreadable: {exc}") from exc
        n_bits = int(meta["n_bits"])
        heads = tuple(str(h) for h in meta["heads"])
        if packed.shape != (len(heads), len(index)) or intercept.shape != (len(heads),):
            raise ModelError(f"Span tagger arrays {arrays_path} do not fit its {len(heads)} heads.")
        coef = np.zeros((len(heads), 1 << n_bits))
        coef[:, index] = packed
        return cls(
            threshold={str(k): float(v) for k, v in meta["threshold"].items()},
            fallback=float(meta["fallback"]),
            relative=float(meta.get("relative", 1.0)),
            version=str(meta["version"]),
            n_bits=n_bits,
            heads_=heads,
            coef_=coef,
            intercept_=intercept,
            metadata=dict(meta.get("metadata", {})),
        )


_GAP_RE = re.compile(r"[\s\W_]*")


def merge_tokens(norm: Normalized, keep: Sequence[int]) -> list[list[int]]:
    """Group sorted token indices that are adjacent and separated only by whitespace or
    punctuation in the original text."""
    groups: list[list[int]] = []
    for j in sorted(keep):
        if groups and groups[-1][-1] == j - 1:
            gap = norm.original[norm.tokens[j - 1].end : norm.tokens[j].begin]
            if _GAP_RE.fullmatch(gap):
                groups[-1].append(j)
                continue
        groups.append([j])
    return groups


_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# scikit-learn's English list, less the content words it is known to hold ("fire", "thin",
# "back" as in "watch your back"): a span on one of those may explain a score.
STOP_WORDS = ENGLISH_STOP_WORDS - frozenset(
    "amount back bill bottom call con cry describe detail empty fill find fire found front full give "
    "interest made mill move name part put serious show side sincere system take thick thin top whole".split()
)


def is_stopword_span(span_text: str) -> bool:
    """True when the span holds nothing but stopwords (``STOP_WORDS``), single letters, digits
    or punctuation: what explains no score to a reader."""
    words = [w.lower() for w in _WORD.findall(span_text) if len(w) > 1 and not w.isdigit()]
    return all(w in STOP_WORDS for w in words)
