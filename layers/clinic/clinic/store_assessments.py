"""Persistence of assessments (answered instruments, clinic.assessments): keys and writes.

| item | pk | sk | other keys |
|---|---|---|---|
| assessment | `ASSESSMENT#<patient>#<instrument>` | `<completed_at>#<id12>` | `all_pk` = `ASSESSMENTS#<patient>` (index `PatientGauges`), `id_pk` = `ASSESSMENTID#<id>` (index `GaugeById`) |
| deleted assessment | `ASSESSMENTDELETED#<id>` | `ASSESSMENTDELETED` | TTL 90 days: a cursor whose anchor was deleted keeps its place |

An instrument filter reads only that instrument's partition; the unfiltered list reads the patient's
`ASSESSMENTS#` partition of the all-types-by-time index that gauges use. An assessment is written in one
transaction with its total (a gauge) and that gauge type's latest entry; its deletion likewise.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from clinic.store import (
    ConditionFailed,
    NewKeyTaken,
    _between,
    _gauge_item,
    _get,
    _item,
    _key,
    _landed,
    _Partition,
    _query,
    _table,
    _time_range,
    _transact,
    _transact_deletion,
    gauge_deletion,
)

_META = ("pk", "sk", "all_pk", "id_pk")
DELETED_KEPT_SECONDS = 90 * 24 * 3600


def assessment_partition(patient_id: int, instrument: str) -> str:
    return f"ASSESSMENT#{patient_id}#{instrument}"


def _sort_key(completed_at: str, assessment_id: int) -> str:  # a gauge's format: store._time_range bounds both
    return f"{completed_at}#{assessment_id:012d}"


def _id_pk(assessment_id: int) -> str:
    return f"ASSESSMENTID#{assessment_id}"


def _deleted_key(assessment_id: int) -> tuple[str, str]:
    return f"ASSESSMENTDELETED#{assessment_id}", "ASSESSMENTDELETED"


def _assessment_item(a: Mapping[str, Any]) -> dict[str, Any]:
    return _item(
        {
            **a,
            "pk": assessment_partition(a["patient_id"], a["instrument"]),
            "sk": _sort_key(a["completed_at"], a["id"]),
            "all_pk": f"ASSESSMENTS#{a['patient_id']}",
            "id_pk": _id_pk(a["id"]),
        }
    )


def _assessment(item: dict[str, Any]) -> dict[str, Any]:
    for attribute in _META:
        item.pop(attribute, None)
    return item


def put_assessment(
    assessment: Mapping[str, Any], total: Mapping[str, Any], also: Sequence[dict[str, Any]] = ()
) -> None:
    """The assessment, its total (a gauge) and the writes `also` (latest entry; issue 15's alerts), in one
    transaction. ConditionFailed when one of `also` failed (a conflict to retry)."""
    new = "attribute_not_exists(pk)"
    writes = [
        {"Put": {"TableName": _table(), "Item": _assessment_item(assessment), "ConditionExpression": new}},
        {"Put": {"TableName": _table(), "Item": _gauge_item(total), "ConditionExpression": new}},
        *also,
    ]
    try:
        _transact(writes)
    except ConditionFailed as error:
        if error.failed and min(error.failed) >= 2:
            raise  # only one of `also` moved: the caller reads again and retries
        key = assessment_partition(assessment["patient_id"], assessment["instrument"])
        if not _landed(key, _sort_key(assessment["completed_at"], assessment["id"]), assessment["created_at"]):
            raise NewKeyTaken from None


def assessment_key(assessment_id: int) -> tuple[str, str] | None:
    """The table key of an assessment, from the by-id index (eventually consistent, like the gauges')."""
    for item in _query(_id_pk(assessment_id), index="GaugeById", pk_name="id_pk"):
        if item["pk"].startswith("ASSESSMENT#"):
            return item["pk"], item["sk"]
    return None


def get_assessment(assessment_id: int) -> dict[str, Any] | None:
    key = assessment_key(assessment_id)
    item = _get(*key, consistent=True) if key else None
    return _assessment(item) if item else None


def deleted_assessment(assessment_id: int) -> dict[str, Any] | None:
    """(patient id, completed_at) of a deleted assessment, from its marker (kept 90 days)."""
    return _get(*_deleted_key(assessment_id))


def delete_assessment(assessment: Mapping[str, Any], deleted_at: str, also: Sequence[dict[str, Any]] = ()) -> bool:
    """Deletes an assessment and its total gauge (leaving the gauge's tombstone for the summary job and the
    assessment's for cursors), with `also`, in one transaction. False when the assessment is gone."""
    marker = {
        "pk": _deleted_key(assessment["id"])[0],
        "sk": _deleted_key(assessment["id"])[1],
        "patient_id": assessment["patient_id"],
        "completed_at": assessment["completed_at"],
        "expires_at": int(time.time()) + DELETED_KEPT_SECONDS,
    }
    writes = [
        {
            "Delete": {
                "TableName": _table(),
                "Key": _key(
                    assessment_partition(assessment["patient_id"], assessment["instrument"]),
                    _sort_key(assessment["completed_at"], assessment["id"]),
                ),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        {"Put": {"TableName": _table(), "Item": _item(marker)}},
        *gauge_deletion(
            assessment["patient_id"],
            assessment["instrument"],
            assessment["completed_at"],
            assessment["gauge_id"],
            deleted_at,
        ),
        *also,
    ]
    return _transact_deletion(writes)


def query_assessments(
    patient_id: int,
    instrument: str | None,
    *,
    start: str | None,
    end: str | None,
    newest_first: bool,
    after: tuple[str, int] | None,
    limit: int,
) -> Iterator[dict[str, Any]]:
    """Assessments completed in [start, end) (ISO times), in time order, continuing after (completed_at, id)."""
    low, high = _time_range(start, end, after, newest_first)
    if instrument is None:
        partition = _Partition("all_pk", f"ASSESSMENTS#{patient_id}", "sk", "PatientGauges")
    else:
        partition = _Partition("pk", assessment_partition(patient_id, instrument), "sk")
    return _between(partition, low, high, forward=not newest_first, limit=limit, shape=_assessment)
