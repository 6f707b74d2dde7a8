"""Imports: a ``Thread`` into the store, scored and decided in chunks, one commit per chunk.

Idempotent and resumable by natural keys: a comment already in the thread is skipped, and a
chunk's comments, scores and policy decisions commit together, so a killed import loses at
most the chunk in flight and a re-run finishes the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from civility import language
from civility.errors import InvalidInput
from civility.ingest import read_thread
from civility.policy import Decision, Policy
from civility.scorer import Scorer, Scores
from civility.store._models import CommentFlag, CommentRow, DecisionRow, ScoreRow, Site, ThreadRow
from civility.store._store import Store, audit
from civility.thread import Comment, Thread

STATUS = {"approve": "approved", "hold": "held", "reject": "rejected"}


@dataclass(frozen=True)
class ImportResult:
    site: str
    thread_key: str
    added: int
    skipped: int
    held: int
    rejected: int


def comment_key(comment: Comment) -> str:
    """The source's id when it has one, else a hash of author, parent and text."""
    if comment.id:
        return comment.id[:200]
    digest = hashlib.sha256(
        "\x1f".join((comment.author or "", comment.parent_id or "", comment.text)).encode()
    )
    return "sha256:" + digest.hexdigest()[:40]


def thread_key(thread: Thread, fallback: str) -> str:
    """The article's URL, else its title, else ``fallback`` (the file's name)."""
    if thread.article is not None and thread.article.url:
        return thread.article.url[:500]
    if thread.article is not None and thread.article.title:
        return "title:" + thread.article.title[:490]
    return fallback[:500]


def site_policy(site: Site) -> Policy:
    if site.policy_toml:
        return Policy.from_toml(site.policy_toml, source=f"policy of site {site.name}")
    return Policy.default()


def import_thread(
    store: Store,
    thread: Thread,
    *,
    site: str,
    key: str,
    scorer: Scorer | None = None,
    scores: Sequence[Scores | None] | None = None,
    policy: Policy | None = None,
    chunk_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Store, score and decide every comment of ``thread`` not stored yet.

    Scores come from ``scorer``, or ready-made from ``scores`` (one per comment, in order:
    ``civility analyze --db`` has scored the page already). A comment without prose has no
    scores and is held, as ``civility analyze`` does. ``progress(done, total)`` is called
    after each committed chunk.
    """
    if (scorer is None) == (scores is None):
        raise InvalidInput("import_thread needs either a scorer or the comments' scores.")
    if scores is not None and len(scores) != len(thread.comments):
        raise InvalidInput(
            f"Got {len(scores)} scores for {len(thread.comments)} comments; they must match."
        )
    with store.session() as session:
        site_row = store.site(session, site)
        thread_row = _thread_row(session, site_row, thread, key)
        chosen = policy if policy is not None else site_policy(site_row)
        existing = set(
            session.scalars(select(CommentRow.key).where(CommentRow.thread_id == thread_row.id))
        )
        thread_id, site_name = thread_row.id, site_row.name
    pending: list[tuple[int, str, Comment]] = []
    seen = set(existing)
    for position, comment in enumerate(thread.comments):
        k = comment_key(comment)
        if k not in seen:
            seen.add(k)
            pending.append((position, k, comment))
    skipped = len(thread.comments) - len(pending)
    held = rejected = done = 0
    if progress is not None:
        progress(0, len(pending))
    for start in range(0, len(pending), chunk_size):
        chunk = pending[start : start + chunk_size]
        if scores is not None:
            found = [scores[position] for position, _, _ in chunk]
        else:
            assert scorer is not None
            found = _score(scorer, [c.text for _, _, c in chunk])
        decisions = [
            chosen.decide(s) if s is not None else _unscored(c.text)
            for s, (_, _, c) in zip(found, chunk, strict=True)
        ]
        with store.session() as session:
            _add_chunk(session, thread_id, chunk, found, decisions, chosen.name)
        held += sum(d.action == "hold" for d in decisions)
        rejected += sum(d.action == "reject" for d in decisions)
        done += len(chunk)
        if progress is not None:
            progress(done, len(pending))
    if pending:
        with store.session() as session:
            audit(
                session,
                "import",
                target=f"thread:{thread_id}",
                site=site_name,
                added=done,
                skipped=skipped,
            )
    return ImportResult(site_name, key, done, skipped, held, rejected)


def import_file(
    store: Store,
    path: Path,
    *,
    site: str,
    scorer: Scorer,
    chunk_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Read ``path`` with ``civility.ingest.read_thread`` and import the thread it holds."""
    thread = read_thread(path)
    return import_thread(
        store,
        thread,
        site=site,
        key=thread_key(thread, path.name),
        scorer=scorer,
        chunk_size=chunk_size,
        progress=progress,
    )


def _score(scorer: Scorer, texts: Sequence[str]) -> list[Scores | None]:
    """Scores for the texts with prose; ``None`` for blank ones and for those in a language
    the model cannot read."""
    foreign = language.unsupported(texts)
    wanted = [i for i, t in enumerate(texts) if t.strip() and foreign[i] is None]
    scored = dict(zip(wanted, scorer.score([texts[i] for i in wanted], spans=True), strict=True))
    return [scored.get(i) for i in range(len(texts))]


def _unscored(text: str) -> Decision:
    """A comment without scores is held; one in a language the model cannot read says so."""
    return Decision("hold", note=language.unsupported([text])[0])


def _thread_row(session: Session, site: Site, thread: Thread, key: str) -> ThreadRow:
    row = session.scalar(
        select(ThreadRow).where(ThreadRow.site_id == site.id, ThreadRow.key == key)
    )
    if row is None:
        article = thread.article
        row = ThreadRow(
            site_id=site.id,
            key=key,
            title=article.title if article else None,
            url=article.url if article else None,
            paragraphs=list(article.paragraphs) if article else [],
        )
        session.add(row)
        session.flush()
    return row


def _add_chunk(
    session: Session,
    thread_id: int,
    chunk: Sequence[tuple[int, str, Comment]],
    scores: Sequence[Scores | None],
    decisions: Sequence[Decision],
    policy_name: str,
) -> None:
    for (position, key, comment), s, d in zip(chunk, scores, decisions, strict=True):
        values = s.values if s is not None else {}
        worst_attribute, worst = max(values.items(), key=lambda kv: kv[1], default=(None, 0.0))
        row = CommentRow(
            thread_id=thread_id,
            key=key,
            position=position,
            author=comment.author,
            text=comment.text,
            parent_key=comment.parent_id,
            posted_at=comment.created_at,
            policy_action=d.action,
            status=STATUS[d.action],
            worst_attribute=worst_attribute,
            worst_score=worst,
        )
        session.add(row)
        session.flush()
        if s is not None:
            session.add(
                ScoreRow(
                    comment_id=row.id,
                    model_version=s.model_version,
                    values=dict(s.values),
                    spans={
                        a: [[sp.begin, sp.end, round(sp.score, 4)] for sp in spans]
                        for a, spans in s.spans.items()
                        if spans
                    },
                )
            )
        session.add(
            DecisionRow(
                comment_id=row.id,
                action=d.action,
                source="policy",
                policy_name=policy_name,
                reasons=[
                    {
                        "attribute": r.attribute,
                        "score": r.score,
                        "threshold": r.threshold,
                        "action": r.action,
                    }
                    for r in d.reasons
                ]
                + ([{"note": d.note}] if d.note else []),
            )
        )
        session.add_all(
            CommentFlag(comment_id=row.id, attribute=a) for a in dict.fromkeys(r.attribute for r in d.reasons)
        )
