"""Id counters: a block of ids is reserved with one atomic ADD (hi/lo, clinic.ids hands them out)."""

from __future__ import annotations

from clinic.store import keys, table


def reserve_ids(kind: str, size: int) -> int:
    """Reserves `size` ids for `kind` with one atomic ADD; returns the last id of the block."""
    updated = table.update(
        keys.counter(kind), "ADD #next :size", names={"#next": "next"}, values={":size": size}, returning="UPDATED_NEW"
    )
    return int(updated["next"])


def last_id(kind: str) -> int:
    """The last id reserved so far for `kind` (0 before the first)."""
    counter = table.get(keys.counter(kind), consistent=True)
    return int(counter["next"]) if counter else 0
