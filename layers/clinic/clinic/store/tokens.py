"""API tokens, by their SHA-256 hash (the authorizer's one GetItem), with an entry under their user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from clinic.store import keys, table

if TYPE_CHECKING:
    from clinic.store.items import TokenItem


def put_token(token_hash: str, user_id: int, created_at: str, expires_at: int | None) -> None:
    """The token item (looked up by the authorizer) and its entry under the user, in one transaction."""
    table.transact(token_puts(token_hash, user_id, created_at, expires_at))


def token_puts(token_hash: str, user_id: int, created_at: str, expires_at: int | None) -> list[dict[str, Any]]:
    """The transaction writes of a new token: the item the authorizer reads, and its entry under the user."""
    token: TokenItem = {
        "token_hash": token_hash,
        "user_id": user_id,
        "created_at": created_at,
        "expires_at": expires_at,
    }
    return [
        table.put_action({**token, **keys.token(token_hash)._asdict()}, condition="attribute_not_exists(pk)"),
        table.put_action({**token, **keys.user_token(user_id, token_hash)._asdict()}),
    ]


def get_token(token_hash: str) -> TokenItem | None:
    return cast("TokenItem | None", table.get(keys.token(token_hash), consistent=True))


def delete_tokens(user_id: int) -> int:
    """Deletes every token of a user (both items of each); returns how many there were."""
    prefix = keys.user_token(user_id)
    entries = table.query(prefix.partition, begins_with=prefix.sk, projection=["sk"], consistent=True)
    hashes = [keys.token_hash_of(entry["sk"]) for entry in entries]
    for token_hash in hashes:
        table.transact(
            [
                table.delete_action(keys.token(token_hash)),
                table.delete_action(keys.user_token(user_id, token_hash)),
            ]
        )
    return len(hashes)
