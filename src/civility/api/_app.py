"""The ASGI app: Perspective's ``comments:analyze``/``:suggestscore``, their discovery document
and batch endpoint, the native ``/api/v1`` routes, ``/healthz`` and ``/metrics``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from civility import __version__
from civility.api._batch import Part, parse_batch, render_batch
from civility.api._discovery import discovery_document
from civility.api._errors import ApiError, from_civility, invalid
from civility.api._schema import (
    SCHEMAS,
    AnalyzeCommentRequest,
    ScoreRequest,
    SuggestCommentScoreRequest,
    ThreadRequest,
    parse,
)
from civility.api._serve import MULTIPROC_DIR
from civility.api._service import Service
from civility.errors import CivilityError
from civility.policy import Policy
from civility.scorer import Scorer
from civility.settings import Settings
from civility.store import ApiStorage, SqlStorage

log = logging.getLogger("civility.api")

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"
PURGE_EVERY_SECONDS = 3600.0

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class Metrics:
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
            "Returned scores by attribute.",
            ["attribute"],
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

    def observe_scores(self, values: Mapping[str, float]) -> None:
        for attribute, value in values.items():
            self.scores.labels(attribute).observe(value)


def _json(
    obj: Any, status: int = 200, pretty: bool = True, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(obj, ensure_ascii=False, indent=2 if pretty else None)
    return Response(
        body.encode("utf-8"),
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json; charset=UTF-8",
    )


def _error_response(err: ApiError, pretty: bool = True) -> Response:
    return _json(err.body(), err.status, pretty, err.headers)


def _pretty(query: Mapping[str, str]) -> bool:
    """Validate Google's standard query parameters; returns whether to indent."""
    alt = query.get("alt", "json")
    if alt != "json":
        raise invalid(f"Invalid value at 'alt': only json is supported. Got {alt!r}.")
    xgafv = query.get("$.xgafv")
    if xgafv not in (None, "1", "2"):
        raise invalid(f"Invalid value at '$.xgafv': must be 1 or 2. Got {xgafv!r}.")
    pretty = query.get("prettyPrint", "true").lower()
    if pretty not in ("true", "false", "1", "0"):
        raise invalid(f"Invalid value at 'prettyPrint': must be true or false. Got {pretty!r}.")
    return pretty in ("true", "1")


def _key(query: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    return query.get("key") or headers.get("x-goog-api-key") or None


class Door:
    """Outermost ASGI layer: body size limit, per-route metrics and one log line per request
    (method, route, status, time; never the query string, which may carry the key)."""

    def __init__(self, app: ASGIApp, max_body: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body = max_body
        self.metrics = metrics

    def _too_large(self, size: int) -> ApiError:
        return ApiError(
            413,
            f"Request body was too many bytes. Value ({size}) exceeded limit ({self.max_body}).",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]
        declared = dict(scope.get("headers") or []).get(b"content-length")

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            if declared is not None and declared.isdigit() and int(declared) > self.max_body:
                await _error_response(self._too_large(int(declared)))(scope, receive, send_status)
                return
            received = [0]

            async def limited() -> Message:
                message = await receive()
                if message["type"] == "http.request":
                    received[0] += len(message.get("body", b""))
                    if received[0] > self.max_body:
                        raise self._too_large(received[0])
                return message

            await self.app(scope, limited, send_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - start
            self.metrics.requests.labels(path, str(status[0])).inc()
            self.metrics.latency.labels(path).observe(elapsed)
            log.info("%s %s %d %.1fms", scope.get("method"), path, status[0], elapsed * 1000)


def _body_doc(model: type) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid request (Google error body)."},
    403: {"description": "Missing API key."},
    413: {"description": "Request body too large."},
    429: {"description": "Over quota; see Retry-After."},
}


def create_app(
    settings: Settings,
    *,
    scorer: Scorer | None = None,
    storage: ApiStorage | None = None,
    policy: Policy | None = None,
) -> FastAPI:
    """Build the app; the scorer is loaded here, once per worker process."""
    if scorer is None:
        scorer = Scorer(Path(settings.model_dir) if settings.model_dir else None).load()
    if storage is None:
        storage = SqlStorage(settings.database_url).create_all()
    if policy is None:
        policy = (
            Policy.load(Path(settings.policy_file)) if settings.policy_file else Policy.default()
        )
    service = Service(settings, scorer, policy, storage)
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async def purge() -> None:
            while True:
                with contextlib.suppress(CivilityError):
                    await run_in_threadpool(storage.purge, settings.retention_days)
                await asyncio.sleep(PURGE_EVERY_SECONDS)

        task = asyncio.create_task(purge())
        yield
        task.cancel()

    app = FastAPI(
        title="civility",
        version=__version__,
        description="Perspective-compatible comment scoring, plus civility's native API.",
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.service = service
    app.state.metrics = metrics

    def perspective(
        name: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> dict[str, Any]:
        """One Perspective call, from raw parts (shared by the routes and the batch)."""
        caller = service.authenticate(_key(query, headers))
        service.spend(caller)
        if name == "analyze":
            result = service.analyze(parse(AnalyzeCommentRequest, body), caller)
            metrics.observe_scores(
                {
                    a: s["summaryScore"]["value"]
                    for a, s in result.get("attributeScores", {}).items()
                }
            )
            return result
        return service.suggest(parse(SuggestCommentScoreRequest, body), caller)

    async def perspective_route(name: str, request: Request) -> Response:
        query = dict(request.query_params)
        pretty = _pretty(query)
        body = await request.body()
        result = await run_in_threadpool(perspective, name, query, dict(request.headers), body)
        return _json(result, pretty=pretty)

    @app.post(
        ANALYZE,
        openapi_extra=_body_doc(AnalyzeCommentRequest),
        responses=_ERROR_RESPONSES,
        tags=["perspective"],
        summary="Score a comment (Perspective's comments:analyze).",
    )
    async def analyze(request: Request) -> Response:
        return await perspective_route("analyze", request)

    @app.post(
        SUGGEST,
        openapi_extra=_body_doc(SuggestCommentScoreRequest),
        responses=_ERROR_RESPONSES,
        tags=["perspective"],
        summary="Suggest scores for a comment; they calibrate the community's scores.",
    )
    async def suggestscore(request: Request) -> Response:
        return await perspective_route("suggestscore", request)

    @app.get("/$discovery/rest", tags=["perspective"], summary="Discovery document.")
    async def discovery(request: Request, version: str = "v1alpha1") -> Response:
        query = dict(request.query_params)
        pretty = _pretty(query)
        if version != "v1alpha1":
            raise ApiError(
                404,
                f"Discovery document not found for API service: commentanalyzer version {version}",
                error_type=None,
                reason="NOT_FOUND",
            )
        key = _key(query, dict(request.headers))
        if key:
            await run_in_threadpool(service.authenticate, key)
        return _json(discovery_document(str(request.base_url)), pretty=pretty)

    @app.post("/batch", tags=["perspective"], summary="Google batch: multipart/mixed requests.")
    async def batch(request: Request) -> Response:
        outer_query = dict(request.query_params)
        outer_key = _key(outer_query, dict(request.headers))
        parts = parse_batch(request.headers.get("content-type", ""), await request.body())

        def run_all() -> list[tuple[Part, int, bytes, dict[str, str]]]:
            answers: list[tuple[Part, int, bytes, dict[str, str]]] = []
            for part in parts:
                query = dict(part.query)
                if outer_key and not _key(query, part.headers):
                    query["key"] = outer_key
                try:
                    pretty = _pretty(query)
                    if part.method != "POST" or part.path not in (ANALYZE, SUGGEST):
                        raise ApiError(
                            404,
                            f"Batch supports POST {ANALYZE} and {SUGGEST}. Got "
                            f"{part.method} {part.path}.",
                            reason="NOT_FOUND",
                            error_type=None,
                        )
                    name = "analyze" if part.path == ANALYZE else "suggestscore"
                    result = perspective(name, query, part.headers, part.body)
                    body = json.dumps(result, ensure_ascii=False, indent=2 if pretty else None)
                    answers.append((part, 200, body.encode("utf-8"), {}))
                except CivilityError as exc:
                    err = from_civility(exc)
                    answers.append((part, err.status, json.dumps(err.body()).encode(), err.headers))
            return answers

        content_type, body = render_batch(await run_in_threadpool(run_all))
        return Response(body, media_type=content_type)

    async def native(request: Request, answer: Callable[[bytes], dict[str, Any]], items: str) -> Response:
        """A native endpoint: authenticate, spend quota, answer, count the scores of ``items``."""
        query = dict(request.query_params)
        body = await request.body()

        def run() -> dict[str, Any]:
            caller = service.authenticate(_key(query, dict(request.headers)))
            service.spend(caller)
            result = answer(body)
            for item in result[items]:
                metrics.observe_scores(item["scores"])
            return result

        return _json(await run_in_threadpool(run), pretty=_pretty(query))

    @app.post(
        "/api/v1/score",
        openapi_extra=_body_doc(ScoreRequest),
        responses=_ERROR_RESPONSES,
        tags=["native"],
        summary="Score, explain and decide up to 1,000 comments.",
    )
    async def score(request: Request) -> Response:
        return await native(request, lambda body: service.score(parse(ScoreRequest, body)), "results")

    @app.post(
        "/api/v1/threads",
        openapi_extra=_body_doc(ThreadRequest),
        responses=_ERROR_RESPONSES,
        tags=["native"],
        summary="Analyse a whole thread: article and comments, with decisions.",
    )
    async def threads(request: Request) -> Response:
        return await native(request, lambda body: service.thread(parse(ThreadRequest, body)), "comments")

    @app.get("/healthz", tags=["ops"], summary="Liveness and the model version.")
    async def healthz() -> Response:
        return _json({"status": "ok", "model_version": scorer.version}, pretty=False)

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics (of all workers, with --workers N).")
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(CivilityError)
    async def civility_error(request: Request, exc: CivilityError) -> Response:
        return _error_response(from_civility(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {
            404: f"The requested URL {request.url.path} was not found on this server.",
            405: f"Method {request.method} is not allowed on {request.url.path}.",
        }
        err = ApiError(
            exc.status_code,
            message.get(exc.status_code, str(exc.detail)),
            error_type=None,
            reason="NOT_FOUND" if exc.status_code == 404 else None,
        )
        return _error_response(err)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error_response(invalid(f"Invalid value at '{where}': {first.get('msg')}."))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        log.error("internal error on %s: %s", request.url.path, type(exc).__name__)
        return _error_response(ApiError(500, "Internal error.", error_type=None, reason="INTERNAL"))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            _, defs = models_json_schema(
                [(m, "validation") for m in SCHEMAS], ref_template="#/components/schemas/{model}"
            )
            components = doc.setdefault("components", {})
            components.setdefault("schemas", {}).update(defs.get("$defs", {}))
            components["securitySchemes"] = {
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "x-goog-api-key"},
                "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "key"},
            }
            doc["security"] = [{"apiKeyHeader": []}, {"apiKeyQuery": []}]
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    _add_cors(app, settings)
    app.add_middleware(Door, max_body=settings.max_body_bytes, metrics=metrics)
    return app


def _add_cors(app: FastAPI, settings: Settings) -> None:
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "x-goog-api-key"],
        )
