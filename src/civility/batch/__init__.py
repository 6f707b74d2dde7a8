"""Batch scoring of comment archives: worker processes on one machine, or Apache Spark.

Both engines read Parquet, JSONL or CSV with ``id`` and ``text`` columns (``author``,
``thread_id`` and any others are carried through), and write the input columns plus one
float column per attribute, ``decision`` and ``model_version`` (and, for a site, ``adapter``:
the site's adapter that scored). See docs/batch.md.
"""

from civility.batch._io import InputPlan, scan_input
from civility.batch._local import DEFAULT_CHUNK_SIZE, BatchResult, run_local
from civility.batch._score import SiteAdapterBytes
from civility.batch._spark import run_spark

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BatchResult",
    "InputPlan",
    "SiteAdapterBytes",
    "run_local",
    "run_spark",
    "scan_input",
]
