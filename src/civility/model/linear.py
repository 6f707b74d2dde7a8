"""A linear multi-attribute model over TF-IDF blocks of normalised text.

Each block is a ``TfidfVectorizer`` (word or character n-grams) whose vocabulary and IDF
weights are stored as plain arrays, so the artifact needs no pickle. One weight column per
attribute; a monotone piecewise-linear calibration per attribute maps raw probabilities to
calibrated ones (the identity when none was fitted).

Two scales (model 1.1.0 on): the *balanced* heads are trained on the labelled corpora with
classes balanced within each corpus; the *perspective* heads (``scale_coef``) are trained on
texts that Perspective itself scored, as soft targets, so that a threshold means what it
means to a Perspective client. ``predict_proba(texts, scale=...)`` picks one; a model without
perspective heads answers both from the balanced ones.

Scoring counts n-grams over word ids (:mod:`civility.model.tokens`) rather than through
``TfidfVectorizer.transform`` and hands the counts to scikit-learn's ``TfidfTransformer``, so
the features are the same to the bit (tests/test_features.py compares them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from civility.errors import ModelError
from civility.model.blocks import FeatureBlock
from civility.model.lexicon import (
    LEXICON_VERSION,
    WORD_VIEWS,
    LexiconBlock,
    ngram_view,
    strip_artefacts,
)
from civility.model.tokens import TokenFeatures, Tokens, supported

FloatArray = np.ndarray[Any, np.dtype[np.float64]]

# "perspective": Perspective's scale (a client's fixed threshold keeps its meaning);
# "balanced": the class-balanced heads (0.5 = the evidence for and against weighs the same).
SCALES: tuple[str, ...] = ("perspective", "balanced")


_EPS = 1e-12


def logit(p: FloatArray) -> FloatArray:
    """Log-odds of probabilities ``p`` (clipped to [1e-12, 1 - 1e-12])."""
    q = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1.0 - _EPS)
    return np.asarray(np.log(q) - np.log1p(-q), dtype=np.float64)


def sigmoid(z: FloatArray) -> FloatArray:
    """The logistic function (as ``0.5 * (1 + tanh(z / 2))``: no overflow for large ``-z``)."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def _same_word(word: str) -> str:
    return word


PREPROCESSORS = {"strip_artefacts": strip_artefacts, "ngram_view": ngram_view}


def block_features(
    blocks: Sequence[FeatureBlock | LexiconBlock],
    texts: Sequence[str],
    *,
    preprocess: str | None,
    fit: bool = False,
) -> sp.csr_matrix:
    """Stack the blocks' features for ``texts``; ``fit=True`` fits each block first.

    ``preprocess`` names what the n-gram blocks see (:data:`PREPROCESSORS`); the lexicon
    block always sees the normalised text whole."""
    view = PREPROCESSORS[preprocess] if preprocess else None
    stripped = [view(t) for t in texts] if view else texts
    parts = []
    for b in blocks:
        source = texts if isinstance(b, LexiconBlock) else stripped
        parts.append(b.fit(source) if fit else b.transform(source))
    return sp.csr_matrix(sp.hstack(parts, format="csr"))


@dataclass
class LinearModel:
    """Logistic heads (one per attribute) over concatenated TF-IDF blocks."""

    attributes: tuple[str, ...]
    blocks: list[FeatureBlock | LexiconBlock]
    coef: FloatArray  # (n_features, n_attributes)
    intercept: FloatArray  # (n_attributes,)
    calibration: dict[str, tuple[FloatArray, FloatArray]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    scale_coef: FloatArray | None = None  # (n_features, n_attributes): the perspective-scale heads
    scale_intercept: FloatArray | None = None  # (n_attributes,)
    # Notion heads (model 1.2.0 on): one logistic head per labelled corpus, each corpus's own
    # notion of what is unacceptable, over the same features. They never score a text; a
    # site's adapter reads their log-odds beside the attributes' (:func:`civility.adapt.
    # base_outputs`), so that it can lean toward the corpus whose notion its moderators share.
    notions: tuple[str, ...] = ()
    notion_coef: FloatArray | None = None  # (n_features, n_notions)
    notion_intercept: FloatArray | None = None  # (n_notions,)
    _counter: TokenFeatures | None = field(default=None, init=False, repr=False, compare=False)
    _countable: bool | None = field(
        default=None, init=False, repr=False, compare=False
    )  # supported(blocks), once

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unversioned"))

    def vocabulary(self) -> set[str]:
        """Words the model knows (from its word blocks), used to pick between spellings."""
        words: set[str] = set()
        for block in self.blocks:
            if isinstance(block, FeatureBlock) and block.params.get("analyzer", "word") == "word":
                words.update(k for k in block.vocabulary if " " not in k)
        return words

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Feature rows for normalised texts: n-gram blocks see them without source
        artefacts (when the model was trained so), the lexicon block sees them whole.
        Counted over word ids (:mod:`civility.model.tokens`) when the blocks allow; the same
        matrix either way."""
        counter = self._token_counter()
        if counter is not None:
            return counter.transform(texts)
        return block_features(self.blocks, texts, preprocess=self.metadata.get("preprocess"))

    def features_and_tokens(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, Tokens | None]:
        """:meth:`features`, and the texts' words as ids of the counter's word table (``None``
        when the blocks are not counted over word ids)."""
        counter = self._token_counter()
        if counter is not None:
            return counter.transform_tokens(texts)
        return self.features(texts), None

    def _token_counter(self) -> TokenFeatures | None:
        if self._countable is None:
            self._countable = supported(self.blocks)
        if self._counter is None and self._countable:
            preprocess = self.metadata.get("preprocess")
            self._counter = TokenFeatures(
                self.blocks, WORD_VIEWS[preprocess] if preprocess else _same_word
            )
        return self._counter

    def decision_function(self, texts: Sequence[str], *, scale: str = "balanced") -> FloatArray:
        return self.logits_of(self.features(texts), scale=scale)

    def logits_of(self, x: sp.spmatrix, *, scale: str = "balanced") -> FloatArray:
        """The heads' log-odds for feature rows ``x`` (from :meth:`features`), on ``scale``."""
        if (
            scale == "perspective"
            and self.scale_coef is not None
            and self.scale_intercept is not None
        ):
            return np.asarray(x @ self.scale_coef) + self.scale_intercept
        if scale not in SCALES:
            raise ModelError(f"Unknown score scale {scale!r}: expected one of {', '.join(SCALES)}.")
        return np.asarray(x @ self.coef) + self.intercept

    def notion_heads(self) -> tuple[FloatArray, FloatArray] | None:
        """The notion heads' weights and intercepts (``None``: the model has none)."""
        if self.notion_coef is None or self.notion_intercept is None or not self.notions:
            return None
        return self.notion_coef, self.notion_intercept

    def notion_logits(self, x: sp.spmatrix) -> FloatArray:
        """The notion heads' log-odds for feature rows ``x``: ``(rows, len(notions))``."""
        heads = self.notion_heads()
        if heads is None:
            return np.zeros((x.shape[0], 0))
        coef, intercept = heads
        return np.asarray(x @ coef, dtype=np.float64) + intercept

    def predict_proba(self, texts: Sequence[str], *, scale: str = "balanced") -> FloatArray:
        """Calibrated probabilities, shape ``(len(texts), len(attributes))``, on ``scale``
        (:data:`SCALES`)."""
        return self.proba_of_logits(self.decision_function(texts, scale=scale), scale=scale)

    def proba_of_logits(self, logits: FloatArray, *, scale: str = "balanced") -> FloatArray:
        """Probabilities from the heads' log-odds on ``scale``: calibrated on the balanced
        scale, as they are on Perspective's."""
        raw = 1.0 / (1.0 + np.exp(-logits))
        return self.calibrate(raw) if scale == "balanced" else np.clip(raw, 0.0, 1.0)

    def calibrate(self, raw: FloatArray) -> FloatArray:
        out = np.array(raw, dtype=np.float64, copy=True)
        for j, name in enumerate(self.attributes):
            if name in self.calibration:
                xs, ys = self.calibration[name]
                out[:, j] = np.interp(out[:, j], xs, ys)
        return np.clip(out, 0.0, 1.0)

    def to_arrays(self) -> tuple[dict[str, Any], Mapping[str, np.ndarray[Any, Any]]]:
        """Split the model into JSON-able metadata and named arrays (for ``save_model``)."""
        meta: dict[str, Any] = {
            "kind": "linear",
            "attributes": list(self.attributes),
            "blocks": [
                {"name": b.name, "params": {**b.params, "scale": b.scale}}
                if isinstance(b, LexiconBlock)
                else {"name": b.name, "params": b.params}
                for b in self.blocks
            ],
            "calibrated": sorted(self.calibration),
            **self.metadata,
        }
        arrays: dict[str, np.ndarray[Any, Any]] = {
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float64),
        }
        for b in self.blocks:
            if isinstance(b, LexiconBlock):
                continue
            terms = sorted(b.vocabulary, key=b.vocabulary.__getitem__)
            arrays[f"vocab_{b.name}"] = np.array(terms, dtype=np.str_)
            arrays[f"idf_{b.name}"] = b.idf
        if self.scale_coef is not None and self.scale_intercept is not None:
            meta["scales"] = list(SCALES)
            arrays["scale_coef"] = self.scale_coef.astype(np.float32)
            arrays["scale_intercept"] = self.scale_intercept.astype(np.float64)
        if self.notions and self.notion_coef is not None and self.notion_intercept is not None:
            meta["notions"] = list(self.notions)
            # Half precision: they are inputs to an adapter's regression, not scores (a
            # relative error below 1e-3 on each weight), for half the bytes of float32.
            arrays["notion_coef"] = self.notion_coef.astype(np.float16)
            arrays["notion_intercept"] = self.notion_intercept.astype(np.float64)
        for name, (xs, ys) in self.calibration.items():
            arrays[f"calx_{name}"] = xs
            arrays[f"caly_{name}"] = ys
        return meta, arrays

    @classmethod
    def from_arrays(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray[Any, Any]]
    ) -> LinearModel:
        blocks: list[FeatureBlock | LexiconBlock] = []
        for spec in meta["blocks"]:
            if spec["params"].get("analyzer") == "lexicon":
                if spec["params"].get("version") != LEXICON_VERSION:
                    raise ModelError(
                        f"The model was trained with lexicon {spec['params'].get('version')!r}, "
                        f"this civility has {LEXICON_VERSION!r}: retrain with 'civility train'."
                    )
                blocks.append(LexiconBlock(scale=float(spec["params"].get("scale", 1.0))))
                continue
            terms = arrays[f"vocab_{spec['name']}"]
            params = dict(spec["params"])
            if "ngram_range" in params:
                params["ngram_range"] = tuple(params["ngram_range"])
            blocks.append(
                FeatureBlock(
                    name=spec["name"],
                    params=params,
                    vocabulary={str(t): i for i, t in enumerate(terms)},
                    idf=np.asarray(arrays[f"idf_{spec['name']}"], dtype=np.float64),
                )
            )
        calibration = {
            name: (np.asarray(arrays[f"calx_{name}"]), np.asarray(arrays[f"caly_{name}"]))
            for name in meta.get("calibrated", [])
        }
        skip = {"kind", "attributes", "blocks", "calibrated", "scales", "notions"}
        scaled = "scales" in meta
        notions = tuple(str(n) for n in meta.get("notions", ()))
        return cls(
            attributes=tuple(meta["attributes"]),
            blocks=blocks,
            coef=np.asarray(arrays["coef"], dtype=np.float64),
            intercept=np.asarray(arrays["intercept"], dtype=np.float64),
            calibration=calibration,
            metadata={k: v for k, v in meta.items() if k not in skip},
            scale_coef=np.asarray(arrays["scale_coef"], dtype=np.float64) if scaled else None,
            scale_intercept=np.asarray(arrays["scale_intercept"], dtype=np.float64)
            if scaled
            else None,
            notions=notions,
            notion_coef=np.asarray(arrays["notion_coef"], dtype=np.float32) if notions else None,
            notion_intercept=np.asarray(arrays["notion_intercept"], dtype=np.float64)
            if notions
            else None,
        )
