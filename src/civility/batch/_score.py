"""The scoring step both engines share: texts in, score columns and decisions out.

A row whose text is null, empty or only whitespace is not scored: its score columns and its
decision are null (there is nothing to moderate, and "approve" would claim a judgement that
was never made). The row itself is kept, and the job's summary counts such rows. A row in a
language the model cannot read is not scored either: its decision is "hold" and its
``hold_reason`` says why ("language es not supported", ``civility.language``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from civility import language
from civility.batch._io import DECISION, HOLD_REASON, MODEL_VERSION
from civility.policy import Policy
from civility.scorer import Scorer

# One loaded model per process, keyed by artifact path ('' = the shipped model): Spark's
# Python workers and the local engine's processes load it once and reuse it for every chunk.
_SCORERS: dict[str, Scorer] = {}


def cached_scorer(model_dir: str) -> Scorer:
    """The process's scorer for ``model_dir`` (loaded on first use)."""
    scorer = _SCORERS.get(model_dir)
    if scorer is None:
        scorer = Scorer(Path(model_dir) if model_dir else None).load()
        _SCORERS[model_dir] = scorer
    return scorer


@dataclass(frozen=True)
class ScoredColumns:
    """Per-attribute scores (``None`` for unscored rows), decisions, the model version, the
    number of empty rows and why each row held unscored was held."""

    scores: dict[str, list[float | None]]
    decisions: list[str | None]
    model_version: str
    empty: int
    hold_reasons: list[str | None]


def is_empty(text: Any) -> bool:
    return not isinstance(text, str) or not text.strip()


def score_texts(texts: Sequence[Any], scorer: Scorer, policy: Policy) -> ScoredColumns:
    """Score the non-empty texts in one ``Scorer.score`` call; decide each with ``policy``."""
    keep = [i for i, t in enumerate(texts) if not is_empty(t)]
    reasons: list[str | None] = [None] * len(texts)
    for i, reason in zip(keep, language.unsupported([texts[i] for i in keep]), strict=True):
        reasons[i] = reason
    keep = [i for i in keep if reasons[i] is None]
    results = scorer.score([texts[i] for i in keep])
    scores: dict[str, list[float | None]] = {a: [None] * len(texts) for a in scorer.attributes}
    decisions: list[str | None] = [None] * len(texts)
    for i, result in zip(keep, results, strict=True):
        for a, v in result.values.items():
            scores[a][i] = v
        decisions[i] = policy.decide(result).action
    for i, reason in enumerate(reasons):
        if reason is not None:
            decisions[i] = "hold"
    held = sum(r is not None for r in reasons)
    return ScoredColumns(scores, decisions, scorer.version, len(texts) - len(keep) - held, reasons)


def score_table(table: pa.Table, scorer: Scorer, policy: Policy) -> pa.Table:
    """``table`` plus one float64 column per attribute, the decision and the model version."""
    cols = score_texts(table.column("text").to_pylist(), scorer, policy)
    for name, values in cols.scores.items():
        table = table.append_column(name, pa.array(values, type=pa.float64()))
    table = table.append_column(DECISION, pa.array(cols.decisions, type=pa.string()))
    table = table.append_column(
        MODEL_VERSION, pa.array([cols.model_version] * table.num_rows, type=pa.string())
    )
    return table.append_column(
        HOLD_REASON, pa.array(cols.hold_reasons, type=pa.string())
    )
