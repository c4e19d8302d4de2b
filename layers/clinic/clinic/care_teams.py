"""Care teams: who, beyond the clinic's admins, may see and change a patient."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any

from clinic import alert_store, ids, store
from clinic.access import CARE_TEAM_ROLES, Action, Caller, may_manage_member, patient_for
from clinic.errors import Forbidden, NotFound, StorageUnavailable, ValidationFailed

MAX_MEMBERS = 20  # a name change rewrites every member's list entry in one transaction


def present(patient: Mapping[str, Any]) -> dict[str, Any]:
    members = [int(uid) for uid in patient.get("care_team") or {}]
    users = store.get_users(members)
    return {
        "care_team": [
            {"user_id": uid, "name": users[uid]["name"], "role": users[uid]["role"]}
            for uid in sorted(members)
            if uid in users
        ]
    }


def _member(caller: Caller, user_id: int) -> dict[str, Any]:
    user = store.get_user(user_id)
    if user is None or user["clinic_id"] != caller.clinic_id or user["role"] not in CARE_TEAM_ROLES:
        raise ValidationFailed({"user_id": ["must be a provider or supervisor of this clinic"]})
    return user


def _change(caller: Caller, patient: dict[str, Any], member: Mapping[str, Any], present: bool) -> dict[str, Any]:
    for attempt in range(8):
        try:
            # The member's inbox follows the patient's unresolved alerts (their slots: one Query).
            slots = alert_store.open_slots(patient["id"])
            inbox = alert_store.member_entry_writes(patient["id"], member["id"], slots, present, patient["clinic_id"])
            store.set_care_team_member(patient, member["id"], member.get("supervisor_id"), present, inbox)
            return store.get_patient(patient["id"]) or patient
        except store.ConditionFailed:
            # Another change to this patient landed first: read it again and reapply.
            time.sleep(random.uniform(0, 0.02 * 2**attempt))
            patient = patient_for(caller, patient["id"], Action.MANAGE_CARE_TEAM)
    raise StorageUnavailable


def add(caller: Caller, patient: dict[str, Any], user_id: int) -> dict[str, Any]:
    member = _member(caller, user_id)
    if not may_manage_member(caller, member):
        raise Forbidden
    team = patient.get("care_team") or {}
    if str(user_id) in team:
        return patient
    if len(team) >= MAX_MEMBERS:
        raise ValidationFailed({"user_id": [f"cannot join a full care team (maximum is {MAX_MEMBERS} members)"]})
    return _change(caller, patient, member, present=True)


def remove(caller: Caller, patient: dict[str, Any], user_id: str) -> dict[str, Any]:
    team = patient.get("care_team") or {}
    uid = ids.parse(user_id)
    if uid is None or str(uid) not in team:
        raise NotFound("Care team member not found")
    member = store.get_user(uid) or {"id": uid, "role": "unknown"}
    if not may_manage_member(caller, member):
        raise Forbidden
    return _change(caller, patient, member, present=False)
