"""``Scorer``: texts in, per-attribute probabilities and explaining spans out."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from civility import attributes as attrs
from civility.errors import InvalidInput, ModelError
from civility.language import SUPPORTED_LANGUAGES as SUPPORTED_LANGUAGES
from civility.model import LinearModel, default_model_dir, load_model, logit
from civility.model.linear import SCALES
from civility.model.spans import ARRAYS_FILE as SPAN_ARRAYS_FILE
from civility.model.spans import GENERIC, SpanTagger, is_stopword_span, merge_tokens
from civility.text import Normalized, WordNormalizer, normalize

MAX_TEXT_BYTES = 20480

# Span search. Falls are measured in log-odds, so a saturated text (p close to 1) still shows
# which words hold it up: removing one of two insults from "you stupid idiot" moves p from
# 0.9999 to 0.999, nothing in probability but 2.3 in log-odds.
_SPAN_CANDIDATES = 16  # tokens tried by occlusion when the tagger has no candidate
_SPAN_MIN_LOGIT = 0.05  # the smallest fall in log-odds that keeps a span
# The tagger head that proposes candidates for each attribute (typed where trained, else the
# generic one); SPAM has none: its spans come from occlusion.
_SPAN_HEADS = {
    "TOXICITY": GENERIC,
    "SEVERE_TOXICITY": GENERIC,
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "insult",
    "PROFANITY": "profane",
    "THREAT": "threat",
    "SEXUALLY_EXPLICIT": GENERIC,
}


@dataclass(frozen=True)
class Span:
    """A stretch of the original text (code-point offsets, ``end`` exclusive) and its score:
    the attribute's probability times the share of its odds that go when the stretch is
    removed, ``p * (1 - odds_without / odds)``. It is the fall in probability for a lone
    cause of a middling score, and stays large for a cause of a saturated one."""

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

    def __init__(self, model_dir: Path | None = None, *, batch_size: int = 4096) -> None:
        self.model_dir = model_dir
        self.batch_size = batch_size
        self.model_: LinearModel | None = None
        self.tagger_: SpanTagger | None = None
        self._vocabulary: frozenset[str] = frozenset()
        self._words = WordNormalizer(self._vocabulary)

    @classmethod
    def from_model(
        cls, model: LinearModel, *, batch_size: int = 4096, tagger: SpanTagger | None = None
    ) -> Scorer:
        """A loaded scorer around an in-memory model (training and evaluation use this)."""
        scorer = cls(batch_size=batch_size)
        scorer._set_model(model)
        scorer.tagger_ = tagger
        return scorer

    def load(self) -> Scorer:
        """Load and verify the artifact, and the span tagger beside it when there is one;
        returns ``self`` for chaining."""
        self._set_model(load_model(self.model_dir))
        directory = self.model_dir or default_model_dir()
        self.tagger_ = (
            SpanTagger.load(directory) if (directory / SPAN_ARRAYS_FILE).is_file() else None
        )
        return self

    def _set_model(self, model: LinearModel) -> None:
        unknown = [a for a in model.attributes if a not in attrs.NAMES]
        if unknown:
            raise ModelError(f"Model scores unknown attributes: {', '.join(unknown)}.")
        self.model_ = model
        self._vocabulary = frozenset(model.vocabulary())
        self._words = WordNormalizer(self._vocabulary)

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

    def normalize_text(self, text: str) -> str:
        """``normalize(text).text``, faster (no offsets): what the model scores."""
        return self._words.text(text)

    def probabilities(
        self, normalized_texts: Sequence[str], *, scale: str = "perspective"
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Raw model output for already-normalised texts, batched, on ``scale``:
        ``"perspective"`` (Perspective's scale, the default: what the API answers) or
        ``"balanced"`` (the class-balanced heads)."""
        model = self.model
        if scale not in SCALES:
            raise InvalidInput(
                f"Unknown score scale {scale!r}: expected one of {', '.join(SCALES)}."
            )
        if not normalized_texts:
            return np.zeros((0, len(model.attributes)))
        parts = [
            model.predict_proba(normalized_texts[i : i + self.batch_size], scale=scale)
            for i in range(0, len(normalized_texts), self.batch_size)
        ]
        return np.vstack(parts)

    def score(
        self,
        texts: Sequence[str],
        *,
        attributes: Sequence[str] | None = None,
        spans: bool = False,
        scale: str = "perspective",
    ) -> list[Scores]:
        """Score every text; always a list, one ``Scores`` per text, in order. ``scale``
        picks Perspective's scale (default) or the class-balanced one (spans follow it)."""
        if isinstance(texts, str):
            raise InvalidInput(
                "Scorer.score takes a sequence of texts. Got a single str; wrap it in a list."
            )
        wanted = attrs.normalize_names(
            list(attributes) if attributes is not None else list(self.model.attributes)
        )
        columns = {a: i for i, a in enumerate(self.model.attributes)}
        missing = [a for a in wanted if a not in columns]
        if missing:
            raise InvalidInput(f"This model does not score {', '.join(missing)}.")
        if spans:
            norms = [self.normalize(t) for t in texts]
            probs = self.probabilities([n.text for n in norms], scale=scale)
            found = self._spans(norms, probs, [columns[a] for a in wanted], scale)
        else:
            probs = self.probabilities([self.normalize_text(t) for t in texts], scale=scale)
            found = None
        version = self.version
        rows = probs[:, [columns[a] for a in wanted]].tolist() if len(texts) else []
        out = []
        for i, row in enumerate(rows):
            span_map = {a: found[i][columns[a]] for a in wanted} if found is not None else {}
            out.append(
                Scores(
                    values=dict(zip(wanted, row, strict=True)),
                    spans=span_map,
                    model_version=version,
                )
            )
        return out

    def _spans(
        self,
        norms: Sequence[Normalized],
        probs: np.ndarray[Any, np.dtype[np.float64]],
        cols: Sequence[int],
        scale: str = "perspective",
    ) -> list[dict[int, tuple[Span, ...]]]:
        """Spans faithful to the model: candidates come from the span tagger (or, where it has
        nothing and the attribute scores at least 0.5, or no tagger is loaded, from occlusion),
        and a candidate is kept when removing its tokens lowers the attribute's log-odds."""
        tagged = self.tagger_.tag_many(norms) if self.tagger_ is not None else None
        # (text, column) -> candidate token groups; every distinct group of a text is one
        # variant text (the text without the group), all scored in one batched pass.
        plans: list[dict[int, list[tuple[int, ...]]]] = []
        variants: list[str] = []
        variant_of: dict[tuple[int, tuple[int, ...]], int] = {}
        for i, norm in enumerate(norms):
            plan: dict[int, list[tuple[int, ...]]] = {}
            occluded: dict[int, list[int]] | None = None
            for c in cols:
                keep = (
                    self._tagged(tagged[i], self.model.attributes[c], likely=probs[i, c] >= 0.5)
                    if tagged is not None
                    else []
                )
                if not keep and norm.tokens and (tagged is None or probs[i, c] >= 0.5):
                    if occluded is None:
                        occluded = self._occlusion(norm, probs[i], cols, scale)
                    keep = occluded[c]
                groups = _content_groups(norm, keep)
                for g in groups:
                    if (i, g) not in variant_of:
                        variant_of[(i, g)] = len(variants)
                        variants.append(
                            " ".join(t.norm for k, t in enumerate(norm.tokens) if k not in g)
                        )
                plan[c] = groups
            plans.append(plan)
        dropped = logit(self.probabilities(variants, scale=scale))
        base = logit(probs)
        results: list[dict[int, tuple[Span, ...]]] = []
        for i, (norm, plan) in enumerate(zip(norms, plans, strict=True)):
            per_attr: dict[int, tuple[Span, ...]] = {}
            for c, groups in plan.items():
                spans = []
                for g in groups:
                    fall = float(base[i, c] - dropped[variant_of[(i, g)], c])
                    if fall >= _SPAN_MIN_LOGIT:
                        score = float(probs[i, c]) * (1.0 - math.exp(-fall))
                        spans.append(
                            Span(norm.tokens[g[0]].begin, norm.tokens[g[-1]].end, round(score, 6))
                        )
                per_attr[c] = tuple(s for s in spans if s.score > 0)
            if tagged is not None:
                self._fill_by_occlusion(norm, probs[i], per_attr, scale)
            results.append(per_attr)
        return results

    def _fill_by_occlusion(
        self,
        norm: Normalized,
        probs: np.ndarray[Any, np.dtype[np.float64]],
        per_attr: dict[int, tuple[Span, ...]],
        scale: str = "perspective",
    ) -> None:
        """Where the tagger's candidates explain nothing of an attribute that scores at least
        0.5, look for its spans by occlusion (the model's own evidence)."""
        missing = [c for c, spans in per_attr.items() if not spans and probs[c] >= 0.5]
        if not missing or not norm.tokens:
            return
        occluded = self._occlusion(norm, probs, missing, scale)
        plans = {c: _content_groups(norm, occluded[c]) for c in missing}
        groups = sorted({g for gs in plans.values() for g in gs})
        if not groups:
            return
        texts = [" ".join(t.norm for k, t in enumerate(norm.tokens) if k not in g) for g in groups]
        falls = logit(probs[None, :]) - logit(self.probabilities(texts, scale=scale))
        row = {g: n for n, g in enumerate(groups)}
        for c, gs in plans.items():
            spans = []
            for g in gs:
                fall = float(falls[row[g], c])
                if fall >= _SPAN_MIN_LOGIT:
                    score = float(probs[c]) * (1.0 - math.exp(-fall))
                    spans.append(
                        Span(norm.tokens[g[0]].begin, norm.tokens[g[-1]].end, round(score, 6))
                    )
            per_attr[c] = tuple(s for s in spans if s.score > 0)

    def _tagged(
        self,
        probs: Mapping[str, np.ndarray[Any, np.dtype[np.float64]]],
        attribute: str,
        *,
        likely: bool,
    ) -> list[int]:
        """Tokens the tagger marks for ``attribute``: its typed head, else the generic one.
        The generic head's one-token fallback is for texts that score as ``likely`` only."""
        tagger = self.tagger_
        head = _SPAN_HEADS.get(attribute)
        if tagger is None or head is None:
            return []
        keep = tagger.selected(probs[head], head, fallback=likely) if head in probs else []
        if not keep and head != GENERIC:
            keep = tagger.selected(probs[GENERIC], GENERIC, fallback=likely)
        return keep

    def _occlusion(
        self,
        norm: Normalized,
        probs: np.ndarray[Any, np.dtype[np.float64]],
        cols: Sequence[int],
        scale: str = "perspective",
    ) -> dict[int, list[int]]:
        """Per column, the tokens whose removal alone lowers its log-odds, among the tokens
        that score highest on their own."""
        tokens = norm.tokens
        alone = self.probabilities([t.norm for t in tokens], scale=scale)
        strength = np.where(
            [is_stopword_span(t.norm) for t in tokens], -np.inf, alone[:, cols].max(axis=1)
        )
        candidates = sorted(
            j for j in np.argsort(-strength)[:_SPAN_CANDIDATES].tolist() if strength[j] > -np.inf
        )
        variants = [" ".join(t.norm for k, t in enumerate(tokens) if k != j) for j in candidates]
        falls = logit(probs[None, :]) - logit(self.probabilities(variants, scale=scale))
        return {
            c: [j for n, j in enumerate(candidates) if falls[n, c] >= _SPAN_MIN_LOGIT] for c in cols
        }


def _content_groups(norm: Normalized, keep: Sequence[int]) -> list[tuple[int, ...]]:
    """``keep`` merged into groups of adjacent tokens, less the groups of stopwords alone
    ("you and your", "the"): they may move a score, but they explain nothing to a reader."""
    return [
        tuple(g)
        for g in merge_tokens(norm, keep)
        if not is_stopword_span(norm.original[norm.tokens[g[0]].begin : norm.tokens[g[-1]].end])
    ]
