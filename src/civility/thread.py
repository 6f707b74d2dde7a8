"""The shapes comments arrive in: an article and the comments under it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Comment:
    """One reader comment; ``attachments`` holds junk lines (``comment image``, URL debris)."""

    id: str
    author: str | None
    text: str
    parent_id: str | None = None
    created_at: str | None = None
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Article:
    """The article a thread hangs under: title, paragraphs (a caption counts as one)."""

    title: str
    paragraphs: tuple[str, ...]
    url: str | None = None


@dataclass(frozen=True)
class Thread:
    """An article (when known) and its comments in page order."""

    article: Article | None
    comments: tuple[Comment, ...] = field(default_factory=tuple)
