"""The one exception hierarchy of civility.

    CivilityError
     ├── InvalidInput (ValueError)        bad text, page, file or request: exit 2, HTTP 400
     │    └── UnknownAttribute (KeyError-free: also ValueError)
     ├── NotFound (FileNotFoundError)     a missing file or record: exit 2, HTTP 404
     ├── PermissionDenied (PermissionError)  missing or wrong credentials: exit 2, HTTP 403
     ├── RateLimited (RuntimeError)       over quota: HTTP 429
     └── ModelError (RuntimeError)        the artifact is missing, corrupt or of another version: exit 3

Every error carries an HTTP ``status`` and a CLI ``exit_code``; messages are one line:
what went wrong, the value, what is allowed.
"""

from __future__ import annotations


class CivilityError(Exception):
    """Base of every error civility raises on purpose."""

    status: int = 500
    exit_code: int = 1
    grpc_status: str = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(CivilityError, ValueError):
    """The input (text, page, file, request) cannot be used as given."""

    status = 400
    exit_code = 2
    grpc_status = "INVALID_ARGUMENT"


class UnknownAttribute(InvalidInput):
    """An attribute name that civility does not score."""


class NotFound(CivilityError, FileNotFoundError):
    """A file or record that does not exist."""

    status = 404
    exit_code = 2
    grpc_status = "NOT_FOUND"


class PermissionDenied(CivilityError, PermissionError):
    """Credentials are missing or do not allow the action."""

    status = 403
    exit_code = 2
    grpc_status = "PERMISSION_DENIED"


class RateLimited(CivilityError, RuntimeError):
    """A key sent more requests than its quota allows."""

    status = 429
    exit_code = 1
    grpc_status = "RESOURCE_EXHAUSTED"


class ModelError(CivilityError, RuntimeError):
    """The model artifact is missing, corrupt or incompatible."""

    status = 500
    exit_code = 3
    grpc_status = "INTERNAL"
