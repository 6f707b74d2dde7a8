"""A TF-IDF block of the linear model: one ``TfidfVectorizer``'s settings and fitted state.

Below both :mod:`civility.model.linear` (which stacks the blocks and scores) and
:mod:`civility.model.tokens` (which counts a plain block's n-grams over word ids), so
neither needs the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def _vectorizer(params: Mapping[str, Any]) -> TfidfVectorizer:
    """``TfidfVectorizer(**params)``; a dtype is stored by name (the artifact is JSON) and
    handed over as the numpy type scikit-learn expects (a name makes it warn)."""
    given = dict(params)
    if isinstance(given.get("dtype"), str):
        given["dtype"] = np.dtype(given["dtype"]).type
    return TfidfVectorizer(**given)


@dataclass
class FeatureBlock:
    """One vectorizer's settings and fitted state."""

    name: str
    params: dict[str, Any]
    vocabulary: dict[str, int] = field(default_factory=dict)
    idf: FloatArray = field(default_factory=lambda: np.zeros(0))
    _vectorizer: TfidfVectorizer | None = field(default=None, repr=False)
    _transformer: TfidfTransformer | None = field(default=None, repr=False)

    def vectorizer(self) -> TfidfVectorizer:
        """The fitted ``TfidfVectorizer``, rebuilt from vocabulary and IDF on first use."""
        if self._vectorizer is None:
            vec = _vectorizer(self.params)
            vec.vocabulary_ = self.vocabulary
            vec.idf_ = self.idf
            self._vectorizer = vec
        return self._vectorizer

    def transformer(self) -> TfidfTransformer:
        """The vectorizer's TF-IDF weighting (sublinear TF, IDF, L2 norm) on its own."""
        if self._transformer is None:
            vec = self.vectorizer()
            tfidf = TfidfTransformer(
                norm=vec.norm,
                use_idf=vec.use_idf,
                smooth_idf=vec.smooth_idf,
                sublinear_tf=vec.sublinear_tf,
            )
            tfidf.idf_ = self.idf
            self._transformer = tfidf
        return self._transformer

    def plain(self) -> bool:
        """True when the analyzer neither lower-cases nor strips accents nor has a callable
        preprocessor or tokenizer: then civility.model.tokens counts what scikit-learn counts."""
        vec = self.vectorizer()
        return (
            not vec.lowercase
            and vec.strip_accents is None
            and vec.preprocessor is None
            and vec.tokenizer is None
            and vec.input == "content"
            and not vec.binary
        )

    def fit(self, texts: Sequence[str]) -> sp.csr_matrix:
        vec = _vectorizer(self.params)
        x = vec.fit_transform(texts)
        self.vocabulary = {k: int(v) for k, v in vec.vocabulary_.items()}
        self.idf = np.asarray(vec.idf_, dtype=np.float64)
        self._vectorizer = vec
        return sp.csr_matrix(x)

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        if not texts:  # scikit-learn's transformer refuses zero rows
            return sp.csr_matrix((0, self.size), dtype=np.float64)
        return sp.csr_matrix(self.vectorizer().transform(texts))

    def weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """TF-IDF features from this block's n-gram counts (canonical: duplicates summed,
        columns sorted), as ``transform`` weighs them."""
        counts = counts.astype(self.vectorizer().dtype, copy=False)
        return sp.csr_matrix(self.transformer().transform(counts, copy=False))

    @property
    def size(self) -> int:
        return len(self.vocabulary)
