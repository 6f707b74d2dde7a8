"""Per-key token buckets: ``rate_limit_per_minute`` requests a minute, bursts up to the same
number. One server process keeps them in memory (``RateLimiter``); with several worker
processes they live in the database, where every worker spends from the same bucket
(``SharedRateLimiter``)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, who: str) -> float:
        """Spend one request; returns 0 when allowed, else the seconds to wait."""
        if self.per_minute <= 0:
            return 0.0
        rate = self.per_minute / 60.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(who, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[who] = (tokens - 1.0, now)
                return 0.0
            self._buckets[who] = (tokens, now)
            return max(1.0, math.ceil((1.0 - tokens) / rate))


class _Buckets(Protocol):
    def take_token(self, who: str, per_minute: int, now: float | None = None) -> float: ...


class SharedRateLimiter:
    """The same buckets, kept by ``storage`` for every worker process."""

    def __init__(self, per_minute: int, storage: _Buckets) -> None:
        self.per_minute = per_minute
        self.storage = storage

    def take(self, who: str) -> float:
        if self.per_minute <= 0:
            return 0.0
        return self.storage.take_token(who, self.per_minute)
