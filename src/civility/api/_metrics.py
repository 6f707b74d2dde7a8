"""Prometheus metrics of the HTTP door, and the ASGI layer that counts, times and logs each
request.

With ``civility serve --workers N`` each worker is its own process: Prometheus client's
multiprocess mode (the folder named by :data:`MULTIPROC_DIR`, which ``civility.api._serve``
sets up) lets ``/metrics`` sum every worker's counters, whichever worker answers.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civility.api._openapi import ApiRoute

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "unmatched"
# The ``adapter`` label of scores the base model gave (no site, or no serving adapter); an
# adapter's own label is "SITE/vN", which always holds a "/", so the two never collide.
BASE = "base"

log = logging.getLogger("civility.api")


class Metrics:
    """Requests by route and status, their latency by route, and the scores returned by
    attribute and by what scored them.

    ``civility_scores`` carries an ``adapter`` label (the ``"SITE/vN"`` a response reports, or
    ``"base"``) so that a site's score distribution can be seen to move when its adapter
    activates or rolls back. Its cardinality is bounded by the adapters that served: one value
    per site adapter version that scored a request since the process (or, with several workers,
    the multiprocess folder) started, plus ``"base"``; a site without a serving adapter, or any
    ``communityId`` a client makes up, counts as ``"base"``, never as a value of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "civility_http_requests",
            "HTTP requests by route and status code.",
            ["route", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "civility_http_request_seconds",
            "HTTP request latency by route.",
            ["route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.scores = Histogram(
            "civility_scores",
            "Returned scores by attribute and by what scored them: adapter is the site adapter's "
            '"SITE/vN" (one value per adapter version that served) or "base" for the base '
            "model.",
            ["attribute", "adapter"],
            buckets=tuple(i / 10 for i in range(1, 11)),
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        """The text /metrics serves: this process's metrics, or every worker's summed when
        ``civility serve --workers N`` runs Prometheus client's multiprocess mode."""
        if os.environ.get(MULTIPROC_DIR):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return bytes(generate_latest(registry))
        return bytes(generate_latest(self.registry))

    def observe_scores(self, values: Mapping[str, float], *, adapter: str | None) -> None:
        """Count one response's scores under ``adapter``, the label of the site adapter that
        gave them (what the response reports), or ``None`` when the base model did."""
        label = adapter or BASE
        for attribute, value in values.items():
            self.scores.labels(attribute=attribute, adapter=label).observe(value)


class RequestMetrics:
    """Outermost ASGI layer: counts and times every request by route and status, and logs one
    line (method, route, status, time; never the query string, which may carry the key).

    A request is labelled by the path of the route that answered it: one of the API's
    (:class:`ApiRoute`) or, under ``civility serve``, one of the moderator UI's, mounted beside
    the API. The app's helper routes (documentation pages, not-found catch-alls, the mount
    itself), unknown paths and bodies refused before routing count as ``unmatched``."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            path = _label(scope)
            elapsed = time.perf_counter() - start
            self.metrics.requests.labels(path, str(status[0])).inc()
            self.metrics.latency.labels(path).observe(elapsed)
            log.info("%s %s %d %.1fms", scope.get("method"), path, status[0], elapsed * 1000)


def _label(scope: Scope) -> str:
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    if isinstance(route, ApiRoute):
        return str(route.path)
    # The outermost router is the API app's; a route it does not hold is a mounted app's.
    router = scope.get("router")
    if router is not None and route in router.routes:
        return UNMATCHED
    return str(getattr(route, "path", UNMATCHED))
