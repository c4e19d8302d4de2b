"""Gauge summaries: the scheduled job that keeps daily summaries current, and the summary query.

The job reads only what changed since its checkpoint (the `Changes` index: gauge writes and deletions
by hour), recomputes each affected patient, type and local day from the raw gauges, writes the days,
then advances the checkpoint. Recomputing from the raw gauges makes a run idempotent: a crash before
the checkpoint moves, or a second run over the same window, writes the same summaries again.
"""

from __future__ import annotations

import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from clinic import clock, store
from clinic.errors import ValidationFailed
from clinic.gauges import day_bounds, local_day, parse_range, zone

JOB = "gauge-summaries"
# Gauges created in the last minute may still be in flight (or not yet in the index): wait for them.
SETTLE = timedelta(seconds=60)
MAX_DAYS = 731

Day = tuple[int, str, date]  # patient id, gauge type, local day


def _hours(after: str, upto: str) -> Iterable[str]:
    hour = datetime.fromisoformat(after).replace(minute=0, second=0, microsecond=0)
    last = datetime.fromisoformat(upto)
    while hour <= last:
        yield hour.strftime("%Y-%m-%dT%H")
        hour += timedelta(hours=1)


def _stats(gauges: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    values = [float(g["value"]) for g in gauges]
    normalized = [
        (float(g["value"]) - float(g["scale_min"])) / (float(g["scale_max"]) - float(g["scale_min"])) for g in gauges
    ]
    last = gauges[-1]  # gauges come in time order
    return {
        "count": len(values),
        "min": min(values),
        "max": max(values),
        "sum": sum(values),
        "normalized_sum": sum(normalized),
        "last_value": float(last["value"]),
        "last_recorded_at": last["recorded_at"],
    }


class Run:
    """One run of the job; counts what it reads and writes (for logs and metrics, never values)."""

    def __init__(self, progress: Callable[[int, int], None] | None = None) -> None:
        self.progress = progress
        self.changes_read = 0
        self.gauges_read = 0
        self.days_recomputed = 0
        self.patients = 0

    def recompute(self, days: set[Day], patients: Mapping[int, Mapping[str, Any]]) -> None:
        by_patient: dict[int, set[tuple[str, date]]] = defaultdict(set)
        for patient_id, gauge_type, day in days:
            by_patient[patient_id].add((gauge_type, day))
        for done, (patient_id, patient_days) in enumerate(sorted(by_patient.items()), start=1):
            patient = patients.get(patient_id)
            if patient is not None:
                self._recompute_patient(patient, patient_days)
            if self.progress:
                self.progress(done, len(by_patient))
        self.patients += len(by_patient)

    def _recompute_patient(self, patient: Mapping[str, Any], days: set[tuple[str, date]]) -> None:
        tz = zone(patient)
        written, empty = [], []
        for gauge_type, day in sorted(days):
            start, end = day_bounds(day, day, tz)
            gauges = list(
                store.query_gauges(
                    patient["id"], gauge_type, start=start, end=end, newest_first=False, after=None, limit=1000
                )
            )
            self.gauges_read += len(gauges)
            if gauges:
                written.append({"gauge_type": gauge_type, "day": day.isoformat(), **_stats(gauges)})
            else:
                empty.append((day.isoformat(), gauge_type))
        store.put_day_summaries(patient["id"], written, empty)
        self.days_recomputed += len(days)


def _changed_days(run: Run, after: str, upto: str) -> tuple[set[Day], dict[int, dict[str, Any]]]:
    """The (patient, type, local day)s touched by gauge writes and deletions in (after, upto]."""
    touched: set[tuple[int, str, str]] = set()
    rezoned: set[int] = set()
    for hour in _hours(after, upto):
        for shard in range(store.CHANGE_SHARDS):
            for change in store.changes(hour, shard, after, upto):
                run.changes_read += 1
                if change["gauge_type"] == store.REZONED:
                    rezoned.add(int(change["patient_id"]))
                else:
                    touched.add((int(change["patient_id"]), change["gauge_type"], change["recorded_at"]))
    patients = store.get_patients(list({t[0] for t in touched} | rezoned))
    days = {
        (pid, gauge_type, local_day(recorded_at, zone(patients[pid])))
        for pid, gauge_type, recorded_at in touched
        if pid in patients and pid not in rezoned
    }
    for pid in rezoned & patients.keys():
        days |= _patient_days(run, patients[pid])
    return days, patients


def _patient_days(run: Run, patient: Mapping[str, Any]) -> set[Day]:
    """All of one patient's days: those its gauges fall on in its time zone now, and those it has
    summaries for (recomputing a day with no gauge left removes its summary)."""
    pid, tz = patient["id"], zone(patient)
    days: set[Day] = set()
    for gauge in store.query_gauges(pid, None, start=None, end=None, newest_first=False, after=None, limit=1000):
        run.changes_read += 1
        days.add((pid, gauge["gauge_type"], local_day(gauge["recorded_at"], tz)))
    for summary in store.day_summaries(pid, "0000-01-01", "9999-12-31"):
        days.add((pid, summary["gauge_type"], date.fromisoformat(summary["day"])))
    return days


def _all_days(run: Run) -> tuple[set[Day], dict[int, dict[str, Any]]]:
    """Every day of every patient, for a full rebuild: clinic by clinic, patient by patient (Query only)."""
    days: set[Day] = set()
    patients: dict[int, dict[str, Any]] = {}
    for patient in store.all_patients():
        days |= _patient_days(run, patient)
        patients[patient["id"]] = patient
    return days, patients


def run_job(full: bool = False, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """One run: incremental from the checkpoint, or a full rebuild (also the first run ever)."""
    started = time.monotonic()
    checkpoint = store.get_checkpoint(JOB)
    previous = checkpoint["through"] if checkpoint else None
    upto = clock.iso(clock.now() - SETTLE)
    run = Run(progress)
    full = full or previous is None
    days, patients = _all_days(run) if full else _changed_days(run, previous, upto)  # type: ignore[arg-type]
    run.recompute(days, patients)  # the patients read while finding the days: not read twice
    # If an overlapping run advanced the checkpoint first, both wrote the same summaries.
    with contextlib.suppress(store.ConditionFailed):
        store.put_checkpoint(JOB, upto, previous)
    return {
        "full": full,
        "complete_through": upto,
        "changes_read": run.changes_read,
        "gauges_read": run.gauges_read,
        "days_recomputed": run.days_recomputed,
        "patients": run.patients,
        "duration_ms": round((time.monotonic() - started) * 1000),
    }


# ---- the summary endpoint ----


def _round(value: float) -> int | float:
    rounded = round(value, 2)
    return int(rounded) if float(rounded).is_integer() else rounded


def _present(gauge_type: str, period: str, start: str, items: list[Mapping[str, Any]]) -> dict[str, Any]:
    """One period from its stored days, in one pass (this is most of the endpoint's own work)."""
    first = items[0]
    count, low, high = first["count"], first["min"], first["max"]
    total, normalized, last = first["sum"], first["normalized_sum"], first
    for item in items[1:]:
        count += item["count"]
        total += item["sum"]
        normalized += item["normalized_sum"]
        low, high = min(low, item["min"]), max(high, item["max"])
        if item["last_recorded_at"] > last["last_recorded_at"]:
            last = item
    return {
        "gauge_type": gauge_type,
        "period": period,
        "period_start": start,
        "count": count,
        "min": _round(low),
        "max": _round(high),
        "mean": _round(total / count),
        "normalized_mean": _round(normalized / count),
        "last_value": _round(last["last_value"]),
        "last_recorded_at": last["last_recorded_at"],
    }


def _monday(day: str) -> str:
    moment = date.fromisoformat(day)
    return (moment - timedelta(days=moment.weekday())).isoformat()


def summary(
    patient: Mapping[str, Any], *, gauge_type: str | None, start_date: str | None, end_date: str | None, period: str
) -> dict[str, Any]:
    """Day or week (Monday start) summaries from the stored days; defaults to the last 30 days / 12 weeks."""
    first, last = parse_range(start_date, end_date)
    last = last or clock.now().astimezone(zone(patient)).date()
    first = first or last - (timedelta(days=29) if period == "day" else timedelta(weeks=11))
    if period == "week":
        first -= timedelta(days=first.weekday())
        last += timedelta(days=6 - last.weekday())
    if (last - first).days > MAX_DAYS:
        raise ValidationFailed({"end_date": [f"must be within {MAX_DAYS} days of start_date"]})
    # Keyed by ISO day strings, which sort like the dates they name.
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for item in store.day_summaries(patient["id"], first.isoformat(), last.isoformat()):
        if gauge_type and item["gauge_type"] != gauge_type:
            continue
        start = _monday(item["day"]) if period == "week" else item["day"]
        groups[(start, item["gauge_type"])].append(item)
    checkpoint = store.get_checkpoint(JOB)
    return {
        "summaries": [_present(t, period, start, items) for (start, t), items in sorted(groups.items())],
        "meta": {"complete_through": checkpoint["through"] if checkpoint else None},
    }
