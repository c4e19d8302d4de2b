"""Gauge summaries: the scheduled job that keeps daily summaries current, and the summary query.

The job reads only what changed since its checkpoint (the `Changes` index: gauge writes and deletions
by hour), recomputes each affected patient, type and local day from the raw gauges, writes the days,
then advances the checkpoint. Recomputing from the raw gauges makes a run idempotent: a crash before
the checkpoint moves, or a second run over the same window, writes the same summaries again.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias
from zoneinfo import ZoneInfo

from clinic import clock, latest, store
from clinic.errors import ValidationFailed
from clinic.gauges import day_bounds, local_day, parse_range, shift, zone
from clinic.logger import logger
from clinic.store import alerts as alert_store

if TYPE_CHECKING:
    from clinic.store.items import PatientItem, SetAsideItem

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


def _point(gauge: Mapping[str, Any]) -> tuple[float, float]:
    """A gauge's value and its place on its scale (0 to 1); ValueError for an item that is not a gauge on a
    scale (written by hand, or by an older version), which the job then sets aside."""
    value, low, high = float(gauge["value"]), float(gauge["scale_min"]), float(gauge["scale_max"])
    if not (math.isfinite(value) and math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError("not a value on a scale")
    if not isinstance(gauge["recorded_at"], str):
        raise ValueError("recorded_at is not a time")
    return value, (value - low) / (high - low)


def _stats(gauges: Sequence[Mapping[str, Any]], points: Sequence[tuple[float, float]]) -> dict[str, Any]:
    values = [value for value, _ in points]
    last = gauges[-1]  # gauges come in time order
    return {
        "count": len(values),
        "min": min(values),
        "max": max(values),
        "sum": sum(values),
        "normalized_sum": sum(normalized for _, normalized in points),
        "last_value": points[-1][0],
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
        self.set_aside = 0
        self.latest_rewritten = 0

    @contextlib.contextmanager
    def item(self, source: tuple[str, str], patient_id: Any) -> Iterator[None]:
        """Reading one stored item (its table key is `source`): turning its fields into days and numbers, never
        a read or a write. If the item cannot be read so, it is set aside for an operator (`patients-admin
        summaries set-aside`) and the run goes on: one bad item must never stop the summaries of every
        clinic. Anything else that fails (a write, the storage) still stops the run, which resumes from the
        unmoved checkpoint."""
        try:
            yield
        except Exception as error:
            if store.is_storage_failure(error):
                raise
            self.set_aside += 1
            store.set_aside(JOB, source, patient_id=patient_id, error=type(error).__name__, at=clock.iso(clock.now()))
            logger.warning(
                "item set aside", extra={"job": JOB, "source_pk": source[0], "error_type": type(error).__name__}
            )

    def zones(self, patients: Mapping[int, Mapping[str, Any]]) -> dict[int, ZoneInfo]:
        """Each patient's time zone; a patient whose zone cannot be read is set aside, with all its days."""
        zones = {}
        for pid, patient in patients.items():
            with self.item(store.patient_key(pid), pid):
                zones[pid] = zone(patient)
        return zones

    def recompute(
        self, days: set[Day], patients: Mapping[int, Mapping[str, Any]], zones: Mapping[int, ZoneInfo]
    ) -> None:
        by_patient: dict[int, set[tuple[str, date]]] = defaultdict(set)
        for patient_id, gauge_type, day in days:
            by_patient[patient_id].add((gauge_type, day))
        for done, (patient_id, patient_days) in enumerate(sorted(by_patient.items()), start=1):
            patient = patients.get(patient_id)
            if patient is not None and patient_id in zones:
                self._recompute_patient(patient, zones[patient_id], patient_days)
            if self.progress:
                self.progress(done, len(by_patient))
        self.patients += len(by_patient)

    def _recompute_patient(self, patient: Mapping[str, Any], tz: ZoneInfo, days: set[tuple[str, date]]) -> None:
        written, empty = [], []
        for gauge_type, day in sorted(days):
            start, end = day_bounds(day, day, tz)
            gauges, points = [], []
            for gauge in store.query_gauges(
                patient["id"], gauge_type, start=start, end=end, newest_first=False, after=None, limit=1000
            ):
                self.gauges_read += 1
                with self.item(store.gauge_key_of(gauge), patient["id"]):
                    points.append(_point(gauge))
                    gauges.append(gauge)
            if gauges:
                written.append({"gauge_type": gauge_type, "day": day.isoformat(), **_stats(gauges, points)})
            else:
                empty.append((day.isoformat(), gauge_type))
        # Not inside `item`: a failed write is the storage's failure, and the run must stop before its checkpoint.
        # The clinic rules' day means are set to the same sums: what repairs a batch whose day means were
        # written after its gauges, a deletion, and a time zone change.
        means = alert_store.day_mean_writes(patient["id"], written, empty)
        store.put_day_summaries(patient["id"], written, empty, means)
        self.days_recomputed += len(days)
        # The latest values of the same types, re-derived from the gauges: repairs a full batch whose entries were
        # not written after its gauges (a crash between the two writes), within one schedule.
        self.latest_rewritten += latest.refresh(patient["id"], sorted({gauge_type for gauge_type, _ in days}))


Found: TypeAlias = "tuple[set[Day], dict[int, PatientItem], dict[int, ZoneInfo]]"  # days, their patients and zones


def _changed_days(run: Run, after: str, upto: str) -> Found:
    """The (patient, type, local day)s touched by gauge writes and deletions in (after, upto]."""
    touched: dict[tuple[int, str, str], tuple[str, str]] = {}  # (patient, type, recorded_at) -> changed item
    rezoned: set[int] = set()
    for hour in _hours(after, upto):
        for shard in range(store.CHANGE_SHARDS):
            for change in store.changes(hour, shard, after, upto):
                run.changes_read += 1
                source = (change["pk"], change["sk"])
                with run.item(source, change.get("patient_id")):
                    if change["gauge_type"] == store.REZONED:
                        rezoned.add(int(change["patient_id"]))
                    else:
                        touched[(int(change["patient_id"]), change["gauge_type"], change["recorded_at"])] = source
    patients = store.get_patients(list({t[0] for t in touched} | rezoned))
    zones = run.zones(patients)
    days: set[Day] = set()
    for (pid, gauge_type, recorded_at), source in touched.items():
        if pid in zones and pid not in rezoned:
            with run.item(source, pid):
                days.add((pid, gauge_type, local_day(recorded_at, zones[pid])))
    for pid in rezoned & zones.keys():
        days |= _patient_days(run, patients[pid], zones[pid])
    return days, patients, zones


def _patient_days(run: Run, patient: Mapping[str, Any], tz: ZoneInfo) -> set[Day]:
    """All of one patient's days: those its gauges fall on in its time zone now, and those it has
    summaries for (recomputing a day with no gauge left removes its summary)."""
    pid = patient["id"]
    days: set[Day] = set()
    for gauge in store.query_gauges(pid, None, start=None, end=None, newest_first=False, after=None, limit=1000):
        run.changes_read += 1
        with run.item(store.gauge_key_of(gauge), pid):
            days.add((pid, gauge["gauge_type"], local_day(gauge["recorded_at"], tz)))
    for summary in store.day_summaries(pid, "0000-01-01", "9999-12-31"):
        with run.item((summary["pk"], summary["sk"]), pid):
            days.add((pid, summary["gauge_type"], date.fromisoformat(summary["day"])))
    return days


def _all_days(run: Run) -> Found:
    """Every day of every patient, for a full rebuild: clinic by clinic, patient by patient (Query only)."""
    days: set[Day] = set()
    patients: dict[int, PatientItem] = {}
    zones: dict[int, ZoneInfo] = {}
    for patient in store.all_patients():
        patients[patient["id"]] = patient
        zones |= run.zones({patient["id"]: patient})
        if patient["id"] in zones:
            days |= _patient_days(run, patient, zones[patient["id"]])
    return days, patients, zones


def run_job(full: bool = False, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """One run: incremental from the checkpoint, or a full rebuild (also the first run ever)."""
    started = time.monotonic()
    checkpoint = store.get_checkpoint(JOB)
    previous = checkpoint["through"] if checkpoint else None
    upto = clock.iso(clock.now() - SETTLE)
    run = Run(progress)
    if full or previous is None:  # a rebuild, or the first run ever
        full = True
        days, patients, zones = _all_days(run)
    else:
        days, patients, zones = _changed_days(run, previous, upto)
    run.recompute(days, patients, zones)  # the patients read while finding the days: not read twice
    # If an overlapping run advanced the checkpoint first, both wrote the same summaries. Items set aside
    # do not hold the checkpoint back: they wait for an operator, not for the next run.
    with contextlib.suppress(store.ConditionFailed):
        store.put_checkpoint(JOB, upto, previous)
    return {
        "full": full,
        "complete_through": upto,
        "changes_read": run.changes_read,
        "gauges_read": run.gauges_read,
        "days_recomputed": run.days_recomputed,
        "patients": run.patients,
        "set_aside": run.set_aside,
        "latest_rewritten": run.latest_rewritten,
        "duration_ms": round((time.monotonic() - started) * 1000),
    }


def set_aside_items() -> list[SetAsideItem]:
    """What the job set aside, for an operator: the item's table key, patient, error type and when."""
    return list(store.set_aside_items(JOB))


# ---- the summary endpoint ----


def _round(value: float) -> int | float:
    if type(value) is int:
        return value
    rounded = round(value, 2)
    return int(rounded) if rounded.is_integer() else rounded


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
    first = first or shift(last, -29 if period == "day" else -77)
    # A start after today without an end leaves first > last: nothing to summarise, whatever the period (a
    # week would otherwise widen the range back over today). The store reads nothing for such a range.
    if period == "week" and first <= last:
        first, last = shift(first, -first.weekday()), shift(last, 6 - last.weekday())
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
