"""Care teams: who, beyond the clinic's admins, may see and change a patient."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from clinic import ids, retries, store
from clinic.access import CARE_TEAM_ROLES, Action, Caller, may_manage_member, patient_for
from clinic.errors import Forbidden, NotFound, StorageUnavailable, ValidationFailed
from clinic.store import alerts as alert_store

if TYPE_CHECKING:
    from clinic.store.items import PatientItem, UserItem

MAX_MEMBERS = 20  # a name change rewrites every member's list entry in one transaction


def present(patient: Mapping[str, Any], users: Mapping[int, UserItem] | None = None) -> dict[str, Any]:
    """The contract's care team; members already in `users` are not read again."""
    members = [int(uid) for uid in patient.get("care_team") or {}]
    known = dict(users or {})
    known |= store.get_users([uid for uid in members if uid not in known])
    return {
        "care_team": [
            {"user_id": uid, "name": known[uid]["name"], "role": known[uid]["role"]}
            for uid in sorted(members)
            if uid in known
        ]
    }


def _member(caller: Caller, user: UserItem | None) -> UserItem:
    if user is None or user["clinic_id"] != caller.clinic_id or user["role"] not in CARE_TEAM_ROLES:
        raise ValidationFailed({"user_id": ["must be a provider or supervisor of this clinic"]})
    return user


def _change(caller: Caller, patient: PatientItem, member: Mapping[str, Any], present: bool) -> PatientItem:
    """The patient as written: the write is conditioned on the version read, so nothing is read after it."""
    for attempt in retries.attempts(8, first_wait=0.02, longest_wait=2.0):
        if attempt:  # another change to this patient landed first: read it again and reapply
            patient = patient_for(caller, patient["id"], Action.MANAGE_CARE_TEAM)
        with contextlib.suppress(store.ConditionFailed):
            # The member's inbox follows the patient's unresolved alerts (their slots: one Query).
            slots = alert_store.open_slots(patient["id"])
            inbox = alert_store.member_entry_writes(patient["id"], member["id"], slots, present)
            return store.set_care_team_member(patient, member["id"], member.get("supervisor_id"), present, inbox)
    raise StorageUnavailable


def add(caller: Caller, patient: PatientItem, user_id: int) -> dict[str, Any]:
    """Adds a provider or supervisor; returns the care team after the change, in the contract's shape."""
    team = patient.get("care_team") or {}
    # One read for the new member (is it a clinician of this clinic?) and for the names the answer shows.
    users = store.get_users([user_id, *(int(uid) for uid in team)])
    member = _member(caller, users.get(user_id))
    if not may_manage_member(caller, member):
        raise Forbidden
    if str(user_id) in team:
        return present(patient, users)
    if len(team) >= MAX_MEMBERS:
        raise ValidationFailed({"user_id": [f"cannot join a full care team (maximum is {MAX_MEMBERS} members)"]})
    return present(_change(caller, patient, member, present=True), users)


def remove(caller: Caller, patient: PatientItem, user_id: str) -> PatientItem:
    """Takes a member off the team; returns the patient as written."""
    team = patient.get("care_team") or {}
    uid = ids.parse(user_id)
    if uid is None or str(uid) not in team:
        raise NotFound("Care team member not found")
    member = store.get_user(uid) or {"id": uid, "role": "unknown"}
    if not may_manage_member(caller, member):
        raise Forbidden
    return _change(caller, patient, member, present=False)
