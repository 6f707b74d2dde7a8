"""The scoring step both engines share: texts in, score columns and decisions out.

Each chunk goes through ``civility.moderate.moderate`` (the one score-then-decide flow, and
its one rule for texts that cannot be scored). This door writes its verdicts as columns: a
row whose text is null, empty or only whitespace (the flow holds it unscored, no text) keeps
null score columns and a null decision (a table of rows has nothing to show a moderator, and
"approve" would claim a judgement that was never made); the row itself is kept, and the
job's summary counts such rows. A row in a language the model cannot read is held by the
flow: null score columns, decision "hold", and ``hold_reason`` says why ("language es not
supported", ``civility.language``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from civility.adapted import AdaptedScorer, adapter_label
from civility.batch._io import ADAPTER, DECISION, HOLD_REASON, MODEL_VERSION
from civility.moderate import NO_TEXT_NOTE, moderate
from civility.policy import Policy
from civility.scorer import Scorer

# One loaded model per process, keyed by artifact path ('' = the shipped model): Spark's
# Python workers and the local engine's processes load it once and reuse it for every chunk.
_SCORERS: dict[str, Scorer] = {}
# The same for a site's adapter over that model, keyed by artifact path and adapter digest.
_ADAPTED: dict[tuple[str, str], Scorer] = {}


@dataclass(frozen=True)
class SiteAdapterBytes:
    """A site's serving adapter as the driver hands it to worker processes (a pickle of
    plain bytes, or a Spark broadcast): each worker rebuilds the ``AdaptedScorer`` over its
    own copy of the model, and ``SiteAdapter.from_bytes`` refuses another model."""

    site: str
    version: int
    data: bytes

    @classmethod
    def of(cls, scorer: AdaptedScorer) -> SiteAdapterBytes:
        return cls(scorer.site, scorer.adapter_version, scorer.to_bytes())

    @property
    def label(self) -> str:
        return f"{self.site}/v{self.version}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def cached_scorer(model_dir: str, adapter: SiteAdapterBytes | None = None) -> Scorer:
    """The process's scorer for ``model_dir`` (loaded on first use), with ``adapter`` applied
    when one is given."""
    scorer = _SCORERS.get(model_dir)
    if scorer is None:
        scorer = Scorer(Path(model_dir) if model_dir else None).load()
        _SCORERS[model_dir] = scorer
    if adapter is None:
        return scorer
    key = (model_dir, adapter.sha256)
    adapted = _ADAPTED.get(key)
    if adapted is None:
        adapted = AdaptedScorer.from_bytes(
            scorer, adapter.data, site=adapter.site, version=adapter.version
        )
        _ADAPTED[key] = adapted
    return adapted


@dataclass(frozen=True)
class ScoredColumns:
    """Per-attribute scores (``None`` for unscored rows), decisions, the model version, the
    number of empty rows and why each row held unscored was held."""

    scores: dict[str, list[float | None]]
    decisions: list[str | None]
    model_version: str
    empty: int
    hold_reasons: list[str | None]


def score_texts(texts: Sequence[Any], scorer: Scorer, policy: Policy) -> ScoredColumns:
    """Score the non-empty texts in one ``Scorer.score`` call; decide each with ``policy``."""
    verdicts = moderate(texts, scorer, policy)
    scores: dict[str, list[float | None]] = {a: [None] * len(texts) for a in scorer.attributes}
    for i, v in enumerate(verdicts):
        for a, value in (v.scores.values if v.scores is not None else {}).items():
            scores[a][i] = value
    empty = [v.note == NO_TEXT_NOTE for v in verdicts]
    return ScoredColumns(
        scores,
        [None if e else v.decision.action for v, e in zip(verdicts, empty, strict=True)],
        scorer.version,
        sum(empty),
        [None if e else v.note for v, e in zip(verdicts, empty, strict=True)],
    )


def score_table(
    table: pa.Table, scorer: Scorer, policy: Policy, *, adapter_column: bool = False
) -> pa.Table:
    """``table`` plus one float64 column per attribute, the decision and the model version;
    with ``adapter_column`` (a job for a site), the adapter that scored (null: the model
    alone)."""
    cols = score_texts(table.column("text").to_pylist(), scorer, policy)
    for name, values in cols.scores.items():
        table = table.append_column(name, pa.array(values, type=pa.float64()))
    table = table.append_column(DECISION, pa.array(cols.decisions, type=pa.string()))
    table = table.append_column(
        MODEL_VERSION, pa.array([cols.model_version] * table.num_rows, type=pa.string())
    )
    table = table.append_column(HOLD_REASON, pa.array(cols.hold_reasons, type=pa.string()))
    if adapter_column:
        label = adapter_label(scorer)
        table = table.append_column(ADAPTER, pa.array([label] * table.num_rows, type=pa.string()))
    return table
