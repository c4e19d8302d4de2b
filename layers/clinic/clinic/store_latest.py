"""Persistence of each patient's latest values (clinic.latest): one item per patient and gauge type, in one
partition per patient, so `GET .../gauges/latest` is one Query and a write touches only its own type.

| item | pk | sk | attributes |
|---|---|---|---|
| latest of a type | `LATEST#<patient>` | `<gauge type>` | `newest`, `previous` (id, value, scale, recorded_at), `version` |

Every write is conditional on the `version` read before it, so two requests that change one type's latest
values at once cannot both win: the loser reads again and retries (clinic.latest).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from clinic.settings import dynamodb
from clinic.store import ConditionFailed, _gauge_sk, _item, _key, _query, _table, batch_get, gauge_partition

LATEST_PREFIX = "LATEST#"
# What an entry keeps of a gauge: enough to answer `latest`, and the (recorded_at, id) that orders gauges.
REF_FIELDS = ("id", "value", "scale_min", "scale_max", "recorded_at")


def latest_partition(patient_id: int) -> str:
    return f"{LATEST_PREFIX}{patient_id}"


def latest_entries(patient_id: int) -> list[dict[str, Any]]:
    """Every type's entry of a patient, in type order: one Query (consistent, so a write is seen at once)."""
    return [_entry(i) for i in _query(latest_partition(patient_id), consistent=True)]


def entries_of(patient_id: int, gauge_types: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The entries of some types (consistent reads, one BatchGetItem per 100 types)."""
    return entries_with(patient_id, gauge_types, [])[0]


def entries_with(
    patient_id: int, gauge_types: Sequence[str], others: Sequence[tuple[str, str]]
) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], dict[str, Any]]]:
    """The entries of some types and the items of other keys (a write's alert slots), in the same consistent
    BatchGetItem: by type, and by (pk, sk)."""
    partition = latest_partition(patient_id)
    keys = [(partition, t) for t in dict.fromkeys(gauge_types)]
    entries: dict[str, dict[str, Any]] = {}
    read: dict[tuple[str, str], dict[str, Any]] = {}
    for item in batch_get([*keys, *dict.fromkeys(others)]):
        if item["pk"] == partition:
            entries[item["sk"]] = _entry(item)
        else:
            read[(item["pk"], item["sk"])] = item
    return entries, read


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "gauge_type": item["sk"],
        "newest": item.get("newest"),
        "previous": item.get("previous"),
        "version": int(item.get("version", 0)),
    }


def newest_gauges(patient_id: int, gauge_type: str, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` gauges of a type, newest first, as entries keep them (a consistent Query)."""
    rows = _query(
        gauge_partition(patient_id, gauge_type),
        forward=False,
        limit=limit,
        consistent=True,
        projection=", ".join(REF_FIELDS),
    )
    return list(itertools.islice(rows, limit))


def gauge_before(patient_id: int, gauge_type: str, recorded_at: str, gauge_id: int) -> dict[str, Any] | None:
    """The type's gauge just before (recorded_at, id), as entries keep it: one consistent Query, Limit 1."""
    rows = _query(
        gauge_partition(patient_id, gauge_type),
        after=_gauge_sk(recorded_at, gauge_id),
        forward=False,
        limit=1,
        consistent=True,
        projection=", ".join(REF_FIELDS),
    )
    return next(rows, None)


def entry_write(patient_id: int, gauge_type: str, entry: Mapping[str, Any] | None, version: int) -> dict[str, Any]:
    """The transaction item that sets a type's entry (None: the type has no gauge left), if still at `version`
    (0: no entry yet)."""
    key = _key(latest_partition(patient_id), gauge_type)
    if version:
        condition = {"ConditionExpression": "version = :version", "ExpressionAttributeValues": _version(version)}
    else:
        condition = {"ConditionExpression": "attribute_not_exists(pk)"}
    if entry is None:
        kind = "Delete" if version else "ConditionCheck"
        return {kind: {"TableName": _table(), "Key": key, **condition}}
    item = _item(
        {
            "pk": latest_partition(patient_id),
            "sk": gauge_type,
            "newest": _ref(entry["newest"]),
            "previous": _ref(entry.get("previous")),
            "version": version + 1,
        }
    )
    return {"Put": {"TableName": _table(), "Item": item, **condition}}


def _ref(ref: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A gauge as an entry keeps it; numbers as Decimal (boto3 refuses floats inside a map)."""
    if ref is None:
        return None
    return {f: Decimal(repr(ref[f])) if isinstance(ref[f], float) else ref[f] for f in REF_FIELDS}


def _version(version: int) -> dict[str, Any]:
    return {":version": {"N": str(version)}}


def write_entry(write: Mapping[str, Any]) -> None:
    """One entry_write on its own (outside a gauge transaction), as a single conditional PutItem or DeleteItem
    (half the cost of a one-item transaction): ConditionFailed if the version moved."""
    if "ConditionCheck" in write:  # no entry, and none to write: nothing to do
        return
    kind, request = next(iter(write.items()))
    call = dynamodb().put_item if kind == "Put" else dynamodb().delete_item
    try:
        call(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ConditionFailed from None
        raise
