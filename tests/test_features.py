"""Scoring counts n-grams itself; the features must be scikit-learn's to the bit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from civility.model import linear
from civility.model.linear import FeatureBlock

TRAIN = [
    "you are an idiot and a liar",
    "what a lovely day for a walk in the park",
    "shut up you stupid idiot",
    "the council voted on the budget today",
    "idiots everywhere, the park is a dump",
    "a lovely idea from the council",
] * 3

TEXTS = [
    "you are a lovely idiot",
    "",
    " ",
    "a",
    "park park park the the idiot",
    "tabs\tand  double  spaces\nand lines",
    "ünïcödé wörds and a non\u00a0breaking space",
    "never seen anywhere before xyzzy",
    "shut up",
]


def _same(a: sp.spmatrix, b: sp.spmatrix) -> bool:
    a, b = sp.csr_matrix(a), sp.csr_matrix(b)
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


@pytest.mark.parametrize(
    "params",
    [
        {"analyzer": "char_wb", "ngram_range": (2, 5), "lowercase": False, "sublinear_tf": True},
        {"analyzer": "word", "ngram_range": (1, 2), "lowercase": False, "sublinear_tf": True,
         "token_pattern": r"\S+", "dtype": "float32"},
        {"analyzer": "char_wb", "ngram_range": (1, 3), "lowercase": False, "sublinear_tf": False},
        {"analyzer": "word", "ngram_range": (2, 3), "lowercase": False, "token_pattern": r"\S+"},
        {"analyzer": "word", "ngram_range": (1, 1), "lowercase": False},
    ],
)
def test_block_features_equal_the_vectorizers_to_the_bit(params: dict[str, object]) -> None:
    block = FeatureBlock("b", dict(params))
    block.fit(TRAIN)
    expected = block.vectorizer().transform(TEXTS)
    assert _same(block.transform(TEXTS), expected)
    assert _same(block.transform(TEXTS), expected)  # again, from the word cache
    assert _same(block.transform(TEXTS[::-1]), block.vectorizer().transform(TEXTS[::-1]))


def test_no_texts_give_no_rows() -> None:
    block = FeatureBlock("char", {"analyzer": "char_wb", "ngram_range": (2, 4), "lowercase": False})
    block.fit(TRAIN)
    assert block.transform([]).shape == (0, block.size)


def test_the_word_cache_is_bounded_and_refills(monkeypatch: pytest.MonkeyPatch) -> None:
    block = FeatureBlock("char", {"analyzer": "char_wb", "ngram_range": (2, 4), "lowercase": False})
    block.fit(TRAIN)
    monkeypatch.setattr(linear, "WORD_CACHE_SIZE", 3)
    for start in range(len(TEXTS)):
        part = TEXTS[start:] + TEXTS[:start]
        assert _same(block.transform(part), block.vectorizer().transform(part))
        assert len(block._word_columns) <= 3 + len(" ".join(part).split())


def test_a_lower_casing_block_still_counts_as_scikit_learn_does() -> None:
    block = FeatureBlock("w", {"analyzer": "word", "lowercase": True})
    block.fit(TRAIN)
    texts = ["YOU are an IDIOT", "Lovely Park"]
    assert _same(block.transform(texts), block.vectorizer().transform(texts))
