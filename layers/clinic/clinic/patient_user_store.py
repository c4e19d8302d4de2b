"""Store of invitations and patient users (issue 13): their keys and the redemption transaction.

Kept beside `clinic.store` (whose helpers it uses) so the store's split into a package can take it whole.

| item                  | pk                          | sk               | notes                                          |
|-----------------------|-----------------------------|------------------|------------------------------------------------|
| invitation            | `INVITATION#<sha256 of code>` | `INVITATION`   | patient_id, clinic_id, created_by, created_at, expires_at (epoch s, also TTL) |
| patient's active user | `PATIENTUSERS#<patient id>` | `USER#<user id12>` | user_id; one per patient user not yet ended  |

A redemption is one transaction: the invitation deleted (only if it still exists and has not expired), the
patient checked active, the user, its token (both items) and the link put.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clinic import store
from clinic.settings import dynamodb

INVITATION = "INVITATION"
PATIENT_USERS = "PATIENTUSERS#"


def _invitation_key(code_hash: str) -> dict[str, Any]:
    return store._key(f"{INVITATION}#{code_hash}", INVITATION)


def _link_key(patient_id: int, user_id: int) -> dict[str, Any]:
    return store._key(f"{PATIENT_USERS}{patient_id}", f"USER#{user_id:012d}")


def put_invitation(code_hash: str, invitation: Mapping[str, Any]) -> None:
    item = store._item({**invitation, "pk": f"{INVITATION}#{code_hash}", "sk": INVITATION})
    dynamodb().put_item(TableName=store._table(), Item=item, ConditionExpression="attribute_not_exists(pk)")


def get_invitation(code_hash: str) -> dict[str, Any] | None:
    """One consistent GetItem, whatever becomes of the answer: unknown, used and expired codes cost the same."""
    resp = dynamodb().get_item(TableName=store._table(), Key=_invitation_key(code_hash), ConsistentRead=True)
    item = resp.get("Item")
    return store._plain(item) if item else None


def redeem(code_hash: str, *, now: int, user: Mapping[str, Any], token_hash: str, created_at: str) -> None:
    """Turns the invitation into the patient user and its token, all or nothing.

    Raises store.ConditionFailed when the invitation was used (by a concurrent redemption), has expired,
    or its patient is no longer active (nor in the invitation's clinic).
    """
    table = store._table()
    patient_pk, patient_sk = store.patient_key(user["patient_id"])
    writes = [
        {
            "Delete": {
                "TableName": table,
                "Key": _invitation_key(code_hash),
                "ConditionExpression": "attribute_exists(pk) AND expires_at > :now",
                "ExpressionAttributeValues": {":now": {"N": str(now)}},
            }
        },
        {
            "ConditionCheck": {
                "TableName": table,
                "Key": store._key(patient_pk, patient_sk),
                "ConditionExpression": "active = :true AND clinic_id = :clinic",
                "ExpressionAttributeValues": {":true": {"BOOL": True}, ":clinic": {"N": str(user["clinic_id"])}},
            }
        },
        store.user_put(user),
        *store.token_puts(token_hash, user["id"], created_at, None),
        {
            "Put": {
                "TableName": table,
                "Item": {
                    **_link_key(user["patient_id"], user["id"]),
                    "user_id": {"N": str(user["id"])},
                },
            }
        },
    ]
    store._transact(writes)


def active_patient_users(patient_id: int) -> list[int]:
    """The ids of the patient's users whose access has not been ended (a consistent read of one partition)."""
    entries = store._query(f"{PATIENT_USERS}{patient_id}", projection="user_id", consistent=True)
    return [int(e["user_id"]) for e in entries]


def end_patient_user(patient_id: int, user_id: int) -> None:
    """Marks the user inactive and drops them from the patient's active users, in one transaction
    (idempotent: the user's tokens are deleted by the caller, after)."""
    store._transact(
        [
            {
                "Update": {
                    "TableName": store._table(),
                    "Key": store._key(f"USER#{user_id}", "USER"),
                    "UpdateExpression": "SET active = :false",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":false": {"BOOL": False}},
                }
            },
            {"Delete": {"TableName": store._table(), "Key": _link_key(patient_id, user_id)}},
        ]
    )
