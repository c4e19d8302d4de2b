"""Patients reporting for themselves: invitations, their redemption into a patient user, and the end of
that user's access when the patient is deactivated.

An invitation code is 256 random bits (`secrets.token_urlsafe(32)`, 43 characters), shown once and stored
only as its SHA-256 hash, so the table never holds a usable code. A patient user is made only here, bound
to one patient record (`patient_id`); the access policy (clinic.access) keeps it there.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from clinic import audit, clock, ids, store
from clinic.access import PATIENT_ROLE, Caller
from clinic.accounts import TOKEN_BYTES, AccountError, hash_token
from clinic.errors import NotFound, ValidationFailed
from clinic.store import patient_users as patient_user_store

if TYPE_CHECKING:
    from clinic.store.items import UserItem

CODE_BYTES = 32  # 256 bits, 43 URL-safe characters
DEFAULT_EXPIRY_HOURS = 72
MAX_EXPIRY_HOURS = 168
MAX_CODE_LENGTH = 512  # longer is no code of ours: refused before it is hashed


class InvitationNotFound(NotFound):
    message = "Invitation not found"


def invite(caller: Caller, patient: Mapping[str, Any], expires_in_hours: int = DEFAULT_EXPIRY_HOURS) -> dict[str, Any]:
    """A new single-use code for the patient's app; the response is the only place the code appears."""
    if not patient["active"]:
        raise ValidationFailed({"patient": ["is inactive"]})
    code = secrets.token_urlsafe(CODE_BYTES)
    now = clock.now()
    expires = now + timedelta(hours=expires_in_hours)
    patient_user_store.put_invitation(
        hash_token(code),
        {
            "patient_id": patient["id"],
            "clinic_id": patient["clinic_id"],
            "created_by": caller.user_id,
            "created_at": clock.iso(now),
            "expires_at": int(expires.timestamp()),
        },
    )
    return {"code": code, "patient_id": patient["id"], "expires_at": clock.iso(expires)}


def invite_as_operator(patient_id: int, expires_in_hours: int = DEFAULT_EXPIRY_HOURS) -> dict[str, Any]:
    """`patients-admin invitations create`: for clinics without an app flow; acts as an admin of the clinic."""
    if not 1 <= expires_in_hours <= MAX_EXPIRY_HOURS:
        raise AccountError(f"expires-in-hours must be between 1 and {MAX_EXPIRY_HOURS}")
    patient = store.get_patient(patient_id)
    if patient is None:
        raise AccountError(f"patient {patient_id} does not exist")
    operator = Caller(user_id=0, clinic_id=patient["clinic_id"], role="admin")
    return {"invitation": invite(operator, patient, expires_in_hours)}


def redeem(code: Any, *, request_id: str = "") -> dict[str, Any]:
    """The patient user and its first token, for a code that exists, is unused and has not expired.

    Unknown, used and expired codes all cost one read and answer the same 404. Of two redemptions of one
    code at the same moment, the transaction lets one through; the other finds the invitation gone.
    """
    if not isinstance(code, str) or not code or len(code) > MAX_CODE_LENGTH:
        raise InvitationNotFound
    code_hash = hash_token(code)
    invitation = patient_user_store.get_invitation(code_hash)
    now = clock.now()
    if (
        invitation is None
        or not hmac.compare_digest(invitation.get("pk", ""), patient_user_store.invitation_key(code_hash).pk)
        or invitation["expires_at"] <= int(now.timestamp())
    ):
        raise InvitationNotFound
    user: UserItem = {
        "id": ids.next_id("user"),
        "clinic_id": invitation["clinic_id"],
        "role": PATIENT_ROLE,
        "name": None,
        "patient_id": invitation["patient_id"],
        "invited_by": invitation["created_by"],
        "active": True,
        "created_at": clock.iso(now),
    }
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        patient_user_store.redeem(
            code_hash, now=int(now.timestamp()), user=user, token_hash=hash_token(token), created_at=user["created_at"]
        )
    except store.ConditionFailed:
        raise InvitationNotFound from None
    caller = Caller(user["id"], user["clinic_id"], PATIENT_ROLE, user["patient_id"])
    try:
        audit.record(
            caller,
            action="redeem_invitation",
            method="POST",
            route="/v1/invitations/redeem",
            status=201,
            request_id=request_id,
            patient_ids=[user["patient_id"]],
        )
    except Exception as error:
        # The code is spent: failing now would lose the only copy of the token (as for a change already made).
        audit.log_failed_write(
            error,
            caller,
            action="redeem_invitation",
            route="POST /v1/invitations/redeem",
            patient_ids=[user["patient_id"]],
        )
    return {"token": token, "user": {"id": user["id"], "role": PATIENT_ROLE, "patient_id": user["patient_id"]}}


def end_access(patient_id: int) -> list[int]:
    """Ends every patient user of the patient: inactive (the authorizer refuses them at its next call) and
    their tokens deleted, so reactivating the patient revives none (a new invitation makes a new user).
    Returns their ids (for whoever must also forget cached authorizations)."""
    ended = patient_user_store.active_patient_users(patient_id)
    for user_id in ended:
        patient_user_store.end_patient_user(patient_id, user_id)
        store.delete_tokens(user_id)
    return ended


def me(caller: Caller) -> dict[str, Any]:
    """The caller as the API knows them: one read of the user."""
    user = store.get_user(caller.user_id)
    return {
        "user": {
            "id": caller.user_id,
            "name": user.get("name") if user else None,
            "role": caller.role,
            "clinic_id": caller.clinic_id,
            "patient_id": caller.patient_id,
        }
    }
