"""What the moderator UI does with site adapters: the one scorer it loads (lazily, or the API's
when ``civility serve`` mounts it) and the order of the "review to teach" view. Retraining a
site after moderators' decisions, off the request path, is ``civility.store.Retrainer``."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from civility import adapt
from civility.adapted import adapter_label
from civility.scorer import Scorer
from civility.settings import Settings
from civility.store import Store, site_scorer

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


@dataclass(frozen=True)
class Candidate:
    """One comment of the teach view: its priority and its score for the attribute taught,
    the base's and the serving adapter's (equal without one); ``picked``: shown because of
    its priority (its label is then no fair sample of the site), not drawn at random."""

    id: int
    priority: float
    base: float
    adapted: float
    picked: bool = True


def serving_adapter(store: Store, scorer: Scorer, site: str) -> tuple[str | None, Any]:
    """The label ("site/vN") and the ``SiteAdapter`` that serve ``site`` now, or ``(None, None)``."""
    scored = site_scorer(store, scorer, site)
    label = adapter_label(scored)
    if label is None:
        return None, None
    return label, getattr(scored, "site_adapter", None)


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


def teach_view(
    scorer: Scorer,
    adapter: adapt.SiteAdapter | None,
    candidates: Sequence[tuple[int, str]],
    attribute: str,
    *,
    shown: int,
    fair_share: float,
    rng: random.Random | None = None,
) -> list[Candidate]:
    """The comments the teach view shows, in priority order: ``fair_share`` of ``shown`` drawn
    uniformly from ``candidates`` (``picked`` false: a fair sample of the site, which the
    adapter's activation check rests on), the rest the highest priorities among the others.
    With no more candidates than ``shown``, all of them, none picked (nothing was chosen)."""
    ranked = teach_order(scorer, adapter, candidates, attribute)
    if len(ranked) <= shown:
        return [replace(c, picked=False) for c in ranked]
    n_fair = min(shown, max(0, round(shown * fair_share)))
    drawn = set((rng or random.Random()).sample(range(len(ranked)), n_fair))
    fair = [replace(ranked[i], picked=False) for i in sorted(drawn)]
    picks = [c for i, c in enumerate(ranked) if i not in drawn][: shown - n_fair]
    return sorted(picks + fair, key=lambda c: -c.priority)
