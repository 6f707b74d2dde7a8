"""Notion heads: one logistic head per labelled corpus, for the site adapters.

Every corpus draws its own line between acceptable and not: civil_comments' raters mark
toxicity, Gab's annotators hate, EDOS sexism, OLID offence, SBIC offensive intent. The shipped
attributes pool those lines into one per attribute. A site's moderators draw a line of their
own, and with a few hundred decisions an adapter can learn which of the corpora's lines is
nearest theirs far sooner than it can learn the line from the words alone. So the model keeps,
beside its attribute heads, one head per corpus over the same features (its *notion*); the
adapter reads their log-odds as inputs (:func:`civility.adapt.base_outputs`). They never score
a text themselves.

Each head is fitted on its corpus's rows that may be trained on (the evaluation-only files,
splits and texts are left out as for the attribute heads:
:func:`civility.train.pipeline.notion_frame`), with every corpus in
:data:`civility.train.corpora.ALL_CORPORA`, the 2026 ones included. Its target is the corpus's TOXICITY where its loader maps one (for most of
its rows), else the largest of the attributes its loader maps (hate speech corpora:
IDENTITY_ATTACK; spam corpora: SPAM; a THREAT-only mapping: THREAT), at 0.5. A corpus with
fewer than :data:`MIN_ROWS` rows or :data:`MIN_CLASS` of either class gets no head (e.g.
identity_nontoxic_wikipedia, civil only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from civility.attributes import NAMES
from civility.model.linear import LinearModel

# Inverse L2 penalty of each notion head (scikit-learn's C), and the least a corpus needs.
NOTION_C = 1.0
MIN_ROWS = 300
MIN_CLASS = 30


def notion_target(rows: pd.DataFrame) -> np.ndarray[Any, Any]:
    """One corpus's rows → its notion's target (1.0, 0.0, or NaN where it says nothing)."""
    names = [a for a in NAMES if a in rows]
    if "TOXICITY" in rows and rows["TOXICITY"].notna().mean() > 0.5:
        y = rows["TOXICITY"].to_numpy(dtype=np.float64)
    else:
        labels = rows[names].to_numpy(dtype=np.float64)
        unknown = np.isnan(labels).all(axis=1)
        y = np.where(unknown, np.nan, np.nanmax(np.where(np.isnan(labels), -1.0, labels), axis=1))
    return np.where(np.isnan(y), np.nan, (y >= 0.5).astype(np.float64))


def fit_notions(
    model: LinearModel,
    frame: pd.DataFrame,
    *,
    exclude: Sequence[str] = (),
    seed: int = 0,
    features: Any = None,
) -> LinearModel:
    """``model`` with one notion head per corpus of ``frame`` (but ``exclude``), fitted on
    ``model``'s features of the rows' ``normalized`` texts (or the given ``features`` rows, in
    ``frame``'s order). Its attribute heads are untouched: it scores every text as before."""
    if features is None:
        features = model.features(list(frame["normalized"]))
    names: list[str] = []
    weights: list[np.ndarray[Any, Any]] = []
    intercepts: list[float] = []
    corpora = frame["corpus"].to_numpy()
    for corpus in sorted(set(corpora) - set(exclude)):
        inside = np.flatnonzero(corpora == corpus)
        y = notion_target(frame.iloc[inside])
        known = ~np.isnan(y)
        rows, labels = inside[known], y[known].astype(int)
        positives = int(labels.sum())
        if len(rows) < MIN_ROWS or min(positives, len(rows) - positives) < MIN_CLASS:
            continue
        head = LogisticRegression(
            C=NOTION_C, class_weight="balanced", solver="liblinear", random_state=seed
        )
        head.fit(features[rows], labels)
        names.append(str(corpus))
        # stored in half precision (LinearModel.to_arrays): the same weights in memory
        weights.append(np.asarray(head.coef_[0]).astype(np.float16).astype(np.float32))
        intercepts.append(float(head.intercept_[0]))
    width = model.coef.shape[0]
    return replace(
        model,
        calibration=dict(model.calibration),
        metadata=dict(model.metadata),
        notions=tuple(names),
        notion_coef=np.stack(weights, axis=1) if names else np.zeros((width, 0), np.float32),
        notion_intercept=np.array(intercepts, dtype=np.float64),
    )
