"""The Spark engine, run for real on local[2]: same scores as the local engine and Scorer.score."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from civility.batch import run_local, run_spark
from civility.errors import InvalidInput
from civility.moderate import POLICY_SCALE
from civility.policy import Policy
from civility.scorer import Scorer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
N = 2000

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from civility.batch._spark import spark_session

    session = spark_session(
        "local[2]",
        conf={
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.driver.memory": "1g",
        },
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def comments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (DATA / "civil_comments_spans.parquet").is_file():
        pytest.skip(f"real comments not available: {DATA} is absent")
    import pandas as pd

    frame = pd.read_parquet(DATA / "civil_comments_spans.parquet", columns=["id", "text"]).head(N)
    frame["author"] = [f"user{i % 37}" for i in range(len(frame))]
    frame.loc[7, "text"] = " "  # one blank comment: left unscored by both engines
    path = tmp_path_factory.mktemp("spark") / "comments.jsonl"
    frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return path


def test_local_engine_spark_engine_and_scorer_give_identical_scores(
    spark: Any, comments: Path, tmp_path: Path
) -> None:
    local = run_local(comments, tmp_path / "local.parquet", workers=2, chunk_size=500)
    result = run_spark(comments, tmp_path / "spark.parquet", spark=spark, chunk_size=500)
    by_engine = [
        {r["id"]: r for r in pq.read_table(tmp_path / "local.parquet").to_pylist()},
        {r["id"]: r for r in pq.read_table(tmp_path / "spark.parquet").to_pylist()},
    ]
    assert len(by_engine[0]) == len(by_engine[1]) == N
    scorer = Scorer().load()
    rows = sorted(by_engine[0].values(), key=lambda r: r["id"])
    scored = [r for r in rows if r["text"].strip()]
    expected = scorer.score([r["text"] for r in scored], scale=POLICY_SCALE)
    policy = Policy.default()
    # Exact float equality: every path runs the same code on the same row (TF-IDF rows are
    # normalised one by one and the sparse product is per row), so no tolerance is needed.
    for row, want in zip(scored, expected, strict=True):
        for engine in by_engine:
            got = engine[row["id"]]
            assert {a: got[a] for a in scorer.attributes} == dict(want.values)
            assert got["decision"] == policy.decide(want).action
            assert (got["author"], got["text"], got["model_version"]) == (
                row["author"],
                row["text"],
                scorer.version,
            )
    blank = [e[rows[7]["id"]] for e in by_engine]
    assert all(b["decision"] is None and b["TOXICITY"] is None for b in blank)
    assert (result.rows, result.empty) == (N, 1) == (local.rows, local.empty)
    assert result.decisions == local.decisions


def test_spark_engine_refuses_input_without_text_before_starting_a_job(
    spark: Any, tmp_path: Path
) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("id,body\n1,hello\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad\.csv has no 'text' column; found: id, body\.$"):
        run_spark(src, tmp_path / "out.parquet", spark=spark)


def test_spark_engine_scores_a_site_with_its_adapter_from_a_broadcast(
    spark: Any, tmp_path: Path
) -> None:
    """``--site``: executors rebuild the site's adapter from its broadcast bytes, and score as
    the local engine's workers and the ``AdaptedScorer`` itself do; the adapter column names it."""
    import json

    from test_adapt import _site_examples

    from civility.adapt import fit_adapter
    from civility.adapted import AdaptedScorer
    from civility.batch import SiteAdapterBytes

    scorer = Scorer().load()
    adapter = fit_adapter(scorer, {"TOXICITY": _site_examples(400, seed=1)})
    shipped = SiteAdapterBytes("crypto", 3, adapter.to_bytes())
    texts = [e.text for e in _site_examples(60, seed=7, start=5000)]
    src = tmp_path / "site.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts)))
    result = run_spark(src, tmp_path / "spark.parquet", spark=spark, site="crypto", adapter=shipped)
    assert result.adapter == "crypto/v3"
    local = run_local(src, tmp_path / "local.parquet", workers=1, site="crypto", adapter=shipped)
    assert local.adapter == "crypto/v3"
    adapted = AdaptedScorer(scorer, adapter, site="crypto", version=3)
    want = adapted.score(texts, scale=POLICY_SCALE)
    base = scorer.score(texts, scale=POLICY_SCALE)
    for out in (tmp_path / "spark.parquet", tmp_path / "local.parquet"):
        rows = sorted(pq.read_table(out).to_pylist(), key=lambda r: r["id"])
        assert {r["adapter"] for r in rows} == {"crypto/v3"}
        for row, scores in zip(rows, want, strict=True):
            assert {a: row[a] for a in scorer.attributes} == pytest.approx(
                dict(scores.values), rel=1e-12, abs=1e-15
            )
    moved = [abs(w["TOXICITY"] - b["TOXICITY"]) for w, b in zip(want, base, strict=True)]
    assert max(moved) > 0.2  # the adapter did change the site's scores
