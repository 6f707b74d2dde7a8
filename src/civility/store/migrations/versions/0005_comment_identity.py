"""comment identity: page comments keyed by content, comments looked up by key within a site

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 14:00:00

Before 0005 a page dump's comments were keyed by position (``c1``..``cN``), which a re-import
with one comment inserted shifted. Imports now match page comments by content and look
sourced ids up within the whole site (by ``comments.key``, hence the index), so the positional
keys of page threads (``title:...`` threads, as only page dumps make with such ids) become
content keys, computed as ``civility.store._importer.content_key`` does. Downgrading gives them
their positional keys back.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_POSITIONAL = re.compile(r"c[0-9]+")
comments = sa.table(
    "comments",
    sa.column("id", sa.Integer()),
    sa.column("thread_id", sa.Integer()),
    sa.column("key", sa.String()),
    sa.column("position", sa.Integer()),
    sa.column("author", sa.String()),
    sa.column("parent_key", sa.String()),
    sa.column("text", sa.Text()),
)
threads = sa.table("threads", sa.column("id", sa.Integer()), sa.column("key", sa.String()))


def _content_key(author: str | None, parent: str | None, text: str, occurrence: int) -> str:
    normal = " ".join(unicodedata.normalize("NFC", text).split())
    digest = hashlib.sha256("\x1f".join((author or "", parent or "", normal)).encode())
    key = "sha256:" + digest.hexdigest()[:40]
    return key if occurrence == 1 else f"{key}#{occurrence}"


_Row = tuple[int, str, int, str | None, str | None, str]  # id, key, position, author, parent, text


def _page_rows(bind: sa.Connection) -> dict[int, list[_Row]]:
    """The comments of page threads, by thread, in page order."""
    rows = bind.execute(
        sa.select(
            comments.c.thread_id,
            comments.c.id,
            comments.c.key,
            comments.c.position,
            comments.c.author,
            comments.c.parent_key,
            comments.c.text,
        )
        .join(threads, threads.c.id == comments.c.thread_id)
        .where(threads.c.key.like("title:%"))
        .order_by(comments.c.thread_id, comments.c.position, comments.c.id)
    )
    out: dict[int, list[_Row]] = {}
    for thread_id, row_id, key, position, author, parent, text in rows:
        out.setdefault(thread_id, []).append((row_id, key, position, author, parent, text))
    return out


def _rekey(bind: sa.Connection, new: dict[int, str]) -> None:
    # Two steps, so that no key is briefly held by two rows of the thread.
    for row_id in new:
        bind.execute(comments.update().where(comments.c.id == row_id).values(key=f"~{row_id}"))
    for row_id, key in new.items():
        bind.execute(comments.update().where(comments.c.id == row_id).values(key=key))


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index("ix_comments_key", ["key"], unique=False)
    bind = op.get_bind()
    for rows in _page_rows(bind).values():
        taken = {row[1] for row in rows}
        seen: dict[str, int] = {}
        new: dict[int, str] = {}
        for row_id, key, _position, author, parent, text in rows:
            if not _POSITIONAL.fullmatch(key) or parent is not None:
                continue
            base = _content_key(author, parent, text, 1)
            occurrence = seen.get(base, 0) + 1
            while (k := _content_key(author, parent, text, occurrence)) in taken:
                occurrence += 1
            seen[base] = occurrence
            taken.add(k)
            new[row_id] = k
        _rekey(bind, new)


def downgrade() -> None:
    bind = op.get_bind()
    for rows in _page_rows(bind).values():
        taken = {row[1] for row in rows}
        new: dict[int, str] = {}
        for row_id, key, position, _author, parent, _text in rows:
            wanted = f"c{position + 1}"
            if key.startswith("sha256:") and parent is None and wanted not in taken:
                taken.add(wanted)
                new[row_id] = wanted
        _rekey(bind, new)
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_key")
