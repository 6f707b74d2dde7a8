"""Comments as records: JSON Lines and CSV with ``id, author, text, parent_id, created_at``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from civility.errors import InvalidInput
from civility.thread import Comment, Thread

FIELDS = ("id", "author", "text", "parent_id", "created_at")


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


def _add(comments: dict[str, Comment], comment: Comment, where: str) -> None:
    """Ids identify comments (replies point at them): a repeated id is an error, not an overwrite."""
    if comment.id in comments:
        raise InvalidInput(f"{where}: id {comment.id!r} repeats an earlier comment's id.")
    comments[comment.id] = comment


def parse_jsonl(text: str, source: Path | str = "<jsonl>") -> Thread:
    """One JSON object per line; a line that does not parse is an error naming the line."""
    comments: dict[str, Comment] = {}
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: JSON may hold U+2028
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{source}, line {number}: not valid JSON ({exc.msg}).") from None
        if not isinstance(record, dict):
            raise InvalidInput(f"{source}, line {number}: expected a JSON object.")
        where = f"{source}, line {number}"
        _add(comments, _comment(record, where), where)
    return Thread(article=None, comments=tuple(comments.values()))


def parse_csv(text: str, source: Path | str = "<csv>") -> Thread:
    """A header row naming at least ``id`` and ``text``; the other fields are optional."""
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = reader.fieldnames or []
    missing = [f for f in ("id", "text") if f not in header]
    if missing:
        raise InvalidInput(f"{source}: CSV header lacks {', '.join(missing)}; expected columns {', '.join(FIELDS)}.")
    comments: dict[str, Comment] = {}
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
        _add(comments, _comment(dict(record), where), where)
    return Thread(article=None, comments=tuple(comments.values()))
