"""The contract's response bodies as pydantic models, for the OpenAPI document only: routes name them
(`operation(model="Patient")`) and tools/openapi.py resolves the names while it builds the document
(`clinic.openapi.documenting`). No request imports this module: creating some forty model classes would cost
every cold start ~20 ms of CPU, and Powertools would analyse each route's models on its first request.
Handlers still build the bodies with the domain's presenters; tests/handlers/test_openapi.py holds them to these."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clinic.models.patients import Gender


def _timestamp() -> Any:
    return Field(json_schema_extra={"format": "date-time"}, examples=["2023-10-20T10:00:00.000Z"])


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


# ---- alerts ----


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
