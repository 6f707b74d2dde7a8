"""Comments as records: JSON Lines and CSV with ``id, author, text, parent_id, created_at``.

An optional ``thread_id`` column (or ``thread``, or ``url``; the first one a record fills wins)
names the thread a comment belongs to, so one export may cover many threads. Ids identify a
comment within a site, so an id may appear once per file, whatever its thread.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from civility.errors import InvalidInput
from civility.thread import Comment, Thread

FIELDS = ("id", "author", "text", "parent_id", "created_at")
THREAD_FIELDS = ("thread_id", "thread", "url")


def _thread_of(record: dict[str, Any]) -> str | None:
    for name in THREAD_FIELDS:
        value = record.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _comment(record: dict[str, Any], where: str) -> Comment:
    text = record.get("text")
    if not isinstance(text, str):
        raise InvalidInput(f"{where}: 'text' must be a string. Got {type(text).__name__}.")
    cid = record.get("id")
    if cid is None or str(cid).strip() == "":
        raise InvalidInput(f"{where}: 'id' is missing.")

    def opt(key: str) -> str | None:
        value = record.get(key)
        return None if value is None or str(value).strip() == "" else str(value)

    return Comment(
        id=str(cid),
        author=opt("author"),
        text=text,
        parent_id=opt("parent_id"),
        created_at=opt("created_at"),
    )


# (thread, comment) by id, in file order
_Records = dict[str, tuple[str | None, Comment]]


def _add(comments: _Records, record: dict[str, Any], where: str) -> None:
    """Ids identify comments (replies point at them): a repeated id is an error, not an overwrite."""
    comment = _comment(record, where)
    if comment.id in comments:
        raise InvalidInput(f"{where}: id {comment.id!r} repeats an earlier comment's id.")
    comments[comment.id] = (_thread_of(record), comment)


def _threads(comments: _Records) -> list[Thread]:
    """One thread per thread column value, in order of first appearance."""
    groups: dict[str | None, list[Comment]] = {}
    for key, comment in comments.values():
        groups.setdefault(key, []).append(comment)
    if not groups:
        return [Thread(article=None, comments=())]
    return [Thread(article=None, comments=tuple(c), key=key) for key, c in groups.items()]


def _one(threads: list[Thread], source: Path | str) -> Thread:
    if len(threads) > 1:
        names = ", ".join(repr(t.key) for t in threads[:3]) + (", ..." if len(threads) > 3 else "")
        raise InvalidInput(
            f"{source}: the file holds comments of {len(threads)} threads ({names}); "
            "import it with 'civility import' or read it with civility.ingest.read_threads."
        )
    return threads[0]


def parse_jsonl(text: str, source: Path | str = "<jsonl>") -> Thread:
    """The one thread of a JSON Lines file; comments of several threads are an error."""
    return _one(jsonl_threads(text, source), source)


def parse_csv(text: str, source: Path | str = "<csv>") -> Thread:
    """The one thread of a CSV file; comments of several threads are an error."""
    return _one(csv_threads(text, source), source)


def jsonl_threads(text: str, source: Path | str = "<jsonl>") -> list[Thread]:
    """One JSON object per line; a line that does not parse is an error naming the line."""
    comments: _Records = {}
    for number, line in enumerate(
        text.split("\n"), start=1
    ):  # not splitlines: JSON may hold U+2028
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{source}, line {number}: not valid JSON ({exc.msg}).") from None
        if not isinstance(record, dict):
            raise InvalidInput(f"{source}, line {number}: expected a JSON object.")
        where = f"{source}, line {number}"
        _add(comments, record, where)
    return _threads(comments)


def csv_threads(text: str, source: Path | str = "<csv>") -> list[Thread]:
    """A header row naming at least ``id`` and ``text``; the other fields are optional."""
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = reader.fieldnames or []
    missing = [f for f in ("id", "text") if f not in header]
    if missing:
        raise InvalidInput(
            f"{source}: CSV header lacks {', '.join(missing)}; expected columns {', '.join(FIELDS)}."
        )
    comments: _Records = {}
    while True:
        start = reader.line_num + 1  # where the next record begins (a record may span lines)
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InvalidInput(f"{source}, line {start}: malformed CSV ({exc}).") from None
        where = f"{source}, line {start}"
        if None in record or any(v is None for v in record.values()):
            raise InvalidInput(f"{where}: expected {len(header)} fields.")
        _add(comments, dict(record), where)
    return _threads(comments)
