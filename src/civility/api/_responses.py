"""How the HTTP door writes its answers: JSON in Perspective's layout, and every error,
whoever raises it (a route, the router, an unexpected failure), as Google's error body."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from civility.api._errors import ApiError, from_civility
from civility.errors import CivilityError

log = logging.getLogger("civility.api")


def json_response(
    obj: Any, status: int = 200, pretty: bool = True, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(obj, ensure_ascii=False, indent=2 if pretty else None)
    return Response(
        body.encode("utf-8"),
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json; charset=UTF-8",
    )


def error_response(err: ApiError, pretty: bool = True) -> Response:
    return json_response(err.body(), err.status, pretty, err.headers)


async def civility_error(request: Request, exc: CivilityError) -> Response:
    return error_response(from_civility(exc))


async def http_error(request: Request, exc: HTTPException) -> Response:
    """The router's 404 and 405, in Google's words."""
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
    return error_response(err)


async def internal_error(request: Request, exc: Exception) -> Response:
    """Anything unexpected: a 500 with no detail, and one log line naming the error's type."""
    log.error("internal error on %s: %s", request.url.path, type(exc).__name__)
    return error_response(ApiError(500, "Internal error.", error_type=None, reason="INTERNAL"))


EXCEPTION_HANDLERS: dict[type[Exception], Callable[[Request, Any], Awaitable[Response]]] = {
    CivilityError: civility_error,
    HTTPException: http_error,
    Exception: internal_error,
}
