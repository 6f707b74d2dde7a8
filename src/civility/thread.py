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
    """An article (when known) and its comments in page order.

    ``key`` is the source's own name for the thread (a ``thread_id``, ``thread`` or ``url``
    column of JSONL/CSV). ``positional_ids`` says the comments' ids are their places on a page
    (``c1``..``cN``, from a page dump): fit for display, not for identity, so the store keys
    such comments by what they are (author, parent, text) instead.
    """

    article: Article | None
    comments: tuple[Comment, ...] = field(default_factory=tuple)
    key: str | None = None
    positional_ids: bool = False
