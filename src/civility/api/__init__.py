"""The HTTP door: a Perspective-compatible API and civility's native API.

``create_app`` and ``serve`` load lazily so that ``civility keys`` needs only the store.
"""

from __future__ import annotations

from typing import Any

from civility.store import ApiKey, ApiStorage, FeedbackPair, SqlStorage

__all__ = ["ApiKey", "ApiStorage", "FeedbackPair", "SqlStorage", "create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from civility.api._app import create_app

        return create_app
    if name == "serve":
        from civility.api._serve import serve

        return serve
    raise AttributeError(name)
