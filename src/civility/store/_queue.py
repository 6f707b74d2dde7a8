"""The moderation queue: held comments worst first, decisions, threads, audit, policies."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, desc, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civility import attributes as attrs
from civility.errors import InvalidInput, NotFound
from civility.policy import ACTIONS as ACTIONS  # re-exported by civility.store
from civility.policy import Policy
from civility.store._adapters import LabelledText, record_in, text_key
from civility.store._importer import STATUS, site_policy
from civility.store._models import (
    AuditEntry,
    CalibrationFeedback,
    CommentFlag,
    CommentRow,
    DecisionRow,
    ScoreRow,
    Site,
    ThreadRow,
    User,
    utcnow,
)
from civility.store._store import Store, audit
from civility.store._users import Account


@dataclass(frozen=True)
class QueueFilters:
    attribute: str | None = None
    thread_id: int | None = None
    author: str | None = None
    day: str | None = None  # YYYY-MM-DD, matched against the comment's own date
    status: str = "held"


@dataclass(frozen=True)
class Item:
    """A comment with everything a moderator needs to decide it."""

    id: int
    thread_id: int
    thread_title: str
    site: str
    author: str | None
    text: str
    posted_at: str | None
    status: str
    policy_action: str
    worst_attribute: str | None
    worst_score: float
    values: dict[str, float] = field(default_factory=dict)
    spans: dict[str, list[list[float]]] = field(default_factory=dict)
    reasons: list[dict[str, Any]] = field(default_factory=list)
    note: str | None = None  # why the policy held it unscored ("language es not supported")
    model_version: str = ""
    parent: tuple[str | None, str] | None = None  # (author, text)
    decided_by: str | None = None
    decided_at: datetime | None = None
    attachments: list[str] = field(default_factory=list)  # image placeholders, links, debris

    @property
    def scored(self) -> bool:
        """False for a comment with no prose: the model had nothing to score."""
        return bool(self.values)


def _items(session: Session, rows: list[CommentRow]) -> list[Item]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    scores: dict[int, ScoreRow] = {}
    score_rows = session.scalars(
        select(ScoreRow).where(ScoreRow.comment_id.in_(ids)).order_by(ScoreRow.id)
    )
    for score_row in score_rows:
        scores[score_row.comment_id] = score_row  # the newest score wins
    policy_reasons: dict[int, list[dict[str, Any]]] = {}
    last_moderator: dict[int, tuple[str | None, datetime]] = {}
    q = (
        select(DecisionRow, User.name)
        .outerjoin(User, User.id == DecisionRow.user_id)
        .where(DecisionRow.comment_id.in_(ids))
        .order_by(DecisionRow.id)
    )
    for d, user_name in session.execute(q):
        if d.source == "policy":
            policy_reasons[d.comment_id] = d.reasons
        else:
            last_moderator[d.comment_id] = (user_name, d.created_at)
    parents: dict[tuple[int, str], CommentRow] = {}
    wanted = {(r.thread_id, r.parent_key) for r in rows if r.parent_key}
    if wanted:
        q2 = select(CommentRow).where(
            CommentRow.thread_id.in_({t for t, _ in wanted}),
            CommentRow.key.in_({k for _, k in wanted}),
        )
        for p in session.scalars(q2):
            parents[(p.thread_id, p.key)] = p
    out = []
    for r in rows:
        s = scores.get(r.id)
        parent = parents.get((r.thread_id, r.parent_key)) if r.parent_key else None
        moderator = last_moderator.get(r.id)
        out.append(
            Item(
                id=r.id,
                thread_id=r.thread_id,
                thread_title=r.thread.title or r.thread.key,
                site=r.thread.site.name,
                author=r.author,
                text=r.text,
                posted_at=r.posted_at,
                status=r.status,
                policy_action=r.policy_action,
                worst_attribute=r.worst_attribute,
                worst_score=r.worst_score,
                values=dict(s.values) if s else {},
                spans=dict(s.spans) if s else {},
                reasons=[x for x in policy_reasons.get(r.id, []) if "attribute" in x],
                note=next((x["note"] for x in policy_reasons.get(r.id, []) if "note" in x), None),
                model_version=s.model_version if s else "",
                parent=(parent.author, parent.text) if parent is not None else None,
                decided_by=moderator[0] if moderator else None,
                decided_at=moderator[1] if moderator else None,
                attachments=list(r.attachments or []),
            )
        )
    return out


def _filtered(filters: QueueFilters) -> Select[CommentRow]:
    q = select(CommentRow).join(ThreadRow)
    if filters.status != "all":
        q = q.where(CommentRow.status == filters.status)
    if filters.attribute:
        # Held for it (one of the policy's reasons), or it is the comment's worst attribute.
        flagged = select(CommentFlag.comment_id).where(CommentFlag.attribute == filters.attribute)
        q = q.where(
            or_(CommentRow.worst_attribute == filters.attribute, CommentRow.id.in_(flagged))
        )
    if filters.thread_id is not None:
        q = q.where(CommentRow.thread_id == filters.thread_id)
    if filters.author:
        q = q.where(func.lower(CommentRow.author).contains(filters.author.lower(), autoescape=True))
    if filters.day:
        q = q.where(CommentRow.posted_at.startswith(filters.day, autoescape=True))
    return q


def queue(store: Store, filters: QueueFilters, *, limit: int = 50) -> tuple[list[Item], int]:
    """The matching comments worst first, and how many match in all."""
    with store.session() as session:
        q = _filtered(filters)
        total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = list(
            session.scalars(q.order_by(desc(CommentRow.worst_score), CommentRow.id).limit(limit))
        )
        return _items(session, rows), total


def item(store: Store, comment_id: int) -> Item:
    with store.session() as session:
        row = session.get(CommentRow, comment_id)
        if row is None:
            raise NotFound(f"No comment with id {comment_id}.")
        return _items(session, [row])[0]


def decide(store: Store, comment_id: int, action: str, user: Account, *, fair: bool = True) -> Item:
    """Record a moderator's decision, its audit entry, its calibration feedback and the
    labelled examples it gives the site's adapter (:func:`decision_examples`); ``fair`` false
    when the "review to teach" view picked the comment by its priority."""
    if action not in ACTIONS:
        raise InvalidInput(f"Action must be one of {', '.join(ACTIONS)}. Got {action!r}.")
    with store.session() as session:
        row = session.get(CommentRow, comment_id, with_for_update=True)
        if row is None:
            raise NotFound(f"No comment with id {comment_id}.")
        previous = row.status
        row.status = STATUS[action]
        session.add(
            DecisionRow(comment_id=row.id, action=action, source="moderator", user_id=user.id)
        )
        audit(
            session,
            "decision",
            user_id=user.id,
            username=user.name,
            target=f"comment:{row.id}",
            action=action,
            previous=previous,
            policy_action=row.policy_action,
        )
        if action != "hold":
            score = session.scalars(
                select(ScoreRow).where(ScoreRow.comment_id == row.id).order_by(desc(ScoreRow.id))
            ).first()
            reasons = (
                session.scalars(
                    select(DecisionRow.reasons)
                    .where(DecisionRow.comment_id == row.id, DecisionRow.source == "policy")
                    .order_by(desc(DecisionRow.id))  # an edit re-decides: the latest counts
                ).first()
                or []
            )
            flagged = {r["attribute"] for r in reasons if "attribute" in r}
            verdict = 1 if action == "reject" else 0
            for attribute, value in (score.values if score else {}).items():
                session.add(
                    CalibrationFeedback(
                        site_id=row.thread.site_id,
                        comment_id=row.id,
                        attribute=attribute,
                        model_score=value,
                        suggested_score=float(verdict),
                        verdict=verdict,
                        policy_flagged=attribute in flagged,
                        user_id=user.id,
                    )
                )
            examples = decision_examples(
                row.text, action, flagged, user, comment_id=row.id, fair=fair
            )
            if examples:
                _record(session, row.thread.site_id, examples)
    return item(store, comment_id)


def _record(session: Session, site_id: int, examples: list[LabelledText]) -> None:
    """``record_in`` in a savepoint: when another moderator's decision on the same text added
    its example first, the second try finds it and takes this label."""
    for attempt in range(2):
        try:
            with session.begin_nested():
                record_in(session, site_id, examples)
            return
        except IntegrityError:
            if attempt:
                raise


def decision_examples(
    text: str,
    action: str,
    flagged: set[str],
    user: Account,
    *,
    comment_id: int | None = None,
    fair: bool = True,
) -> list[LabelledText]:
    """What a moderator's decision teaches the site's adapter: a rejection is TOXICITY 1 and 1
    for every attribute the policy flagged the comment for (a rejection nothing flagged is a
    miss: TOXICITY 1 still); an approval is TOXICITY 0 and 0 for every attribute that held it
    (its false positives). A hold teaches nothing, nor does a comment without text."""
    if action not in ("approve", "reject") or not text.strip():
        return []
    label = 1 if action == "reject" else 0
    names = ["TOXICITY", *sorted(a for a in flagged if a in attrs.NAMES and a != "TOXICITY")]
    key = text_key(text)
    return [
        LabelledText(
            key=key,
            text=text,
            attribute=name,
            label=label,
            kind="moderator",
            source=f"moderator:{user.name}",
            comment_id=comment_id,
            user_id=user.id,
            fair=fair,
        )
        for name in names
    ]


@dataclass(frozen=True)
class ThreadView:
    id: int
    site: str
    key: str
    title: str | None
    url: str | None
    paragraphs: list[str]
    comments: list[Item]


def thread(store: Store, thread_id: int) -> ThreadView:
    with store.session() as session:
        t = session.get(ThreadRow, thread_id)
        if t is None:
            raise NotFound(f"No thread with id {thread_id}.")
        rows = list(
            session.scalars(
                select(CommentRow).where(CommentRow.thread_id == t.id).order_by(CommentRow.position)
            )
        )
        return ThreadView(
            t.id, t.site.name, t.key, t.title, t.url, list(t.paragraphs), _items(session, rows)
        )


def threads(store: Store) -> list[tuple[int, str]]:
    with store.session() as session:
        rows = session.execute(
            select(ThreadRow.id, ThreadRow.title, ThreadRow.key).order_by(ThreadRow.id)
        )
        return [(i, title or key) for i, title, key in rows]


def audit_log(store: Store, *, limit: int = 200) -> list[AuditEntry]:
    with store.session() as session:
        return list(session.scalars(select(AuditEntry).order_by(desc(AuditEntry.id)).limit(limit)))


def sites(store: Store) -> list[Site]:
    with store.session() as session:
        return list(session.scalars(select(Site).order_by(Site.name)))


def get_site(store: Store, name: str) -> tuple[Site, Policy]:
    with store.session() as session:
        site = session.scalar(select(Site).where(Site.name == name))
        if site is None:
            raise NotFound(f"No site called {name!r}.")
        return site, site_policy(site)


def set_site_policy(store: Store, name: str, toml_text: str, user: Account) -> Policy:
    policy = Policy.from_toml(toml_text, source=f"policy of site {name}")
    with store.session() as session:
        site = session.scalar(select(Site).where(Site.name == name))
        if site is None:
            raise NotFound(f"No site called {name!r}.")
        site.policy_toml = toml_text
        audit(
            session,
            "policy.update",
            user_id=user.id,
            username=user.name,
            target=f"site:{name}",
            policy=policy.to_dict(),
        )
    return policy


@dataclass(frozen=True)
class Preview:
    compared: int
    before: dict[str, int]
    after: dict[str, int]
    changed: list[tuple[int, str, str, str]]  # (comment id, text, before, after)


def preview_policy(store: Store, site: str, policy: Policy, *, last: int = 200) -> Preview:
    """What ``policy`` would decide for the site's last ``last`` comments, against the current."""
    current = get_site(store, site)[1]
    with store.session() as session:
        q = (
            select(CommentRow.id, CommentRow.text, ScoreRow.values)
            .join(ThreadRow, ThreadRow.id == CommentRow.thread_id)
            .join(Site, Site.id == ThreadRow.site_id)
            .join(ScoreRow, ScoreRow.comment_id == CommentRow.id)
            .where(Site.name == site)
            .order_by(desc(CommentRow.id))
            .limit(last)
        )
        rows = list(session.execute(q))
    before: dict[str, int] = dict.fromkeys(ACTIONS, 0)
    after: dict[str, int] = dict.fromkeys(ACTIONS, 0)
    changed: list[tuple[int, str, str, str]] = []
    for cid, text, values in rows:
        a, b = current.decide(values).action, policy.decide(values).action
        before[a] += 1
        after[b] += 1
        if a != b:
            changed.append((cid, text, a, b))
    return Preview(len(rows), before, after, changed)


@dataclass(frozen=True)
class Overturns:
    attribute: str
    flagged: int  # verdicts on comments the policy flagged for this attribute
    overturned: int  # ... that a moderator approved anyway

    @property
    def rate(self) -> float:
        return self.overturned / self.flagged if self.flagged else 0.0


def _recent_feedback(days: int, site: str | None) -> list[ColumnElement[bool]]:
    """Conditions on CalibrationFeedback: moderators' verdicts (not the API's suggested scores)
    of the last ``days`` days, of ``site`` when given."""
    conditions = [
        CalibrationFeedback.verdict.is_not(None),
        CalibrationFeedback.created_at >= utcnow() - timedelta(days=days),
    ]
    if site is not None:
        conditions.append(CalibrationFeedback.site_id.in_(select(Site.id).where(Site.name == site)))
    return conditions


def overturns(store: Store, *, days: int = 7, site: str | None = None) -> list[Overturns]:
    """Per attribute the policy flagged, how often moderators overturned it in the last
    ``days`` days (attributes with at least one verdict on a comment flagged for them)."""
    q = (
        select(CalibrationFeedback.attribute, CalibrationFeedback.verdict, func.count())
        .where(CalibrationFeedback.policy_flagged.is_(True), *_recent_feedback(days, site))
        .group_by(CalibrationFeedback.attribute, CalibrationFeedback.verdict)
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with store.session() as session:
        for attribute, verdict, n in session.execute(q):
            c = counts[attribute]
            c[0] += n
            if verdict == 0:
                c[1] += n
    return [Overturns(a, *counts[a]) for a in sorted(counts)]


def missed(store: Store, *, days: int = 7, site: str | None = None) -> int:
    """Comments the policy flagged for no attribute at all whose latest moderator verdict in
    the last ``days`` days is a rejection: misses of the policy as a whole, one per comment
    (a rejection does not say which attribute should have caught it)."""
    flagged = select(CalibrationFeedback.comment_id).where(
        CalibrationFeedback.policy_flagged.is_(True)
    )
    latest = (
        select(func.max(CalibrationFeedback.id))
        .where(CalibrationFeedback.comment_id.not_in(flagged), *_recent_feedback(days, site))
        .group_by(CalibrationFeedback.comment_id)
    )
    q = select(func.count()).where(
        CalibrationFeedback.id.in_(latest), CalibrationFeedback.verdict == 1
    )
    with store.session() as session:
        return session.scalar(q) or 0
