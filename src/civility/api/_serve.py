"""Running the app under uvicorn: workers, logging, graceful shutdown."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from typing import Any

from civility.api._metrics import MULTIPROC_DIR
from civility.settings import ENV_PREFIX, SETTINGS, Settings

GRACEFUL_SECONDS = 30


def app_from_environment() -> Any:
    """uvicorn's factory, called once in each worker: settings arrive as ``CIVILITY_*``."""
    # Imported here, not above: the process that supervises --workers N never builds an app,
    # so it need not load the scorer's libraries.
    from civility.api._app import create_app

    return create_app(Settings.from_sources())


def log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["civility"] = {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    config["handlers"]["civility"] = {
        "class": "logging.StreamHandler",
        "formatter": "civility",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["civility"] = {"handlers": ["civility"], "level": "INFO", "propagate": False}
    return config


API_ONLY = "civility.api._serve:app_from_environment"


def serve(settings: Settings, factory: str = API_ONLY) -> None:
    """Serve until SIGINT/SIGTERM; in-flight requests finish first (up to 30 s).

    ``factory`` is the import string of the app factory each worker calls (the API alone by
    default; ``civility serve`` passes the one that also mounts the moderator UI).
    """
    import uvicorn

    # Workers are separate processes that rebuild the app from the environment: hand them the
    # resolved settings through the documented CIVILITY_* variables.
    for s in SETTINGS:
        value = getattr(settings, s.name)
        os.environ[ENV_PREFIX + s.name.upper()] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    # With several workers, Prometheus client's multiprocess mode: each worker writes its
    # counters to files in one folder and /metrics sums them, whichever worker answers.
    metrics_dir = None
    if settings.workers > 1 and not os.environ.get(MULTIPROC_DIR):
        metrics_dir = tempfile.mkdtemp(prefix="civility-metrics-")
        os.environ[MULTIPROC_DIR] = metrics_dir
    try:
        uvicorn.run(
            factory,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers if settings.workers > 1 else None,
            access_log=False,
            log_config=log_config(),
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            server_header=False,
        )
    finally:
        if metrics_dir is not None:
            os.environ.pop(MULTIPROC_DIR, None)
            shutil.rmtree(metrics_dir, ignore_errors=True)
