"""Comment exports as XML: Disqus's export and WordPress's WXR.

Comment bodies in both are HTML; they are reduced to text (paragraphs kept) before scoring,
by ``civility.text.html_to_text``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from civility.errors import InvalidInput
from civility.text import html_to_text
from civility.thread import Article, Comment, Thread

DSQ = "{http://disqus.com/disqus-internals}"
DISQUS = "{http://disqus.com}"
WP = "{http://wordpress.org/export/1.2/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"


def _root(text: str, source: Path | str) -> ET.Element:
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        line, column = exc.position
        raise InvalidInput(f"{source}, line {line}, column {column}: malformed XML.") from None


def _text(el: ET.Element | None, path: str) -> str:
    found = el.find(path) if el is not None else None
    return (found.text or "").strip() if found is not None else ""


def _one(threads: list[Thread], source: Path | str, kind: str) -> Thread:
    """The one thread with comments (or the first thread, when none has any)."""
    with_comments = [t for t in threads if t.comments]
    if len(with_comments) > 1:
        titles = ", ".join(repr(t.article.title) for t in with_comments[:3] if t.article)
        raise InvalidInput(
            f"{source}: the {kind} holds {len(with_comments)} threads with comments ({titles}, ...); "
            "read them with civility.ingest.read_threads."
        )
    return with_comments[0] if with_comments else threads[0]


def disqus_threads(text: str, source: Path | str = "<disqus>") -> list[Thread]:
    """Every thread of a Disqus export (``<disqus>`` with ``<thread>`` and ``<post>`` elements).

    Posts marked ``isDeleted`` or ``isSpam`` were already removed by a moderator and are left out.
    """
    root = _root(text, source)
    if root.tag not in (f"{DISQUS}disqus", "disqus"):
        raise InvalidInput(f"{source}: not a Disqus export (root element {root.tag!r}).")
    ns = DISQUS if root.tag.startswith("{") else ""
    order: list[str] = []
    articles: dict[str, Article] = {}
    for t in root.findall(f"{ns}thread"):
        tid = t.get(f"{DSQ}id") or ""
        order.append(tid)
        body = html_to_text(_text(t, f"{ns}message"))
        articles[tid] = Article(
            title=_text(t, f"{ns}title"),
            paragraphs=tuple(p for p in body.split("\n\n") if p),
            url=_text(t, f"{ns}link") or None,
        )
    posts: dict[str, list[Comment]] = {}
    for post in root.findall(f"{ns}post"):
        if "true" in (_text(post, f"{ns}isDeleted"), _text(post, f"{ns}isSpam")):
            continue
        pid = post.get(f"{DSQ}id")
        if not pid:
            raise InvalidInput(f"{source}: a <post> has no dsq:id.")
        owner = post.find(f"{ns}thread")
        tid = (owner.get(f"{DSQ}id") or "") if owner is not None else ""
        if tid not in articles:
            raise InvalidInput(
                f"{source}: post {pid} belongs to thread {tid!r}, which the export lacks."
            )
        parent = post.find(f"{ns}parent")
        posts.setdefault(tid, []).append(
            Comment(
                id=pid,
                author=_text(post.find(f"{ns}author"), f"{ns}name") or None,
                text=html_to_text(_text(post, f"{ns}message")),
                parent_id=parent.get(f"{DSQ}id") if parent is not None else None,
                created_at=_text(post, f"{ns}createdAt") or None,
            )
        )
    if not order:
        raise InvalidInput(f"{source}: the Disqus export holds no <thread>.")
    return [Thread(article=articles[tid], comments=tuple(posts.get(tid, ()))) for tid in order]


def parse_disqus(text: str, source: Path | str = "<disqus>") -> Thread:
    """The thread of a Disqus export that has comments; several such threads are an error."""
    return _one(disqus_threads(text, source), source, "Disqus export")


def wxr_threads(text: str, source: Path | str = "<wxr>") -> list[Thread]:
    """Every post (``<item>``) of a WordPress WXR export, with its comments.

    Comments marked ``spam`` or ``trash`` were already removed by a moderator and are left out;
    pending ones (``0``) are kept.
    """
    root = _root(text, source)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise InvalidInput(f"{source}: not a WordPress WXR export (expected <rss><channel>).")
    items = channel.findall("item")
    if not items:
        raise InvalidInput(f"{source}: the export holds no <item>.")
    threads = []
    for item in items:
        body = html_to_text(_text(item, f"{CONTENT}encoded"))
        article = Article(
            title=_text(item, "title"),
            paragraphs=tuple(p for p in body.split("\n\n") if p),
            url=_text(item, "link") or None,
        )
        comments = []
        for c in item.findall(f"{WP}comment"):
            if _text(c, f"{WP}comment_approved") in ("spam", "trash"):
                continue
            cid = _text(c, f"{WP}comment_id")
            if not cid:
                raise InvalidInput(
                    f"{source}: a <wp:comment> of {article.title!r} has no comment_id."
                )
            parent = _text(c, f"{WP}comment_parent")
            comments.append(
                Comment(
                    id=cid,
                    author=_text(c, f"{WP}comment_author") or None,
                    text=html_to_text(_text(c, f"{WP}comment_content")),
                    parent_id=parent if parent and parent != "0" else None,
                    created_at=_text(c, f"{WP}comment_date_gmt") or None,
                )
            )
        threads.append(Thread(article=article, comments=tuple(comments)))
    return threads


def parse_wxr(text: str, source: Path | str = "<wxr>") -> Thread:
    """The post of a WXR export that has comments; several such posts are an error."""
    return _one(wxr_threads(text, source), source, "WordPress export")
