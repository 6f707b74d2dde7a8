"""What the "review to teach" view reads: a site's comments no moderator has decided yet, most
recent first (the candidates whose labels could teach the site's adapter), and queue items by
id in a given order."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import desc, func, select

from civility.errors import NotFound
from civility.store._models import CommentRow, DecisionRow, Site, ThreadRow
from civility.store._queue import Item, _items
from civility.store._store import Store


def teach_candidates(store: Store, site: str, *, limit: int = 2000) -> list[tuple[int, str]]:
    """``(comment id, text)`` of the site's ``limit`` most recent comments with prose that no
    moderator has decided (held ones and those the policy let through alike)."""
    decided = select(DecisionRow.comment_id).where(DecisionRow.source == "moderator")
    q = (
        select(CommentRow.id, CommentRow.text)
        .join(ThreadRow, ThreadRow.id == CommentRow.thread_id)
        .join(Site, Site.id == ThreadRow.site_id)
        .where(
            Site.name == site,
            CommentRow.id.not_in(decided),
            func.length(func.trim(CommentRow.text)) > 0,
        )
        .order_by(desc(CommentRow.id))
        .limit(limit)
    )
    with store.session() as session:
        if session.scalar(select(Site.id).where(Site.name == site)) is None:
            raise NotFound(f"No site called {site!r}.")
        return [(cid, text) for cid, text in session.execute(q)]


def items(store: Store, ids: Sequence[int]) -> list[Item]:
    """The queue's items for ``ids``, in that order (ids not found are left out)."""
    if not ids:
        return []
    with store.session() as session:
        rows = list(session.scalars(select(CommentRow).where(CommentRow.id.in_(list(ids)))))
        found = {it.id: it for it in _items(session, rows)}
    return [found[i] for i in ids if i in found]
