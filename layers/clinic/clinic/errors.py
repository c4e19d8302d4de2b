"""Errors that map to the contract's error bodies; anything else is a bug and becomes a bare 500.

Each body is written here once: the OpenAPI document's examples come from these classes (clinic.openapi), and
a test checks every gateway response of template.yaml against them (the gateway answers some statuses, 401,
429 and others, before any function runs).
"""

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


class InternalError(ApiError):
    """A bug: a bare 500 that says nothing about it."""


class RequestRejected(ApiError):
    """Any other request API Gateway refuses before a function runs (its DEFAULT_4XX response)."""

    status = 400
    message = "The request could not be processed"


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


class AssessmentTotalConflict(Conflict):
    """A gauge that is an assessment's total goes only with its assessment."""

    message = "This gauge is an assessment's total; delete the assessment"


class AlertNotFound(NotFound):
    message = "Alert not found"


class AlertRuleNotFound(NotFound):
    message = "Alert rule not found"


class AlertResolved(Conflict):
    """A resolved alert is closed: it cannot be acknowledged or resolved again."""

    message = "Alert is already resolved"


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


class Throttled(ApiError):
    """The stage's throttling limits (template parameters), answered by API Gateway."""

    status = 429
    message = "Too many requests"


class StorageUnavailable(ApiError):
    status = 503
    message = "The service is temporarily unavailable, please retry"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "1"}


class IdempotencyInProgress(ApiError):
    """A request with the same Idempotency-Key is still running; retrying shortly gets its response."""

    status = 409
    message = "A request with this Idempotency-Key is still in progress"
    headers: ClassVar[dict[str, str]] = {"Retry-After": "1"}
