"""Google's JSON error body, the one shape every error of the HTTP door takes.

    {"error": {"code": 400, "message": "...", "status": "INVALID_ARGUMENT", "details": [...]}}

``details`` is never empty: clients index ``details[0]``.
"""

from __future__ import annotations

from typing import Any

from civility.errors import CivilityError

PERSPECTIVE_ERROR = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
DOMAIN = "commentanalyzer.googleapis.com"

_STATUS_BY_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    409: "ALREADY_EXISTS",
    413: "INVALID_ARGUMENT",
    415: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(CivilityError):
    """An error answered over HTTP with Google's body."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        error_type: str | None = "INVALID_REQUEST",
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = code
        self.grpc_status = _STATUS_BY_CODE.get(code, "UNKNOWN")
        self.error_type = error_type
        self.reason = reason
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        details: list[dict[str, Any]] = []
        if self.reason is not None:
            details.append(
                {
                    "@type": ERROR_INFO,
                    "reason": self.reason,
                    "domain": "googleapis.com",
                    "metadata": {"service": DOMAIN},
                }
            )
        if self.error_type is not None or not details:
            details.append(
                {"@type": PERSPECTIVE_ERROR, "errorType": self.error_type or "INVALID_REQUEST"}
            )
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "status": self.grpc_status,
                "details": details,
            }
        }


def invalid(message: str, error_type: str = "INVALID_REQUEST") -> ApiError:
    return ApiError(400, message, error_type=error_type)


def from_civility(exc: CivilityError) -> ApiError:
    """Translate a core error into the HTTP body; unknown attributes keep Perspective's type."""
    from civility.errors import UnknownAttribute

    if isinstance(exc, ApiError):
        return exc
    error_type = "INVALID_REQUEST"
    if isinstance(exc, UnknownAttribute):
        error_type = "INVALID_REQUEST"
    return ApiError(exc.status, exc.message, error_type=error_type)
