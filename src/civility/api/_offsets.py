"""Offsets at the door: HTML comments are scored on their text (``civility.text.strip_html``,
which keeps each character's offsets into the HTML), and every span offset sent back points
into what the client sent, counted in UTF-16 code units (JavaScript's ``.length``)."""

from __future__ import annotations


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
