"""The app's parts as they meet on a live server: API routes answer only their method, the
metrics label the API's routes by path and the rest ``unmatched``, and the OpenAPI document
describes every API route with references that resolve."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_api_support import InThread, analyze_body, assert_google_error

from civility.api import SqlStorage
from civility.api._routes import ANALYZE, ROUTES
from civility.settings import Settings


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("app")
    storage = SqlStorage(f"sqlite:///{tmp / 'api.db'}").create_all()
    settings = Settings(database_url=storage.url, max_body_bytes=1000)
    with InThread(settings, storage) as srv:
        yield {"base": srv.base, "key": storage.create_key("app")}


def _count(metrics: str, code: int, route: str) -> float:
    line = f'civility_http_requests_total{{code="{code}",route="{route}"}} '
    found = re.search(re.escape(line) + r"([0-9.]+)", metrics)
    return float(found.group(1)) if found else 0.0


def test_an_api_get_route_does_not_answer_head(live: dict[str, Any]) -> None:
    assert httpx.get(live["base"] + "/healthz").status_code == 200
    r = httpx.head(live["base"] + "/healthz")
    assert (r.status_code, r.headers["content-type"]) == (405, "application/json; charset=UTF-8")
    assert_google_error(
        httpx.post(live["base"] + "/healthz"),
        405,
        "INVALID_ARGUMENT",
        "Method POST is not allowed on /healthz.",
    )


def test_metrics_label_api_routes_by_path_and_everything_else_unmatched(
    live: dict[str, Any],
) -> None:
    base, params = live["base"], {"key": live["key"]}

    def counts() -> dict[str, float]:
        text = httpx.get(base + "/metrics").text
        return {
            "docs": _count(text, 200, "unmatched"),
            "unknown": _count(text, 404, "unmatched"),
            "declared too large": _count(text, 413, "unmatched"),
            "streamed too large": _count(text, 413, ANALYZE),
            "analyzed": _count(text, 200, ANALYZE),
        }

    before = counts()
    assert httpx.get(base + "/openapi.json").status_code == 200
    assert httpx.get(base + "/no/such/page").status_code == 404
    big = analyze_body("x" * 2000)
    assert httpx.post(base + ANALYZE, json=big, params=params).status_code == 413

    def chunks() -> Iterator[bytes]:
        yield b'{"comment": {"text": "'
        yield b"a" * 2000
        yield b'"}}'

    assert httpx.post(base + ANALYZE, content=chunks(), params=params).status_code == 413
    assert httpx.post(base + ANALYZE, json=analyze_body("hello"), params=params).status_code == 200
    after = counts()
    assert {k: after[k] - before[k] for k in before} == {
        "docs": 1,
        "unknown": 1,
        "declared too large": 1,
        "streamed too large": 1,
        "analyzed": 1,
    }


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_openapi_document_describes_each_api_route_with_resolving_references(
    live: dict[str, Any],
) -> None:
    doc = httpx.get(live["base"] + "/openapi.json").json()
    described = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert described == {(r.path, r.method.lower()) for r in ROUTES}
    operation_ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(set(operation_ids)) == len(ROUTES)
    schemas = doc["components"]["schemas"]
    unresolved = [
        ref for ref in _refs(doc) if ref.removeprefix("#/components/schemas/") not in schemas
    ]
    assert unresolved == []
    for route in ROUTES:
        body = doc["paths"][route.path][route.method.lower()].get("requestBody")
        assert (body is not None) == (route.body is not None), route.path
