"""A real uvicorn server on 127.0.0.1 serving the moderator UI over a store, for web tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from civility.scorer import Scorer
from civility.settings import Settings
from civility.store import Store
from civility.web import create_app


@contextmanager
def serve(
    store: Store, settings: Settings | None = None, *, scorer: Scorer | None = None
) -> Iterator[str]:
    """Serve the UI on a free port (with ``scorer`` for retraining and the teach view, else
    the shipped model loaded when first needed); yields its base URL."""
    app = create_app(settings or Settings(secret_key="test-secret"), store, scorer=scorer)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
