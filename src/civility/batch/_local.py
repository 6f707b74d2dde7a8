"""The local engine: worker processes score fixed-size chunks; the job resumes after interruption.

Each chunk ``k`` is written to ``OUT.parts/{k:08d}.parquet`` (tmp file, then rename, so a part
exists only when complete). ``OUT.parts/manifest.json`` records the input's fingerprint and
the settings that shape the output; a re-run skips the chunks already written and refuses to
mix parts made from another input or other settings. When every chunk is written the parts
are assembled, in order, into ``OUT`` (again tmp + rename) and ``OUT.parts`` is removed.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context, parent_process
from multiprocessing.connection import wait as wait_ready
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from civility.batch._io import (
    ADAPTER,
    DECISION,
    MODEL_VERSION,
    file_format,
    iter_chunks,
    scan_input,
)
from civility.batch._score import SiteAdapterBytes, cached_scorer, score_table
from civility.errors import CivilityError, InvalidInput, ModelError
from civility.model import artifact_identity
from civility.policy import Policy

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
DEFAULT_CHUNK_SIZE = 5_000


@dataclass(frozen=True)
class BatchResult:
    """What a finished job did; ``empty`` rows were kept unscored (see ``_score``)."""

    output: Path
    rows: int
    empty: int
    chunks: int
    resumed_chunks: int
    resumed_rows: int
    decisions: dict[str, int] = field(default_factory=dict)
    model_version: str = ""
    seconds: float = 0.0
    adapter: str | None = None

    @property
    def rate(self) -> float:
        """Comments scored per second in this run (chunks resumed from disk excluded)."""
        return (self.rows - self.resumed_rows) / self.seconds if self.seconds > 0 else 0.0


def parts_dir(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def model_identity(model_dir: Path | None) -> dict[str, Any]:
    """Version and checksum of the artifact, read from its metadata without loading it."""
    try:
        identity = artifact_identity(model_dir)
        return {"version": identity.version, "sha256": identity.sha256}
    except ModelError:
        # Let the loader say precisely what is wrong with the artifact.
        scorer = cached_scorer(str(model_dir) if model_dir else "")
        return {"version": scorer.version, "sha256": ""}


def run_local(
    input_path: Path,
    output: Path,
    *,
    workers: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    policy: Policy | None = None,
    model_dir: Path | None = None,
    console: Console | None = None,
    site: str | None = None,
    adapter: SiteAdapterBytes | None = None,
) -> BatchResult:
    """Score ``input_path`` into ``output`` with ``workers`` processes (default: one per core).

    A job for a ``site`` adds the ``adapter`` column; ``adapter`` (that site's serving
    adapter, if it has one) is rebuilt in every worker over its model."""
    started = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise InvalidInput(f"'workers' must be at least 1. Got {workers}.")
    if chunk_size < 1:
        raise InvalidInput(f"'chunk_size' must be at least 1. Got {chunk_size}.")
    out_format = file_format(output, role="output")
    policy = policy or Policy.default()
    if adapter is not None and site is None:
        site = adapter.site
    plan = scan_input(input_path, (ADAPTER,) if site is not None else ())
    n_chunks = -(-plan.rows // chunk_size)
    manifest = {
        "format": MANIFEST_FORMAT,
        "input": str(input_path.resolve()),
        "fingerprint": plan.fingerprint,
        "rows": plan.rows,
        "chunk_size": chunk_size,
        "model": model_identity(model_dir),
        "policy": policy.to_dict(),
    }
    if site is not None:  # the parts of a job for a site have the adapter column
        manifest["adapter"] = (
            None if adapter is None else {"label": adapter.label, "sha256": adapter.sha256}
        )
    parts = parts_dir(output)
    done = _prepare_parts(parts, manifest, n_chunks)
    resumed_rows = sum(min(chunk_size, plan.rows - k * chunk_size) for k in done)
    progress = _progress(console, plan.rows, resumed_rows)
    with progress:
        task = progress.tasks[0].id
        todo = ((k, t) for k, t in enumerate(iter_chunks(plan, chunk_size)) if k not in done)
        for rows in _score_chunks(todo, parts, workers, model_dir, policy, site, adapter):
            progress.advance(task, rows)
    if n_chunks == 0:
        _write_part(
            parts / _part_name(0),
            _empty_output(plan.schema, model_dir, policy, site is not None, adapter),
        )
        n_chunks = 1
    version, decisions = _assemble(parts, n_chunks, output, out_format)
    shutil.rmtree(parts)
    empty = decisions.pop(None, 0)
    return BatchResult(
        output=output,
        rows=plan.rows,
        empty=empty,
        chunks=n_chunks,
        resumed_chunks=len(done),
        resumed_rows=resumed_rows,
        decisions={str(k): v for k, v in sorted(decisions.items())},
        model_version=version,
        seconds=time.perf_counter() - started,
        adapter=None if adapter is None else adapter.label,
    )


def _prepare_parts(parts: Path, manifest: dict[str, Any], n_chunks: int) -> set[int]:
    """Create ``parts`` or check it belongs to this job; the indices of chunks already done."""
    path = parts / MANIFEST
    if parts.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(
                f"{parts} exists but its manifest is unreadable ({exc}); "
                f"delete {parts} to start over."
            ) from exc
        changed = [k for k in manifest if old.get(k) != manifest[k]]
        if changed:
            what = ", ".join(
                "input file" if k == "fingerprint" else k.replace("_", " ") for k in changed
            )
            raise InvalidInput(
                f"Cannot resume: {parts} was made with a different {what}. Re-run with the same "
                f"input and settings, or delete {parts} to start over."
            )
        for tmp in parts.glob("*.tmp"):
            tmp.unlink()
        return {
            int(p.stem)
            for p in parts.glob("*.parquet")
            if p.stem.isdigit() and int(p.stem) < n_chunks
        }
    parts.mkdir(parents=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.rename(path)
    return set()


def _progress(console: Console | None, total: int, completed: int) -> Progress:
    progress = Progress(
        TextColumn("[bold]scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        disable=console is not None and not console.is_terminal,
    )
    progress.add_task("scoring", total=total, completed=completed)
    return progress


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.speed
        return Text(
            f"{speed:,.0f} comments/s" if speed else "- comments/s", style="progress.data.speed"
        )


# ---------------------------------------------------------------- workers

_WORKER: dict[str, Any] = {}


def _init_worker(
    model_dir: str,
    policy: dict[str, Any],
    adapter_column: bool = False,
    adapter: SiteAdapterBytes | None = None,
) -> None:
    """Runs once in each worker: ignore Ctrl-C (the parent stops us), exit with the parent,
    load the model (and rebuild the site's adapter over it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent()
    _WORKER["scorer"] = cached_scorer(model_dir, adapter)
    _WORKER["policy"] = Policy.from_dict(policy)
    _WORKER["adapter_column"] = adapter_column


def _exit_with_parent() -> None:
    """Exit as soon as the driver is gone, even when it was killed (``kill -9``, out of
    memory) and could stop nobody: otherwise each worker, blocked reading a task queue it
    also holds open, would wait forever with its model in memory. A spawned process gets a
    pipe whose other end only its parent holds (``parent_process().sentinel``); it reads
    as ready once the parent has exited."""
    parent = parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait_ready([sentinel])
        os._exit(1)  # a chunk being written is left as a *.tmp file, which a re-run removes

    threading.Thread(target=watch, name="civility-exit-with-parent", daemon=True).start()


def _score_chunk(index: int, table: pa.Table, parts: str) -> int:
    scored = score_table(
        table, _WORKER["scorer"], _WORKER["policy"], adapter_column=_WORKER["adapter_column"]
    )
    _write_part(Path(parts) / _part_name(index), scored)
    return int(table.num_rows)


def _empty_output(
    schema: pa.Schema,
    model_dir: Path | None,
    policy: Policy,
    adapter_column: bool = False,
    adapter: SiteAdapterBytes | None = None,
) -> pa.Table:
    scorer = cached_scorer(str(model_dir) if model_dir else "", adapter)
    return score_table(schema.empty_table(), scorer, policy, adapter_column=adapter_column)


def _part_name(index: int) -> str:
    return f"{index:08d}.parquet"


def _write_part(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    tmp.rename(path)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Worker processes are started inside ``submit``: keep Ctrl-C off them until their
    initializer has set their own handler (an ignored signal stays ignored across exec)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _score_chunks(
    todo: Iterator[tuple[int, pa.Table]],
    parts: Path,
    workers: int,
    model_dir: Path | None,
    policy: Policy,
    site: str | None = None,
    adapter: SiteAdapterBytes | None = None,
) -> Iterator[int]:
    """Score chunks on ``workers`` processes, at most two chunks per worker in memory."""
    executor = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_init_worker,
        initargs=(str(model_dir) if model_dir else "", policy.to_dict(), site is not None, adapter),
    )
    pending: set[Future[int]] = set()
    try:
        for index, table in todo:
            if len(pending) >= 2 * workers:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    yield fut.result()
            with _sigint_ignored():
                pending.add(executor.submit(_score_chunk, index, table, str(parts)))
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                yield fut.result()
    except BrokenProcessPool as exc:
        raise CivilityError(
            "A worker process died (out of memory, or killed); finished chunks are kept: "
            "re-run the same command to resume."
        ) from exc
    except BaseException:
        _terminate(executor)
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _terminate(executor: ProcessPoolExecutor) -> None:
    """Stop the workers now (Ctrl-C or an error): queued chunks are dropped, parts kept."""
    processes = list((executor._processes or {}).values())  # no public handle before 3.14
    for proc in processes:
        proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
    executor.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------- assembling the output


def _assemble(
    parts: Path, n_chunks: int, output: Path, out_format: str
) -> tuple[str, Counter[str | None]]:
    """Concatenate the parts, in order, into ``output``; the model version and decision counts."""
    tmp = output.with_name(output.name + ".tmp")
    decisions: Counter[str | None] = Counter()
    paths = [parts / _part_name(k) for k in range(n_chunks)]
    schema = pq.read_schema(paths[0])
    if out_format == "parquet":
        with pq.ParquetWriter(tmp, schema) as writer:
            for p in paths:
                writer.write_table(pq.read_table(p))
    else:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            if out_format == "csv":
                writer_csv = csv.writer(fh)
                writer_csv.writerow(schema.names)
            for p in paths:
                for batch in pq.ParquetFile(p).iter_batches(batch_size=10_000):
                    for row in batch.to_pylist():
                        if out_format == "jsonl":
                            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                        else:
                            writer_csv.writerow(["" if v is None else v for v in row.values()])
    versions: set[str] = set()
    for p in paths:
        cols = pq.read_table(p, columns=[DECISION, MODEL_VERSION])
        decisions.update(cols.column(0).to_pylist())
        versions.update(cols.column(1).unique().to_pylist())
    tmp.rename(output)
    return ", ".join(sorted(versions)), decisions
