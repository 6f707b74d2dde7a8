"""The ASGI app: Perspective's ``comments:analyze``/``:suggestscore``, their discovery document
and batch endpoint, the native ``/api/v1`` routes, ``/healthz`` and ``/metrics``.

Plain Starlette, not FastAPI: every body is parsed by :func:`civility.api._schema.parse`
*after* the key is checked and the quota spent, and every failure, malformed JSON included,
must read exactly as Perspective's error body says. FastAPI's typed bodies are parsed before
the handler runs (a bad body would beat a missing key) and fail with its own messages, so the
app would use only its routing; the OpenAPI document is built from the same pydantic models
in :mod:`civility.api._openapi` instead.

The parts: routes (:mod:`._routes`), the OpenAPI document and its pages (:mod:`._openapi`),
answers and error handlers (:mod:`._responses`), the body limit (:mod:`._bodylimit`) and the
metrics (:mod:`._metrics`). ``create_app`` only wires them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from civility import __version__
from civility.api._bodylimit import BodyLimit
from civility.api._metrics import Metrics, RequestMetrics
from civility.api._openapi import DOC_ROUTES, openapi_document
from civility.api._responses import EXCEPTION_HANDLERS
from civility.api._routes import ROUTES
from civility.api._schema import SCHEMAS
from civility.api._service import Service
from civility.errors import CivilityError
from civility.policy import Policy
from civility.scorer import Scorer
from civility.settings import Settings
from civility.store import ApiStorage, SqlStorage, adapt_settings, refresh_adapters

log = logging.getLogger("civility.api")

PURGE_EVERY_SECONDS = 3600.0
DESCRIPTION = "Perspective-compatible comment scoring, plus civility's native API."


def create_app(
    settings: Settings,
    *,
    scorer: Scorer | None = None,
    storage: ApiStorage | None = None,
    policy: Policy | None = None,
) -> Starlette:
    """Build the app; the scorer is loaded here, once per worker process."""
    if scorer is None:
        scorer = Scorer(Path(settings.model_dir) if settings.model_dir else None).load()
    if storage is None:
        storage = SqlStorage(settings.database_url).create_all()
    if policy is None:
        policy = (
            Policy.load(Path(settings.policy_file)) if settings.policy_file else Policy.default()
        )
    metrics = Metrics()
    app = Starlette(
        routes=[*DOC_ROUTES, *ROUTES],
        middleware=[
            Middleware(RequestMetrics, metrics=metrics),
            Middleware(BodyLimit, max_body=settings.max_body_bytes),
            *_cors(settings),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=_purge_old_comments,
    )
    app.state.service = Service(settings, scorer, policy, storage)
    app.state.metrics = metrics
    app.state.openapi = openapi_document(
        ROUTES, title="civility", version=__version__, description=DESCRIPTION, schemas=SCHEMAS
    )
    return app


@contextlib.asynccontextmanager
async def _purge_old_comments(app: Starlette) -> AsyncIterator[None]:
    """While the app runs, drop stored comments older than ``retention_days`` every hour; once
    at start, retrain against the loaded model every site adapter trained on another base (the
    base serves those sites until their retrained adapter beats it on held-out labels)."""
    service: Service = app.state.service

    async def purge() -> None:
        while True:
            with contextlib.suppress(CivilityError):
                await run_in_threadpool(service.storage.purge, service.settings.retention_days)
            await asyncio.sleep(PURGE_EVERY_SECONDS)

    async def refresh() -> None:
        store = service.store
        if store is None:
            return
        try:
            done = await run_in_threadpool(
                lambda: refresh_adapters(
                    store, service.scorer, settings=adapt_settings(service.settings)
                )
            )
        except CivilityError as exc:
            log.warning("Site adapters were not refreshed: %s", exc)
            return
        for info in done:
            log.info("Site %s: adapter retrained on model %s", info.site, info.base_version)

    tasks = [asyncio.create_task(purge()), asyncio.create_task(refresh())]
    yield
    for task in tasks:
        task.cancel()


def _cors(settings: Settings) -> list[Middleware]:
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "x-goog-api-key"],
        )
    ]
