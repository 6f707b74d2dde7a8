"""The OpenAPI document (``/openapi.json``) and its Swagger UI page (``/docs``), built from
the API's routes and the request bodies' pydantic models.

Each :class:`ApiRoute` carries what the document says of it (tags, summary, body model,
query parameters). The document keeps, byte for byte, the shape FastAPI gave it when the
app was a FastAPI app (operation ids, ``Successful Response``, the 422 answer and its two
schemas for a route with query parameters), so clients generated from it do not change.
The Swagger UI page and its OAuth2 redirect page are FastAPI's HTML helpers: the only part
of FastAPI left, it touches no request, and it is imported when a page is asked for (FastAPI
takes a second to import).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"

_OK = {"description": "Successful Response", "content": {"application/json": {"schema": {}}}}
_ERROR_RESPONSES = {
    "400": {"description": "Invalid request (Google error body)."},
    "403": {"description": "Missing API key."},
    "413": {"description": "Request body too large."},
    "429": {"description": "Over quota; see Retry-After."},
}
_SCHEMAS = "#/components/schemas/"
_VALIDATION_ERROR = {
    "description": "Validation Error",
    "content": {"application/json": {"schema": {"$ref": _SCHEMAS + "HTTPValidationError"}}},
}
_VALIDATION_SCHEMAS: dict[str, Any] = {
    "HTTPValidationError": {
        "properties": {
            "detail": {
                "items": {"$ref": _SCHEMAS + "ValidationError"},
                "type": "array",
                "title": "Detail",
            }
        },
        "type": "object",
        "title": "HTTPValidationError",
    },
    "ValidationError": {
        "properties": {
            "loc": {
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                "type": "array",
                "title": "Location",
            },
            "msg": {"type": "string", "title": "Message"},
            "type": {"type": "string", "title": "Error Type"},
            "input": {"title": "Input"},
            "ctx": {"type": "object", "title": "Context"},
        },
        "type": "object",
        "required": ["loc", "msg", "type"],
        "title": "ValidationError",
    },
}
_SECURITY_SCHEMES = {
    "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "x-goog-api-key"},
    "apiKeyQuery": {"type": "apiKey", "in": "query", "name": "key"},
}


class ApiRoute(Route):
    """A route of the API: it answers exactly its one method (Starlette would add HEAD to a
    GET route; the API never answered HEAD), it is counted by path in the metrics, and the
    OpenAPI document describes it.

    ``body`` is the pydantic model of a JSON request body (the route parses it itself, and
    answers 400, 403, 413 and 429 in Google's error body); ``query`` names optional string
    query parameters and their defaults; ``description``, when given, says more than the
    summary (what civility adds to a response: a site's adapter, for instance)."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[[Request], Any],
        *,
        method: str,
        tags: Sequence[str],
        summary: str,
        body: type[BaseModel] | None = None,
        query: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.methods = {method}
        self.method = method
        self.tags = list(tags)
        self.summary = summary
        self.description = description
        self.body = body
        self.query = dict(query or {})

    def operation(self) -> dict[str, Any]:
        """This route's OpenAPI operation object."""
        op: dict[str, Any] = {
            "tags": self.tags,
            "summary": self.summary,
            "operationId": re.sub(r"\W", "_", self.name + self.path) + "_" + self.method.lower(),
        }
        if self.description:
            op["description"] = self.description
        if self.query:
            op["parameters"] = [
                {
                    "name": name,
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "default": default, "title": name.title()},
                }
                for name, default in self.query.items()
            ]
        if self.body is not None:
            ref = {"$ref": _SCHEMAS + self.body.__name__}
            op["requestBody"] = {"content": {"application/json": {"schema": ref}}, "required": True}
        responses: dict[str, Any] = {"200": _OK}
        if self.query:
            responses["422"] = _VALIDATION_ERROR
        if self.body is not None:
            responses.update(_ERROR_RESPONSES)
        op["responses"] = responses
        return op


def openapi_document(
    routes: Sequence[BaseRoute],
    *,
    title: str,
    version: str,
    description: str,
    schemas: Sequence[type[BaseModel]],
) -> dict[str, Any]:
    """The document of ``routes``' :class:`ApiRoute`\\ s, with ``schemas`` (every request
    body model) as components; every operation accepts the key in a header or the query."""
    api = [r for r in routes if isinstance(r, ApiRoute)]
    paths: dict[str, dict[str, Any]] = {}
    for route in api:
        paths.setdefault(route.path, {})[route.method.lower()] = route.operation()
    _, defs = models_json_schema(
        [(m, "validation") for m in schemas], ref_template=_SCHEMAS + "{model}"
    )
    components = dict(_VALIDATION_SCHEMAS) if any(r.query for r in api) else {}
    components.update(defs.get("$defs", {}))
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "description": description, "version": version},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": _SECURITY_SCHEMES},
        "security": [{"apiKeyHeader": []}, {"apiKeyQuery": []}],
    }


async def openapi_json(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


async def swagger_ui(request: Request) -> Response:
    from fastapi.openapi.docs import get_swagger_ui_html

    title = request.app.state.openapi["info"]["title"]
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{title} - Swagger UI",
        oauth2_redirect_url=OAUTH2_REDIRECT_URL,
    )


async def swagger_ui_redirect(request: Request) -> Response:
    from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html

    return get_swagger_ui_oauth2_redirect_html()


DOC_ROUTES: list[BaseRoute] = [
    Route(OPENAPI_URL, openapi_json, include_in_schema=False),
    Route(DOCS_URL, swagger_ui, include_in_schema=False),
    Route(OAUTH2_REDIRECT_URL, swagger_ui_redirect, include_in_schema=False),
]
