"""Clinics, users and their API tokens: tokens are random, shown once and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from clinic import clock, ids, store
from clinic.access import STAFF_ROLES, Caller

if TYPE_CHECKING:
    from clinic.store.items import ClinicItem, UserItem

TOKEN_BYTES = 32  # 43 URL-safe characters
MAX_TOKEN_DAYS = 3650  # a token may live ten years at most (and the expiry stays a representable date)


class AccountError(ValueError):
    """A request of the admin CLI that cannot be carried out (unknown clinic, wrong role...)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_clinic(name: str) -> ClinicItem:
    clinic: ClinicItem = {"id": ids.next_id("clinic"), "name": name, "created_at": clock.iso(clock.now())}
    store.put_clinic(clinic)
    return clinic


def create_user(clinic_id: int, role: str, name: str, supervisor_id: int | None = None) -> UserItem:
    # Patient users are made only by redeeming an invitation (clinic.patient_users), bound to their record.
    if role not in STAFF_ROLES:
        raise AccountError(f"role must be one of {', '.join(STAFF_ROLES)}")
    if store.get_clinic(clinic_id) is None:
        raise AccountError(f"clinic {clinic_id} does not exist")
    if supervisor_id is not None:
        supervisor = store.get_user(supervisor_id)
        if role != "provider":
            raise AccountError("only a provider has a supervisor")
        if not supervisor or supervisor["clinic_id"] != clinic_id or supervisor["role"] != "supervisor":
            raise AccountError(f"user {supervisor_id} is not a supervisor of clinic {clinic_id}")
    user: UserItem = {
        "id": ids.next_id("user"),
        "clinic_id": clinic_id,
        "role": role,
        "name": name,
        "supervisor_id": supervisor_id,
        "active": True,
        "created_at": clock.iso(clock.now()),
    }
    store.put_user(user)
    return user


def issue_token(user_id: int, expires_in_days: int | None = None) -> dict[str, Any]:
    """A new token for the user (users may hold several); the only time the token itself is seen."""
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise AccountError(f"expires-in-days must be between 1 and {MAX_TOKEN_DAYS}")
    if store.get_user(user_id) is None:
        raise AccountError(f"user {user_id} does not exist")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    expires = now + timedelta(days=expires_in_days) if expires_in_days is not None else None
    store.put_token(hash_token(token), user_id, clock.iso(now), int(expires.timestamp()) if expires else None)
    return {"user_id": user_id, "token": token, "expires_at": clock.iso(expires) if expires else None}


def revoke_tokens(user_id: int) -> dict[str, Any]:
    return {"user_id": user_id, "revoked": store.delete_tokens(user_id)}


def set_active(user_id: int, active: bool) -> dict[str, Any]:
    """Deactivation also revokes every token of the user, so reactivating them brings none back: a token
    handed over before the deactivation (a lost phone, a colleague who left) must not come back to life.
    The user is marked inactive first, so their tokens stop working even before they are deleted."""
    try:
        store.set_user_active(user_id, active)
    except store.ConditionFailed:
        raise AccountError(f"user {user_id} does not exist") from None
    if active:
        return {"user_id": user_id, "active": True}
    return {"user_id": user_id, "active": False, "revoked": store.delete_tokens(user_id)}


def change_care_team(patient_id: int, user_id: int, add: bool) -> dict[str, Any]:
    """The operator's way to manage a care team: acts as an admin of the patient's clinic."""
    from clinic import care_teams

    patient = store.get_patient(patient_id)
    if patient is None:
        raise AccountError(f"patient {patient_id} does not exist")
    operator = Caller(user_id=0, clinic_id=patient["clinic_id"], role="admin")
    if add:
        team = care_teams.add(operator, patient, user_id)
    else:
        team = care_teams.present(care_teams.remove(operator, patient, str(user_id)))
    return {"patient_id": patient_id, **team}


def authenticate(token: str | None) -> Caller | None:
    """The caller behind a token, or None when it is missing, unknown, expired or its user inactive."""
    if not token or len(token) < 32 or len(token) > 512:
        return None
    token_hash = hash_token(token)
    record = store.get_token(token_hash)  # by its key, the hash: no other token's record can come back
    if record is None:
        return None
    expires_at = record.get("expires_at")
    if expires_at is not None and expires_at <= clock.now().timestamp():
        return None
    user = store.get_user(record["user_id"])
    if user is None or not user["active"]:  # every user is written with it (UserItem)
        return None
    return Caller(user_id=user["id"], clinic_id=user["clinic_id"], role=user["role"], patient_id=user.get("patient_id"))
