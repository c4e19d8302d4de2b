"""The scheduled summary job: late gauges and deletions change the right day, a crashed run recovers to
exactly a clean run's summaries, runs are idempotent, cost follows new data, the numbers are right
(property test), and the Lambda reports counts (never values) as Powertools metrics."""

from __future__ import annotations

import json
import os
import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from clinic import gauges, store, summaries
from clinic.models.gauges import DEFAULT_SCALES
from clinic.settings import dynamodb
from clinic.store import alerts as alert_store
from clinic.store import keys, table
from gauge_support import Clinic, fast_moto_queries, metered, new_clinic, stored_days, straight_into_moto
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import at, frozen, without_random_ids_and_times

from local.events import scheduled_event

T0 = at("2024-03-20T12:00:00Z")
AFTER_SETTLE = summaries.SETTLE + timedelta(seconds=1)


@pytest.fixture
def clinic(aws: Any) -> Clinic:
    return new_clinic()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def record(clinic: Clinic, patient: dict[str, Any], when: datetime, batch: list[dict[str, Any]]) -> list[dict]:
    with frozen(when):
        status, body = clinic.call("POST", f"/v1/patients/{patient['id']}/gauges", {"gauges": batch})
    assert status == 201, body
    return body["gauges"]


def run(when: datetime, **kwargs: Any) -> dict[str, Any]:
    with frozen(when + AFTER_SETTLE):
        return summaries.run_job(**kwargs)


def summary(clinic: Clinic, patient: dict[str, Any], query: str) -> dict[str, Any]:
    status, body = clinic.call("GET", f"/v1/patients/{patient['id']}/gauges/summary?{query}")
    assert status == 200, body
    return body


def stored(patient_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every stored day summary, as items."""
    return {pid: list(store.day_summaries(pid, "0000-01-01", "9999-12-31")) for pid in patient_ids}


def by_day(body: dict[str, Any]) -> dict[str, tuple[int, Any, Any]]:
    return {s["period_start"]: (s["count"], s["mean"], s["last_value"]) for s in body["summaries"]}


def test_late_gauges_and_deletions_change_the_right_day(clinic: Clinic) -> None:
    patient = clinic.patient(time_zone="America/New_York")
    first = record(
        clinic,
        patient,
        T0,
        [
            {"gauge_type": "mood", "value": 4, "recorded_at": "2024-03-17T14:00:00Z"},
            {"gauge_type": "mood", "value": 6, "recorded_at": "2024-03-18T14:00:00Z"},
            {"gauge_type": "mood", "value": 8, "recorded_at": "2024-03-18T20:00:00Z"},
            {"gauge_type": "mood", "value": 9, "recorded_at": "2024-03-19T14:00:00Z"},
        ],
    )
    result = run(T0)
    assert result["full"] is True  # the first run ever rebuilds
    query = "gauge_type=mood&start_date=2024-03-01&end_date=2024-03-31"
    assert by_day(summary(clinic, patient, query)) == {
        "2024-03-17": (1, 4, 4),
        "2024-03-18": (2, 7, 8),
        "2024-03-19": (1, 9, 9),
    }
    before = stored([patient["id"]])[patient["id"]]

    # Three hours later a gauge arrives for two days ago (local), and another day is untouched.
    later = T0 + timedelta(hours=3)
    record(clinic, patient, later, [{"gauge_type": "mood", "value": 1, "recorded_at": "2024-03-18T03:59:00Z"}])
    # 03:59Z is 23:59 on the 17th in New York (EDT, UTC-4).
    result = run(later)
    assert (result["full"], result["changes_read"], result["gauges_read"], result["days_recomputed"]) == (
        False,
        1,
        2,
        1,
    )
    assert by_day(summary(clinic, patient, query)) == {
        "2024-03-17": (2, 2.5, 1),
        "2024-03-18": (2, 7, 8),
        "2024-03-19": (1, 9, 9),
    }
    after = stored([patient["id"]])[patient["id"]]
    assert [i for i in after if i["day"] != "2024-03-17"] == [i for i in before if i["day"] != "2024-03-17"]

    # Deletions: one of two gauges of the 18th, then the only gauge of the 19th (its day disappears).
    even_later = later + timedelta(hours=1)
    with frozen(even_later):
        assert clinic.call("DELETE", f"/v1/patients/{patient['id']}/gauges/{first[2]['id']}")[0] == 204
        assert clinic.call("DELETE", f"/v1/patients/{patient['id']}/gauges/{first[3]['id']}")[0] == 204
    result = run(even_later)
    assert result["days_recomputed"] == 2
    body = summary(clinic, patient, query)
    assert by_day(body) == {"2024-03-17": (2, 2.5, 1), "2024-03-18": (1, 6, 6)}
    assert [i["day"] for i in stored([patient["id"]])[patient["id"]]] == ["2024-03-17", "2024-03-18"]
    # meta.complete_through is the checkpoint: this run's instant minus the settle window.
    assert body["meta"]["complete_through"] == _iso(even_later + AFTER_SETTLE - summaries.SETTLE)
    assert body["meta"]["complete_through"] == store.get_checkpoint(summaries.JOB)["through"]


def test_weeks_start_on_monday(clinic: Clinic) -> None:
    patient = clinic.patient()
    days = ["2024-03-10", "2024-03-11", "2024-03-13", "2024-03-17", "2024-03-18"]  # Sun, Mon, Wed, Sun, Mon
    record(
        clinic,
        patient,
        T0,
        [{"gauge_type": "pain", "value": i, "recorded_at": f"{d}T10:00:00Z"} for i, d in enumerate(days)],
    )
    run(T0)
    body = summary(clinic, patient, "period=week&start_date=2024-03-01&end_date=2024-03-31")
    assert [(s["period"], s["period_start"], s["count"], s["min"], s["max"]) for s in body["summaries"]] == [
        ("week", "2024-03-04", 1, 0, 0),
        ("week", "2024-03-11", 3, 1, 3),
        ("week", "2024-03-18", 1, 4, 4),
    ]
    assert all(date.fromisoformat(s["period_start"]).weekday() == 0 for s in body["summaries"])
    # A range starting mid-week still reports the whole week it starts in.
    assert (
        summary(clinic, patient, "period=week&start_date=2024-03-13&end_date=2024-03-13")["summaries"][0]["count"] == 3
    )
    # ... and ends with that week's Sunday: not a day of the next week (the 18th holds a gauge).
    assert [
        (s["period_start"], s["count"])
        for s in summary(clinic, patient, "period=week&start_date=2024-03-13&end_date=2024-03-13")["summaries"]
    ] == [("2024-03-11", 3)]
    # A start after today without an end has nothing to report, even when today is in the week it starts in
    # (T0 is a Wednesday; the week of 2024-03-18 holds a gauge).
    with frozen(T0):
        assert summary(clinic, patient, "period=week&start_date=2024-03-21")["summaries"] == []
        assert summary(clinic, patient, "period=day&start_date=2024-03-21")["summaries"] == []


def test_the_default_window_is_the_last_30_days_or_12_weeks_through_the_patients_today(clinic: Clinic) -> None:
    """Without start_date and end_date: the last 30 days through today, or the 12 weeks (Monday to Sunday)
    through this week, today being the date in the PATIENT's time zone. At 12:00Z on Sunday 17 March 2024 it is
    already Monday the 18th at Kiritimati (UTC+14): the day window is 18 February to 18 March, the weekly one
    the weeks of 1 January to 18 March."""
    patient = clinic.patient(time_zone="Pacific/Kiritimati")
    now = at("2024-03-17T12:00:00Z")
    local_days = ["2023-12-31", "2024-01-01", "2024-02-17", "2024-02-18", "2024-03-18"]  # Sun, Mon, Sat, Sun, Mon
    record(
        clinic,
        patient,
        now,
        [{"gauge_type": "mood", "value": 5, "recorded_at": f"{d}T01:00:00+14:00"} for d in local_days]
        + [{"gauge_type": "anxiety", "value": 5, "recorded_at": "2024-02-18T01:00:00+14:00"}],
    )
    run(now)

    def window(query: str) -> list[tuple[str, str, int]]:
        with frozen(now + AFTER_SETTLE):
            body = summary(clinic, patient, query)
        return [(s["period_start"], s["gauge_type"], s["count"]) for s in body["summaries"]]

    assert window("") == [("2024-02-18", "anxiety", 1), ("2024-02-18", "mood", 1), ("2024-03-18", "mood", 1)]
    assert window("period=day") == window("")
    # A type filter skips the other types' days and goes on (anxiety sorts before mood on the 18th).
    assert window("gauge_type=mood") == [("2024-02-18", "mood", 1), ("2024-03-18", "mood", 1)]
    assert window("period=week") == [
        ("2024-01-01", "mood", 1),
        ("2024-02-12", "anxiety", 1),
        ("2024-02-12", "mood", 2),
        ("2024-03-18", "mood", 1),
    ]
    # An end without a start: the window ends there instead of today.
    assert window("end_date=2024-03-17") == [
        ("2024-02-17", "mood", 1),
        ("2024-02-18", "anxiety", 1),
        ("2024-02-18", "mood", 1),
    ]


def test_summary_numbers_are_rounded_to_two_decimals(clinic: Clinic) -> None:
    """Mood 1, 1 and 2 on one day (scale 1-10): mean 4/3 and normalized mean 1/27, each to two decimals."""
    patient = clinic.patient()
    moods = [(8, 1), (9, 1), (10, 2)]
    record(
        clinic,
        patient,
        T0,
        [{"gauge_type": "mood", "value": v, "recorded_at": f"2024-03-18T{h:02d}:00:00Z"} for h, v in moods],
    )
    run(T0)
    numbers = {
        "gauge_type": "mood",
        "count": 3,
        "min": 1,
        "max": 2,
        "mean": 1.33,
        "normalized_mean": 0.04,
        "last_value": 2,
        "last_recorded_at": "2024-03-18T10:00:00.000Z",
    }
    day = summary(clinic, patient, "start_date=2024-03-18&end_date=2024-03-18")["summaries"]
    assert day == [{**numbers, "period": "day", "period_start": "2024-03-18"}]
    week = summary(clinic, patient, "period=week&start_date=2024-03-18&end_date=2024-03-18")["summaries"]
    assert week == [{**numbers, "period": "week", "period_start": "2024-03-18"}]  # a Monday
    # Whole numbers are JSON integers (1, not 1.0).
    assert [type(day[0][k]) for k in ("min", "max", "last_value")] == [int, int, int]


def test_a_week_sums_its_days(clinic: Clinic) -> None:
    """Mood 2, 4 and 9 on three days of one week: the week's numbers come from all three days."""
    patient = clinic.patient()
    days = [("2024-03-11", 2), ("2024-03-12", 4), ("2024-03-13", 9)]
    record(
        clinic,
        patient,
        T0,
        [{"gauge_type": "mood", "value": v, "recorded_at": f"{d}T10:00:00Z"} for d, v in days],
    )
    run(T0)
    (week,) = summary(clinic, patient, "period=week&start_date=2024-03-11&end_date=2024-03-17")["summaries"]
    assert week == {
        "gauge_type": "mood",
        "period": "week",
        "period_start": "2024-03-11",
        "count": 3,
        "min": 2,
        "max": 9,
        "mean": 5,
        "normalized_mean": 0.44,  # (1/9 + 3/9 + 8/9) / 3
        "last_value": 9,
        "last_recorded_at": "2024-03-13T10:00:00.000Z",
    }
    assert type(week["mean"]) is int  # 15 / 3 is sent as 5, not 5.0


def _three_patients(clinic: Clinic) -> list[dict[str, Any]]:
    patients = [clinic.patient(time_zone=tz, first_name=tz[:3]) for tz in ("UTC", "Asia/Tokyo", "America/Chicago")]
    for n, patient in enumerate(patients):
        batch = [
            {"gauge_type": kind, "value": 1 + (n + i) % 10, "recorded_at": _iso(T0 - timedelta(hours=7 * i + n))}
            for i in range(12)
            for kind in ("mood", "sleep_quality")
        ]
        record(clinic, patient, T0, batch)
    return patients


def test_an_interrupted_run_then_a_rerun_equals_a_clean_run(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    run(T0 - timedelta(hours=1))  # an earlier run sets the checkpoint, before these gauges are created
    patients = _three_patients(clinic)
    ids = [p["id"] for p in patients]
    checkpoint = store.get_checkpoint(summaries.JOB)

    real_put, calls = store.put_day_summaries, []

    def crash_after_first_patient(patient_id: int, *args: Any) -> None:
        if calls:
            raise RuntimeError("Lambda timed out")
        calls.append(patient_id)
        real_put(patient_id, *args)

    monkeypatch.setattr(store, "put_day_summaries", crash_after_first_patient)
    with pytest.raises(RuntimeError):
        run(T0)
    partial = stored(ids)
    assert len(partial[calls[0]]) > 0 and sum(1 for pid in ids if partial[pid]) == 1
    assert store.get_checkpoint(summaries.JOB) == checkpoint  # the checkpoint did not move

    monkeypatch.setattr(store, "put_day_summaries", real_put)
    result = run(T0 + timedelta(minutes=5))
    assert result["full"] is False and result["patients"] == 3
    recovered = stored(ids)

    # A clean run: no summaries at all, rebuilt from the raw gauges.
    store.batch_write(
        [
            {"DeleteRequest": {"Key": {"pk": {"S": i["pk"]}, "sk": {"S": i["sk"]}}}}
            for items in recovered.values()
            for i in items
        ]
    )
    assert all(not items for items in stored(ids).values())
    run(T0 + timedelta(minutes=10), full=True)
    assert stored(ids) == recovered
    assert all(len(recovered[pid]) >= 2 for pid in ids)


def test_two_runs_in_a_row_change_nothing(clinic: Clinic) -> None:
    patients = _three_patients(clinic)
    ids = [p["id"] for p in patients]
    run(T0)
    first, checkpoint = stored(ids), store.get_checkpoint(summaries.JOB)
    second = run(T0 + timedelta(minutes=15))
    assert (second["changes_read"], second["gauges_read"], second["days_recomputed"]) == (0, 0, 0)
    assert stored(ids) == first
    assert store.get_checkpoint(summaries.JOB)["through"] > checkpoint["through"]
    # The same window again (as after a crash before the checkpoint moved) writes the same summaries.
    dynamodb().delete_item(TableName=table.name(), Key=table.encode_key(keys.checkpoint(summaries.JOB)))
    store.put_checkpoint(summaries.JOB, _iso(T0 - timedelta(hours=1)), None)
    again = run(T0 + timedelta(minutes=30))
    assert again["days_recomputed"] > 0
    assert stored(ids) == first


def test_a_window_that_ends_on_the_hour_reads_that_hours_changes(clinic: Clinic) -> None:
    """The job reads the Changes index hour by hour, from its checkpoint's hour through the hour its window ends
    in, that one included: changes made exactly on the hour that ends the window are read, each counted."""
    patient = clinic.patient()
    hour = at("2024-03-20T13:00:00Z")
    with frozen(hour - timedelta(milliseconds=1) + summaries.SETTLE):
        assert summaries.run_job()["complete_through"] == "2024-03-20T12:59:59.999Z"
    mood, pain = ({"gauge_type": kind, "value": 4, "recorded_at": "2024-03-20T11:00:00Z"} for kind in ("mood", "pain"))
    record(clinic, patient, hour, [mood, pain])
    with frozen(hour + summaries.SETTLE):
        result = summaries.run_job()
    assert (result["complete_through"], result["changes_read"], result["days_recomputed"]) == (
        "2024-03-20T13:00:00.000Z",
        2,
        2,
    )
    assert stored_days(patient["id"]) == {"2024-03-20": 1}  # mood's; pain's day is another item of the same day


def test_a_new_time_zone_moves_all_of_the_patients_days(clinic: Clinic) -> None:
    """Changing a patient's zone recomputes every day the patient has, in the new zone: a day that no gauge
    falls on any more loses its summary, also when a new gauge arrives in the same window; another patient's
    new gauge of that window is summarized as well."""
    patient, other = clinic.patient(), clinic.patient(first_name="Other")  # both UTC
    record(clinic, patient, T0, [{"gauge_type": "mood", "value": 4, "recorded_at": "2024-03-18T23:30:00Z"}])
    run(T0)
    assert stored_days(patient["id"]) == {"2024-03-18": 1}

    later = T0 + timedelta(hours=1)
    with frozen(later):
        status, body = clinic.call("PUT", f"/v1/patients/{patient['id']}", {"patient": {"time_zone": "Asia/Tokyo"}})
    assert (status, body["time_zone"]) == (200, "Asia/Tokyo")
    record(clinic, patient, later, [{"gauge_type": "mood", "value": 6, "recorded_at": "2024-03-19T10:00:00Z"}])
    record(clinic, other, later, [{"gauge_type": "mood", "value": 2, "recorded_at": "2024-03-20T09:00:00Z"}])
    result = run(later)
    # 23:30Z on the 18th is 08:30 on the 19th in Tokyo, and 10:00Z is 19:00 there: one day of two gauges.
    assert stored_days(patient["id"]) == {"2024-03-19": 2}
    assert stored_days(other["id"]) == {"2024-03-20": 1}
    # The clinic rules' day means move with them (each gauge wrote its own day's when it was recorded).
    assert alert_store.day_means(patient["id"], "mood", "2024-03-01", "2024-03-31") == {"2024-03-19": (10.0, 2)}
    # Read: the three changes (the new zone, two new gauges), then all of the patient's gauges (two); recomputed:
    # the patient's 18th (now empty) and 19th, the other's 20th.
    assert (result["changes_read"], result["days_recomputed"]) == (5, 3)


# The acceptance size; SUMMARY_COST_OLD_GAUGES makes a quicker local run.
OLD = int(os.environ.get("SUMMARY_COST_OLD_GAUGES", "100000"))
NEW = 1000


@pytest.mark.slow
def test_cost_follows_new_gauges_not_history(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 new gauges on top of OLD (100,000) old ones:
    the run reads the 1,000 changes and the gauges of the days they touch, nothing of the rest of history."""
    fast_moto_queries(monkeypatch)
    patients = [clinic.patient(first_name=f"P{i}") for i in range(20)]
    kinds, rng = list(DEFAULT_SCALES), random.Random(5)
    last_id = store.reserve_ids("gauge", OLD + NEW)
    history_start = T0 - timedelta(days=730)

    def gauge(n: int, recorded: datetime, created: datetime) -> dict[str, Any]:
        kind = kinds[n % len(kinds)]
        low, high = DEFAULT_SCALES[kind]
        return {
            "id": last_id - OLD - NEW + 1 + n,
            "patient_id": patients[rng.randrange(20)]["id"],
            "gauge_type": kind,
            "value": rng.randint(int(low), int(high)),
            "scale_min": low,
            "scale_max": high,
            "recorded_at": _iso(recorded),
            "notes": None,
            "created_at": _iso(created),
            "created_by": clinic.caller.user_id,
        }

    old = []
    for n in range(OLD):
        recorded = history_start + timedelta(seconds=rng.randrange(730 * 86400))
        old.append(gauge(n, recorded, recorded))
    # History is setup, not what is measured: straight into moto's backend, not 4,000
    # BatchWriteItem round trips. The new gauges below go through the client.
    with straight_into_moto() as write:
        store.import_gauges(old, write=write)
    # Earlier runs summarized all of that: the checkpoint stands at T0.
    store.put_checkpoint(summaries.JOB, _iso(T0), None)

    created = T0 + timedelta(minutes=10)
    new = [gauge(OLD + n, created - timedelta(seconds=rng.randrange(3 * 86400)), created) for n in range(NEW)]
    store.import_gauges(new)

    with metered() as meter:
        result = run(created)
    assert result["changes_read"] == NEW
    touched = {(g["patient_id"], g["gauge_type"], g["recorded_at"][:10]) for g in new}
    on_touched_days = [g for g in old + new if (g["patient_id"], g["gauge_type"], g["recorded_at"][:10]) in touched]
    assert result["days_recomputed"] == len(touched)
    assert result["gauges_read"] == len(on_touched_days)
    assert meter.by_index["Changes"] == NEW
    # The touched days' gauges, and for the latest values of each touched type its newest 2: nothing else.
    latest_reads = 2 * len({(pid, kind) for pid, kind, _ in touched})
    assert meter.by_index["table"] == len(on_touched_days) + latest_reads
    assert meter.scanned <= 3 * NEW, dict(meter.by_index)
    print(f"old={OLD} new={NEW}: read {meter.scanned} items in {meter.calls} queries ({dict(meter.by_index)})")

    # Spot check: one touched day's summary is right.
    pid, kind, day = sorted(touched)[0]
    values = [
        g["value"]
        for g in on_touched_days
        if (g["patient_id"], g["gauge_type"], g["recorded_at"][:10]) == (pid, kind, day)
    ]
    (item,) = [i for i in store.day_summaries(pid, day, day) if i["gauge_type"] == kind]
    assert (item["count"], item["min"], item["max"], item["sum"]) == (
        len(values),
        min(values),
        max(values),
        sum(values),
    )


# ---- the numbers equal a straightforward recomputation ----

SCALES = {"mood": (1, 10), "steps": (0, 20), "medication_adherence": (0, 100)}
ZONES = ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham", "Europe/London"]
_gauge = st.tuples(
    st.sampled_from(sorted(SCALES)),
    st.integers(min_value=0, max_value=200),  # value in half steps above scale_min
    st.integers(min_value=0, max_value=21 * 24 * 60 - 1),  # minute within three weeks
)


def _expected(patient_gauges: list[dict[str, Any]], tz: str, period: str) -> list[dict[str, Any]]:
    groups: dict[tuple[date, str], list[dict[str, Any]]] = defaultdict(list)
    for g in patient_gauges:
        day = datetime.fromisoformat(g["recorded_at"]).astimezone(ZoneInfo(tz)).date()
        start = day - timedelta(days=day.weekday()) if period == "week" else day
        groups[(start, g["gauge_type"])].append(g)
    out = []
    for (start, kind), items in sorted(groups.items()):
        values = [Fraction(str(g["value"])) for g in items]
        normalized = [
            (v - g["scale_min"]) / (g["scale_max"] - g["scale_min"]) for v, g in zip(values, items, strict=True)
        ]
        last = max(items, key=lambda g: (g["recorded_at"], g["id"]))
        out.append(
            {
                "gauge_type": kind,
                "period": period,
                "period_start": start.isoformat(),
                "count": len(items),
                "min": float(min(values)),
                "max": float(max(values)),
                "mean": round(float(sum(values) / len(values)), 2),
                "normalized_mean": sum(normalized) / len(normalized),
                "last_value": float(last["value"]),
                "last_recorded_at": last["recorded_at"],
            }
        )
    return out


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    tz=st.sampled_from(ZONES),
    raw=st.lists(_gauge, min_size=1, max_size=25),
    deletions=st.integers(0, 3),
    data=st.data(),
)
def test_summary_numbers_equal_a_recomputation(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch, tz: str, raw: list[tuple], deletions: int, data: Any
) -> None:
    fast_moto_queries(monkeypatch)
    state = clinic.__dict__.setdefault("_property", {"now": T0 + timedelta(days=30)})
    state["now"] += timedelta(hours=1)
    now = state["now"]
    patient = clinic.patient(time_zone=tz)
    start = at("2024-03-01T00:00:00Z")
    last_id = store.reserve_ids("gauge", len(raw))
    rows = []
    for n, (kind, steps, minute) in enumerate(raw):
        low, high = SCALES[kind]
        value = min(low + steps / 2, high)
        value = int(value) if value == int(value) else value
        rows.append(
            {
                "id": last_id - len(raw) + 1 + n,
                "patient_id": patient["id"],
                "gauge_type": kind,
                "value": value,
                "scale_min": low,
                "scale_max": high,
                "recorded_at": _iso(start + timedelta(minutes=minute)),
                "notes": None,
                "created_at": _iso(now),
                "created_by": clinic.caller.user_id,
            }
        )
    store.import_gauges(rows)
    run(now)
    # Some deleted afterwards: the next run forgets them.
    doomed = data.draw(st.lists(st.sampled_from(rows), max_size=deletions, unique_by=lambda g: g["id"])) if rows else []
    with frozen(now + timedelta(minutes=5)):
        for g in doomed:
            gauges.delete(patient, str(g["id"]))
    run(now + timedelta(minutes=5))
    kept = [g for g in rows if g not in doomed]

    for period in ("day", "week"):
        body = summaries.summary(
            patient, gauge_type=None, start_date="2024-02-20", end_date="2024-03-31", period=period
        )
        expected = _expected(kept, tz, period)
        got = body["summaries"]
        assert [{k: v for k, v in s.items() if k != "normalized_mean"} for s in got] == [
            {k: v for k, v in e.items() if k != "normalized_mean"} for e in expected
        ]
        for s, e in zip(got, expected, strict=True):
            assert abs(s["normalized_mean"] - float(e["normalized_mean"])) <= 0.005 + 1e-9


# ---- the Lambda: structured logs and metrics, no PHI ----


def test_the_scheduled_lambda_reports_counts_not_values(clinic: Clinic, capsys: pytest.CaptureFixture[str]) -> None:
    patient = clinic.patient(first_name="Zebulon")
    record(
        clinic,
        patient,
        T0,
        [
            {"gauge_type": "mood", "value": 7.25, "notes": "secret-note-xyzzy", "recorded_at": "2024-03-19T10:00:00Z"},
            {
                "gauge_type": "pain",
                "value": 3.75,
                "notes": "another-secret-note",
                "recorded_at": "2024-03-18T10:00:00Z",
            },
        ],
    )
    capsys.readouterr()
    with frozen(T0 + AFTER_SETTLE):
        result = clinic.gateway.invoke("SummarizeGaugesFunction", scheduled_event("summaries-every-15-minutes"))
    out = capsys.readouterr().out
    documents = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    (emf,) = [d for d in documents if "_aws" in d]
    names = {m["Name"]: m.get("Unit") for directive in emf["_aws"]["CloudWatchMetrics"] for m in directive["Metrics"]}
    assert {"GaugesRead", "DaysRecomputed", "Duration"} <= names.keys()
    assert names["Duration"] == "Milliseconds"
    assert (emf["GaugesRead"], emf["DaysRecomputed"]) == ([2.0], [2.0])
    assert result["gauges_read"] == 2 and result["days_recomputed"] == 2
    (log,) = [d for d in documents if d.get("message") == "gauge summaries updated"]
    assert log["gauges_read"] == 2 and log["level"] == "INFO"
    for secret in ("secret-note", "another-secret", "7.25", "3.75", "Zebulon", "mood", "pain"):
        assert secret not in without_random_ids_and_times(out), secret
