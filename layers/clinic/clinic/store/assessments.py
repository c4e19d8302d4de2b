"""Assessments (answered instruments, clinic.assessments). An assessment lives in its patient's and
instrument's partition, sorted by time like a gauge: an instrument filter reads only that instrument; the
unfiltered list reads the patient's `ASSESSMENTS#` partition of the all-types-by-time index gauges use.
An assessment is written in one transaction with its total (a gauge) and that gauge type's latest entry;
its deletion likewise.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from clinic.store import keys, table
from clinic.store.errors import ConditionFailed, NewKeyTaken
from clinic.store.gauges import gauge_deletion, gauge_item, transact_deletion

if TYPE_CHECKING:
    from clinic.store.items import AssessmentItem, DeletedAssessmentItem, GaugeItem

_META = ("pk", "sk", "all_pk", "id_pk")
DELETED_KEPT_SECONDS = 90 * 24 * 3600


def _key(a: Mapping[str, Any]) -> keys.Key:
    return keys.assessment(a["patient_id"], a["instrument"], a["completed_at"], a["id"])


def _assessment_item(a: Mapping[str, Any]) -> dict[str, Any]:
    return {**a, **_key(a)._asdict(), **keys.assessment_indexes(a["patient_id"], a["id"])}


def _assessment(item: dict[str, Any]) -> AssessmentItem:
    for attribute in _META:
        item.pop(attribute, None)
    return cast("AssessmentItem", item)


def put_assessment(assessment: AssessmentItem, total: GaugeItem, also: Sequence[dict[str, Any]] = ()) -> None:
    """The assessment, its total (a gauge) and the writes `also` (latest entry; issue 15's alerts), in one
    transaction. ConditionFailed when one of `also` failed (a conflict to retry)."""
    new = "attribute_not_exists(pk)"
    writes = [
        table.put_action(_assessment_item(assessment), condition=new),
        table.put_action(gauge_item(total), condition=new),
        *also,
    ]
    try:
        table.transact(writes)
    except ConditionFailed as error:
        if error.failed and min(error.failed) >= 2:
            raise  # only one of `also` moved: the caller reads again and retries
        if not table.landed(_key(assessment), assessment["created_at"]):
            raise NewKeyTaken from None


def assessment_key(assessment_id: int) -> keys.Key | None:
    """The table key of an assessment, from the by-id index (eventually consistent, like the gauges')."""
    for item in table.query(keys.assessment_by_id(assessment_id)):
        if keys.is_assessment(item["pk"]):
            return keys.Key(item["pk"], item["sk"])
    return None


def get_assessment(assessment_id: int) -> AssessmentItem | None:
    key = assessment_key(assessment_id)
    item = table.get(key, consistent=True) if key else None
    return _assessment(item) if item else None


def deleted_assessment(assessment_id: int) -> DeletedAssessmentItem | None:
    """(patient id, completed_at) of a deleted assessment, from its marker (kept 90 days)."""
    return cast("DeletedAssessmentItem | None", table.get(keys.deleted_assessment(assessment_id)))


def delete_assessment(assessment: AssessmentItem, deleted_at: str, also: Sequence[dict[str, Any]] = ()) -> bool:
    """Deletes an assessment and its total gauge (leaving the gauge's tombstone for the summary job and the
    assessment's for cursors), with `also`, in one transaction. False when the assessment is gone."""
    marker = {
        **keys.deleted_assessment(assessment["id"])._asdict(),
        "patient_id": assessment["patient_id"],
        "completed_at": assessment["completed_at"],
        "expires_at": int(time.time()) + DELETED_KEPT_SECONDS,
    }
    writes = [
        table.delete_action(_key(assessment), condition="attribute_exists(pk)"),
        table.put_action(marker),
        *gauge_deletion(
            assessment["patient_id"],
            assessment["instrument"],
            assessment["completed_at"],
            assessment["gauge_id"],
            deleted_at,
        ),
        *also,
    ]
    return transact_deletion(writes)


def query_assessments(
    patient_id: int,
    instrument: str | None,
    *,
    start: str | None,
    end: str | None,
    newest_first: bool,
    after: tuple[str, int] | None,
    limit: int,
) -> Iterator[AssessmentItem]:
    """Assessments completed in [start, end) (ISO times), in time order, continuing after (completed_at, id)."""
    low, high = keys.time_range(start, end, after, newest_first)
    if instrument is None:
        partition = keys.patient_assessments(patient_id)
    else:
        partition = keys.Partition(keys.assessment_partition(patient_id, instrument))
    items = table.query(partition, between=(low, high), forward=not newest_first, limit=limit)
    return (_assessment(item) for item in items)
