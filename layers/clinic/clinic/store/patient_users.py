"""Invitations and patient users (issue 13): an invitation by the hash of its code (one consistent GetItem
whatever the code), and each patient's users not yet ended (one Query when the patient is deactivated).

A redemption is one transaction: the invitation deleted (only if it still exists and has not expired), the
patient checked active, the user, its token (both items) and the link put.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from clinic.store import keys, table
from clinic.store.tokens import token_puts
from clinic.store.users import user_put

if TYPE_CHECKING:
    from clinic.store.items import InvitationItem, UserItem


def invitation_key(code_hash: str) -> keys.Key:
    return keys.invitation(code_hash)


def put_invitation(code_hash: str, invitation: InvitationItem) -> None:
    table.put({**invitation, **keys.invitation(code_hash)._asdict()}, condition="attribute_not_exists(pk)")


def get_invitation(code_hash: str) -> InvitationItem | None:
    """One consistent GetItem, whatever becomes of the answer: unknown, used and expired codes cost the same."""
    return cast("InvitationItem | None", table.get(keys.invitation(code_hash), consistent=True))


def redeem(code_hash: str, *, now: int, user: UserItem, token_hash: str, created_at: str) -> None:
    """Turns the invitation into the patient user and its token, all or nothing.

    Raises ConditionFailed when the invitation was used (by a concurrent redemption), has expired, or its
    patient is no longer active (nor in the invitation's clinic).
    """
    patient_id = user["patient_id"]
    table.transact(
        [
            table.delete_action(
                keys.invitation(code_hash), condition="attribute_exists(pk) AND expires_at > :now", values={":now": now}
            ),
            table.check_action(
                keys.patient(patient_id),
                "active = :true AND clinic_id = :clinic",
                {":true": True, ":clinic": user["clinic_id"]},
            ),
            user_put(user),
            *token_puts(token_hash, user["id"], created_at, None),
            table.put_action({**keys.patient_user(patient_id, user["id"])._asdict(), "user_id": user["id"]}),
        ]
    )


def active_patient_users(patient_id: int) -> list[int]:
    """The ids of the patient's users whose access has not been ended (a consistent read of one partition)."""
    entries = table.query(keys.patient_user(patient_id).partition, projection=["user_id"], consistent=True)
    return [int(e["user_id"]) for e in entries]


def end_patient_user(patient_id: int, user_id: int) -> None:
    """Marks the user inactive and drops them from the patient's active users, in one transaction
    (idempotent: the user's tokens are deleted by the caller, after)."""
    table.transact(
        [
            table.update_action(
                keys.user(user_id),
                "SET active = :false",
                condition="attribute_exists(pk)",
                values={":false": False},
            ),
            table.delete_action(keys.patient_user(patient_id, user_id)),
        ]
    )
