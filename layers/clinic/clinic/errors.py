"""Errors that map to the contract's error bodies; anything else is a bug and becomes a bare 500."""

from __future__ import annotations

from typing import ClassVar


class ApiError(Exception):
    status = 500
    message = "Internal server error"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message

    def body(self) -> dict[str, object]:
        return {"errors": self.message}


class BadRequest(ApiError):
    status = 400
    message = "Request body is not valid JSON"


class NotAuthorized(ApiError):
    status = 401
    message = "You are not authorized to perform this action."


class Forbidden(ApiError):
    """The caller's role may not perform the action."""

    status = 403
    message = "You are not authorized to perform this action."


class PatientForbidden(ApiError):
    """Same clinic, but no relationship that grants access to this patient."""

    status = 403
    message = "You are not authorized to access this patient"


class NotFound(ApiError):
    status = 404
    message = "Not found"


class PatientNotFound(NotFound):
    message = "Patient not found"


class Conflict(ApiError):
    """The request conflicts with the state of what it names."""

    status = 409
    message = "Conflict"


class PreconditionFailed(ApiError):
    status = 412
    message = "Patient has been modified since it was read"


class PayloadTooLarge(ApiError):
    status = 413
    message = "Request body is larger than 1 MB"


class UnsupportedMediaType(ApiError):
    status = 415
    message = "Request body must be JSON (Content-Type: application/json)"


class ValidationFailed(ApiError):
    """422 with Rails-style errors: field -> list of messages."""

    status = 422
    message = "Validation failed"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__()
        self.errors = errors

    def body(self) -> dict[str, object]:
        return {"errors": self.errors}


class StorageUnavailable(ApiError):
    status = 503
    message = "The service is temporarily unavailable, please retry"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "1"}


class IdempotencyInProgress(ApiError):
    """A request with the same Idempotency-Key is still running; retrying shortly gets its response."""

    status = 409
    message = "A request with this Idempotency-Key is still in progress"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "1"}
