"""Sources → ``Thread``: page text dumps, JSONL/CSV, Disqus XML and WordPress WXR exports."""

from __future__ import annotations

from pathlib import Path

from civility.errors import InvalidInput, NotFound
from civility.ingest.page import is_junk_line, is_name_line, parse_page
from civility.ingest.records import csv_threads, jsonl_threads, parse_csv, parse_jsonl
from civility.ingest.xml import disqus_threads, parse_disqus, parse_wxr, wxr_threads
from civility.text import html_to_text
from civility.thread import Thread

__all__ = [
    "csv_threads",
    "decode",
    "disqus_threads",
    "html_to_text",
    "is_junk_line",
    "is_name_line",
    "jsonl_threads",
    "parse_csv",
    "parse_disqus",
    "parse_jsonl",
    "parse_page",
    "parse_wxr",
    "read_text",
    "read_thread",
    "read_threads",
    "require_file",
    "wxr_threads",
]


def decode(data: bytes, source: Path | str) -> str:
    """Strict UTF-8 (a BOM is dropped); binary data and bad bytes are one-line errors."""
    if b"\x00" in data[:8192]:
        raise InvalidInput(f"{source} is a binary file, not text.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{source} is not valid UTF-8 (bad byte at offset {exc.start})."
        ) from None
    return text


def require_file(path: Path) -> None:
    """One-line errors for a path that is not a file to read: missing, a directory, or not a
    regular file (a device, a pipe)."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory, not a file.")
    if not path.exists():
        raise NotFound(f"File not found: {path}")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a regular file.")


def read_text(path: Path) -> str:
    """A text file's contents, with civility's errors for what cannot be read."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory, not a file.")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"File not found: {path}") from None
    except OSError as exc:
        raise InvalidInput(f"{path} cannot be read: {exc.strerror}.") from None
    text = decode(data, path)
    if not text.strip():
        raise InvalidInput(f"{path} is empty.")
    return text


def _sniff(path: Path, text: str) -> str:
    """The format of a source: by extension first, then by its first characters."""
    suffix = path.suffix.lower()
    head = text.lstrip()[:2000]
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    if (
        suffix in (".xml", ".wxr")
        or head.startswith("<?xml")
        or head.startswith("<disqus")
        or head.startswith("<rss")
    ):
        if "<disqus" in head:
            return "disqus"
        if "<rss" in head:
            return "wxr"
        raise InvalidInput(f"{path}: XML that is neither a Disqus nor a WordPress WXR export.")
    if head.startswith("{"):
        return "jsonl"
    return "page"


def read_threads(path: Path | str) -> list[Thread]:
    """Every thread in a source: Disqus and WXR exports, and JSONL/CSV with a thread column,
    may hold many; a page dump holds one."""
    path = Path(path)
    text = read_text(path)
    kind = _sniff(path, text)
    if kind == "disqus":
        return disqus_threads(text, path)
    if kind == "wxr":
        return wxr_threads(text, path)
    if kind == "jsonl":
        return jsonl_threads(text, path)
    if kind == "csv":
        return csv_threads(text, path)
    return [_parse(kind, text, path)]


def read_thread(path: Path | str) -> Thread:
    """Read one thread from any supported source, choosing the format by extension, then content.

    Formats: a flattened page (see ``civility.ingest.page``), JSON Lines or CSV with columns
    ``id, author, text, parent_id, created_at`` and an optional ``thread_id`` (or ``thread``,
    ``url``), a Disqus XML export, a WordPress WXR export. A source with several commented
    threads is an error here; use ``read_threads``.
    """
    path = Path(path)
    text = read_text(path)
    return _parse(_sniff(path, text), text, path)


def _parse(kind: str, text: str, path: Path) -> Thread:
    if kind == "jsonl":
        return parse_jsonl(text, path)
    if kind == "csv":
        return parse_csv(text, path)
    if kind == "disqus":
        return parse_disqus(text, path)
    if kind == "wxr":
        return parse_wxr(text, path)
    return parse_page(text)
