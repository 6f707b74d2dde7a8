"""Imports: threads into the store, scored and decided in chunks, one commit per chunk.

What a re-import matches on (so that a comment is stored once, with its current text):

- A comment with the source's own id (JSONL/CSV ``id``, Disqus ``dsq:id``, WXR ``comment_id``)
  is identified by (site, id), whatever the file is called and wherever the comment was stored
  first. A new one goes to its thread: the ``thread_id``/``thread``/``url`` column of JSONL/CSV,
  the article's URL (or title) of Disqus/WXR, else the site's thread ``default``.
- A page dump's ids (``c1``..``cN``) are positions, so its comments are matched within their
  thread by author, parent and text (whitespace collapsed): the n-th identical comment of the
  page is the n-th stored one, so a reply inserted near the top is one new comment, and two
  identical "+1" by one author stay two. A page comment still unmatched is then paired with an
  unmatched stored one of the same author and parent lying between the same matched neighbours,
  when one text extends the other (a page truncated the first time) or the two are at least
  ``SIMILAR`` alike (an edit); the closest such one wins.
- A matched comment whose text changed (whitespace collapsed) is updated: new text, re-scored,
  re-decided by the policy, and an ``edit`` entry in the audit log with the old and new lengths.
  Its status follows the policy unless a moderator decided it; then the moderator's status
  stays, except that an approved comment the policy would now hold or reject goes back to
  ``held`` (the moderator approved other words). A page text that is a strict prefix of the
  stored one (this dump truncated it) keeps the stored text.
- A page dump's thread is keyed by its headline (``title:...``; a dump has no URL), so a
  headline edited between two dumps would name a new thread. When no thread has the new key,
  the page is matched to a stored headline-keyed thread of the site that shares a comment
  with it (by author, parent and text) and holds the same article text, or shares at least two
  comments and at least half of the smaller of the two; that thread takes the new headline and key (audited as
  ``retitle``) and the page is matched against it as above.

Resumable: the plan is made once, then each chunk's new comments, edits, scores and policy
decisions commit together, so a killed import loses at most the chunk in flight and a re-run
(which matches what was committed) finishes the rest.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from pathlib import Path

from sqlalchemy import delete, desc, func, select
from sqlalchemy.orm import Session

from civility.adapted import adapter_label, labelled_version
from civility.errors import InvalidInput
from civility.ingest import read_threads
from civility.moderate import decide, moderate
from civility.policy import Decision, Policy
from civility.scorer import Scorer, Scores
from civility.store._models import CommentFlag, CommentRow, DecisionRow, ScoreRow, Site, ThreadRow
from civility.store._store import Store, audit
from civility.thread import Comment, Thread

STATUS = {"approve": "approved", "hold": "held", "reject": "rejected"}
# Thread keys made from an article's headline: the one key a page dump has, and one an editor
# can change.
TITLE_KEY = "title:"
# Threads of records that name none; the file's name would split one site's exports apart.
DEFAULT_THREAD = "default"
# How alike (difflib's ratio) an unmatched page comment and an unmatched stored one by the same
# author must be to count as one comment, edited.
SIMILAR = 0.6
_LOOKUP = 500  # ids per query when looking comments up by id


@dataclass(frozen=True)
class ImportResult:
    site: str
    thread_key: str
    added: int
    skipped: int
    held: int
    rejected: int
    updated: int = 0
    threads: int = 1


def normalized(text: str) -> str:
    """What texts are compared on: NFC, whitespace runs collapsed to one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def content_key(author: str | None, parent: str | None, text: str, occurrence: int = 1) -> str:
    """A hash of author, parent and normalised text; ``#n`` tells the n-th identical one apart."""
    digest = hashlib.sha256("\x1f".join((author or "", parent or "", normalized(text))).encode())
    key = "sha256:" + digest.hexdigest()[:40]
    return key if occurrence == 1 else f"{key}#{occurrence}"


def comment_key(comment: Comment, occurrence: int = 1) -> str:
    """The source's id when it has one, else ``content_key`` of author, parent and text."""
    if comment.id:
        return comment.id[:200]
    return content_key(comment.author, comment.parent_id, comment.text, occurrence)


def thread_key(thread: Thread, fallback: str = DEFAULT_THREAD) -> str:
    """The source's thread id, else the article's URL, else its title, else ``fallback``."""
    if thread.key:
        return thread.key[:500]
    if thread.article is not None and thread.article.url:
        return thread.article.url[:500]
    if thread.article is not None and thread.article.title:
        return TITLE_KEY + thread.article.title[:490]
    return fallback[:500]


def site_policy(site: Site) -> Policy:
    if site.policy_toml:
        return Policy.from_toml(site.policy_toml, source=f"policy of site {site.name}")
    return Policy.default()


@dataclass(frozen=True)
class _Work:
    """One comment to add (``row_id`` None) or to update, ``index`` its place in the thread."""

    index: int
    comment: Comment
    key: str
    position: int
    row_id: int | None = None


@dataclass(frozen=True)
class _Stored:
    id: int
    key: str
    author: str | None
    parent_key: str | None
    text: str
    position: int


@dataclass
class _Plan:
    work: list[_Work]
    skipped: int
    moves: list[tuple[int, int]]  # (row id, new position) of unchanged page comments


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
    """Store, score and decide every comment of ``thread`` not stored yet; update edited ones.

    ``key`` names the thread new comments go to (see the module docstring for what counts as
    stored already). Scores come from ``scorer``, or ready-made from ``scores`` (one per
    comment, in order: ``civility analyze --db`` has scored the page already). A comment
    without prose has no scores and is held, as ``civility analyze`` does. Scores of a site's
    adapter (``scorer`` from ``site_scorer``) are stored with model version "BASE+SITE/vN".
    ``progress(done, total)`` is called after each committed chunk.
    """
    if (scorer is None) == (scores is None):
        raise InvalidInput("import_thread needs either a scorer or the comments' scores.")
    if scores is not None and len(scores) != len(thread.comments):
        raise InvalidInput(
            f"Got {len(scores)} scores for {len(thread.comments)} comments; they must match."
        )
    with store.session() as session:
        site_row = store.site(session, site)
        thread_row = session.scalar(
            select(ThreadRow).where(ThreadRow.site_id == site_row.id, ThreadRow.key == key)
        )
        if thread_row is None and key.startswith(TITLE_KEY) and key == thread_key(thread):
            thread_row = _retitled(session, site_row, thread, key)
        chosen = policy if policy is not None else site_policy(site_row)
        plan = _plan(session, site_row.id, thread_row, thread)
        for row_id, position in plan.moves:
            session.get_one(CommentRow, row_id).position = position
        if thread_row is None and any(w.row_id is None for w in plan.work):
            thread_row = _new_thread_row(session, site_row, thread, key)
        thread_id, site_name = (thread_row.id if thread_row else None), site_row.name
    pending = plan.work
    held = rejected = added = updated = done = 0
    if progress is not None:
        progress(0, len(pending))
    for start in range(0, len(pending), chunk_size):
        chunk = pending[start : start + chunk_size]
        texts = [w.comment.text for w in chunk]
        if scores is not None:
            verdicts = decide(texts, [scores[w.index] for w in chunk], chosen)
        else:
            assert scorer is not None
            verdicts = moderate(texts, scorer, chosen, spans=True)
        found = [_labelled(v.scores, scorer) for v in verdicts]
        decisions = [v.decision for v in verdicts]
        with store.session() as session:
            for w, s, d in zip(chunk, found, decisions, strict=True):
                if w.row_id is None:
                    assert thread_id is not None
                    _add(session, thread_id, w, s, d, chosen.name)
                else:
                    _update(session, w, s, d, chosen.name, site_name)
        held += sum(d.action == "hold" for d in decisions)
        rejected += sum(d.action == "reject" for d in decisions)
        added += sum(w.row_id is None for w in chunk)
        updated += sum(w.row_id is not None for w in chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, len(pending))
    if pending:
        with store.session() as session:
            audit(
                session,
                "import",
                target=f"thread:{thread_id}" if thread_id is not None else f"site:{site_name}",
                site=site_name,
                added=added,
                updated=updated,
                skipped=plan.skipped,
            )
    return ImportResult(site_name, key, added, plan.skipped, held, rejected, updated)


def _labelled(scores: Scores | None, scorer: Scorer | None) -> Scores | None:
    """``scores`` with the model version "BASE+SITE/vN" when a site's adapter scored them."""
    if scores is None or adapter_label(scorer) is None:
        return scores
    return replace(scores, model_version=labelled_version(scores.model_version, scorer))


def import_file(
    store: Store,
    path: Path,
    *,
    site: str,
    scorer: Scorer,
    chunk_size: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import every thread that ``civility.ingest.read_threads`` finds in ``path``; the result
    adds them up (``thread_key`` is the first thread's key, ``threads`` how many there were)."""
    threads = [t for t in read_threads(path) if t.comments]
    results: list[ImportResult] = []
    base = 0
    for thread in threads:

        def report(done: int, total: int, base: int = base) -> None:
            if progress is not None:
                progress(base + done, base + total)

        result = import_thread(
            store,
            thread,
            site=site,
            key=thread_key(thread),
            scorer=scorer,
            chunk_size=chunk_size,
            progress=report,
        )
        base += result.added + result.updated
        results.append(result)
    if not results:
        return ImportResult(site, DEFAULT_THREAD, 0, 0, 0, 0, threads=0)
    return ImportResult(
        results[0].site,
        results[0].thread_key,
        added=sum(r.added for r in results),
        skipped=sum(r.skipped for r in results),
        held=sum(r.held for r in results),
        rejected=sum(r.rejected for r in results),
        updated=sum(r.updated for r in results),
        threads=len(results),
    )


def _plan(session: Session, site_id: int, thread_row: ThreadRow | None, thread: Thread) -> _Plan:
    """What to add and what to update: comments with ids by (site, id), the others by content."""
    by_content = [
        (i, c) for i, c in enumerate(thread.comments) if thread.positional_ids or not c.id
    ]
    by_id = [(i, c) for i, c in enumerate(thread.comments) if not thread.positional_ids and c.id]
    stored: list[_Stored] = []
    if thread_row is not None and by_content:
        rows = session.execute(
            select(
                CommentRow.id,
                CommentRow.key,
                CommentRow.author,
                CommentRow.parent_key,
                CommentRow.text,
                CommentRow.position,
            )
            .where(CommentRow.thread_id == thread_row.id)
            .order_by(CommentRow.position, CommentRow.id)
        )
        stored = [_Stored(*r) for r in rows]
    plan = _Plan([], 0, [])
    if by_content:
        _plan_content(plan, stored, by_content)
    if by_id:
        last = None
        if thread_row is not None:
            last = session.scalar(
                select(func.max(CommentRow.position)).where(CommentRow.thread_id == thread_row.id)
            )
        _plan_ids(plan, session, site_id, by_id, 0 if last is None else last + 1)
    plan.work.sort(key=lambda w: w.index)
    return plan


def _plan_ids(
    plan: _Plan,
    session: Session,
    site_id: int,
    comments: Sequence[tuple[int, Comment]],
    after: int,
) -> None:
    keys = list(dict.fromkeys(comment_key(c) for _, c in comments))
    found: dict[str, list[tuple[int, str]]] = {}
    for start in range(0, len(keys), _LOOKUP):
        rows = session.execute(
            select(CommentRow.key, CommentRow.id, CommentRow.text)
            .join(ThreadRow, ThreadRow.id == CommentRow.thread_id)
            .where(ThreadRow.site_id == site_id, CommentRow.key.in_(keys[start : start + _LOOKUP]))
            .order_by(CommentRow.id)
        )
        for k, row_id, text in rows:
            found.setdefault(k, []).append((row_id, text))
    seen: set[str] = set()
    for i, c in comments:
        k = comment_key(c)
        if k in seen:
            plan.skipped += 1
            continue
        seen.add(k)
        if k not in found:
            plan.work.append(_Work(i, c, k, after))
            after += 1
            continue
        # An older civility may have stored one id in several threads: bring each up to date.
        edited = [(r, t) for r, t in found[k] if normalized(t) != normalized(c.text)]
        if not edited:
            plan.skipped += 1
        for row_id, _ in edited:
            plan.work.append(_Work(i, c, k, -1, row_id))


def _identity(author: str | None, parent: str | None, text: str) -> tuple[str, str, str]:
    return (author or "", parent or "", normalized(text))


def _plan_content(
    plan: _Plan, stored: Sequence[_Stored], comments: Sequence[tuple[int, Comment]]
) -> None:
    """Match page comments to stored ones by content (see the module docstring)."""
    pool: dict[tuple[str, str, str], deque[int]] = {}
    for rank, s in enumerate(stored):
        pool.setdefault(_identity(s.author, s.parent_key, s.text), deque()).append(rank)
    exact: list[int | None] = []
    for _, c in comments:
        queue = pool.get(_identity(c.author, c.parent_id, c.text))
        exact.append(queue.popleft() if queue else None)
    used = {r for r in exact if r is not None}
    matched = list(exact)
    for j, (_, c) in enumerate(comments):
        if exact[j] is None:
            pair = _closest(stored, used, c, _between(exact, j))
            if pair is not None:
                matched[j] = pair
                used.add(pair)
    taken = {s.key for s in stored}
    occurrences: dict[tuple[str, str, str], int] = {}
    for j, (i, c) in enumerate(comments):
        identity = _identity(c.author, c.parent_id, c.text)
        occurrences[identity] = occurrences.get(identity, 0) + 1
        found = matched[j]
        old = stored[found] if found is not None else None
        if old is not None and (
            identity[2] == normalized(old.text) or _cut(normalized(old.text), identity[2])
        ):
            plan.skipped += 1
            if old.position != i:
                plan.moves.append((old.id, i))
            continue
        occurrence = occurrences[identity]
        while (k := content_key(c.author, c.parent_id, c.text, occurrence)) in taken:
            occurrence += 1
        taken.add(k)
        plan.work.append(_Work(i, c, k, i, old.id if old is not None else None))


def _between(exact: Sequence[int | None], j: int) -> tuple[int, int]:
    """The stored ranks of the nearest matched neighbours of page comment ``j`` (exclusive
    bounds); anywhere when the neighbours are out of order."""
    before = next((r for r in reversed(exact[:j]) if r is not None), -1)
    after = next((r for r in exact[j + 1 :] if r is not None), 10**18)
    return (before, after) if before < after else (-1, 10**18)


def _cut(longer: str, shorter: str) -> bool:
    """Is ``shorter`` a truncation of ``longer`` (a strict prefix, perhaps ending in dots)?"""
    stem = shorter.rstrip(" .…")
    return bool(stem) and len(shorter) < len(longer) and longer.startswith(stem)


def _likeness(old: str, new: str) -> float:
    if _cut(new, old) or _cut(old, new):
        return 1.0
    if not old or not new:
        return 0.0
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    if matcher.quick_ratio() < SIMILAR:
        return 0.0
    return matcher.ratio()


def _closest(
    stored: Sequence[_Stored], used: set[int], comment: Comment, bounds: tuple[int, int]
) -> int | None:
    """The unmatched stored comment most like ``comment`` (same author and parent, between
    ``bounds``, at least ``SIMILAR`` alike), if any."""
    best: tuple[float, int] | None = None
    new = normalized(comment.text)
    for rank in range(max(bounds[0] + 1, 0), min(bounds[1], len(stored))):
        s = stored[rank]
        if rank in used or (s.author or "") != (comment.author or ""):
            continue
        if (s.parent_key or "") != (comment.parent_id or ""):
            continue
        score = _likeness(normalized(s.text), new)
        if score >= SIMILAR and (best is None or score > best[0]):
            best = (score, rank)
    return best[1] if best is not None else None


def _retitled(session: Session, site: Site, thread: Thread, key: str) -> ThreadRow | None:
    """The headline-keyed thread of ``site`` that ``thread``, a page whose headline gave it the
    unknown ``key``, is an edition of (see the module docstring), re-keyed to ``key``."""
    texts = [c for c in thread.comments if thread.positional_ids or not c.id]
    keys = list(dict.fromkeys(content_key(c.author, c.parent_id, c.text) for c in texts))
    shared: Counter[int] = Counter()
    for start in range(0, len(keys), _LOOKUP):
        rows = session.execute(
            select(CommentRow.thread_id, func.count())
            .join(ThreadRow, ThreadRow.id == CommentRow.thread_id)
            .where(
                ThreadRow.site_id == site.id,
                ThreadRow.key.startswith(TITLE_KEY, autoescape=True),
                CommentRow.key.in_(keys[start : start + _LOOKUP]),
            )
            .group_by(CommentRow.thread_id)
        )
        for thread_id, count in rows:
            shared[thread_id] += count
    body = [normalized(p) for p in thread.article.paragraphs] if thread.article else []
    for thread_id, count in shared.most_common():
        row = session.get_one(ThreadRow, thread_id)
        stored = session.scalar(
            select(func.count()).select_from(CommentRow).where(CommentRow.thread_id == thread_id)
        )
        same_body = bool(body) and [normalized(p) for p in row.paragraphs] == body
        if same_body or (count >= 2 and 2 * count >= min(len(keys), stored or 0)):
            article = thread.article
            audit(
                session,
                "retitle",
                target=f"thread:{row.id}",
                site=site.name,
                old_title=row.title,
                title=article.title if article else None,
                shared_comments=count,
            )
            row.key = key
            if article is not None:
                row.title = article.title
                row.paragraphs = list(article.paragraphs)
            session.flush()
            return row
    return None


def _new_thread_row(session: Session, site: Site, thread: Thread, key: str) -> ThreadRow:
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


def _add(
    session: Session,
    thread_id: int,
    work: _Work,
    s: Scores | None,
    d: Decision,
    policy_name: str,
) -> None:
    comment = work.comment
    row = CommentRow(
        thread_id=thread_id,
        key=work.key,
        position=work.position,
        author=comment.author,
        text=comment.text,
        attachments=list(comment.attachments),
        parent_key=comment.parent_id,
        posted_at=comment.created_at,
        policy_action=d.action,
        status=STATUS[d.action],
    )
    _set_worst(row, s)
    session.add(row)
    session.flush()
    _add_verdict(session, row.id, s, d, policy_name)


def _update(
    session: Session,
    work: _Work,
    s: Scores | None,
    d: Decision,
    policy_name: str,
    site_name: str,
) -> None:
    """A stored comment's new text: re-scored and re-decided, its status as the module says."""
    row = session.get_one(CommentRow, work.row_id)
    moderator = session.scalar(
        select(DecisionRow.action)
        .where(DecisionRow.comment_id == row.id, DecisionRow.source == "moderator")
        .order_by(desc(DecisionRow.id))
        .limit(1)
    )
    before, old_length = row.status, len(row.text)
    if moderator is None:
        row.status = STATUS[d.action]
    elif moderator == "approve" and d.action != "approve":
        row.status = STATUS["hold"]
    row.text = work.comment.text
    row.attachments = list(work.comment.attachments)
    row.key = work.key
    if work.position >= 0:
        row.position = work.position
    row.policy_action = d.action
    _set_worst(row, s)
    session.execute(delete(ScoreRow).where(ScoreRow.comment_id == row.id))
    session.execute(delete(CommentFlag).where(CommentFlag.comment_id == row.id))
    _add_verdict(session, row.id, s, d, policy_name)
    audit(
        session,
        "edit",
        target=f"comment:{row.id}",
        site=site_name,
        old_length=old_length,
        new_length=len(row.text),
        policy_action=d.action,
        moderator_action=moderator,
        status_before=before,
        status=row.status,
    )


def _set_worst(row: CommentRow, s: Scores | None) -> None:
    values = s.values if s is not None else {}
    row.worst_attribute, row.worst_score = max(
        values.items(), key=lambda kv: kv[1], default=(None, 0.0)
    )


def _add_verdict(
    session: Session, comment_id: int, s: Scores | None, d: Decision, policy_name: str
) -> None:
    """The comment's scores, the policy's decision and the attributes it flagged."""
    if s is not None:
        session.add(
            ScoreRow(
                comment_id=comment_id,
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
            comment_id=comment_id,
            action=d.action,
            source="policy",
            policy_name=policy_name,
            reasons=d.as_dict()["reasons"] + ([{"note": d.note}] if d.note else []),
        )
    )
    session.add_all(
        CommentFlag(comment_id=comment_id, attribute=a)
        for a in dict.fromkeys(r.attribute for r in d.reasons)
    )
