"""The contract's responses for the OpenAPI document: pydantic models of what handlers return, the error
bodies, the X-User-Token security scheme, and `operation(...)`, the route decorator arguments that describe
an endpoint (`@app.get(path, **operation(...))`). tools/openapi.py merges every function's schema into one
document; these models only describe responses, handlers still build them with the domain's presenters."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clinic.models import Gender

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
DESCRIPTION = """Patients, care teams and patient-reported gauges of a clinic.

Every route needs the `X-User-Token` header except `GET /v1/openapi.json` and `GET /v1/docs`.
Checks run in this order: authentication (401), then the patient's existence and the caller's access
(404/403), then validation (422). Times are UTC ISO 8601 with milliseconds (`2023-10-20T10:00:00.000Z`),
dates `YYYY-MM-DD`.

The path parameter `{id}` of the gauge routes is the patient id (the contract writes it `{patient_id}`; the
URL is the same): API Gateway requires sibling path parameters to share one name."""


def _timestamp() -> Any:
    return Field(json_schema_extra={"format": "date-time"}, examples=["2023-10-20T10:00:00.000Z"])


class _Out(BaseModel):
    # Only the OpenAPI document needs their schemas: build them then, not in every cold start.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class AddressOut(_Out):
    street: str | None
    city: str | None
    state: str | None
    zip_code: str | None


class Patient(_Out):
    """The patient object; `age` is computed from `date_of_birth` when the response is made."""

    id: int = Field(ge=1, examples=[1049])
    first_name: str = Field(examples=["John"])
    last_name: str = Field(examples=["Doe"])
    date_of_birth: str = Field(json_schema_extra={"format": "date"}, examples=["2010-05-15"])
    age: int = Field(ge=0, examples=[13])
    gender: Gender | None
    phone: str | None = Field(examples=["+1-555-123-4567"])
    email: str | None = Field(examples=["john@example.com"])
    address: AddressOut | None
    time_zone: str = Field(examples=["America/Los_Angeles"])
    active: bool
    created_at: str = _timestamp()
    updated_at: str = _timestamp()


class PageMeta(_Out):
    page: int = Field(ge=1)
    page_size: int = Field(ge=1)
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` to continue after this page; opaque.")


class PatientList(_Out):
    patients: list[Patient]
    meta: PageMeta


class Gauge(_Out):
    id: int = Field(ge=1, examples=[456])
    patient_id: int = Field(ge=1, examples=[1049])
    gauge_type: str = Field(examples=["mood"])
    value: float = Field(examples=[7])
    scale_min: float = Field(examples=[1])
    scale_max: float = Field(examples=[10])
    recorded_at: str = _timestamp()
    notes: str | None = Field(examples=["Feeling better today"])
    created_at: str = _timestamp()


class GaugeBatch(_Out):
    gauges: list[Gauge]


class GaugeList(_Out):
    gauges: list[Gauge]
    meta: PageMeta


class CareTeamMember(_Out):
    user_id: int = Field(ge=1, examples=[7])
    name: str = Field(examples=["Dr. Ada Lee"])
    role: Literal["provider", "supervisor", "admin"]


class CareTeam(_Out):
    care_team: list[CareTeamMember]


class GaugeSummary(_Out):
    gauge_type: str = Field(examples=["mood"])
    period: Literal["day", "week"]
    period_start: str = Field(json_schema_extra={"format": "date"}, examples=["2023-10-27"])
    count: int = Field(ge=1)
    min: float
    max: float
    mean: float
    normalized_mean: float = Field(description="Mean of (value - scale_min) / (scale_max - scale_min).")
    last_value: float
    last_recorded_at: str = _timestamp()


class SummaryMeta(_Out):
    complete_through: str | None = Field(
        json_schema_extra={"format": "date-time"},
        description="Every gauge created before this instant is counted (null before the first job run).",
    )


class GaugeSummaries(_Out):
    summaries: list[GaugeSummary]
    meta: SummaryMeta


class Error(_Out):
    errors: str


class ValidationErrors(_Out):
    """Rails style: every offending field (dots and indexes for nested ones) with all its messages."""

    errors: dict[str, list[str]] = Field(examples=[{"first_name": ["can't be blank"]}])


# Status -> (when, example body) for the errors of API.md.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("The body is not valid JSON.", "Request body is not valid JSON"),
    401: (
        "X-User-Token missing, unknown, revoked or expired.",
        "You are not authorized to perform this action.",
    ),
    403: (
        "No relationship grants access to this patient, or the role may not perform the action.",
        "You are not authorized to access this patient",
    ),
    404: ("The patient does not exist or belongs to another clinic (also a non-integer id).", "Patient not found"),
    409: ("The alert is already resolved: it cannot change.", "Alert is already resolved"),
    412: ("If-Match does not match the patient's current ETag.", "Patient has been modified since it was read"),
    413: ("The body is larger than 1 MB.", "Request body is larger than 1 MB"),
    415: ("The body is not JSON.", "Request body must be JSON (Content-Type: application/json)"),
    429: ("Throttled by the API.", "Too many requests"),
    503: (
        "Storage unavailable or throttled; retry after `Retry-After` seconds.",
        "The service is temporarily unavailable, please retry",
    ),
}
PATH_PARAMETERS = {
    "id": "The patient's id (a positive integer; anything else is 404). The contract writes it `{patient_id}` "
    "on gauge routes: API Gateway requires sibling path parameters to share a name.",
    "user_id": "The care team member's user id.",
    "gauge_id": "The gauge's id.",
    "alert_id": "The alert's id (a positive integer; anything else is 404).",
    "rule_id": "The clinic rule's id (a positive integer; anything else is 404).",
    "asset": "A Swagger UI file: swagger-ui-bundle.js, swagger-ui.css or swagger-initializer.js.",
}
_JSON = "application/json"
_HEADERS = {
    "ETag": "The patient's version; send it back as `If-Match` to update only an unchanged patient.",
    "Location": "The new patient's URL (`/v1/patients/{id}`).",
}


def _error(status: int, override: tuple[str, str] | None = None) -> dict[str, Any]:
    when, example = override or ERRORS[status]
    response: dict[str, Any] = {
        "description": when,
        "content": {_JSON: {"model": Error, "examples": {"error": {"value": {"errors": example}}}}},
    }
    if status == 503:
        response["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    return response


def operation(
    summary: str,
    *,
    tag: str,
    status: int = 200,
    model: type[BaseModel] | None = None,
    headers: tuple[str, ...] = (),
    errors: tuple[int, ...] = (),
    description: str | None = None,
    not_found: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of a route decorator: summary, tag, the X-User-Token requirement and every response.

    `errors` lists the statuses beyond those every authenticated route can answer (401, 429, 503);
    422 uses the Rails-style body, the others `{"errors": "..."}`. `not_found`: (when, message) of a route's
    404 that is not about a patient (an alert, a rule).
    """
    success: dict[str, Any] = {"description": summary}
    if model is not None:
        success["content"] = {_JSON: {"model": model}}
    if headers:
        success["headers"] = {name: {"description": _HEADERS[name], "schema": {"type": "string"}} for name in headers}
    responses: dict[int, Any] = {status: success}
    for code in sorted({401, 429, 503, *errors}):
        if code == 422:
            responses[422] = {
                "description": "Validation failed: every offending field with all its messages.",
                "content": {_JSON: {"model": ValidationErrors}},
            }
        else:
            responses[code] = _error(code, not_found if code == 404 else None)
    kwargs: dict[str, Any] = {
        "summary": summary,
        "tags": [tag],
        "responses": responses,
        "security": [{SECURITY_SCHEME: []}],
    }
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
        responses[404] = _error(404) | {"description": "No such asset."}
        responses[404]["content"][_JSON]["examples"] = {"error": {"value": {"errors": "Not found"}}}
    return {"summary": summary, "tags": ["documentation"], "responses": responses}


# ---- alerts ----


ALERT_NOT_FOUND = (
    "The alert does not exist, belongs to another clinic, or is about a patient out of the caller's reach.",
    "Alert not found",
)
RULE_NOT_FOUND = ("The rule does not exist or belongs to another clinic.", "Alert rule not found")


class AlertTrigger(_Out):
    type: Literal["assessment", "gauge"]
    id: int = Field(ge=1)


class Alert(_Out):
    """An alert for the care team; `rule` is a built-in rule's name or `alert_rule:<id>`."""

    id: int = Field(ge=1, examples=[31])
    patient_id: int = Field(ge=1, examples=[1049])
    rule: str = Field(examples=["self_harm_risk", "alert_rule:12"])
    priority: Literal["urgent", "high", "normal"]
    status: Literal["open", "acknowledged", "resolved"]
    trigger: AlertTrigger
    occurrences: int = Field(ge=1, description="How many triggers this alert has had while unresolved.")
    opened_at: str = _timestamp()
    last_triggered_at: str = _timestamp()
    acknowledged_at: str | None = _timestamp()
    acknowledged_by: int | None
    resolved_at: str | None = _timestamp()
    resolved_by: int | None
    resolution_note: str | None


class AlertPageMeta(_Out):
    page_size: int = Field(ge=1)
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` to continue after this page; opaque.")


class AlertList(_Out):
    alerts: list[Alert]
    meta: AlertPageMeta


class AlertRule(_Out):
    id: int = Field(ge=1, examples=[12])
    gauge_type: str = Field(examples=["anxiety"])
    operator: Literal[">=", "<="]
    threshold: float = Field(examples=[8])
    consecutive_days: int = Field(ge=1, le=14, examples=[3])
    priority: Literal["urgent", "high", "normal"]
    created_at: str = _timestamp()


class AlertRuleOut(_Out):
    alert_rule: AlertRule


class AlertRuleList(_Out):
    alert_rules: list[AlertRule]
