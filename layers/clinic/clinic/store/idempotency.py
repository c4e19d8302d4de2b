"""Where Powertools' idempotency records (clinic.idempotency) live: each in its own partition, so a busy
clinic never makes one hot: pk `IDEMPOTENCY#<route>#<hash of user id and Idempotency-Key>`, sk
`IDEMPOTENCY`, removed by TTL through `expires_at`. Powertools makes the calls itself, with the store's
client; clinic.idempotency classifies their errors with `errors.classify`."""

from __future__ import annotations

from typing import Any

from clinic.settings import settings
from clinic.store import keys, table


def idempotency_table() -> str:
    return settings().idempotency_table_name or table.name()


def idempotency_key(record_key: str) -> dict[str, Any]:
    return table.encode_key(keys.idempotency(record_key))
