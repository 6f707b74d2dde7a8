"""The request body limit (``max_body_bytes``), answered with Google's 413 body."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civility.api._errors import ApiError
from civility.api._responses import error_response


class BodyLimit:
    """ASGI layer that refuses a body over ``max_body`` bytes: at once when its
    Content-Length says so, else as soon as the bytes received pass the limit (the route
    reading the body gets an :class:`ApiError`, which its error handler answers)."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    def _too_large(self, size: int) -> ApiError:
        return ApiError(
            413,
            f"Request body was too many bytes. Value ({size}) exceeded limit ({self.max_body}).",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await error_response(self._too_large(int(declared)))(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise self._too_large(received)
            return message

        await self.app(scope, limited, send)
