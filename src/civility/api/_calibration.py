"""Per-community calibration from ``comments:suggestscore`` feedback.

For each (community, attribute) the server keeps (model score, suggested score) pairs. A
monotone correction is fitted by isotonic regression (pool-adjacent-violators, weighted),
anchored at (0, 0) and (1, 1) so it stays a map of [0, 1] onto itself, then shrunk towards
identity: ``calibrated = w * isotonic(score) + (1 - w) * score`` with ``w = n / (n + PRIOR)``.
A few pairs nudge scores; many pairs dominate. The result stays monotone, so the ranking of
comments within a community never changes, and other communities are never touched.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from civility.store import ApiStorage, FeedbackPair

PRIOR = 5.0
CACHE_SECONDS = 5.0


class Correction:
    """A fitted monotone map of [0, 1]; ``n`` pairs went into it."""

    def __init__(self, pairs: Sequence[FeedbackPair], prior: float = PRIOR) -> None:
        self.n = len(pairs)
        self.weight = self.n / (self.n + prior)
        xs = np.array([0.0, *(p.model_score for p in pairs), 1.0])
        ys = np.array([0.0, *(p.suggested_score for p in pairs), 1.0])
        order = np.argsort(xs, kind="stable")
        self.knots_x, self.knots_y = _pav(xs[order], ys[order], np.ones(len(xs)))

    def __call__(self, score: float) -> float:
        fitted = float(np.interp(score, self.knots_x, self.knots_y))
        return min(1.0, max(0.0, self.weight * fitted + (1.0 - self.weight) * score))


def _pav(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted isotonic fit of sorted ``x``; returns knots (block mean x, block value)."""
    blocks: list[list[float]] = []  # [sum w*y, sum w, sum w*x]
    for xi, yi, wi in zip(x, y, w, strict=True):
        blocks.append([wi * yi, wi, wi * xi])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            top = blocks.pop()
            for k in range(3):
                blocks[-1][k] += top[k]
    kx = np.array([b[2] / b[1] for b in blocks])
    ky = np.array([b[0] / b[1] for b in blocks])
    return kx, ky


class Calibrations:
    """Corrections per (community, attribute), cached for ``CACHE_SECONDS`` in each worker
    and dropped at once when that worker records new feedback for the community."""

    def __init__(self, storage: ApiStorage, clock: Callable[[], float] = time.monotonic) -> None:
        self.storage = storage
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Correction | None]] = {}
        self._lock = threading.Lock()

    def get(self, community: str, attribute: str) -> Correction | None:
        key = (community, attribute)
        now = self.clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        pairs = self.storage.feedback_pairs(community, attribute)
        correction = Correction(pairs) if pairs else None
        with self._lock:
            self._cache[key] = (now, correction)
        return correction

    def forget(self, community: str) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[0] == community]:
                del self._cache[key]
