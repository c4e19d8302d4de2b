"""Gauges. A gauge lives in its patient's and type's partition, sorted by time: a date range is one key
range and a type filter reads no other type. Index `PatientGauges` holds all of a patient's types in one
time order; `GaugeById` finds a gauge from its id; `Changes` lists gauge writes and deletions by the hour in
which they happened (8 shards per hour), for the summary job."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from clinic.store import keys, table
from clinic.store.errors import ConditionFailed, NewKeyTaken
from clinic.store.keys import CHANGE_SHARDS as CHANGE_SHARDS

if TYPE_CHECKING:
    from clinic.store.items import ChangeItem, GaugeItem

REZONED = "*"  # the gauge type of a change that moved all of a patient's days (a time zone change)
TOMBSTONE_SECONDS = 90 * 24 * 3600  # how long a deleted gauge's marker is kept

_GAUGE_META = ("pk", "sk", "all_pk", "id_pk", "change_pk", "change_sk")


def _gauge(item: dict[str, Any]) -> GaugeItem:
    for attribute in _GAUGE_META:
        item.pop(attribute, None)
    return cast("GaugeItem", item)


def gauge_item(g: Mapping[str, Any]) -> dict[str, Any]:
    """A gauge as stored: with its key and index attributes (an assessment's total is written this way too)."""
    return {
        **g,
        **keys.gauge(g["patient_id"], g["gauge_type"], g["recorded_at"], g["id"])._asdict(),
        **keys.gauge_indexes(g["patient_id"], g["id"]),
        **keys.change(g["created_at"], g["id"]),
    }


def put_gauges(gauges: Sequence[GaugeItem], also: Sequence[dict[str, Any]] = ()) -> None:
    """Stores up to 100 gauges all or nothing (one transaction; a retry cannot duplicate them), with the
    writes `also` (the latest records, clinic.latest) in the same transaction.

    ConditionFailed when one of `also` failed (a conflict: the caller reads again and retries); NewKeyTaken
    when a gauge's key is taken by another item.
    """
    items = [gauge_item(g) for g in gauges]
    condition = "attribute_not_exists(pk)"
    try:
        if len(items) == 1 and not also:
            table.put(items[0], condition=condition)
        else:
            table.transact([*(table.put_action(i, condition=condition) for i in items), *also])
    except ConditionFailed as error:
        if error.failed and min(error.failed) >= len(items):
            raise  # only one of `also` moved: the caller reads again and retries
        first = gauges[0]
        key = keys.gauge(first["patient_id"], first["gauge_type"], first["recorded_at"], first["id"])
        if not table.landed(key, first["created_at"]):
            raise NewKeyTaken from None


def import_gauges(gauges: Sequence[Mapping[str, Any]], write: Any = None) -> None:
    """Bulk load (demo data, benchmarks) in the same item format: BatchWriteItem, not all or nothing.

    Never for requests: a request's batch goes through put_gauges. `write` (default batch_write) receives
    the PutRequests.
    """
    (write or table.batch_write)([table.put_request(gauge_item(g)) for g in gauges])


def query_gauges(
    patient_id: int,
    gauge_type: str | None,
    *,
    start: str | None,
    end: str | None,
    newest_first: bool,
    after: tuple[str, int] | None,
    limit: int,
) -> Iterator[GaugeItem]:
    """Gauges recorded in [start, end) (ISO times), in time order, continuing after (recorded_at, id)."""
    low, high = keys.time_range(start, end, after, newest_first)
    if gauge_type is None:
        partition = keys.patient_gauges(patient_id)
    else:
        partition = keys.Partition(keys.gauge_partition(patient_id, gauge_type))
    items = table.query(partition, between=(low, high), forward=not newest_first, limit=limit)
    return (_gauge(item) for item in items)


def gauge_key_of(gauge: Mapping[str, Any]) -> tuple[str, str]:
    """The table key of a gauge read through query_gauges (which drops it), even of a malformed one."""
    try:
        return keys.gauge(gauge["patient_id"], gauge["gauge_type"], gauge["recorded_at"], gauge["id"])
    except (KeyError, TypeError, ValueError):
        return (
            keys.gauge_partition(gauge.get("patient_id"), gauge.get("gauge_type")),
            f"{gauge.get('recorded_at')}#{gauge.get('id')}",
        )


def gauge_key(gauge_id: int) -> tuple[int, str, str] | None:
    """(patient id, type, recorded_at) of a gauge, from the `GaugeById` index."""
    for item in table.query(keys.gauge_by_id(gauge_id)):
        return keys.gauge_of(item["pk"], item["sk"])
    return None


def deleted_gauge_key(gauge_id: int) -> tuple[int, str, str] | None:
    """(patient id, type, recorded_at) of a deleted gauge, from its deletion marker (kept 90 days)."""
    marker = table.get(keys.deleted_gauge(gauge_id))
    if marker is None:
        return None
    return int(marker["patient_id"]), marker["gauge_type"], marker["recorded_at"]


def get_gauge(patient_id: int, gauge_type: str, recorded_at: str, gauge_id: int) -> GaugeItem | None:
    item = table.get(keys.gauge(patient_id, gauge_type, recorded_at, gauge_id), consistent=True)
    return _gauge(item) if item else None


def delete_gauge(
    patient_id: int,
    gauge_type: str,
    recorded_at: str,
    gauge_id: int,
    deleted_at: str,
    also: Sequence[dict[str, Any]] = (),
) -> bool:
    """Deletes a gauge and leaves a tombstone in `Changes` so the summary job forgets it too, with the writes
    `also` in the same transaction. False when the gauge is gone; ConditionFailed when one of `also` failed."""
    return transact_deletion([*gauge_deletion(patient_id, gauge_type, recorded_at, gauge_id, deleted_at), *also])


def transact_deletion(writes: Sequence[dict[str, Any]]) -> bool:
    """A transaction whose first write deletes an item that must exist: False when that item is gone (its
    condition failed); ConditionFailed when another write's condition failed (a conflict to retry)."""
    try:
        table.transact(writes)
    except ConditionFailed as error:
        if 0 in error.failed or not error.failed:
            return False
        raise
    return True


def gauge_deletion(
    patient_id: int, gauge_type: str, recorded_at: str, gauge_id: int, deleted_at: str
) -> list[dict[str, Any]]:
    """The transaction items that delete a gauge (the first; it must exist) and leave its tombstone."""
    tombstone = {
        **keys.deleted_gauge(gauge_id)._asdict(),
        "patient_id": patient_id,
        "gauge_type": gauge_type,
        "recorded_at": recorded_at,
        "expires_at": int(time.time()) + TOMBSTONE_SECONDS,
        **keys.change(deleted_at, gauge_id),
    }
    return [
        table.delete_action(
            keys.gauge(patient_id, gauge_type, recorded_at, gauge_id), condition="attribute_exists(pk)"
        ),
        table.put_action(tombstone),
    ]


def changes(hour: str, shard: int, after: str, upto: str) -> Iterator[ChangeItem]:
    """Gauge writes and deletions of one hour and shard with after < changed_at <= upto (ISO times)."""
    # Strictly after `after` and up to `upto` included, whatever the id after the time.
    items = table.query(keys.changes(hour, shard), between=(after + "#~", upto + "#~"))
    return cast("Iterator[ChangeItem]", items)
