"""Production behaviour: per-key rate limits, CORS when configured, configuration by file,
and graceful shutdown (SIGTERM lets in-flight requests finish)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import httpx
import pytest
from api_support import InThread, Subprocess, analyze_body, assert_google_error

from civility.api import SqlStorage
from civility.settings import Settings

ANALYZE = "/v1alpha1/comments:analyze"


def test_a_key_over_its_quota_gets_429_with_retry_after(tmp_path: Path) -> None:
    storage = SqlStorage(f"sqlite:///{tmp_path / 'api.db'}").create_all()
    settings = Settings(
        database_url=storage.url, rate_limit_per_minute=3, cors_origins="https://news.example"
    )
    busy, quiet = storage.create_key("busy"), storage.create_key("quiet")
    with InThread(settings, storage) as srv:
        codes = [
            httpx.post(srv.base + ANALYZE, json=analyze_body("hi"), params={"key": busy})
            for _ in range(4)
        ]
        assert [r.status_code for r in codes[:3]] == [200, 200, 200]
        error = assert_google_error(codes[3], 429, "RESOURCE_EXHAUSTED")
        assert error["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
        assert int(codes[3].headers["retry-after"]) >= 1
        ok = httpx.post(srv.base + ANALYZE, json=analyze_body("hi"), params={"key": quiet})
        assert ok.status_code == 200
        preflight = httpx.options(
            srv.base + ANALYZE,
            headers={"Origin": "https://news.example", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.headers["access-control-allow-origin"] == "https://news.example"


@pytest.mark.slow
def test_sigterm_lets_an_in_flight_request_finish(tmp_path: Path) -> None:
    config = tmp_path / "civility.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "api.db"}"\n'
        "require_key = false\nmax_body_bytes = 2000000\n",
        encoding="utf-8",
    )
    with Subprocess(tmp_path, {}, ("--config", str(config))) as srv:
        comments = [
            {"id": str(i), "text": "you are a fool and an idiot, go away " * 20} for i in range(20)
        ]
        result: dict[str, httpx.Response] = {}
        started = threading.Event()

        def slow() -> None:
            started.set()
            result["r"] = httpx.post(
                srv.base + "/api/v1/score", json={"comments": comments, "spans": True}, timeout=120
            )

        worker = threading.Thread(target=slow)
        worker.start()
        started.wait()
        threading.Event().wait(0.5)
        srv.proc.send_signal(signal.SIGTERM)
        worker.join(timeout=120)
        # uvicorn re-raises the signal once shut down: the exit is SIGTERM's, not a crash.
        assert srv.proc.wait(timeout=60) in (0, -signal.SIGTERM)
        assert result["r"].status_code == 200
        assert len(result["r"].json()["results"]) == 20
