"""The HTTP door: a Perspective-compatible API and civility's native API.

``create_app`` and ``serve`` load lazily, and so do the store's names re-exported here
(``civility.store`` imports the scorer): importing ``civility.api._serve`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civility.store import ApiKey, ApiStorage, FeedbackPair, SqlStorage

__all__ = ["ApiKey", "ApiStorage", "FeedbackPair", "SqlStorage", "create_app", "serve"]
_FROM_STORE = frozenset({"ApiKey", "ApiStorage", "FeedbackPair", "SqlStorage"})


def __getattr__(name: str) -> Any:
    if name in _FROM_STORE:
        import civility.store

        return getattr(civility.store, name)
    if name == "create_app":
        from civility.api._app import create_app

        return create_app
    if name == "serve":
        from civility.api._serve import serve

        return serve
    raise AttributeError(name)
