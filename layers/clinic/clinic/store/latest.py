"""Each patient's latest values (clinic.latest): one item per patient and gauge type, in one partition per
patient, so `GET .../gauges/latest` is one Query and a write touches only its own type. An item holds the
type's `newest` and `previous` gauges (id, value, scale, recorded_at) and a `version`.

Every write is conditional on the `version` read before it, so two requests that change one type's latest
values at once cannot both win: the loser reads again and retries (clinic.latest).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from clinic.store import keys, table

if TYPE_CHECKING:
    from clinic.store.items import GaugeRef, LatestEntry

# What an entry keeps of a gauge: enough to answer `latest`, and the (recorded_at, id) that orders gauges.
REF_FIELDS = ("id", "value", "scale_min", "scale_max", "recorded_at")


def latest_entries(patient_id: int) -> list[LatestEntry]:
    """Every type's entry of a patient, in type order: one Query (consistent, so a write is seen at once)."""
    return [_entry(i) for i in table.query(keys.latest(patient_id).partition, consistent=True)]


def entries_of(patient_id: int, gauge_types: Sequence[str]) -> dict[str, LatestEntry]:
    """The entries of some types (consistent reads, one BatchGetItem per 100 types)."""
    return entries_with(patient_id, gauge_types, [])[0]


def entries_with(
    patient_id: int, gauge_types: Sequence[str], others: Sequence[tuple[str, str]]
) -> tuple[dict[str, LatestEntry], dict[tuple[str, str], dict[str, Any]]]:
    """The entries of some types and the items of other keys (a write's alert slots), in the same consistent
    BatchGetItem: by type, and by (pk, sk)."""
    partition = keys.latest(patient_id).pk
    entries: dict[str, LatestEntry] = {}
    read: dict[tuple[str, str], dict[str, Any]] = {}
    wanted = [keys.latest(patient_id, t) for t in dict.fromkeys(gauge_types)]
    for item in table.batch_get([*wanted, *dict.fromkeys(others)]):
        if item["pk"] == partition:
            entries[item["sk"]] = _entry(item)
        else:
            read[(item["pk"], item["sk"])] = item
    return entries, read


def _entry(item: dict[str, Any]) -> LatestEntry:
    return {
        "gauge_type": item["sk"],
        "newest": item.get("newest"),
        "previous": item.get("previous"),
        "version": int(item.get("version", 0)),
    }


def newest_gauges(patient_id: int, gauge_type: str, limit: int) -> list[GaugeRef]:
    """The newest `limit` gauges of a type, newest first, as entries keep them (a consistent Query)."""
    rows = table.query(
        keys.Partition(keys.gauge_partition(patient_id, gauge_type)),
        forward=False,
        limit=limit,
        consistent=True,
        projection=REF_FIELDS,
    )
    return [cast("GaugeRef", row) for row in itertools.islice(rows, limit)]


def gauge_before(patient_id: int, gauge_type: str, recorded_at: str, gauge_id: int) -> GaugeRef | None:
    """The type's gauge just before (recorded_at, id), as entries keep it: one consistent Query, Limit 1."""
    rows = table.query(
        keys.Partition(keys.gauge_partition(patient_id, gauge_type)),
        after=keys.gauge_sk(recorded_at, gauge_id),
        forward=False,
        limit=1,
        consistent=True,
        projection=REF_FIELDS,
    )
    return cast("GaugeRef | None", next(rows, None))


def entry_write(patient_id: int, gauge_type: str, entry: Mapping[str, Any] | None, version: int) -> dict[str, Any]:
    """The transaction item that sets a type's entry (None: the type has no gauge left), if still at `version`
    (0: no entry yet)."""
    key = keys.latest(patient_id, gauge_type)
    if version:
        condition, values = "version = :version", {":version": version}
    else:
        condition, values = "attribute_not_exists(pk)", None
    if entry is None:
        if version:
            return table.delete_action(key, condition=condition, values=values)
        return table.check_action(key, condition, values)
    item = {
        **key._asdict(),
        "newest": _ref(entry["newest"]),
        "previous": _ref(entry.get("previous")),
        "version": version + 1,
    }
    return table.put_action(item, condition=condition, values=values)


def _ref(ref: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A gauge as an entry keeps it; numbers as Decimal (boto3 refuses floats inside a map)."""
    if ref is None:
        return None
    return {f: Decimal(repr(ref[f])) if isinstance(ref[f], float) else ref[f] for f in REF_FIELDS}


def write_entry(write: Mapping[str, Any]) -> None:
    """One entry_write on its own (outside a gauge transaction), as a single conditional PutItem or DeleteItem
    (half the cost of a one-item transaction): ConditionFailed if the version moved."""
    if "ConditionCheck" in write:  # no entry, and none to write: nothing to do
        return
    table.write(write)
