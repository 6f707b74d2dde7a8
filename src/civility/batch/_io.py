"""Reading comment archives (Parquet, JSONL, CSV) as a stream of fixed-size Arrow chunks.

``scan_input`` checks the whole file once before any scoring: it fixes the column types,
counts the rows (for the progress bar), computes the file's fingerprint (for resuming) and
turns every defect into a one-line error naming the file and line. ``iter_chunks`` then
reads the file again, one chunk in memory at a time.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from civility import attributes as attrs
from civility.errors import InvalidInput, NotFound

Format = Literal["parquet", "jsonl", "csv"]
FORMATS: dict[str, Format] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
}
REQUIRED = ("id", "text")
DECISION = "decision"
MODEL_VERSION = "model_version"
# Why a row was held without scores ("language es not supported"); null for every other row.
HOLD_REASON = "hold_reason"
# The adapter that scored each row ("SITE/vN", null for the base model): only with --site.
ADAPTER = "adapter"
# Output columns the job adds; an input that already has one is refused rather than overwritten.
ADDED = (*attrs.NAMES, DECISION, MODEL_VERSION, HOLD_REASON)
_CSV_FIELD_LIMIT = 1 << 24
_CHECK_BATCH = 65_536  # rows decoded at a time by the Parquet check


@dataclass(frozen=True)
class InputPlan:
    """What ``scan_input`` learnt about an input file."""

    path: Path
    format: Format
    schema: pa.Schema
    rows: int
    fingerprint: str
    json_columns: frozenset[str] = frozenset()


def file_format(path: Path, role: str = "input") -> Format:
    """The format named by ``path``'s extension."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        allowed = ", ".join(sorted(FORMATS))
        raise InvalidInput(
            f"Unknown {role} file type {path.suffix or '(none)'!r} for {path}; allowed: {allowed}."
        )
    return fmt


def scan_input(path: Path, added: tuple[str, ...] = ()) -> InputPlan:
    """Validate ``path`` end to end and describe it; raises ``InvalidInput`` / ``NotFound``.
    ``added`` names output columns the job adds beside ``ADDED`` (``adapter`` with a site)."""
    fmt = file_format(path)
    if not path.exists():
        raise NotFound(f"Input file not found: {path}")
    if not path.is_file():
        raise InvalidInput(f"Input {path} is not a file.")
    if fmt == "parquet":
        plan = _scan_parquet(path)
    elif fmt == "jsonl":
        plan = _scan_jsonl(path)
    else:
        plan = _scan_csv(path)
    check_columns(path, plan.schema.names, added)
    return plan


def check_columns(path: str | Path, names: list[str], added: tuple[str, ...] = ()) -> None:
    """Refuse input without the required columns, or that already has our output columns
    (both engines call this)."""
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InvalidInput(
            f"{path} has no {' or '.join(repr(c) for c in missing)} column; "
            f"found: {', '.join(names) or 'none'}."
        )
    clash = [c for c in names if c in ADDED or c in added]
    if clash:
        raise InvalidInput(
            f"{path} already has the output column(s) {', '.join(clash)}; "
            "drop or rename them first "
            "(batch never overwrites input columns)."
        )


def iter_chunks(plan: InputPlan, chunk_size: int) -> Iterator[pa.Table]:
    """The input as tables of exactly ``chunk_size`` rows (the last may be shorter)."""
    if plan.format == "parquet":
        try:
            batches = pq.ParquetFile(plan.path).iter_batches(batch_size=chunk_size)
            tables = (pa.Table.from_batches([b]) for b in batches)
            yield from _rechunk(tables, plan.schema, chunk_size)
        except (pa.ArrowException, OSError) as exc:
            raise InvalidInput(
                f"{plan.path} could not be read (did it change after it was checked?): "
                f"{_first_line(exc)}"
            ) from exc
        return
    rows = _jsonl_rows(plan.path) if plan.format == "jsonl" else _csv_rows(plan.path)[1]
    names = plan.schema.names
    buffer: list[dict[str, Any] | list[str | None]] = []
    for _, row in rows:
        buffer.append(row)
        if len(buffer) == chunk_size:
            yield _to_table(buffer, plan, names)
            buffer = []
    if buffer:
        yield _to_table(buffer, plan, names)


def _rechunk(tables: Iterator[pa.Table], schema: pa.Schema, size: int) -> Iterator[pa.Table]:
    pending: list[pa.Table] = []
    held = 0
    for t in tables:
        pending.append(t)
        held += t.num_rows
        while held >= size:
            whole = pa.concat_tables(pending)
            yield whole.slice(0, size).combine_chunks()
            rest = whole.slice(size)
            pending, held = [rest], rest.num_rows
    if held:
        yield pa.concat_tables(pending).combine_chunks()


def _to_table(buffer: list[Any], plan: InputPlan, names: list[str]) -> pa.Table:
    columns = []
    for j, field in enumerate(plan.schema):
        if plan.format == "csv":
            values: list[Any] = [r[j] for r in buffer]
        else:
            values = [r.get(field.name) for r in buffer]
            if field.name in plan.json_columns:
                values = [
                    v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                    for v in values
                ]
        columns.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(columns, schema=plan.schema)


# ---------------------------------------------------------------- Parquet


def _scan_parquet(path: Path) -> InputPlan:
    try:
        source = pq.ParquetFile(path)
        schema = source.schema_arrow
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"{path} is not a readable Parquet file: {_first_line(exc)}") from exc
    check_columns(path, schema.names)
    if not (
        pa.types.is_string(schema.field("text").type)
        or pa.types.is_large_string(schema.field("text").type)
    ):
        raise InvalidInput(
            f"{path}: column 'text' must hold strings. Got {schema.field('text').type}."
        )
    rows = _check_parquet_data(path, source)
    return InputPlan(path, "parquet", schema, rows, _sha256(path))


def _check_parquet_data(path: Path, source: pq.ParquetFile) -> int:
    """Decode every page once, so that a corrupt page or invalid UTF-8 is refused before any
    scoring starts (the footer alone says nothing about the data); the number of rows."""
    meta = source.metadata
    groups = meta.num_row_groups
    first = 0
    for g in range(groups):
        declared = meta.row_group(g).num_rows
        where = f"row group {g + 1} of {groups}, rows {first + 1:,}-{first + declared:,}"
        seen = 0
        try:
            for batch in source.iter_batches(batch_size=_CHECK_BATCH, row_groups=[g]):
                _check_batch(path, batch, first + seen)
                seen += batch.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise InvalidInput(
                f"{path} is not a readable Parquet file: {_first_line(exc).rstrip('.')} ({where})."
            ) from exc
        if seen != declared:
            raise InvalidInput(
                f"{path} is not a readable Parquet file: {where} holds {seen:,} rows."
            )
        first += seen
    return first


def _check_batch(path: Path, batch: pa.RecordBatch, first_row: int) -> None:
    """Full validation (offsets, UTF-8); on failure, name the first bad row and column."""
    try:
        batch.validate(full=True)
    except pa.ArrowInvalid:
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            for i in range(len(column)):
                try:
                    column.slice(i, 1).validate(full=True)
                except pa.ArrowInvalid as exc:
                    what = "invalid UTF-8" if "UTF8" in str(exc) else _first_line(exc).rstrip(".")
                    raise InvalidInput(
                        f"{path}: row {first_row + i + 1:,}, column {name!r}: {what}."
                    ) from exc
        raise


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------- JSONL


def _decoded_lines(path: Path, digest: Any = None) -> Iterator[tuple[int, str]]:
    """(line number, text) for each physical line; invalid UTF-8 names its line."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if digest is not None:
                digest.update(raw)
            try:
                yield lineno, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                hint = "; the line looks truncated" if _cut_character(raw, exc.start) else ""
                raise InvalidInput(
                    f"{path}:{lineno}: invalid UTF-8 (byte {exc.start + 1} of the line{hint})."
                ) from None


def _cut_character(raw: bytes, start: int) -> bool:
    """Whether the bytes from ``start`` to the end of the line are the beginning of a
    multi-byte character that was cut off (a line truncated in the middle of a character)."""
    rest = raw[start:].rstrip(b"\r\n")
    return 1 <= len(rest) <= 3 and rest[0] >= 0xC2 and all(0x80 <= b <= 0xBF for b in rest[1:])


def _jsonl_rows(path: Path, digest: Any = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Blank lines are skipped; any other line must be a JSON object with ``id`` and ``text``."""
    for lineno, line in _decoded_lines(path, digest):
        if lineno == 1 and line.startswith("\ufeff"):
            line = line[1:]
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            # Cut short: a string left open, or the parser ran out of line mid-value.
            cut = exc.msg.startswith("Unterminated") or exc.pos >= len(line.rstrip("\r\n"))
            hint = " (the line looks truncated)" if cut else ""
            what = re.sub(r"( starting)? at$", "", exc.msg)  # json's messages end "... at"
            column = min(exc.pos, len(line.rstrip("\r\n"))) + 1  # not past the line's end
            raise InvalidInput(
                f"{path}:{lineno}: not valid JSON at column {column}: {what}{hint}."
            ) from None
        if not isinstance(row, dict):
            raise InvalidInput(
                f"{path}:{lineno}: expected a JSON object. Got {type(row).__name__}."
            )
        for key in REQUIRED:
            if key not in row:
                raise InvalidInput(f"{path}:{lineno}: the object has no {key!r} field.")
        text = row["text"]
        if text is not None and not isinstance(text, str):
            raise InvalidInput(
                f"{path}:{lineno}: 'text' must be a string or null. Got {type(text).__name__}."
            )
        yield lineno, row


_KIND = {bool: "bool", int: "int", float: "float", str: "str"}


def _scan_jsonl(path: Path) -> InputPlan:
    digest = hashlib.sha256()
    kinds: dict[str, set[str]] = {}
    rows = 0
    for _, row in _jsonl_rows(path, digest):
        rows += 1
        for key, value in row.items():
            seen = kinds.setdefault(key, set())
            if value is not None:
                seen.add(_KIND.get(type(value), "other"))
    if rows == 0:
        raise InvalidInput(f"{path}: no comments found (the file holds no JSON lines).")
    fields, as_json = [], set()
    for key, seen in kinds.items():
        if not seen or seen == {"str"}:
            kind = pa.string()
        elif seen == {"bool"}:
            kind = pa.bool_()
        elif seen == {"int"}:
            kind = pa.int64()
        elif seen <= {"int", "float"}:
            kind = pa.float64()
        else:  # mixed or nested values are kept, as JSON text
            kind = pa.string()
            as_json.add(key)
        fields.append(pa.field(key, kind))
    return InputPlan(
        path, "jsonl", pa.schema(fields), rows, "sha256:" + digest.hexdigest(), frozenset(as_json)
    )


# ---------------------------------------------------------------- CSV


def _csv_rows(
    path: Path, digest: Any = None
) -> tuple[list[str], Iterator[tuple[int, list[str | None]]]]:
    """Header and rows (every field a string; an empty field is null), RFC 4180 quoting."""
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    lines = _decoded_lines(path, digest)
    state = {"line": 0, "end": 0}  # the physical line read last, and where the last record ended

    def physical() -> Iterator[str]:
        for lineno, line in lines:
            state["line"] = lineno
            yield line

    def malformed(exc: csv.Error) -> InvalidInput:
        start = state["end"] + 1  # the line where the record that failed began
        if str(exc) == "unexpected end of data":
            return InvalidInput(
                f"{path}:{start}: unterminated quoted field (it runs to the end of the file)."
            )
        if str(exc).startswith("field larger than field limit"):
            return InvalidInput(
                f"{path}:{start}: a field longer than {_CSV_FIELD_LIMIT:,} characters "
                "(an unterminated quoted field?)."
            )
        return InvalidInput(f"{path}:{state['line']}: malformed CSV: {exc}.")

    reader = csv.reader(physical(), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(f"{path}: the file is empty (a header row is needed).") from None
    except csv.Error as exc:
        raise malformed(exc) from None
    state["end"] = state["line"]
    if header and header[0].startswith(codecs.BOM_UTF8.decode("utf-8")):
        header[0] = header[0][1:]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InvalidInput(f"{path}:1: duplicate column name(s) {', '.join(dupes)}.")

    def rows() -> Iterator[tuple[int, list[str | None]]]:
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise malformed(exc) from None
            state["end"] = state["line"]
            if not record:
                continue
            if len(record) != len(header):
                raise InvalidInput(
                    f"{path}:{state['line']}: expected {len(header)} fields. Got {len(record)}."
                )
            yield state["line"], [v if v != "" else None for v in record]

    return header, rows()


def _scan_csv(path: Path) -> InputPlan:
    digest = hashlib.sha256()
    header, rows = _csv_rows(path, digest)
    count = sum(1 for _ in rows)
    schema = pa.schema([pa.field(h, pa.string()) for h in header])
    return InputPlan(path, "csv", schema, count, "sha256:" + digest.hexdigest())
