"""Assessments: a patient's answers to a standardized instrument, scored by the server, and the total also
recorded as a gauge (type = the instrument's code, scale 0 to its maximum total) in the same transaction, so
gauge lists, summaries, charts and the latest values include it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from clinic import alert_rules, alerts, clock, cursors, ids, instruments, latest
from clinic.access import Caller, may_delete
from clinic.errors import Forbidden, NotFound
from clinic.gauges import source_of, time_range
from clinic.store import assessments as store_assessments
from clinic.store import latest as store_latest

if TYPE_CHECKING:
    from clinic.models.assessments import NewAssessment
    from clinic.store.items import AssessmentItem, GaugeItem

NOT_FOUND = "Assessment not found"


def present(a: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": a["id"],
        "patient_id": a["patient_id"],
        "instrument": a["instrument"],
        "answers": [int(x) for x in a["answers"]],
        "total": int(a["total"]),
        "severity": a["severity"],
        "completed_at": a["completed_at"],
        "notes": a.get("notes"),
        "source": a.get("source", "staff"),
        "recorded_by": a.get("recorded_by"),
        "created_at": a["created_at"],
    }


def record(caller: Caller, patient: Mapping[str, Any], new: NewAssessment) -> AssessmentItem:
    """Scores the answers and stores the assessment with its total gauge, latest entry, day mean and the alerts of
    the built-in rules it fires, in one transaction (a 201 means the alert exists)."""
    instrument = instruments.INSTRUMENTS[new.instrument]
    now = clock.iso(clock.now())
    total = instrument.total(new.answers)
    assessment_id, gauge_id = ids.next_id("assessment"), ids.next_id("gauge")
    assessment: AssessmentItem = {
        "id": assessment_id,
        "patient_id": patient["id"],
        "instrument": instrument.code,
        "answers": list(new.answers),
        "total": total,
        "severity": instrument.severity_of(total),
        "completed_at": new.completed_at or now,
        "notes": new.notes,
        "source": source_of(caller),
        "recorded_by": caller.user_id,
        "created_at": now,
        "gauge_id": gauge_id,
    }
    gauge: GaugeItem = {
        "id": gauge_id,
        "patient_id": patient["id"],
        "gauge_type": instrument.code,
        "value": total,
        "scale_min": instrument.total_min,
        "scale_max": instrument.total_max,
        "recorded_at": assessment["completed_at"],
        "notes": None,
        "created_at": now,
        "created_by": caller.user_id,
        "assessment_id": assessment_id,
    }
    # The built-in rules' alerts join the same transaction, planned on each attempt from what it read: the
    # instrument's latest entry (the previous total, for `worsening`) and the rules' slots, in one BatchGetItem.
    alerting = alerts.AlertWrite(
        patient,
        now,
        alerts.assessment_watches(assessment),
        lambda entries: alerts.assessment_triggers(
            assessment, previous_total(patient["id"], gauge, entries.get(instrument.code))
        ),
    )
    means = alert_rules.day_mean_changes(patient, [gauge])
    latest.record(
        patient["id"],
        [gauge],
        lambda also: store_assessments.put_assessment(assessment, gauge, [*means, *also]),
        alerting,
    )
    alerting.published()
    return assessment


def previous_total(patient_id: int, total: Mapping[str, Any], entry: Mapping[str, Any] | None) -> int | None:
    """The total of the patient's assessment of that instrument just before this one (None for the first): the
    latest entry's newest when this one is newer (the usual case, no read), else one Query (back-dated)."""
    newest = entry.get("newest") if entry else None
    if newest is None:  # an instrument's totals are written with their latest entry: none means no total yet
        return None
    if (newest["recorded_at"], int(newest["id"])) < (total["recorded_at"], int(total["id"])):
        return int(newest["value"])
    before = store_latest.gauge_before(patient_id, total["gauge_type"], total["recorded_at"], int(total["id"]))
    return int(before["value"]) if before else None


def _find(patient: Mapping[str, Any], assessment_id: str) -> AssessmentItem:
    aid = ids.parse(assessment_id)
    found = store_assessments.get_assessment(aid) if aid is not None else None
    if found is None or found["patient_id"] != patient["id"]:
        raise NotFound(NOT_FOUND)
    return found


def get(patient: Mapping[str, Any], assessment_id: str) -> dict[str, Any]:
    return present(_find(patient, assessment_id))


def delete(caller: Caller, patient: Mapping[str, Any], assessment_id: str) -> None:
    """Removes an assessment and its total gauge, taking it out of its day's mean and latest entry, in one
    transaction (the summary job then forgets the gauge). Its alerts stay: a clinician resolves them."""
    found = _find(patient, assessment_id)
    if not may_delete(caller, found):
        raise Forbidden
    deleted_at = clock.iso(clock.now())
    total = {"gauge_type": found["instrument"], "value": found["total"], "recorded_at": found["completed_at"]}
    means = alert_rules.day_mean_changes(patient, [total], sign=-1)  # its total leaves its day's mean
    if not latest.delete(
        patient["id"],
        found["instrument"],
        int(found["gauge_id"]),
        lambda also: store_assessments.delete_assessment(found, deleted_at, [*also, *means]),
    ):
        raise NotFound(NOT_FOUND)


def list_assessments(
    patient: Mapping[str, Any],
    *,
    instrument: str | None,
    start_date: str | None,
    end_date: str | None,
    order: str,
    page_size: int,
    cursor: str | None,
) -> dict[str, Any]:
    start, end = time_range(patient, start_date, end_date)
    query = cursors.digest("assessments", patient["id"], instrument, start_date, end_date, order)
    after, page = None, 1
    if cursor:
        previous_page, anchor_id = cursors.decode(cursor, query)
        anchor = _anchor(anchor_id) if isinstance(anchor_id, int) else None
        if anchor is None or anchor[0] != patient["id"]:
            raise cursors.invalid()
        after, page = (anchor[1], anchor_id), previous_page + 1
    rows = store_assessments.query_assessments(
        patient["id"],
        instrument,
        start=start,
        end=end,
        newest_first=order == "desc",
        after=after,
        limit=cursors.window(page_size, 0),
    )
    page_rows, meta = cursors.page_of(
        rows, page=page, page_size=page_size, skip=0, anchor=lambda a: a["id"], query_digest=query
    )
    meta.pop("page")  # the contract's assessment list pages by cursor only
    return {"assessments": [present(a) for a in page_rows], "meta": meta}


def _anchor(assessment_id: int) -> tuple[int, str] | None:
    """(patient id, completed_at) of a cursor's anchor, deleted or not."""
    found = store_assessments.get_assessment(assessment_id) or store_assessments.deleted_assessment(assessment_id)
    return (int(found["patient_id"]), found["completed_at"]) if found else None
