"""What the moderator UI does with site adapters: the one scorer it loads (lazily, or the API's
when ``civility serve`` mounts it), retraining a site after moderators' decisions without
slowing their key presses (one background thread per site at a time), and the order of the
"review to teach" view."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from civility import adapt
from civility.scorer import Scorer
from civility.settings import Settings
from civility.store import AdapterInfo, Store, maybe_retrain, retrain, site_scorer

log = logging.getLogger("civility.web")


class LazyScorer:
    """The base model, loaded on first use (a UI that never retrains or teaches never pays for
    it), once per process."""

    def __init__(self, settings: Settings, scorer: Scorer | None = None) -> None:
        self._settings = settings
        self._scorer = scorer
        self._lock = threading.Lock()

    def __call__(self) -> Scorer:
        if self._scorer is None:
            with self._lock:
                if self._scorer is None:
                    folder = self._settings.model_dir
                    self._scorer = Scorer(Path(folder) if folder else None).load()
        return self._scorer


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Retrainer:
    """Retrains sites' adapters off the request path. ``request(site)`` returns at once: a
    thread runs ``store.maybe_retrain`` for that site, one at a time per site (a request while
    one runs makes it check once more when done). ``now(site)`` retrains in the caller's
    thread, after any run of that site. The last background failure per site is kept for the
    admin page (one line), and logged."""

    def __init__(self, store: Store, scorer: Callable[[], Scorer]) -> None:
        self.store = store
        self.scorer = scorer
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
                    info = maybe_retrain(self.store, self.scorer(), site)
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
            info = retrain(self.store, self.scorer(), site, by=by)
        self.errors.pop(site, None)
        return info


@dataclass(frozen=True)
class Candidate:
    """One comment of the teach view: its priority and its score for the attribute taught,
    the base's and the serving adapter's (equal without one)."""

    id: int
    priority: float
    base: float
    adapted: float


def serving_adapter(store: Store, scorer: Scorer, site: str) -> tuple[str | None, Any]:
    """The label ("site/vN") and the ``SiteAdapter`` that serve ``site`` now, or ``(None, None)``."""
    scored = site_scorer(store, scorer, site)
    label = getattr(scored, "adapter", None)
    if label is None:
        return None, None
    return str(label), getattr(scored, "site_adapter", None)


def teach_order(
    scorer: Scorer,
    adapter: adapt.SiteAdapter | None,
    candidates: Sequence[tuple[int, str]],
    attribute: str,
) -> list[Candidate]:
    """``candidates`` (comment id, text), the most useful label first: scored in one batch,
    ranked by ``civility.adapt.review_priority`` where the library has it, else by how close
    the scores are to 0.5 plus how far the adapter moves the base."""
    if not candidates:
        return []
    base = adapt.base_outputs(scorer, [text for _, text in candidates])
    column = list(scorer.attributes).index(attribute)
    base_p = np.asarray(base.probs[:, column], dtype=np.float64)
    adapted_p = base_p
    if adapter is not None and attribute in adapter.adapters:
        adapted_p = np.asarray(adapter.apply(base, only_active=False)[:, column])
    review = getattr(adapt, "review_priority", None)
    if review is not None:
        priority = np.asarray(review(adapter, base, attribute), dtype=np.float64)
    else:
        # 1 where the scores sit at 0.5 (most uncertain), 0 at 0 or 1; plus the disagreement.
        priority = 1.0 - np.abs(base_p + adapted_p - 1.0) + np.abs(adapted_p - base_p)
    order = np.argsort(-priority, kind="stable")
    return [
        Candidate(candidates[i][0], float(priority[i]), float(base_p[i]), float(adapted_p[i]))
        for i in order
    ]
