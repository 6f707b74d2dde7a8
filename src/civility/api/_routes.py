"""The API's routes, as module-level handlers.

Each handler reads the app's :class:`Service` and :class:`Metrics` from ``request.app.state``
(``create_app`` puts them there), checks Google's standard query parameters, parses its body
with :func:`civility.api._schema.parse` after the key is checked, and answers JSON in
Perspective's layout. Blocking work (the store, the scorer) runs in the thread pool.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, cast

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from civility.api._batch import Part, parse_batch, render_batch
from civility.api._discovery import discovery_document
from civility.api._errors import ApiError, from_civility, invalid
from civility.api._metrics import Metrics
from civility.api._openapi import ApiRoute
from civility.api._responses import json_response
from civility.api._schema import (
    AnalyzeCommentRequest,
    ScoreRequest,
    SuggestCommentScoreRequest,
    ThreadRequest,
    parse,
)
from civility.api._service import Caller, Service
from civility.errors import CivilityError

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"


def _service(request: Request) -> Service:
    return cast(Service, request.app.state.service)


def _metrics(request: Request) -> Metrics:
    return cast(Metrics, request.app.state.metrics)


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


# ---------------------------------------------------------------- Perspective


def _perspective(
    service: Service,
    metrics: Metrics,
    name: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    """One Perspective call, from raw parts (shared by the routes and the batch)."""
    caller = service.authenticate(_key(query, headers))
    service.spend(caller)
    if name == "analyze":
        result = service.analyze(parse(AnalyzeCommentRequest, body), caller)
        metrics.observe_scores(
            {a: s["summaryScore"]["value"] for a, s in result.get("attributeScores", {}).items()},
            adapter=result.get("civilityAdapter"),
        )
        return result
    return service.suggest(parse(SuggestCommentScoreRequest, body), caller)


async def _perspective_route(name: str, request: Request) -> Response:
    query = dict(request.query_params)
    pretty = _pretty(query)
    body = await request.body()
    result = await run_in_threadpool(
        _perspective,
        _service(request),
        _metrics(request),
        name,
        query,
        dict(request.headers),
        body,
    )
    return json_response(result, pretty=pretty)


async def analyze(request: Request) -> Response:
    return await _perspective_route("analyze", request)


async def suggestscore(request: Request) -> Response:
    return await _perspective_route("suggestscore", request)


async def discovery(request: Request) -> Response:
    query = dict(request.query_params)
    pretty = _pretty(query)
    version = query.get("version", "v1alpha1")
    if version != "v1alpha1":
        raise ApiError(
            404,
            f"Discovery document not found for API service: commentanalyzer version {version}",
            error_type=None,
            reason="NOT_FOUND",
        )
    key = _key(query, dict(request.headers))
    if key:
        await run_in_threadpool(_service(request).authenticate, key)
    return json_response(discovery_document(str(request.base_url)), pretty=pretty)


async def batch(request: Request) -> Response:
    """Google's batch: each ``multipart/mixed`` part is one Perspective call, answered in a
    part of its own; the outer request's key serves the parts that carry none."""
    service, metrics = _service(request), _metrics(request)
    outer_key = _key(dict(request.query_params), dict(request.headers))
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
                result = _perspective(service, metrics, name, query, part.headers, part.body)
                body = json.dumps(result, ensure_ascii=False, indent=2 if pretty else None)
                answers.append((part, 200, body.encode("utf-8"), {}))
            except CivilityError as exc:
                err = from_civility(exc)
                answers.append((part, err.status, json.dumps(err.body()).encode(), err.headers))
        return answers

    content_type, body = render_batch(await run_in_threadpool(run_all))
    return Response(body, media_type=content_type)


# ---------------------------------------------------------------- native


async def _native(
    request: Request, answer: Callable[[Service, bytes, Caller], dict[str, Any]], items: str
) -> Response:
    """A native endpoint: authenticate, spend quota, answer, count the scores of ``items``."""
    service, metrics = _service(request), _metrics(request)
    query = dict(request.query_params)
    body = await request.body()

    def run() -> dict[str, Any]:
        caller = service.authenticate(_key(query, dict(request.headers)))
        service.spend(caller)
        result = answer(service, body, caller)
        for item in result[items]:
            metrics.observe_scores(item["scores"], adapter=result["adapter"])
        return result

    return json_response(await run_in_threadpool(run), pretty=_pretty(query))


async def score(request: Request) -> Response:
    return await _native(
        request, lambda s, body, caller: s.score(parse(ScoreRequest, body), caller), "results"
    )


async def threads(request: Request) -> Response:
    return await _native(
        request, lambda s, body, caller: s.thread(parse(ThreadRequest, body), caller), "comments"
    )


# ---------------------------------------------------------------- operations


async def healthz(request: Request) -> Response:
    return json_response(
        {"status": "ok", "model_version": _service(request).scorer.version}, pretty=False
    )


async def prometheus(request: Request) -> Response:
    return Response(_metrics(request).exposition(), media_type=CONTENT_TYPE_LATEST)


_NATIVE_SITE = (
    "The site is the body's site, else its communityId, else the site the API key is bound "
    "to; its serving adapter, if any, scores the comments. The response's adapter field names "
    'it ("SITE/vN"), or is null when the base model scored.'
)

ROUTES = [
    ApiRoute(
        ANALYZE,
        analyze,
        method="POST",
        body=AnalyzeCommentRequest,
        tags=["perspective"],
        summary="Score a comment (Perspective's comments:analyze).",
        description=(
            "The site is communityId, else the site the API key is bound to. When that site "
            "has a serving adapter, it scores the comment and the response gains civility's "
            'top-level field civilityAdapter ("SITE/vN"); otherwise the response is '
            "Perspective's, unchanged."
        ),
    ),
    ApiRoute(
        SUGGEST,
        suggestscore,
        method="POST",
        body=SuggestCommentScoreRequest,
        tags=["perspective"],
        summary="Suggest scores for a comment; they calibrate the community's scores.",
    ),
    ApiRoute(
        "/$discovery/rest",
        discovery,
        method="GET",
        query={"version": "v1alpha1"},
        tags=["perspective"],
        summary="Discovery document.",
    ),
    ApiRoute(
        "/batch",
        batch,
        method="POST",
        tags=["perspective"],
        summary="Google batch: multipart/mixed requests.",
    ),
    ApiRoute(
        "/api/v1/score",
        score,
        method="POST",
        body=ScoreRequest,
        tags=["native"],
        summary="Score, explain and decide up to 1,000 comments.",
        description=_NATIVE_SITE,
    ),
    ApiRoute(
        "/api/v1/threads",
        threads,
        method="POST",
        body=ThreadRequest,
        tags=["native"],
        summary="Analyse a whole thread: article and comments, with decisions.",
        description=_NATIVE_SITE,
    ),
    ApiRoute(
        "/healthz",
        healthz,
        method="GET",
        tags=["ops"],
        summary="Liveness and the model version.",
    ),
    ApiRoute(
        "/metrics",
        prometheus,
        method="GET",
        tags=["ops"],
        summary="Prometheus metrics (of all workers, with --workers N).",
    ),
]
