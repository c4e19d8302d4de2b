"""The access policy: one place decides what a caller may do to a patient, a care team or the clinic.

| role       | may read and change                                                           |
|------------|-------------------------------------------------------------------------------|
| admin      | every patient of their clinic; manages users and care teams                   |
| supervisor | patients on their own care team and on the team of any provider they supervise |
| provider   | patients on their own care team                                                |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from clinic import ids, store
from clinic.errors import Forbidden, NotAuthorized, PatientForbidden, PatientNotFound

ROLES = ("admin", "supervisor", "provider")
CARE_TEAM_ROLES = ("supervisor", "provider")


class Action(Enum):
    READ = "read"
    CHANGE = "change"
    MANAGE_CARE_TEAM = "manage_care_team"
    # Assessments (issue 14): staff roles treat them as READ and CHANGE; issue 13's patient role allows all
    # three on the patient's own record (and deleting only what the patient recorded: may_delete).
    READ_ASSESSMENTS = "read_assessments"
    RECORD_ASSESSMENT = "record_assessment"
    DELETE_ASSESSMENT = "delete_assessment"


@dataclass(frozen=True)
class Caller:
    user_id: int
    clinic_id: int
    role: str

    @classmethod
    def from_authorizer(cls, context: Mapping[str, Any] | None) -> Caller:
        """The identity the authorizer put into the request context (API Gateway passes strings)."""
        try:
            caller = cls(int(context["user_id"]), int(context["clinic_id"]), str(context["role"]))  # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            raise NotAuthorized from None
        if caller.role not in ROLES:
            raise NotAuthorized
        return caller


def may_access(caller: Caller, patient: Mapping[str, Any], action: Action) -> bool:
    """Whether the caller may act on this patient of their own clinic.

    The care team is a map on the patient item (member id -> that member's supervisor or 0), so the
    decision needs no read beyond the patient itself.
    """
    if patient["clinic_id"] != caller.clinic_id:
        return False
    if caller.role == "admin":
        return True
    if action is Action.MANAGE_CARE_TEAM:
        return caller.role == "supervisor"
    team = patient.get("care_team") or {}
    if str(caller.user_id) in team:
        return True
    return caller.role == "supervisor" and caller.user_id in {int(s) for s in team.values()}


def patient_for(caller: Caller, patient_id: str | int, action: Action) -> dict[str, Any]:
    """The patient, if the caller may act on it: 404 when missing or in another clinic, 403 otherwise."""
    pid = patient_id if isinstance(patient_id, int) else ids.parse(patient_id)
    if pid is None:
        raise PatientNotFound
    patient = store.get_patient(pid)
    if patient is None or patient["clinic_id"] != caller.clinic_id:
        raise PatientNotFound
    if not may_access(caller, patient, action):
        raise Forbidden if action is Action.MANAGE_CARE_TEAM else PatientForbidden
    return patient


def may_delete(caller: Caller, record: Mapping[str, Any]) -> bool:
    """Whether the caller, who may change the patient, may delete this gauge or assessment of theirs: staff
    delete any; a patient user only what they recorded themselves (API.md)."""
    return caller.role != "patient" or record.get("recorded_by") == caller.user_id


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
