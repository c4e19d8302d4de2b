"""The contract's responses for the OpenAPI document: the error bodies, the X-User-Token security scheme, and
`operation(...)`, the route decorator arguments that describe an endpoint (`@app.get(path, **operation(...))`).
tools/openapi.py merges every function's schema into one document. Routes name their response models
(clinic.openapi_models), which only the document's build resolves (`documenting`): a request never needs them."""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from clinic.errors import (
    AlertNotFound,
    AlertResolved,
    AlertRuleNotFound,
    ApiError,
    AssessmentTotalConflict,
    BadRequest,
    NotAuthorized,
    NotFound,
    PatientForbidden,
    PatientNotFound,
    PayloadTooLarge,
    PreconditionFailed,
    StorageUnavailable,
    Throttled,
    UnsupportedMediaType,
)

SECURITY_SCHEME = "UserToken"
# A plain mapping, which Powertools validates into its APIKey model only when it builds the document:
# importing its OpenAPI models would cost every cold start ~0.1 s (see `make bench`).
SECURITY_SCHEMES: dict[str, Any] = {
    SECURITY_SCHEME: {
        "type": "apiKey",
        "name": "X-User-Token",
        "in": "header",
        "description": "The user's opaque token (at least 32 characters), issued by `patients-admin`.",
    }
}
TITLE = "Patients API"
VERSION = "1.0.0"
DESCRIPTION = """Patients, care teams, patient-reported gauges and standardized instruments (PHQ-9, GAD-7) of a
clinic.

Every route needs the `X-User-Token` header except `GET /v1/openapi.json`, `GET /v1/docs` and
`POST /v1/invitations/redeem` (the invitation code is the credential there).

Roles: `admin`, `supervisor`, `provider` (staff) and `patient`, a patient's own app, bound to one record: any
other patient id is 404, staff-only routes are 403.
Checks run in this order: authentication (401), then the patient's existence and the caller's access
(404/403), then validation (422). Times are UTC ISO 8601 with milliseconds (`2023-10-20T10:00:00.000Z`),
dates `YYYY-MM-DD`.

The path parameter `{id}` of the gauge routes is the patient id (the contract writes it `{patient_id}`; the
URL is the same): API Gateway requires sibling path parameters to share one name."""


# Status -> (when, the error whose body is the example) for the errors of API.md.
ERRORS: dict[int, tuple[str, type[ApiError]]] = {
    400: ("The body is not valid JSON.", BadRequest),
    401: ("X-User-Token missing, unknown, revoked or expired.", NotAuthorized),
    403: (
        "No relationship grants access to this patient, or the role may not perform the action.",
        PatientForbidden,
    ),
    404: ("The patient does not exist or belongs to another clinic (also a non-integer id).", PatientNotFound),
    409: ("The gauge is an assessment's total: delete the assessment instead.", AssessmentTotalConflict),
    412: ("If-Match does not match the patient's current ETag.", PreconditionFailed),
    413: ("The body is larger than 1 MB.", PayloadTooLarge),
    415: ("The body is not JSON.", UnsupportedMediaType),
    429: ("Throttled by the API.", Throttled),
    503: ("Storage unavailable or throttled; retry after `Retry-After` seconds.", StorageUnavailable),
}
# The rules a JSON Schema cannot state (across fields, against today, against stored data), in the words of the
# 422 the domain answers: operation(rules=...) lists them in the description and shows them as the 422 example.
# tests/handlers/test_openapi.py checks each message against the domain's answer.
PATIENT_RULES = {"date_of_birth": ["can't be in the future"]}
# One gauge's fields are named as they are; a batch's as `gauges[3].value`.
GAUGE_RULES = {
    "recorded_at": ["can't be in the future"],
    "scale_min": ["must be less than scale_max"],
    "scale_max": ["can't be blank"],  # a type without a default scale (API.md) must give its scale
    "value": ["must be between 1 and 10"],  # within the scale, the type's default one or the one sent
}
CURSOR_RULES = {"cursor": ["is invalid"]}  # not one this API issued for the same query
GAUGE_LIST_RULES = {"end_date": ["must be on or after start_date"], **CURSOR_RULES}
ASSESSMENT_LIST_RULES = GAUGE_LIST_RULES  # the same day range (gauges.parse_range) and cursor
SUMMARY_RULES = {"end_date": ["must be on or after start_date", "must be within 731 days of start_date"]}
CARE_TEAM_RULES = {
    "user_id": [
        "must be a provider or supervisor of this clinic",
        "cannot join a full care team (maximum is 20 members)",
    ]
}
PATH_PARAMETERS = {
    "id": "The patient's id (a positive integer; anything else is 404). The contract writes it `{patient_id}` "
    "on gauge routes: API Gateway requires sibling path parameters to share a name.",
    "user_id": "The care team member's user id.",
    "gauge_id": "The gauge's id.",
    "assessment_id": "The assessment's id.",
    "alert_id": "The alert's id (a positive integer; anything else is 404).",
    "rule_id": "The clinic rule's id (a positive integer; anything else is 404).",
    "asset": "A Swagger UI file: swagger-ui-bundle.js, swagger-ui.css or swagger-initializer.js.",
}
_JSON = "application/json"
_HEADERS = {
    "ETag": "The patient's version; send it back as `If-Match` to update only an unchanged patient.",
    "Location": "The new patient's URL (`/v1/patients/{id}`).",
}


# The module of response models while tools/openapi.py builds the document (`documenting`), else None.
_documented: ModuleType | None = None


@contextmanager
def documenting() -> Iterator[None]:
    """Routes declared inside attach their response models (clinic.openapi_models) to their responses.

    Only the OpenAPI document reads them: outside, routes leave them out, so a cold start neither creates the
    classes nor has Powertools analyse them on the first request. tools/openapi.py builds the document inside.
    """
    global _documented
    from clinic import openapi_models

    previous, _documented = _documented, openapi_models
    try:
        yield
    finally:
        _documented = previous


def _content(model: str | tuple[str, ...], **rest: Any) -> dict[str, Any]:
    """A JSON response's content: the named model (a tuple: any of these) while documenting, and `rest`."""
    if _documented is None:
        return {_JSON: rest}
    models = [getattr(_documented, name) for name in ((model,) if isinstance(model, str) else model)]
    return {_JSON: {"model": functools.reduce(operator.or_, models), **rest}}


def _error(status: int, override: tuple[str, type[ApiError]] | None = None) -> dict[str, Any]:
    when, error = override or ERRORS[status]
    response: dict[str, Any] = {
        "description": when,
        "content": _content("Error", examples={"error": {"value": error().body()}}),
    }
    if status == 503:
        response["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    return response


def operation(
    summary: str,
    *,
    tag: str,
    status: int = 200,
    model: str | tuple[str, ...] | None = None,
    headers: tuple[str, ...] = (),
    errors: tuple[int, ...] = (),
    description: str | None = None,
    rules: dict[str, list[str]] | None = None,
    public: bool = False,
    error_examples: dict[int, tuple[str, type[ApiError]]] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of a route decorator: summary, tag, the X-User-Token requirement and every response.

    `model`: the name of the success body's model in clinic.openapi_models (a tuple: the body is one of them).
    `errors` lists the statuses beyond those every authenticated route can answer (401, 429, 503);
    422 uses the Rails-style body, the others `{"errors": "..."}`. `rules`: the 422 messages of the rules a
    schema cannot state (across fields, against today or stored data), with the message of each: the
    description lists them and the 422 response shows them as its example. `public`: no token needed (no
    401). `error_examples`: the route's own (when, error class) for a status, in place of the patient-route ones.
    """
    success: dict[str, Any] = {"description": summary}
    if model is not None:
        success["content"] = _content(model)
    if headers:
        success["headers"] = {name: {"description": _HEADERS[name], "schema": {"type": "string"}} for name in headers}
    responses: dict[int, Any] = {status: success}
    for code in sorted({429, 503, *errors} | (set() if public else {401})):
        if code == 422:
            examples = {"examples": {"rules": {"value": {"errors": rules}}}} if rules else {}
            responses[422] = {
                "description": "Validation failed: every offending field with all its messages.",
                "content": _content("ValidationErrors", **examples),
            }
        else:
            responses[code] = _error(code, (error_examples or {}).get(code))
    kwargs: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": responses,
        "security": [] if public else [{SECURITY_SCHEME: []}],
    }
    if rules:
        listed = "\n".join(f"- `{field}` {message}" for field, messages in rules.items() for message in messages)
        rules_text = f"Rules beyond the schema (each a 422 with its message):\n{listed}"
        description = f"{description}\n\n{rules_text}" if description else rules_text
    if description:
        kwargs["description"] = description
    return kwargs


def docs_operation(summary: str, *content_types: str) -> dict[str, Any]:
    """Route arguments of the public documentation routes: no token, no JSON errors but 404."""
    schema = {"type": "object"} if content_types == ("application/json",) else {"type": "string"}
    responses: dict[int, Any] = {
        200: {"description": summary, "content": {ct: {"schema": schema} for ct in content_types}},
    }
    if content_types != ("application/json",) and "text/html" not in content_types:
        responses[404] = _error(404, ("No such asset.", NotFound))
    return {"summary": summary, "tags": ["documentation"], "responses": responses}


# ---- alerts ----


ALERT_NOT_FOUND = (
    "The alert does not exist, belongs to another clinic, or is about a patient out of the caller's reach.",
    AlertNotFound,
)
RULE_NOT_FOUND = ("The rule does not exist or belongs to another clinic.", AlertRuleNotFound)
ALERT_RESOLVED = ("The alert is already resolved: it cannot change.", AlertResolved)
