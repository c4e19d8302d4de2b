"""Each patient's latest values: the newest gauge of every type and the one before it, kept up to date by every
gauge write and deletion (single gauges, batches, assessment totals), so `GET .../gauges/latest` is one read.

The rules are pure functions of the entry read and the gauges written or deleted (`after_write`,
`after_delete`, `top_two`); `record` and `delete` put them in the same transaction as the gauges, conditional
on the entry's version, and retry on a conflict. Gauges are ordered by (recorded_at, id), as their sort key.
`record` is also the one retry loop of a gauge's or an assessment's write: the alerts it triggers (`Joined`,
clinic.alerts) are planned afresh on every attempt from what that attempt read, in the same transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from clinic import retries, store
from clinic.errors import StorageUnavailable
from clinic.store import latest as store_latest

# A transaction holds at most 100 items: a batch whose gauges and entries do not fit writes its gauges first,
# then refreshes its types' entries from the gauges themselves (idempotent; the summary job repeats it).
TRANSACTION_LIMIT = 100
# Conflicts come from concurrent writes of one patient's same type, or triggers of one alert rule: each retry
# reads afresh and at least one of the racing writes lands per round, so 20 at once all land well within this.
MAX_ATTEMPTS = 30

Ref = Mapping[str, Any]
Entry = Mapping[str, Any]
# Writes the gauges with `also` (the entries' writes, then the joined items) in one transaction. Raises
# store.ConditionFailed only when one of `also` failed (a conflict: read again and retry).
Write = Callable[[list[dict[str, Any]]], None]


class Joined(Protocol):
    """Items written in the same transaction as the gauges and their entries (clinic.alerts.AlertWrite),
    planned on every attempt from the entries and the items of `keys()` read with them (one BatchGetItem)."""

    def keys(self) -> list[tuple[str, str]]: ...

    def items(self, entries: Mapping[str, Entry], read: Mapping[tuple[str, str], dict[str, Any]]) -> list[dict]: ...


def _order(ref: Ref) -> tuple[str, int]:
    return ref["recorded_at"], int(ref["id"])


def ref(gauge: Mapping[str, Any]) -> dict[str, Any]:
    return {field: gauge[field] for field in store_latest.REF_FIELDS}


def top_two(refs: Iterable[Ref | None]) -> dict[str, Any] | None:
    """The entry of a type whose gauges include `refs`: the newest and the one before it (None if no gauge)."""
    unique = {int(r["id"]): r for r in refs if r}
    ordered = sorted(unique.values(), key=_order, reverse=True)
    if not ordered:
        return None
    return {"newest": ordered[0], "previous": ordered[1] if len(ordered) > 1 else None}


def _refs(entry: Entry | None) -> list[Ref]:
    return [r for r in (entry.get("newest"), entry.get("previous")) if r] if entry else []


def after_write(entry: Entry | None, gauges: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The entry once `gauges` (all of its type) are stored."""
    return top_two([*_refs(entry), *(ref(g) for g in gauges)])


def after_delete(entry: Entry | None, deleted_id: int, newest: Sequence[Ref]) -> dict[str, Any] | None:
    """The entry once gauge `deleted_id` is gone; `newest`: the type's newest 3 gauges read before the deletion
    (when the entry holds the deleted gauge, the next older one takes its place)."""
    kept = [r for r in _refs(entry) if int(r["id"]) != deleted_id]
    if entry is not None and len(kept) == len(_refs(entry)):
        return {"newest": entry.get("newest"), "previous": entry.get("previous")}
    return top_two([*kept, *(r for r in newest if int(r["id"]) != deleted_id)])


def _version(entry: Entry | None) -> int:
    return int(entry["version"]) if entry else 0


def record(patient_id: int, gauges: Sequence[Mapping[str, Any]], write: Write, joined: Joined | None = None) -> None:
    """Stores gauges through `write` with their types' entries (when they fit) and `joined`'s items, in one
    transaction, retried as a whole (bounded) when the entries or the joined items moved meanwhile."""
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for gauge in gauges:
        by_type.setdefault(gauge["gauge_type"], []).append(gauge)
    if len(gauges) + len(by_type) > TRANSACTION_LIMIT:
        write([])
        refresh(patient_id, list(by_type))
        return
    for _ in retries.attempts(MAX_ATTEMPTS):
        entries, read = store_latest.entries_with(patient_id, list(by_type), joined.keys() if joined else [])
        also = [
            store_latest.entry_write(patient_id, t, after_write(entries.get(t), of_type), _version(entries.get(t)))
            for t, of_type in by_type.items()
        ]
        if joined is not None:
            also += joined.items(entries, read)
        with contextlib.suppress(store.ConditionFailed):
            write(also)
            return
    raise StorageUnavailable


def delete(patient_id: int, gauge_type: str, gauge_id: int, write: Callable[[list[dict[str, Any]]], bool]) -> bool:
    """Deletes a gauge through `write` (False: the gauge is gone) with its type's entry in the same transaction."""
    for _ in retries.attempts(MAX_ATTEMPTS):
        entry = store_latest.entries_of(patient_id, [gauge_type]).get(gauge_type)
        held = entry is None or any(int(r["id"]) == gauge_id for r in _refs(entry))
        newest = store_latest.newest_gauges(patient_id, gauge_type, 3) if held else []
        new = after_delete(entry, gauge_id, newest)
        with contextlib.suppress(store.ConditionFailed):
            return write([store_latest.entry_write(patient_id, gauge_type, new, _version(entry))])
    raise StorageUnavailable


def refresh(patient_id: int, gauge_types: Iterable[str]) -> int:
    """Re-derives the entries of some types from the gauges themselves (forward-only and idempotent: used after
    a full batch, and by the summary job for every type whose gauges changed). Returns how many it rewrote."""
    types = list(dict.fromkeys(gauge_types))
    entries = store_latest.entries_of(patient_id, types)  # all types' entries in one read; a retry reads its own
    rewritten = 0
    for gauge_type in types:
        entry = entries.get(gauge_type)
        for _ in range(MAX_ATTEMPTS):
            new = top_two(store_latest.newest_gauges(patient_id, gauge_type, 2))
            if [int(r["id"]) for r in _refs(entry)] == [int(r["id"]) for r in _refs(new)]:
                break  # a gauge never changes once written: the same ids are the same entry
            try:
                store_latest.write_entry(store_latest.entry_write(patient_id, gauge_type, new, _version(entry)))
                rewritten += 1
                break
            except store.ConditionFailed:
                entry = store_latest.entries_of(patient_id, [gauge_type]).get(gauge_type)
        else:
            raise StorageUnavailable
    return rewritten


def _number(value: Any) -> int | float:
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def present_entry(entry: Entry) -> dict[str, Any]:
    newest, previous = entry["newest"], entry.get("previous")
    change = Decimal(str(newest["value"])) - Decimal(str(previous["value"])) if previous else None
    return {
        "gauge_type": entry["gauge_type"],
        "value": _number(newest["value"]),
        "scale_min": _number(newest["scale_min"]),
        "scale_max": _number(newest["scale_max"]),
        "recorded_at": newest["recorded_at"],
        "previous_value": _number(previous["value"]) if previous else None,
        "previous_recorded_at": previous["recorded_at"] if previous else None,
        "change": _number(change) if change is not None else None,
    }


def latest(patient: Mapping[str, Any]) -> dict[str, Any]:
    """`{"latest": [...]}`, one entry per type the patient has, in type order: one Query."""
    return {"latest": [present_entry(e) for e in store_latest.latest_entries(patient["id"]) if e.get("newest")]}
