"""Fitting the linear model from labelled frames, deterministically."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from civility.attributes import NAMES
from civility.model.linear import FeatureBlock, LinearModel
from civility.text import normalize_text

WORD_PARAMS = {
    "analyzer": "word", "token_pattern": r"\S+", "lowercase": False, "ngram_range": (1, 2),
    "min_df": 2, "max_features": 150_000, "sublinear_tf": True,
}
CHAR_PARAMS = {
    "analyzer": "char_wb", "lowercase": False, "ngram_range": (2, 5),
    "min_df": 3, "max_features": 200_000, "sublinear_tf": True,
}


def fit_model(frame: pd.DataFrame, *, seed: int = 0, version: str = "dev",
              attributes: Sequence[str] = NAMES, c: float = 4.0) -> LinearModel:
    texts = [normalize_text(t) for t in frame["text"]]
    blocks = [FeatureBlock("word", dict(WORD_PARAMS)), FeatureBlock("char", dict(CHAR_PARAMS))]
    import scipy.sparse as sp

    x = sp.hstack([b.fit(texts) for b in blocks], format="csr")
    coef = np.zeros((x.shape[1], len(attributes)))
    intercept = np.full(len(attributes), -6.0)
    for j, name in enumerate(attributes):
        y = frame[name].to_numpy()
        mask = ~np.isnan(y)
        if mask.sum() == 0 or len(np.unique(y[mask])) < 2:
            continue
        clf = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=seed)
        clf.fit(x[mask], y[mask])
        coef[:, j] = clf.coef_[0]
        intercept[j] = clf.intercept_[0]
    return LinearModel(tuple(attributes), blocks, coef, intercept, metadata={"version": version})
