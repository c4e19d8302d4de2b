"""The items the store returns, as mypy sees them: what the domain may read from each (its keys left out,
except where a caller needs to name the item). Attributes written as None are not stored, so optional ones
are NotRequired: read them with .get(). Numbers come back as int or float (table.decode).

Imported under `if TYPE_CHECKING:` only: they exist for mypy, and building 23 TypedDicts would cost every
cold start (tests/handlers/test_cold_start.py checks no handler loads this module).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NotRequired, TypedDict


class ClinicItem(TypedDict):
    id: int
    name: str
    created_at: str


class UserItem(TypedDict):
    id: int
    clinic_id: int
    role: str  # admin, supervisor, provider, patient
    name: str | None  # None (not stored) for a patient user: the patient record holds the name
    active: bool
    created_at: str
    supervisor_id: NotRequired[int | None]  # a provider's supervisor
    patient_id: NotRequired[int]  # a patient user's one record
    invited_by: NotRequired[int]  # who made the invitation a patient user redeemed


class TokenItem(TypedDict):
    token_hash: str  # SHA-256 hex of the token, never the token
    user_id: int
    created_at: str
    expires_at: NotRequired[int | None]  # epoch seconds


class PatientItem(TypedDict):
    id: int
    clinic_id: int
    first_name: str
    last_name: str
    date_of_birth: str
    gender: NotRequired[str | None]
    phone: NotRequired[str | None]
    email: NotRequired[str | None]
    address: NotRequired[dict[str, Any] | None]  # street, city, state, zip_code (those given)
    time_zone: NotRequired[str]  # an IANA zone; UTC when missing
    active: bool
    care_team: NotRequired[dict[str, int]]  # member's user id (text) -> the member's supervisor, or 0
    created_by: int
    created_at: str
    updated_at: str
    version: int  # the ETag; every change adds 1
    alert_epoch: NotRequired[int]  # moved by every alert write that read the care team (store.alerts)


class ListEntry(TypedDict):
    sk: str  # the NAMEKEY: list order
    patient_id: int


class GaugeItem(TypedDict):
    id: int
    patient_id: int
    gauge_type: str
    value: int | float
    scale_min: int | float
    scale_max: int | float
    recorded_at: str
    notes: NotRequired[str | None]
    created_at: str
    created_by: int
    source: NotRequired[str]  # patient or staff; gauges stored before issue 13 have neither it nor recorded_by
    recorded_by: NotRequired[int]
    assessment_id: NotRequired[int]  # an assessment's total


class AssessmentItem(TypedDict):
    id: int
    patient_id: int
    instrument: str  # its code
    answers: list[int]
    total: int
    severity: str
    completed_at: str
    notes: NotRequired[str | None]
    source: str
    recorded_by: int
    created_at: str
    gauge_id: int  # its total, a gauge of type `instrument`


class DeletedAssessmentItem(TypedDict):
    """What a deleted assessment leaves for 90 days: enough for a list cursor anchored on it."""

    patient_id: int
    completed_at: str


class GaugeRef(TypedDict):
    """A gauge as a latest entry keeps it (the fields of store.latest.REF_FIELDS). Inside an entry (a map) its
    numbers come back as Decimal; read straight from a gauge, as int or float."""

    id: int | Decimal
    value: int | float | Decimal
    scale_min: int | float | Decimal
    scale_max: int | float | Decimal
    recorded_at: str


class LatestEntry(TypedDict):
    """One gauge type's latest values: its newest gauge and the one before it (None when it has none)."""

    gauge_type: str
    newest: GaugeRef | None
    previous: GaugeRef | None
    version: int  # 0: no entry stored yet


class InvitationItem(TypedDict):
    patient_id: int
    clinic_id: int
    created_by: int
    created_at: str
    expires_at: int  # epoch seconds; also the TTL, which deletes late, so always compared
    pk: NotRequired[str]  # as read: the redemption compares it with the code's hash


class ChangeItem(TypedDict):
    """A gauge written or deleted, or a patient's time zone changed (gauge_type REZONED), from `Changes`."""

    pk: str  # the changed item's key, named when the summary job sets it aside
    sk: str
    patient_id: int
    gauge_type: str
    recorded_at: str


class DaySummaryItem(TypedDict):
    pk: str  # its key, named when the summary job sets it aside
    sk: str
    day: str  # the patient's local day, YYYY-MM-DD
    gauge_type: str
    count: int
    min: int | float
    max: int | float
    sum: int | float
    normalized_sum: int | float
    last_value: int | float
    last_recorded_at: str


class CheckpointItem(TypedDict):
    through: str  # every change up to this time is summarized


class SetAsideItem(TypedDict):
    source_pk: str
    source_sk: str
    patient_id: int | str
    error_type: str
    first_seen: str
    last_seen: str
    times_seen: int


class AuditEvent(TypedDict):
    patient_id: int
    at: str
    request_id: str
    user_id: int
    role: str
    clinic_id: int
    action: str
    method: str
    route: str
    status: int


class AlertTrigger(TypedDict):
    type: str  # gauge or assessment
    id: int


class AlertItem(TypedDict):
    id: int
    clinic_id: int
    patient_id: int
    rule: str  # a built-in rule's name, or `alert_rule:<id>`
    priority: str  # urgent, high, normal
    status: str  # open, acknowledged, resolved
    trigger: AlertTrigger  # the newest trigger
    occurrences: int
    opened_at: str
    last_triggered_at: str
    version: int
    acknowledged_at: NotRequired[str]
    acknowledged_by: NotRequired[int]
    resolved_at: NotRequired[str]
    resolved_by: NotRequired[int]
    resolution_note: NotRequired[str]


class OpenSlot(TypedDict):
    """A patient's unresolved alert of one rule: what a care-team member's inbox entry needs of it."""

    alert_id: int
    priority: str
    opened_at: str


class InboxEntry(TypedDict):
    sk: str  # the inbox's order: priority rank, opened_at, id
    alert_id: int
    patient_id: int


class AlertRuleItem(TypedDict):
    id: int
    clinic_id: int
    gauge_type: str
    operator: str  # >= or <=
    threshold: int | float
    consecutive_days: int
    priority: str
    created_by: int
    created_at: str


class OutboxEvent(TypedDict):
    """An alert event not yet published: ids and priority, never PHI."""

    pk: str  # its key: removed once published
    sk: str
    event: str  # alert.opened, alert.resolved
    alert_id: int
    patient_id: int
    clinic_id: int
    priority: str
    at: str
