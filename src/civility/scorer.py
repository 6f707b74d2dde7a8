"""``Scorer``: texts in, per-attribute probabilities and explaining spans out."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from civility import attributes as attrs
from civility.errors import InvalidInput, ModelError
from civility.model import LinearModel, load_model
from civility.text import Normalized, normalize

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en",)
MAX_TEXT_BYTES = 20480

# Span search: how many candidate tokens per text are tried by occlusion (the strongest on
# their own), the smallest fall in log-odds that makes a token part of a span, and the least a
# token must score alone. Chosen on a 1,500-post sample of the SemEval-2021 toxic-spans posts
# (see docs and the model card for the F1 this gives).
_SPAN_CANDIDATES = 48
_SPAN_MIN_LOGIT = 0.5
_SPAN_MIN_ALONE = 0.1
_GAP_RE = re.compile(r"[\s\W_]*")


@dataclass(frozen=True)
class Span:
    """A stretch of the original text (code-point offsets, ``end`` exclusive) and its score:
    how far the attribute's probability falls when the stretch is removed."""

    begin: int
    end: int
    score: float


@dataclass(frozen=True)
class Scores:
    """Probabilities per attribute for one text, and the spans that drove each."""

    values: Mapping[str, float]
    spans: Mapping[str, tuple[Span, ...]] = field(default_factory=dict)
    model_version: str = ""

    def __getitem__(self, attribute: str) -> float:
        return self.values[attribute]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` highest-scoring attributes, highest first."""
        return sorted(self.values.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


class Scorer:
    """Scores texts with the shipped (or a given) model.

    The constructor stores settings only; call ``load()`` before ``score()``.
    """

    def __init__(self, model_dir: Path | None = None, *, batch_size: int = 512) -> None:
        self.model_dir = model_dir
        self.batch_size = batch_size
        self.model_: LinearModel | None = None
        self._vocabulary: frozenset[str] = frozenset()

    @classmethod
    def from_model(cls, model: LinearModel, *, batch_size: int = 512) -> Scorer:
        """A loaded scorer around an in-memory model (training and evaluation use this)."""
        scorer = cls(batch_size=batch_size)
        scorer._set_model(model)
        return scorer

    def load(self) -> Scorer:
        """Load and verify the artifact; returns ``self`` for chaining."""
        self._set_model(load_model(self.model_dir))
        return self

    def _set_model(self, model: LinearModel) -> None:
        unknown = [a for a in model.attributes if a not in attrs.NAMES]
        if unknown:
            raise ModelError(f"Model scores unknown attributes: {', '.join(unknown)}.")
        self.model_ = model
        self._vocabulary = frozenset(model.vocabulary())

    @property
    def model(self) -> LinearModel:
        if self.model_ is None:
            raise ModelError("Scorer is not loaded: call Scorer.load() first.")
        return self.model_

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def attributes(self) -> tuple[str, ...]:
        return self.model.attributes

    def normalize(self, text: str) -> Normalized:
        return normalize(text, self._vocabulary)

    def probabilities(self, normalized_texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Raw model output for already-normalised texts, batched."""
        model = self.model
        if not normalized_texts:
            return np.zeros((0, len(model.attributes)))
        parts = [
            model.predict_proba(normalized_texts[i : i + self.batch_size])
            for i in range(0, len(normalized_texts), self.batch_size)
        ]
        return np.vstack(parts)

    def score(
        self,
        texts: Sequence[str],
        *,
        attributes: Sequence[str] | None = None,
        spans: bool = False,
    ) -> list[Scores]:
        """Score every text; always a list, one ``Scores`` per text, in order."""
        if isinstance(texts, str):
            raise InvalidInput("Scorer.score takes a sequence of texts. Got a single str; wrap it in a list.")
        wanted = attrs.normalize_names(list(attributes) if attributes is not None else None)
        columns = {a: i for i, a in enumerate(self.model.attributes)}
        missing = [a for a in wanted if a not in columns]
        if missing:
            raise InvalidInput(f"This model does not score {', '.join(missing)}.")
        norms = [self.normalize(t) for t in texts]
        probs = self.probabilities([n.text for n in norms])
        found = self._spans(norms, probs, [columns[a] for a in wanted]) if spans else None
        version = self.version
        out = []
        for i in range(len(texts)):
            values = {a: float(probs[i, columns[a]]) for a in wanted}
            span_map = {a: found[i][columns[a]] for a in wanted} if found is not None else {}
            out.append(Scores(values=values, spans=span_map, model_version=version))
        return out

    def _spans(
        self,
        norms: Sequence[Normalized],
        probs: np.ndarray[Any, np.dtype[np.float64]],
        cols: Sequence[int],
    ) -> list[dict[int, tuple[Span, ...]]]:
        """Occlusion on the logit scale: a token belongs to a span when removing it lowers the
        attribute's log-odds by at least ``_SPAN_MIN_LOGIT`` and the token alone scores at
        least ``_SPAN_MIN_ALONE``. Adjacent tokens merge; a span's score is how far the
        probability falls when the whole span is removed (spans that do not lower it are
        dropped). The logit scale keeps spans in saturated texts, where p is close to 1."""
        results: list[dict[int, tuple[Span, ...]]] = []
        for i, norm in enumerate(norms):
            tokens = norm.tokens
            if not tokens:
                results.append({c: () for c in cols})
                continue
            alone = self.probabilities([t.norm for t in tokens])
            strength = alone[:, cols].max(axis=1)
            candidates = sorted(np.argsort(-strength, kind="stable")[:_SPAN_CANDIDATES].tolist())
            variants = [" ".join(t.norm for k, t in enumerate(tokens) if k != j) for j in candidates]
            dropped = self.probabilities(variants)
            per_attr: dict[int, tuple[Span, ...]] = {}
            for c in cols:
                full = _logit(probs[i, c])
                keep = sorted(
                    j
                    for n, j in enumerate(candidates)
                    if alone[j, c] >= _SPAN_MIN_ALONE and full - _logit(dropped[n, c]) >= _SPAN_MIN_LOGIT
                )
                groups = self._merge(norm, keep)
                if not groups:
                    per_attr[c] = ()
                    continue
                group_texts = [
                    " ".join(t.norm for k, t in enumerate(tokens) if k not in g) for g in groups
                ]
                group_probs = self.probabilities(group_texts)[:, c]
                spans = [
                    Span(tokens[g[0]].begin, tokens[g[-1]].end, round(max(0.0, float(probs[i, c] - p)), 6))
                    for g, p in zip(groups, group_probs, strict=True)
                ]
                per_attr[c] = tuple(s for s in spans if s.score > 0)
            results.append(per_attr)
        return results

    @staticmethod
    def _merge(norm: Normalized, keep: list[int]) -> list[list[int]]:
        """Group kept token indices that are adjacent, or separated only by punctuation."""
        groups: list[list[int]] = []
        for j in keep:
            if groups and groups[-1][-1] == j - 1:
                prev = norm.tokens[j - 1]
                gap = norm.original[prev.end : norm.tokens[j].begin]
                if _GAP_RE.fullmatch(gap):
                    groups[-1].append(j)
                    continue
            groups.append([j])
        return groups


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-9), 1.0 - 1e-9)
    return float(np.log(p / (1.0 - p)))


def detect_language(text: str) -> str | None:
    """``'en'`` when the text reads as English, else ``None`` (detection failed or other language)."""
    words = re.findall(r"[a-z']+", text.lower())
    if not words:
        return None
    hits = sum(w in _ENGLISH_COMMON for w in words)
    if len(words) <= 3:
        return "en" if hits or all(w.isascii() for w in words) else None
    return "en" if hits / len(words) >= 0.12 else None


_ENGLISH_COMMON = frozenset(
    """
    the a an and or but if of to in on at by for with from as is are was were be been being am
    i you he she it we they me him her us them my your his its our their this that these those
    not no do does did have has had will would can could should shall may might must what who
    why how when where which there here so just all any some very more most than then too also
    up out about into over only own same such both each few other get got go going like know
    think people one s t don't it's i'm you're that's
    """.split()
)
