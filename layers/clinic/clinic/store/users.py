"""Users, and the providers a supervisor supervises (entries in the supervisor's partition)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from clinic.store import keys, table

if TYPE_CHECKING:
    from clinic.store.items import UserItem


def put_user(user: UserItem) -> None:
    """The user, and for a supervised provider an entry under the supervisor, in one transaction."""
    writes = [user_put(user)]
    supervisor_id = user.get("supervisor_id")
    if supervisor_id:
        entry = {**keys.supervision(supervisor_id, user["id"])._asdict(), "user_id": user["id"]}
        writes.append(table.put_action(entry))
    table.transact(writes)


def user_put(user: UserItem) -> dict[str, Any]:
    """The transaction write that creates a user item (a new id: it must not exist)."""
    return table.put_action({**user, **keys.user(user["id"])._asdict()}, condition="attribute_not_exists(pk)")


def supervised_providers(supervisor_id: int) -> list[int]:
    prefix = keys.supervision(supervisor_id)
    entries = table.query(prefix.partition, begins_with=prefix.sk, projection=["user_id"])
    return [e["user_id"] for e in entries]


def set_user_active(user_id: int, active: bool) -> None:
    """ConditionFailed when there is no such user."""
    table.update(
        keys.user(user_id), "SET active = :active", condition="attribute_exists(pk)", values={":active": active}
    )


def get_users(user_ids: Sequence[int]) -> dict[int, UserItem]:
    users = table.batch_get([keys.user(uid) for uid in dict.fromkeys(user_ids)])
    return {u["id"]: cast("UserItem", u) for u in users}


def get_user(user_id: int) -> UserItem | None:
    return cast("UserItem | None", table.get(keys.user(user_id)))
