"""The contract's responses for the OpenAPI document: pydantic models of what handlers return, the error
bodies, the X-User-Token security scheme, and `operation(...)`, the route decorator arguments that describe
an endpoint (`@app.get(path, **operation(...))`). tools/openapi.py merges every function's schema into one
document; these models only describe responses, handlers still build them with the domain's presenters."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    source: Literal["patient", "staff"] = Field(description="Who recorded it: the patient's own app, or staff.")
    recorded_by: int = Field(ge=0, description="The id of the user who recorded it.")
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


class InstrumentItem(_Out):
    number: int = Field(ge=1, examples=[1])
    text: str = Field(examples=["Little interest or pleasure in doing things"])


class InstrumentOption(_Out):
    value: int = Field(examples=[0])
    label: str = Field(examples=["Not at all"])


class SeverityBand(_Out):
    min: int = Field(examples=[0])
    max: int = Field(examples=[4])
    label: str = Field(examples=["minimal"])


class Instrument(_Out):
    """A standardized instrument, with each item's standard wording and its scoring."""

    code: str = Field(examples=["phq9"])
    name: str = Field(examples=["PHQ-9 (Patient Health Questionnaire-9)"])
    loinc: str = Field(description="LOINC code of the panel.", examples=["44249-1"])
    total_loinc: str = Field(description="LOINC code of the total score.", examples=["44261-6"])
    instructions: str = Field(description="The question every item answers.")
    items: list[InstrumentItem]
    options: list[InstrumentOption] = Field(description="The answers each item takes.")
    total_min: int = Field(examples=[0])
    total_max: int = Field(examples=[27])
    severity: list[SeverityBand] = Field(description="Bands of the total, in order, covering total_min..total_max.")


class InstrumentList(_Out):
    instruments: list[Instrument]


class Assessment(_Out):
    """An answered instrument, scored by the server; its total is also a gauge of the instrument's code."""

    id: int = Field(ge=1, examples=[31])
    patient_id: int = Field(ge=1, examples=[1049])
    instrument: str = Field(examples=["phq9"])
    answers: list[int] = Field(examples=[[0, 1, 2, 0, 0, 1, 0, 0, 0]])
    total: int = Field(ge=0, examples=[4])
    severity: str = Field(description="The label of the band the total falls in.", examples=["minimal"])
    completed_at: str = _timestamp()
    notes: str | None
    source: Literal["staff", "patient"]
    recorded_by: int | None = Field(description="The user who recorded it.", examples=[7])
    created_at: str = _timestamp()


class CursorMeta(_Out):
    page_size: int = Field(ge=1)
    has_more: bool
    next_cursor: str | None = Field(description="Pass as `cursor` to continue after this page; opaque.")


class AssessmentList(_Out):
    assessments: list[Assessment]
    meta: CursorMeta


class LatestValue(_Out):
    gauge_type: str = Field(examples=["mood"])
    value: float = Field(examples=[7])
    scale_min: float = Field(examples=[1])
    scale_max: float = Field(examples=[10])
    recorded_at: str = _timestamp()
    previous_value: float | None = Field(description="The gauge of this type before the newest.", examples=[5])
    previous_recorded_at: str | None = Field(json_schema_extra={"format": "date-time"})
    change: float | None = Field(description="value - previous_value.", examples=[2])


class LatestValues(_Out):
    latest: list[LatestValue]


class Invitation(_Out):
    code: str = Field(min_length=32, description="Shown only in this response; redeemable once.")
    patient_id: int = Field(ge=1, examples=[1049])
    expires_at: str = _timestamp()


class InvitationCreated(_Out):
    invitation: Invitation


class PatientUser(_Out):
    id: int = Field(ge=1, examples=[88])
    role: Literal["patient"]
    patient_id: int = Field(ge=1, examples=[1049])


class Redemption(_Out):
    token: str = Field(min_length=32, description="The patient user's X-User-Token; shown only in this response.")
    user: PatientUser


class Me(_Out):
    id: int = Field(ge=1, examples=[7])
    name: str | None = Field(examples=["Dr. Ada Lee"], description="`null` for a patient user.")
    role: Literal["admin", "supervisor", "provider", "patient"]
    clinic_id: int = Field(ge=1, examples=[3])
    patient_id: int | None = Field(description="The patient record of a patient user; `null` for staff.")


class MeResponse(_Out):
    user: Me


class Error(_Out):
    errors: str


class ValidationErrors(_Out):
    """Rails style: every offending field (dots and indexes for nested ones) with all its messages."""

    errors: dict[str, list[str]] = Field(examples=[{"first_name": ["can't be blank"]}])


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


def _error(status: int, override: tuple[str, type[ApiError]] | None = None) -> dict[str, Any]:
    when, error = override or ERRORS[status]
    response: dict[str, Any] = {
        "description": when,
        "content": {_JSON: {"model": Error, "examples": {"error": {"value": error().body()}}}},
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
    rules: dict[str, list[str]] | None = None,
    public: bool = False,
    error_examples: dict[int, tuple[str, type[ApiError]]] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of a route decorator: summary, tag, the X-User-Token requirement and every response.

    `errors` lists the statuses beyond those every authenticated route can answer (401, 429, 503);
    422 uses the Rails-style body, the others `{"errors": "..."}`. `rules`: the 422 messages of the rules a
    schema cannot state (across fields, against today or stored data), with the message of each: the
    description lists them and the 422 response shows them as its example. `public`: no token needed (no
    401). `error_examples`: the route's own (when, error class) for a status, in place of the patient-route ones.
    """
    success: dict[str, Any] = {"description": summary}
    if model is not None:
        success["content"] = {_JSON: {"model": model}}
    if headers:
        success["headers"] = {name: {"description": _HEADERS[name], "schema": {"type": "string"}} for name in headers}
    responses: dict[int, Any] = {status: success}
    for code in sorted({429, 503, *errors} | (set() if public else {401})):
        if code == 422:
            responses[422] = {
                "description": "Validation failed: every offending field with all its messages.",
                "content": {_JSON: {"model": ValidationErrors}},
            }
            if rules:
                responses[422]["content"][_JSON]["examples"] = {"rules": {"value": {"errors": rules}}}
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
