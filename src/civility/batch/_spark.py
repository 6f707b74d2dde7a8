"""The Spark engine: the same job as the local engine, on ``local[N]``, ``spark://`` or YARN.

Scoring runs in ``mapInArrow`` (the Arrow form of ``mapInPandas``): Arrow batches go to
``score_table`` unchanged, so integer ids with nulls never take a float detour through
pandas, and both engines share one scoring function. Each Python worker loads the model
once (``cached_scorer``, keyed by artifact path) and reuses it for every batch of every
task it runs. The output is Spark's usual directory of part files, in OUT's format.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from civility.batch._io import ADAPTER, DECISION, check_columns, file_format, scan_input
from civility.batch._score import SiteAdapterBytes, cached_scorer, score_table
from civility.errors import CivilityError, InvalidInput, NotFound
from civility.policy import Policy

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import DataFrame, SparkSession

_SPARK_FORMAT = {"parquet": "parquet", "jsonl": "json", "csv": "csv"}
_POLICIES: dict[str, Policy] = {}


@dataclass(frozen=True)
class SparkBatchResult:
    """What a finished Spark job wrote (``output`` is a directory of part files)."""

    output: str
    rows: int
    empty: int
    decisions: dict[str, int] = field(default_factory=dict)
    model_version: str = ""
    master: str = ""
    adapter: str | None = None


def spark_session(
    master: str | None = None, workers: int | None = None, conf: dict[str, str] | None = None
) -> SparkSession:
    """A session on ``master``; else on the master spark-submit gave; else ``local[workers]``."""
    from pyspark.sql import SparkSession

    # spark-submit starts Python with this variable set and its own --master in force.
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    builder = SparkSession.builder.appName("civility-batch")
    if master is None and not submitted:
        master = f"local[{workers or '*'}]"
    if master is not None:
        builder = builder.master(master)
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    if master is not None and master.startswith("local"):
        # Local workers must run this interpreter, the one civility is installed in; PySpark
        # reads only this variable for it (not spark.pyspark.python). A user's value wins.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = builder.getOrCreate()
    # Executors' stack traces would bury the one-line error this job raises.
    session.sparkContext.setLogLevel("OFF")
    return session


def run_spark(
    input_path: str | Path,
    output: str | Path,
    *,
    master: str | None = None,
    workers: int | None = None,
    chunk_size: int = 5_000,
    policy: Policy | None = None,
    model_dir: Path | None = None,
    spark: SparkSession | None = None,
    site: str | None = None,
    adapter: SiteAdapterBytes | None = None,
) -> SparkBatchResult:
    """Score ``input_path`` into the directory ``output`` with Spark.

    A job for a ``site`` adds the ``adapter`` column; ``adapter`` (the site's serving adapter)
    goes to the executors as a broadcast, and each Python worker rebuilds it over its model.
    Stops the session only when it made it (``spark`` not given)."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    if chunk_size < 1:
        raise InvalidInput(f"'chunk_size' must be at least 1. Got {chunk_size}.")
    policy = policy or Policy.default()
    in_fmt = file_format(Path(str(input_path)))
    out_fmt = file_format(Path(str(output)), role="output")
    # Local files get the local engine's full check (one-line errors naming the line) and
    # its column order and types; remote paths (hdfs://, s3a://) are left to Spark's readers.
    if adapter is not None and site is None:
        site = adapter.site
    added = (ADAPTER,) if site is not None else ()
    schema = None
    if "://" not in str(input_path):
        local = Path(input_path)
        if local.is_file():
            schema = scan_input(local, added).schema
        elif not local.exists():
            raise NotFound(f"Input file not found: {local}")
    scorer = cached_scorer(str(model_dir) if model_dir else "", adapter)
    own = spark is None
    session = spark or spark_session(master, workers)
    try:
        session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(chunk_size))
        frame = _read(session, str(input_path), in_fmt, schema)
        check_columns(str(input_path), frame.columns, added)
        # A small file or a one-row-group Parquet file is a single split: spread it over every
        # core (row order then follows Spark's partitions; join results on 'id').
        cores = session.sparkContext.defaultParallelism
        if frame.rdd.getNumPartitions() < cores:
            frame = frame.repartition(cores)
        shared = None if adapter is None else session.sparkContext.broadcast(adapter)
        scored = frame.mapInArrow(
            _scorer_fn(
                str(model_dir) if model_dir else "", policy.to_dict(), site is not None, shared
            ),
            _output_schema(frame, scorer.attributes, site is not None),
        )
        _write(scored, str(output), out_fmt)
        counts = {
            row[DECISION]: int(row["count"])
            for row in _read(session, str(output), out_fmt, None)
            .groupBy(DECISION)
            .count()
            .collect()
        }
        used = session.sparkContext.master
    except PySparkException as exc:
        raise InvalidInput(f"Spark could not run the job: {_first_line(exc)}") from exc
    except Py4JError as exc:
        raise CivilityError(f"Spark failed: {_first_line(exc)}") from exc
    finally:
        if own:
            session.stop()
    empty = counts.pop(None, 0)
    return SparkBatchResult(
        output=str(output),
        rows=sum(counts.values()) + empty,
        empty=empty,
        decisions=dict(sorted(counts.items())),
        model_version=scorer.version,
        master=str(used),
        adapter=None if adapter is None else adapter.label,
    )


def _read(session: SparkSession, path: str, fmt: str, schema: pa.Schema | None) -> DataFrame:
    reader = session.read.format(_SPARK_FORMAT[fmt])
    if fmt == "csv":
        reader = reader.options(
            header=True, multiLine=True, escape='"', mode="FAILFAST", encoding="UTF-8"
        )
    elif fmt == "jsonl":
        reader = reader.options(mode="FAILFAST", encoding="UTF-8")
    if schema is not None and fmt != "parquet":
        from pyspark.sql.pandas.types import from_arrow_schema

        reader = reader.schema(from_arrow_schema(schema))
    return reader.load(path)


def _write(frame: DataFrame, path: str, fmt: str) -> None:
    writer = frame.write.mode("overwrite").format(_SPARK_FORMAT[fmt])
    if fmt == "csv":
        writer = writer.options(header=True, escape='"')
    elif fmt == "jsonl":
        writer = writer.options(ignoreNullFields=False)
    writer.save(path)


def _output_schema(frame: DataFrame, attributes: tuple[str, ...], adapter: bool = False) -> Any:
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    added = [StructField(a, DoubleType()) for a in attributes]
    added += [StructField(DECISION, StringType()), StructField("model_version", StringType())]
    added += [StructField("hold_reason", StringType())]
    if adapter:
        added += [StructField(ADAPTER, StringType())]
    return StructType(list(frame.schema.fields) + added)


def _scorer_fn(
    model_dir: str,
    policy: dict[str, Any],
    adapter_column: bool = False,
    adapter: Broadcast[SiteAdapterBytes] | None = None,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The per-partition function; it captures only plain values and the adapter's
    broadcast handle, so it pickles small."""

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        scorer = cached_scorer(model_dir, None if adapter is None else adapter.value)
        key = repr(sorted(policy.items()))
        if key not in _POLICIES:
            _POLICIES[key] = Policy.from_dict(policy)
        pol = _POLICIES[key]
        for batch in batches:
            table = pa.Table.from_batches([batch])
            yield from score_table(table, scorer, pol, adapter_column=adapter_column).to_batches()

    return score


_PY_ERROR = re.compile(r"^(?:[A-Za-z_][\w.]*)?(?:Error|Exception): .+$", re.MULTILINE)


def _first_line(exc: BaseException) -> str:
    """The line that says what failed: a Python worker's last exception, else the first line."""
    text = str(exc).strip()
    found = [m for m in _PY_ERROR.findall(text) if not m.startswith(("org.", "java.", "py4j."))]
    if found:
        return str(found[-1])
    return text.splitlines()[0] if text else type(exc).__name__
