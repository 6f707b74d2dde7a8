"""Offsets at the door: HTML comments are scored on their text, and every span offset sent
back points into what the client sent, counted in UTF-16 code units (JavaScript's ``.length``)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_TAG = re.compile(r"<!--.*?-->|<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>|<[!?/][^>]*>", re.S)
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);?")
_SKIP = {"script", "style"}
_BLOCK = {
    "br",
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "hr",
    "table",
    "section",
    "article",
}


@dataclass(frozen=True)
class Plain:
    """Text to score, and for each of its characters where it came from in the original."""

    text: str
    begins: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, begin: int, end: int) -> tuple[int, int]:
        """Map a ``[begin, end)`` range of ``text`` to code-point offsets into the original."""
        if not self.text:
            return 0, 0
        b = self.begins[min(begin, len(self.text) - 1)]
        e = self.ends[max(min(end, len(self.text)) - 1, 0)]
        return b, max(b, e)


def plain(text: str) -> Plain:
    n = len(text)
    return Plain(text, tuple(range(n)), tuple(range(1, n + 1)))


def strip_html(source: str) -> Plain:
    """Tags become spaces (block tags) or nothing, entities their character; scripts vanish."""
    out: list[str] = []
    begins: list[int] = []
    ends: list[int] = []

    def emit(chunk: str, b: int, e: int) -> None:
        for ch in chunk:
            out.append(ch)
            begins.append(b)
            ends.append(e)

    def emit_text(b: int, e: int) -> None:
        pos = b
        for m in _ENTITY.finditer(source, b, e):
            for k in range(pos, m.start()):
                emit(source[k], k, k + 1)
            decoded = html.unescape(m.group(0))
            emit(decoded if decoded != m.group(0) else m.group(0), m.start(), m.end())
            pos = m.end()
        for k in range(pos, e):
            emit(source[k], k, k + 1)

    pos = 0
    skipping: str | None = None
    for m in _TAG.finditer(source):
        name = (m.group(2) or "").lower()
        if skipping is None:
            emit_text(pos, m.start())
            if name in _SKIP and not m.group(1):
                skipping = name
            elif name in _BLOCK:
                emit(" ", m.start(), m.end())
        elif name == skipping and m.group(1):
            skipping = None
        pos = m.end()
    if skipping is None:
        emit_text(pos, len(source))
    return Plain("".join(out), tuple(begins), tuple(ends))


class Utf16:
    """Code-point offsets of one string to UTF-16 code-unit offsets."""

    def __init__(self, text: str) -> None:
        self._astral = not text.isascii() and any(ord(c) > 0xFFFF for c in text)
        if self._astral:
            table = [0]
            for c in text:
                table.append(table[-1] + (2 if ord(c) > 0xFFFF else 1))
            self._table = table

    def __call__(self, offset: int) -> int:
        return self._table[offset] if self._astral else offset


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
