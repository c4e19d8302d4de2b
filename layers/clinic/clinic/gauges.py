"""Gauges: patient-reported measurements, recorded one or a batch at a time and read back by time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from clinic import alert_rules, clock, cursors, ids, instruments, latest, store
from clinic.access import Caller
from clinic.errors import AssessmentTotalConflict, Forbidden, NotFound, ValidationFailed

if TYPE_CHECKING:
    from clinic.store.items import GaugeItem

if TYPE_CHECKING:  # the summary job never loads the request models (pydantic): a faster cold start
    from clinic.models.gauges import NewGauge


def _number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def present(gauge: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": gauge["id"],
        "patient_id": gauge["patient_id"],
        "gauge_type": gauge["gauge_type"],
        "value": _number(gauge["value"]),
        "scale_min": _number(gauge["scale_min"]),
        "scale_max": _number(gauge["scale_max"]),
        "recorded_at": gauge["recorded_at"],
        "notes": gauge.get("notes"),
        # Gauges stored before issue 13 carry only `created_by`, and only staff could record them then.
        "source": gauge.get("source") or "staff",
        "recorded_by": gauge.get("recorded_by", gauge.get("created_by")),
        "created_at": gauge["created_at"],
    }


def source_of(caller: Caller) -> str:
    """`patient` for what a patient's own app records, `staff` for everything else."""
    return "patient" if caller.is_patient else "staff"


def zone(patient: Mapping[str, Any]) -> ZoneInfo:
    return ZoneInfo(patient.get("time_zone") or "UTC")


# What a day's edge becomes when it falls outside datetime's years 1-9999 in UTC: no stored time is there.
_BEFORE_ALL, _AFTER_ALL = clock.iso(datetime.min.replace(tzinfo=UTC)), clock.iso(datetime.max.replace(tzinfo=UTC))


def _start_of(day: date, tz: ZoneInfo) -> str:
    """When `day` starts in `tz`, as a stored (UTC) time; held at the ends of the calendar."""
    try:
        return clock.iso(datetime.combine(day, time.min, tzinfo=tz))
    except OverflowError:  # 0001-01-01 east of UTC starts in year 0
        return _BEFORE_ALL if day.year == 1 else _AFTER_ALL


def day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[str, str]:
    """[start, end) in UTC ISO times of the calendar days first..last in the patient's time zone."""
    end = _start_of(last + timedelta(days=1), tz) if last < date.max else _AFTER_ALL
    return _start_of(first, tz), end


def shift(day: date, days: int) -> date:
    """`day` moved by `days`, held at the first and last dates of the calendar rather than overflowing."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def local_day(recorded_at: str, tz: ZoneInfo) -> date:
    return datetime.fromisoformat(recorded_at).astimezone(tz).date()


def _scale(gauge: NewGauge) -> tuple[float, float]:
    # Validation fills a scale left out from the type's default; only a gauge that failed it has none.
    if gauge.scale_min is None or gauge.scale_max is None:
        raise ValueError("a gauge without a scale was not validated")
    return gauge.scale_min, gauge.scale_max


def record(caller: Caller, patient: Mapping[str, Any], new: list[NewGauge]) -> list[GaugeItem]:
    """Stores the gauges all or nothing, with the alerts they trigger; `recorded_at` defaults to now."""
    now = clock.iso(clock.now())
    gauges: list[GaugeItem] = [
        {
            "id": ids.next_id("gauge"),
            "patient_id": patient["id"],
            "gauge_type": g.gauge_type,
            "value": g.value,
            "scale_min": _scale(g)[0],
            "scale_max": _scale(g)[1],
            "recorded_at": g.recorded_at or now,
            "notes": g.notes,
            "created_at": now,
            "created_by": caller.user_id,
            "source": source_of(caller),
            "recorded_by": caller.user_id,
        }
        for g in new
    ]
    # With their latest entries, day means and the clinic rules' alerts, in one transaction when it fits.
    alert_rules.store_gauges(patient, gauges)
    return gauges


def parse_range(start_date: str | None, end_date: str | None) -> tuple[date | None, date | None]:
    """The optional inclusive day range of a query, with the contract's messages."""
    errors: dict[str, list[str]] = {}
    days: dict[str, date | None] = {}
    for field, value in (("start_date", start_date), ("end_date", end_date)):
        days[field] = clock.calendar_date(value) if value is not None else None
        if value is not None and days[field] is None:
            errors[field] = ["must be a valid date"]
    first, last = days["start_date"], days["end_date"]
    if first and last and last < first:
        errors["end_date"] = ["must be on or after start_date"]
    if errors:
        raise ValidationFailed(errors)
    return first, last


def time_range(
    patient: Mapping[str, Any], start_date: str | None, end_date: str | None
) -> tuple[str | None, str | None]:
    """[start, end) as stored (UTC) times of a list's optional inclusive day range in the patient's time zone."""
    first, last = parse_range(start_date, end_date)
    tz = zone(patient)
    start = day_bounds(first, first, tz)[0] if first else None
    end = day_bounds(last, last, tz)[1] if last else None
    return start, end


def list_gauges(
    patient: Mapping[str, Any],
    *,
    gauge_type: str | None,
    start_date: str | None,
    end_date: str | None,
    order: str,
    page: int,
    page_size: int,
    cursor: str | None,
) -> dict[str, Any]:
    start, end = time_range(patient, start_date, end_date)
    query = cursors.digest("gauges", patient["id"], gauge_type, start_date, end_date, order)
    after, skip = None, (page - 1) * page_size
    if cursor:
        previous_page, anchor_id = cursors.decode(cursor, query)
        # A deleted anchor still has a position: its deletion marker keeps it (for the 90 days it is kept).
        anchor = (
            (store.gauge_key(anchor_id) or store.deleted_gauge_key(anchor_id)) if isinstance(anchor_id, int) else None
        )
        if anchor is None or anchor[0] != patient["id"]:
            raise cursors.invalid()
        after, page, skip = (anchor[2], anchor_id), previous_page + 1, 0
    rows = store.query_gauges(
        patient["id"],
        gauge_type,
        start=start,
        end=end,
        newest_first=order == "desc",
        after=after,
        limit=cursors.window(page_size, skip),
    )
    page_rows, meta = cursors.page_of(
        rows, page=page, page_size=page_size, skip=skip, anchor=lambda g: g["id"], query_digest=query
    )
    return {"gauges": [present(g) for g in page_rows], "meta": meta}


def delete(patient: Mapping[str, Any], gauge_id: str, by: Caller | None = None) -> None:
    """Removes a gauge recorded by mistake, and takes it out of its day's mean and latest entry in the same
    transaction; the summary job sees the deletion and recounts its day.

    `by`: the caller; a patient user may delete only what they recorded themselves (else 403 action).
    """
    gid = ids.parse(gauge_id)
    key = store.gauge_key(gid) if gid is not None else None
    if gid is None or key is None or key[0] != patient["id"]:
        raise NotFound("Gauge not found")
    _, gauge_type, recorded_at = key
    # Gauge types that are instrument codes are only ever written as an assessment's total (POST .../gauges
    # refuses them), so such a gauge goes with its assessment.
    if gauge_type in instruments.CODES:
        raise AssessmentTotalConflict
    # The by-id index holds keys only: the gauge's value (which leaves its day's mean) is one more read.
    gauge = store.get_gauge(patient["id"], gauge_type, recorded_at, gid)
    if gauge is None:
        raise NotFound("Gauge not found")
    if (
        by is not None
        and by.is_patient
        and (gauge.get("source") != "patient" or gauge.get("recorded_by") != by.user_id)
    ):
        raise Forbidden
    deleted_at = clock.iso(clock.now())
    means = alert_rules.day_mean_changes(patient, [gauge], sign=-1)
    if not latest.delete(
        patient["id"],
        gauge_type,
        gid,
        lambda also: store.delete_gauge(patient["id"], gauge_type, recorded_at, gid, deleted_at, [*also, *means]),
    ):
        raise NotFound("Gauge not found")
