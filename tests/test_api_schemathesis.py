"""Schemathesis over the served OpenAPI document, against a live server: no input it can
generate from the documented schemas gets a 5xx (bounded examples, well under a minute)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import InThread

from civility.api import SqlStorage
from civility.settings import Settings


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    storage = SqlStorage(f"sqlite:///{tmp / 'api.db'}").create_all()
    with InThread(Settings(database_url=storage.url, rate_limit_per_minute=0), storage) as srv:
        yield {"base": srv.base, "key": storage.create_key("schemathesis")}


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(live: dict[str, Any]) -> None:
    # Imported here: collecting the other tests must not need schemathesis (a dev extra).
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_url(live["base"] + "/openapi.json")
    headers = {"x-goog-api-key": live["key"]}
    seen = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers, timeout=30)
            assert response.status_code < 500, (case.method, case.path, response.text[:300])
            if response.status_code >= 400:
                error = response.json()["error"]
                assert error["code"] == response.status_code and error["details"]

        check()
        seen += 1
    assert seen >= 7
