"""What a comment held besides prose, as the moderator's card lists it: image placeholders
(``comment image``), links, and URL debris left by the page dump."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_IMAGE_RE = re.compile(r"^(?:comment image|image)", re.IGNORECASE)
_LINK_RE = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_KINDS = ("image", "link", "fragment")


@dataclass(frozen=True)
class Attachment:
    text: str
    kind: str  # image | link | fragment
    href: str | None = None  # only for links: http(s) URLs, never other schemes


def attachment(text: str) -> Attachment:
    if _IMAGE_RE.match(text):
        return Attachment(text, "image")
    if _LINK_RE.match(text):
        href = text if text.lower().startswith(("http://", "https://")) else "https://" + text
        return Attachment(text, "link", href)
    return Attachment(text, "fragment")


def attachments(texts: Sequence[str]) -> list[Attachment]:
    return [attachment(t) for t in texts]


def summary(texts: Sequence[str]) -> str:
    """``"2 images, 1 link"``: how many of each kind, in a fixed order."""
    found = [a.kind for a in attachments(texts)]
    parts = []
    for kind in _KINDS:
        n = found.count(kind)
        if n:
            parts.append(f"{n} {kind}{'' if n == 1 else 's'}")
    return ", ".join(parts)
