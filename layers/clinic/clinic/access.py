"""The access policy: one place decides what a caller may do to a patient, a care team or the clinic.

| role       | may read and change                                                           |
|------------|-------------------------------------------------------------------------------|
| admin      | every patient of their clinic; manages users and care teams                   |
| supervisor | patients on their own care team and on the team of any provider they supervise |
| provider   | patients on their own care team                                                |
| patient    | their own record only, and only the actions of PATIENT_ACTIONS                 |

A patient user is bound to one patient record (`Caller.patient_id`). Any other patient id is "not found"
before anything is read, so a patient token can neither reach nor probe another record; on their own
record, an action outside PATIENT_ACTIONS is refused as an action (403), never as a patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple

from clinic import ids, store
from clinic.errors import Forbidden, NotAuthorized, PatientForbidden, PatientNotFound

if TYPE_CHECKING:
    from clinic.store.items import PatientItem

STAFF_ROLES = ("admin", "supervisor", "provider")
PATIENT_ROLE = "patient"
ROLES = (*STAFF_ROLES, PATIENT_ROLE)
CARE_TEAM_ROLES = ("supervisor", "provider")


class Action(Enum):
    # On one patient (the path's): checked by patient_for.
    READ = "read"
    CHANGE = "change"
    READ_CARE_TEAM = "read_care_team"
    MANAGE_CARE_TEAM = "manage_care_team"
    INVITE = "invite"
    # Assessments (issue 14): staff roles treat them as READ and CHANGE (_STAFF_NEEDS); a patient user may do
    # all three on their own record, deleting only what they recorded (may_delete).
    READ_ASSESSMENTS = "read_assessments"
    RECORD_ASSESSMENT = "record_assessment"
    DELETE_ASSESSMENT = "delete_assessment"
    # Alerts (issue 15) are for the care team: staff need READ; never a patient user (not in PATIENT_ACTIONS).
    READ_ALERTS = "read_alerts"
    # On the clinic (routes without a path patient): checked by authorize.
    LIST_PATIENTS = "list"
    CREATE_PATIENT = "create"


# What a patient user may do to their own record; everything else is staff-only (403 action). CHANGE covers
# the contract's limits: `PUT` only some fields (patients.PATIENT_EDITABLE), deleting only what they recorded.
PATIENT_ACTIONS = frozenset(
    {Action.READ, Action.CHANGE, Action.READ_ASSESSMENTS, Action.RECORD_ASSESSMENT, Action.DELETE_ASSESSMENT}
)
# What a staff action needs of the caller's relationship to the patient (see may_access).
_STAFF_NEEDS = {
    Action.READ: Action.READ,
    Action.CHANGE: Action.CHANGE,
    Action.READ_CARE_TEAM: Action.READ,
    Action.INVITE: Action.CHANGE,
    Action.MANAGE_CARE_TEAM: Action.MANAGE_CARE_TEAM,
    Action.READ_ASSESSMENTS: Action.READ,
    Action.RECORD_ASSESSMENT: Action.CHANGE,
    Action.DELETE_ASSESSMENT: Action.CHANGE,
    Action.READ_ALERTS: Action.READ,
}


class Caller(NamedTuple):
    user_id: int
    clinic_id: int
    role: str
    patient_id: int | None = None  # the one record a patient user reaches; None for staff

    @property
    def is_patient(self) -> bool:
        return self.role == PATIENT_ROLE

    @classmethod
    def from_authorizer(cls, context: Mapping[str, Any] | None) -> Caller:
        """The identity the authorizer put into the request context (API Gateway passes strings)."""
        if not isinstance(context, Mapping):
            raise NotAuthorized
        try:
            bound = context.get("patient_id")
            caller = cls(
                int(context["user_id"]),
                int(context["clinic_id"]),
                str(context["role"]),
                int(bound) if bound not in (None, "") else None,
            )
        except (KeyError, TypeError, ValueError):
            raise NotAuthorized from None
        if caller.role not in ROLES or (caller.patient_id is not None) != caller.is_patient:
            raise NotAuthorized
        return caller


def authorize(caller: Caller, action: Action) -> None:
    """Clinic-level actions (listing and creating patients) are staff-only."""
    if caller.is_patient:
        raise Forbidden


def may_access(caller: Caller, patient: Mapping[str, Any], action: Action) -> bool:
    """Whether the caller may act on this patient of their own clinic.

    The care team is a map on the patient item (member id -> that member's supervisor or 0), so the
    decision needs no read beyond the patient itself.
    """
    if patient["clinic_id"] != caller.clinic_id:
        return False
    if caller.is_patient:
        return patient["id"] == caller.patient_id and action in PATIENT_ACTIONS
    if caller.role == "admin":
        return True
    if _STAFF_NEEDS.get(action, action) is Action.MANAGE_CARE_TEAM:
        return caller.role == "supervisor"
    team = patient.get("care_team") or {}
    if str(caller.user_id) in team:
        return True
    return caller.role == "supervisor" and caller.user_id in {int(s) for s in team.values()}


def patient_for(caller: Caller, patient_id: str | int, action: Action) -> PatientItem:
    """The patient, if the caller may act on it: 404 when missing or in another clinic, 403 otherwise.

    A patient user: any id but their own is 404 before any read; on their own record, a staff-only action
    is 403, and a record set inactive answers 401 (their access ended with it, whatever a cache still holds).
    """
    pid = patient_id if isinstance(patient_id, int) else ids.parse(patient_id)
    if pid is None or (caller.is_patient and pid != caller.patient_id):
        raise PatientNotFound
    if caller.is_patient and action not in PATIENT_ACTIONS:
        raise Forbidden
    patient = store.get_patient(pid)
    if patient is None or patient["clinic_id"] != caller.clinic_id:
        raise PatientNotFound
    if caller.is_patient and not patient["active"]:
        raise NotAuthorized
    if not may_access(caller, patient, action):
        raise Forbidden if _STAFF_NEEDS.get(action) is Action.MANAGE_CARE_TEAM else PatientForbidden
    return patient


def may_delete(caller: Caller, record: Mapping[str, Any]) -> bool:
    """Whether the caller, who may change the patient, may delete this gauge or assessment of theirs: staff
    delete any; a patient user only what they recorded themselves (API.md)."""
    return not caller.is_patient or record.get("recorded_by") == caller.user_id


def may_manage_member(caller: Caller, member: Mapping[str, Any]) -> bool:
    """Admins manage any care team; supervisors add or remove themselves and the providers they supervise."""
    if caller.role == "admin":
        return True
    if caller.role != "supervisor":
        return False
    return member["id"] == caller.user_id or (
        member["role"] == "provider" and member.get("supervisor_id") == caller.user_id
    )


def list_scopes(caller: Caller) -> list[int] | None:
    """Whose care-team lists make up the caller's patient list; None means the whole clinic."""
    if caller.role == "admin":
        return None
    if caller.role == "supervisor":
        return [caller.user_id, *store.supervised_providers(caller.user_id)]
    return [caller.user_id]
