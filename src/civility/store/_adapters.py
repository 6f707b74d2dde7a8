"""A site's labelled examples and its adapters, kept in the store (see docs/adapters.md).

Examples arrive from the product (a moderator's decision in the queue, ``store.decide``; an API
client's ``comments:suggestscore``) and from ``civility feedback import``; each is one row of
``site_examples`` per (site, key, attribute), the latest label winning. ``retrain`` fits a site's
adapter on them (:func:`civility.adapt.fit_adapter`: its guards, its permanent hold-out folds)
and stores it as the site's next version; it serves when at least one attribute is active.
``site_scorer`` gives the scorer a site's comments are scored with: the serving adapter on the
loaded base, or the base itself. An adapter belongs to the base it was trained on: against
another base it never serves, and ``refresh_adapters`` retrains it from the stored examples.

Every function takes a :class:`Store` or the HTTP server's ``SqlStorage`` (its engine).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import desc, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civility import attributes as attrs
from civility.adapt import (
    AdaptSettings,
    Example,
    SiteAdapter,
    base_identity,
    fit_adapter,
    min_per_class,
)
from civility.adapted import AdaptedScorer
from civility.errors import InvalidInput, ModelError, NotFound
from civility.scorer import Scorer
from civility.settings import Settings
from civility.store._models import (
    STORED_COMMENTS,
    CommentRow,
    SiteAdapterRow,
    SiteExample,
    ThreadRow,
    utcnow,
)
from civility.store._models import Site as SiteRow
from civility.store._store import Store, StoreError, audit

log = logging.getLogger("civility.store")


class HasStore(Protocol):
    """What carries a store: the HTTP server's ``SqlStorage`` (its ``store``)."""

    @property
    def store(self) -> Store: ...


KINDS = ("moderator", "suggest", "import")
STATUSES = ("candidate", "serving", "rolled_back", "stale")
_CHUNK = 500


@dataclass(frozen=True)
class LabelledText:
    """One label for a site's adapter: ``attribute`` applies to ``text`` (``label`` 1) or not
    (0). ``key`` is the example's stable id (a re-label of the same key replaces the label);
    ``kind`` one of :data:`KINDS`; ``source`` who gave it ("moderator:NAME", "key:NAME",
    "import:FILE"). ``fair`` is false for a comment the "review to teach" view picked by its
    priority (not a fair sample of the site: left out of the activation check)."""

    key: str
    text: str
    attribute: str
    label: int
    kind: str
    source: str
    comment_id: int | None = None
    user_id: int | None = None
    fair: bool = True


@dataclass(frozen=True)
class AdapterInfo:
    """One stored version of a site's adapter, as listed; ``report`` per attribute: labels,
    positives, auc_base, auc_adapted (held-out), active, reason."""

    site: str
    version: int
    serving: bool
    status: str
    base_version: str
    base_sha256: str
    labels: int
    report: dict[str, dict[str, Any]]
    created_at: datetime
    created_by: str | None

    @property
    def active(self) -> list[str]:
        return [a for a, r in self.report.items() if r.get("active")]

    @property
    def label(self) -> str:
        """``"SITE/vN"``, as the doors report it."""
        return f"{self.site}/v{self.version}"


def text_key(text: str) -> str:
    """The key of an example known only by its text (suggested scores, imports without ids):
    a hash of the text, so a text keeps one key and one hold-out fold however it arrives."""
    return "sha256:" + hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def _store(db: Store | HasStore) -> Store:
    return db if isinstance(db, Store) else db.store


def _site_id(session: Session, name: str) -> int | None:
    return session.scalar(select(SiteRow.id).where(SiteRow.name == name))


def _locked_site_id(session: Session, name: str) -> int | None:
    """The site's id, its row locked for this transaction: writers of a site's adapters in
    other processes (``serve --workers N``, ``civility adapt`` beside a server) wait here, and
    then read the versions and the serving flag as the last of them committed them. The
    transaction's first statement must be this write: SQLite (WAL) refuses a write from a
    transaction that read before another connection committed."""
    session.execute(update(SiteRow).where(SiteRow.name == name).values(name=SiteRow.name))
    return _site_id(session, name)


def _checked(examples: Iterable[LabelledText]) -> dict[tuple[str, str], LabelledText]:
    """The examples by (key, attribute), the last of a key winning; a malformed one is an
    ``InvalidInput`` naming it."""
    out: dict[tuple[str, str], LabelledText] = {}
    for e in examples:
        if not e.key or len(e.key) > 200:
            raise InvalidInput(f"An example key must be 1 to 200 characters. Got {e.key!r}.")
        name = attrs.get(e.attribute).name
        if e.label not in (0, 1):
            raise InvalidInput(f"A label must be 0 or 1. Got {e.label!r} for example {e.key!r}.")
        if e.kind not in KINDS:
            raise InvalidInput(
                f"An example's kind must be one of {', '.join(KINDS)}. Got {e.kind!r}."
            )
        if not e.source or len(e.source) > 200:
            raise InvalidInput(f"An example source must be 1 to 200 characters. Got {e.source!r}.")
        if not e.text.strip():
            raise InvalidInput(f"Example {e.key!r} has no text.")
        out[(e.key, name)] = e if name == e.attribute else _renamed(e, name)
    return out


def _renamed(e: LabelledText, attribute: str) -> LabelledText:
    return LabelledText(
        e.key, e.text, attribute, int(e.label), e.kind, e.source, e.comment_id, e.user_id
    )


def record_in(session: Session, site_id: int, examples: Sequence[LabelledText]) -> int:
    """Record ``examples`` for the site ``site_id`` in ``session`` (the caller's transaction):
    new (key, attribute) pairs are added, known ones take the new label. Returns how many."""
    wanted = _checked(examples)
    now = utcnow()
    items = list(wanted.items())
    for start in range(0, len(items), _CHUNK):
        chunk = dict(items[start : start + _CHUNK])
        found = {
            (r.key, r.attribute): r
            for r in session.scalars(
                select(SiteExample).where(
                    SiteExample.site_id == site_id,
                    tuple_(SiteExample.key, SiteExample.attribute).in_(list(chunk)),
                )
            )
        }
        for pair, e in chunk.items():
            row = found.get(pair)
            if row is None:
                session.add(
                    SiteExample(
                        site_id=site_id,
                        key=e.key,
                        attribute=e.attribute,
                        text=e.text,
                        label=int(e.label),
                        kind=e.kind,
                        source=e.source,
                        fair=e.fair,
                        comment_id=e.comment_id,
                        user_id=e.user_id,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                row.text, row.label, row.kind, row.source = e.text, int(e.label), e.kind, e.source
                row.comment_id, row.user_id, row.updated_at = e.comment_id, e.user_id, now
                row.fair = e.fair
        session.flush()
    return len(wanted)


def record_examples(db: Store | HasStore, site: str, examples: Sequence[LabelledText]) -> int:
    """Record labelled examples for ``site`` (created when missing); the latest label of a
    (key, attribute) wins. Returns how many were recorded."""
    store = _store(db)
    if not site.strip() or len(site) > 200:
        raise InvalidInput(f"A site name must be 1 to 200 characters. Got {site!r}.")
    if not examples:
        return 0
    for attempt in range(2):
        try:
            with store.session() as session:
                return record_in(session, store.site(session, site).id, examples)
        except IntegrityError:  # another writer added the same (key, attribute) first
            if attempt:
                raise StoreError(
                    f"Store error: the examples of site {site!r} could not be recorded.",
                    unavailable=True,
                ) from None
    return 0  # pragma: no cover


def site_examples(db: Store | HasStore, site: str) -> dict[str, list[Example]]:
    """The site's examples per attribute, oldest first (empty when the site has none)."""
    store = _store(db)
    out: dict[str, list[Example]] = defaultdict(list)
    with store.session() as session:
        site_id = _site_id(session, site)
        if site_id is None:
            return {}
        rows = session.execute(
            select(
                SiteExample.attribute,
                SiteExample.key,
                SiteExample.text,
                SiteExample.label,
                SiteExample.source,
                SiteExample.fair,
            )
            .where(SiteExample.site_id == site_id)
            .order_by(SiteExample.id)
        )
        for attribute, key, text, label, source, fair in rows:
            out[attribute].append(Example(key, text, int(label), source, fair=bool(fair)))
    return dict(out)


def site_texts(db: Store | HasStore, site: str, *, limit: int = 5000) -> list[str]:
    """The site's most recent comment texts, labelled or not (at most ``limit``): its stored
    comments (imports, the queue) and what its API clients sent to ``comments:analyze`` and let
    the server keep (never a ``doNotStore`` one, which is not kept). The adapter learns the
    site's vocabulary from them (civility.adapt's ``unlabelled``)."""
    store = _store(db)
    with store.session() as session:
        site_id = _site_id(session, site)
        stored = session.scalars(
            select(STORED_COMMENTS.c.text)
            .where(STORED_COMMENTS.c.community_id == site)
            .order_by(desc(STORED_COMMENTS.c.id))
            .limit(limit)
        ).all()
        if site_id is None:
            return list(stored)
        comments = session.scalars(
            select(CommentRow.text)
            .join(ThreadRow, ThreadRow.id == CommentRow.thread_id)
            .where(ThreadRow.site_id == site_id, CommentRow.text != "")
            .order_by(desc(CommentRow.id))
            .limit(limit)
        ).all()
    return [*comments, *stored][:limit]


# ---------------------------------------------------------------- versions


def _info(row: SiteAdapterRow, site: str) -> AdapterInfo:
    return AdapterInfo(
        site=site,
        version=row.version,
        serving=bool(row.serving),
        status=row.status,
        base_version=row.base_version,
        base_sha256=row.base_sha256,
        labels=row.labels,
        report=dict(row.report or {}),
        created_at=row.created_at,
        created_by=row.created_by,
    )


def adapters(db: Store | HasStore, site: str | None = None) -> list[AdapterInfo]:
    """Stored adapter versions, by site name, newest first (of ``site`` only when given)."""
    store = _store(db)
    q = (
        select(SiteAdapterRow, SiteRow.name)
        .join(SiteRow, SiteRow.id == SiteAdapterRow.site_id)
        .order_by(SiteRow.name, desc(SiteAdapterRow.version))
    )
    if site is not None:
        q = q.where(SiteRow.name == site)
    with store.session() as session:
        return [_info(row, name) for row, name in session.execute(q)]


def _report(
    fitted: SiteAdapter,
    examples: dict[str, list[Example]],
    settings: AdaptSettings,
    columns: set[str],
) -> dict[str, dict[str, Any]]:
    """Per attribute with examples: the fit's summary, or why nothing was fitted."""
    summary = fitted.summary()
    report: dict[str, dict[str, Any]] = {}
    for name in sorted(examples):
        if name in summary:
            report[name] = summary[name]
            continue
        labels = {e.id: e.label for e in examples[name]}
        positives = sum(1 for v in labels.values() if v)
        entry: dict[str, Any] = {"active": False, "labels": len(labels), "positives": positives}
        if name not in columns:
            entry["reason"] = "the base model does not score this attribute"
        else:
            per_class = min_per_class(len(labels), settings)  # of each class
            entry["reason"] = (
                f"too few labels: {settings.min_labels} in all and {per_class} "
                "of each class are needed"
            )
        report[name] = entry
    return report


_site_locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
_site_locks_guard = threading.Lock()


def _lock(store: Store, site: str) -> threading.Lock:
    with _site_locks_guard:
        return _site_locks[f"{store.url}|{site}"]


def retrain(
    db: Store | HasStore,
    scorer: Scorer,
    site: str,
    *,
    by: str | None = None,
    settings: AdaptSettings | None = None,
) -> AdapterInfo:
    """Fit ``site``'s adapter on all its examples against ``scorer``'s base and store it as the
    site's next version. It serves when at least one attribute is active (the version that
    served is kept as a candidate, to roll back to); otherwise the serving version stays, unless
    it belongs to another base (then it is stale, and the base serves)."""
    store = _store(db)
    with _lock(store, site):
        return _retrain(store, scorer, site, by=by, settings=settings or AdaptSettings())


def _retrain(
    store: Store, scorer: Scorer, site: str, *, by: str | None, settings: AdaptSettings
) -> AdapterInfo:
    """``retrain``, the site's lock held."""
    examples = site_examples(store, site)
    if not examples:
        raise NotFound(f"Site {site!r} has no labelled examples to adapt to.")
    columns = set(scorer.attributes)
    fitted = fit_adapter(
        scorer,
        {a: e for a, e in examples.items() if a in columns},
        settings,
        unlabelled=site_texts(store, site, limit=settings.max_unlabelled),
    )
    data = fitted.to_bytes()
    report = _report(fitted, examples, settings, columns)
    labels = len({e.id for exs in examples.values() for e in exs})
    base = fitted.base
    serve = bool(fitted.active)
    with store.session() as session:
        site_id = _locked_site_id(session, site)
        if site_id is None:  # removed while the adapter was fitted
            raise NotFound(f"No site called {site!r}.")
        site_row = session.get_one(SiteRow, site_id)
        current = session.scalar(
            select(SiteAdapterRow)
            .where(SiteAdapterRow.site_id == site_row.id, SiteAdapterRow.serving.is_(True))
            .with_for_update()
        )
        version = (
            session.scalar(
                select(func.max(SiteAdapterRow.version)).where(
                    SiteAdapterRow.site_id == site_row.id
                )
            )
            or 0
        ) + 1
        if current is not None and (serve or _base_of(current) != base):
            current.serving = False
            current.status = "candidate" if _base_of(current) == base else "stale"
            session.flush()
        row = SiteAdapterRow(
            site_id=site_row.id,
            version=version,
            base_version=base["version"],
            base_sha256=base["sha256"],
            data=data,
            report=report,
            labels=labels,
            serving=serve,
            status="serving" if serve else "candidate",
            created_at=utcnow(),
            created_by=by,
        )
        session.add(row)
        session.flush()
        audit(
            session,
            "adapter.retrain",
            username=by,
            target=f"site:{site}",
            version=version,
            serving=serve,
            active=fitted.active,
            labels=labels,
            base=base,
        )
        info = _info(row, site)
    _forget(store, site)
    return info


def _base_of(row: SiteAdapterRow) -> dict[str, str]:
    return {"version": row.base_version, "sha256": row.base_sha256}


def adapt_settings(settings: Settings) -> AdaptSettings:
    """The adapter guards an operator configured (``adapt_*`` in civility.toml or
    ``CIVILITY_ADAPT_*``), on top of civility.adapt's defaults."""
    return dataclasses.replace(
        AdaptSettings(),
        min_labels=settings.adapt_min_labels,
        max_source_share=settings.adapt_max_source_share,
        floor_margin=settings.adapt_floor_margin,
    )


def maybe_retrain(
    db: Store | HasStore,
    scorer: Scorer,
    site: str,
    *,
    every: int = 50,
    settings: AdaptSettings | None = None,
) -> AdapterInfo | None:
    """Retrain ``site``'s adapter when ``every`` examples arrived (or were re-labelled) since
    its last fit, or when its serving adapter belongs to another base; else ``None``. A retrain
    of the same site already running in this process is not started twice."""
    store = _store(db)
    with store.session() as session:
        site_id = _site_id(session, site)
        if site_id is None:
            return None
        last = session.execute(
            select(
                SiteAdapterRow.created_at, SiteAdapterRow.base_version, SiteAdapterRow.base_sha256
            )
            .where(SiteAdapterRow.site_id == site_id)
            .order_by(desc(SiteAdapterRow.version))
            .limit(1)
        ).first()
        serving = session.execute(
            select(SiteAdapterRow.base_version, SiteAdapterRow.base_sha256).where(
                SiteAdapterRow.site_id == site_id, SiteAdapterRow.serving.is_(True)
            )
        ).first()
        fresh = select(func.count()).where(SiteExample.site_id == site_id)
        if last is not None:
            fresh = fresh.where(SiteExample.updated_at > last.created_at)
        new = session.scalar(fresh) or 0
    other_base = serving is not None and {
        "version": serving.base_version,
        "sha256": serving.base_sha256,
    } != _identity(scorer)
    if new < every and not other_base:
        return None
    lock = _lock(store, site)
    if not lock.acquire(blocking=False):  # a retrain of this site is running: it will do
        return None
    try:
        return _retrain(store, scorer, site, by="auto", settings=settings or AdaptSettings())
    finally:
        lock.release()


def refresh_adapters(
    db: Store | HasStore, scorer: Scorer, *, settings: AdaptSettings | None = None
) -> list[AdapterInfo]:
    """Retrain, against ``scorer``'s base, every site whose serving adapter belongs to another
    base, or that has adapters but none of this base and none serving; meanwhile (and when the
    retrained one does not beat the base) ``site_scorer`` serves the base."""
    store = _store(db)
    base = _identity(scorer)
    stale: list[str] = []
    with store.session() as session:
        rows = session.execute(
            select(
                SiteRow.name,
                SiteAdapterRow.serving,
                SiteAdapterRow.base_version,
                SiteAdapterRow.base_sha256,
            ).join(SiteRow, SiteRow.id == SiteAdapterRow.site_id)
        ).all()
    by_site: dict[str, list[tuple[bool, dict[str, str]]]] = defaultdict(list)
    for name, serving_now, version, sha in rows:
        by_site[name].append((bool(serving_now), {"version": version, "sha256": sha}))
    for name in sorted(by_site):
        versions = by_site[name]
        serving = next((b for s, b in versions if s), None)
        if serving is not None:
            if serving != base:
                stale.append(name)
        elif not any(b == base for _, b in versions):
            stale.append(name)
    return [retrain(store, scorer, name, by="refresh", settings=settings) for name in stale]


def rollback(db: Store | HasStore, site: str, version: int, *, by: str) -> AdapterInfo:
    """Make ``version`` of ``site``'s adapter the one that serves (the one serving now becomes
    "rolled_back"), with an audit entry. Version 0 means the base: no adapter serves."""
    store = _store(db)
    with store.session() as session:
        site_id = _locked_site_id(session, site)
        if site_id is None:
            raise NotFound(f"No site called {site!r}.")
        rows = {
            r.version: r
            for r in session.scalars(
                select(SiteAdapterRow).where(SiteAdapterRow.site_id == site_id).with_for_update()
            )
        }
        target = rows.get(version)
        if version != 0:
            if target is None:
                known = ", ".join(str(v) for v in sorted(rows)) or "none"
                raise NotFound(
                    f"Site {site!r} has no adapter version {version} (versions: {known})."
                )
            if target.status == "stale":
                raise InvalidInput(
                    f"Version {version} of site {site!r} belongs to another base model "
                    f"({target.base_version}); it cannot serve."
                )
            if not any(r.get("active") for r in (target.report or {}).values()):
                raise InvalidInput(
                    f"Version {version} of site {site!r} has no active attribute; "
                    "roll back to 0 to serve the base model."
                )
        current = next((r for r in rows.values() if r.serving), None)
        if current is not None and current is not target:
            current.serving = False
            current.status = "rolled_back"
            session.flush()
        if target is not None:
            target.serving = True
            target.status = "serving"
        audit(
            session,
            "adapter.rollback",
            username=by,
            target=f"site:{site}",
            version=version,
            previous=current.version if current is not None else 0,
        )
        session.flush()
        info = (
            _info(target, site)
            if target is not None
            else AdapterInfo(site, 0, True, "serving", "", "", 0, {}, utcnow(), by)
        )
    _forget(store, site)
    return info


# ---------------------------------------------------------------- serving

# Per (database, site): the serving row's id, the base scorer's id and the AdaptedScorer.
_cache: dict[tuple[str, str], tuple[int, int, AdaptedScorer]] = {}
_cache_lock = threading.Lock()
# Per loaded model object: its identity (hashing weights costs; the metadata's sha256 does not).
_identities: dict[int, tuple[weakref.ref[Any], dict[str, str]]] = {}


def _identity(scorer: Scorer) -> dict[str, str]:
    model = scorer.model
    hit = _identities.get(id(model))
    if hit is not None and hit[0]() is model:
        return hit[1]
    identity = base_identity(scorer)
    _identities[id(model)] = (weakref.ref(model), identity)
    return identity


def _forget(store: Store, site: str) -> None:
    with _cache_lock:
        _cache.pop((store.url, site), None)


def site_scorer(db: Store | HasStore, scorer: Scorer, site: str | None) -> Scorer:
    """The scorer for ``site``'s comments: its serving adapter on ``scorer`` (an
    :class:`~civility.adapted.AdaptedScorer`), or ``scorer`` itself when there is no site, no
    serving adapter, or one trained on another base. One cheap query a call (which version
    serves); the adapter itself is loaded once per process and version."""
    if not site:
        return scorer
    store = _store(db)
    with store.session() as session:
        row = session.execute(
            select(
                SiteAdapterRow.id,
                SiteAdapterRow.version,
                SiteAdapterRow.base_version,
                SiteAdapterRow.base_sha256,
            )
            .join(SiteRow, SiteRow.id == SiteAdapterRow.site_id)
            .where(SiteRow.name == site, SiteAdapterRow.serving.is_(True))
        ).first()
    if row is None:
        return scorer
    try:
        identity = _identity(scorer)
    except ModelError:  # a scorer without a model (a test double): nothing to adapt
        return scorer
    if {"version": row.base_version, "sha256": row.base_sha256} != identity:
        return scorer
    key = (store.url, site)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == row.id and hit[1] == id(scorer) and hit[2].base is scorer:
        return hit[2]
    with store.session() as session:
        data = session.scalar(select(SiteAdapterRow.data).where(SiteAdapterRow.id == row.id))
    if data is None:  # rolled over meanwhile: the next call sees the new one
        return scorer
    try:
        adapter = SiteAdapter.from_bytes(data, scorer)
    except ModelError as exc:  # unreadable, or of a format this release cannot read
        log.warning(
            "Site %s: adapter v%s cannot serve (%s); the base serves.", site, row.version, exc
        )
        return scorer
    adapted = AdaptedScorer(scorer, adapter, site=site, version=row.version)
    with _cache_lock:
        _cache[key] = (row.id, id(scorer), adapted)
    return adapted


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Retrainer:
    """Retrains sites' adapters off the request path. ``request(site)`` returns at once: a
    thread runs ``store.maybe_retrain`` for that site, one at a time per site (a request while
    one runs makes it check once more when done). ``now(site)`` retrains in the caller's
    thread, after any run of that site. The last background failure per site is kept for the
    admin page (one line), and logged. ``settings`` (the operator's ``adapt_*``) set the
    guards and how many new labels trigger a retraining."""

    def __init__(
        self,
        db: Store | HasStore,
        scorer: Callable[[], Scorer],
        settings: Settings | None = None,
    ) -> None:
        self.store = _store(db)
        self.scorer = scorer
        settings = settings or Settings()
        self.every = settings.adapt_retrain_every
        self.adapt = adapt_settings(settings)
        self._lock = threading.Lock()
        self._site_locks: dict[str, threading.Lock] = {}
        self._running: set[str] = set()
        self._again: set[str] = set()
        self.errors: dict[str, str] = {}

    @contextmanager
    def _site(self, site: str) -> Iterator[None]:
        with self._lock:
            lock = self._site_locks.setdefault(site, threading.Lock())
        with lock:
            yield

    def request(self, site: str) -> None:
        with self._lock:
            if site in self._running:
                self._again.add(site)
                return
            self._running.add(site)
        threading.Thread(
            target=self._run, args=(site,), name=f"civility-retrain-{site}", daemon=True
        ).start()

    def busy(self, site: str) -> bool:
        with self._lock:
            return site in self._running

    def _run(self, site: str) -> None:
        while True:
            with self._lock:
                self._again.discard(site)
            try:
                with self._site(site):
                    info = maybe_retrain(
                        self.store, self.scorer(), site, every=self.every, settings=self.adapt
                    )
            except Exception as exc:  # a thread of its own: nobody else would see it
                self.errors[site] = f"Background retraining failed: {_one_line(exc)}"
                log.exception("retraining the adapter of site %s failed", site)
            else:
                self.errors.pop(site, None)
                if info is not None:
                    log.info("site %s: adapter v%s trained", site, info.version)
            with self._lock:
                if site not in self._again:
                    self._running.discard(site)
                    return

    def now(self, site: str, *, by: str) -> AdapterInfo:
        with self._site(site):
            info = retrain(self.store, self.scorer(), site, by=by, settings=self.adapt)
        self.errors.pop(site, None)
        return info
