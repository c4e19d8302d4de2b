"""Day summaries (written by the summary job, read by the summary endpoint), the job's checkpoint and the
items it set aside.

Set-aside items: pk `SETASIDE#<job>`, sk the key of the item it could not process (`<pk>|<sk>`): one entry
per item however often a run meets it, with when it was first and last met and the error's type. Ids and
keys only, never a value. Few by nature, so one partition; an operator lists them (`patients-admin summaries
set-aside`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from clinic.store import keys, table

if TYPE_CHECKING:
    from clinic.store.items import CheckpointItem, DaySummaryItem, SetAsideItem


def put_day_summaries(
    patient_id: int,
    summaries: Sequence[Mapping[str, Any]],
    empty: Sequence[tuple[str, str]],
    extra: Sequence[dict[str, Any]] = (),
) -> None:
    """Writes recomputed days and removes days left with no gauge (idempotent: plain puts and deletes), with
    `extra` write requests of the same days (the clinic rules' day means, store.alerts)."""
    writes = [
        table.put_request({**s, **keys.day_summary(patient_id, s["day"], s["gauge_type"])._asdict()}) for s in summaries
    ]
    writes += [table.delete_request(keys.day_summary(patient_id, day, gauge_type)) for day, gauge_type in empty]
    table.batch_write([*writes, *extra])


def day_summaries(patient_id: int, first_day: str, last_day: str) -> Iterator[DaySummaryItem]:
    """The stored days first_day..last_day (local days, YYYY-MM-DD), every type, in day order."""
    first, last = keys.day_summary(patient_id, first_day), keys.day_summary(patient_id, last_day)
    return cast("Iterator[DaySummaryItem]", table.query(first.partition, between=(first.sk, last.sk + "~")))


def set_aside(job: str, source: tuple[str, str], *, patient_id: Any, error: str, at: str) -> None:
    table.update(
        keys.set_aside(job, source),
        "SET source_pk = :pk, source_sk = :sk, patient_id = :patient, error_type = :error, "
        "last_seen = :at, first_seen = if_not_exists(first_seen, :at) ADD times_seen :one",
        values={
            ":pk": source[0],
            ":sk": source[1],
            ":patient": patient_id if isinstance(patient_id, int) else str(patient_id),
            ":error": error,
            ":at": at,
            ":one": 1,
        },
    )


def set_aside_items(job: str) -> Iterator[SetAsideItem]:
    for item in table.query(keys.set_aside(job).partition, consistent=True):
        yield cast("SetAsideItem", {k: v for k, v in item.items() if k not in ("pk", "sk")})


def get_checkpoint(job: str) -> CheckpointItem | None:
    return cast("CheckpointItem | None", table.get(keys.checkpoint(job), consistent=True))


def put_checkpoint(job: str, through: str, previous: str | None) -> None:
    """Advances a job's checkpoint; conditional (ConditionFailed), so two overlapping runs cannot move it back."""
    item = {**keys.checkpoint(job)._asdict(), "through": through}
    if previous:
        table.put(item, condition="attribute_not_exists(pk) OR through = :previous", values={":previous": previous})
    else:
        table.put(item, condition="attribute_not_exists(pk)")
