"""Live servers for the API tests: ``civility serve`` as a real subprocess, or uvicorn in a
thread, on a real socket of 127.0.0.1 either way. Imported by the other test_api_* modules."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from civility.api import SqlStorage, create_app
from civility.scorer import Scorer
from civility.settings import Settings

SRC = Path(__file__).resolve().parent.parent / "src"
CIVILITY = Path(sys.executable).with_name("civility")
_SCORER: Scorer | None = None


def shared_scorer() -> Scorer:
    global _SCORER
    if _SCORER is None:
        _SCORER = Scorer().load()
    return _SCORER


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start")


class Subprocess:
    """``civility serve`` with the given CIVILITY_* settings; stderr goes to ``log``."""

    def __init__(self, tmp: Path, settings: Mapping[str, str], args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "server.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(SRC),
            **{f"CIVILITY_{k.upper()}": v for k, v in settings.items()},
        }
        self.args = args

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CIVILITY), *args], env=self.env, capture_output=True, text=True, timeout=60
        )

    def __enter__(self) -> Subprocess:
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [str(CIVILITY), "serve", "--port", str(self.port), *self.args],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_ready(self.base, self.proc)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self._log.close()


class InThread:
    """``create_app`` under uvicorn in a thread (shares the loaded scorer between servers)."""

    def __init__(
        self, settings: Settings, storage: SqlStorage, scorer: Scorer | None = None
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        app = create_app(settings, scorer=scorer or shared_scorer(), storage=storage)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, access_log=False)
        )

    def __enter__(self) -> InThread:
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_ready(self.base)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def assert_google_error(
    response: httpx.Response, code: int, status: str, message: str | None = None
) -> dict[str, Any]:
    """The one check of Google's error body: code, status, message, non-empty details."""
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"]
    if message is not None:
        assert error["message"] == message
    assert error["details"] and "@type" in error["details"][0]
    return dict(error)


def analyze_body(text: str, *attributes: str, **extra: Any) -> dict[str, Any]:
    return {
        "comment": {"text": text},
        "requestedAttributes": {a: {} for a in attributes or ("TOXICITY",)},
        **extra,
    }
