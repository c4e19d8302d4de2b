"""Gauges through the API: record, list (filters, order, pages, cursors), delete; local days in the
patient's time zone; and what a query reads at 50,000 gauges, measured through DynamoDB's ScannedCount."""

from __future__ import annotations

import base64
import json
import os
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clinic import accounts, alert_rules, gauges, instruments, store, summaries
from clinic.models.alert_rules import NewAlertRule
from clinic.models.gauges import DEFAULT_SCALES
from clinic.store import alerts as alert_store
from clinic.store import keys, table
from gauge_support import Clinic, fast_moto_queries, metered, new_clinic, straight_into_moto
from support import Client, at, frozen

from local.moto_server import faster_transactions

NOW = "2024-03-10T12:00:00.000Z"


@pytest.fixture
def clinic(aws: Any) -> Clinic:
    return new_clinic()


def _path(patient: dict[str, Any], suffix: str = "") -> str:
    return f"/v1/patients/{patient['id']}/gauges{suffix}"


def _list(clinic: Clinic, patient: dict[str, Any], query: str = "") -> dict[str, Any]:
    status, body = clinic.call("GET", _path(patient, f"?{query}"))
    assert status == 200, body
    return body


def test_record_one_gauge_with_defaults(clinic: Clinic) -> None:
    patient = clinic.patient()
    with frozen(NOW):
        status, gauge = clinic.call("POST", _path(patient), {"gauge": {"gauge_type": "pain", "value": 3.5}})
    assert status == 201
    assert gauge == {
        "id": gauge["id"],
        "patient_id": patient["id"],
        "gauge_type": "pain",
        "value": 3.5,
        "scale_min": 0,
        "scale_max": 10,
        "recorded_at": NOW,
        "notes": None,
        "source": "staff",
        "recorded_by": clinic.caller.user_id,
        "created_at": NOW,
    }
    assert isinstance(gauge["id"], int) and gauge["id"] > 0
    # Whole numbers are JSON integers (10, not 10.0: equal in Python, not in the body a client parses).
    assert [type(gauge[k]) for k in ("value", "scale_min", "scale_max")] == [float, int, int]
    assert _list(clinic, patient)["gauges"] == [gauge]
    # The item keeps who created it (store.items.GaugeItem), as every item of the table does.
    item = table.get(keys.gauge(patient["id"], "pain", NOW, gauge["id"])) or {}
    assert (item.get("created_by"), item.get("recorded_by")) == (clinic.caller.user_id, clinic.caller.user_id)


def test_record_a_batch_and_an_explicit_scale(clinic: Clinic) -> None:
    patient = clinic.patient()
    batch = [
        {
            "gauge_type": "steps",
            "value": 8000,
            "scale_min": 0,
            "scale_max": 20000,
            "recorded_at": "2024-03-09T08:00:00Z",
        },
        {"gauge_type": "mood", "value": 7, "notes": "Feeling better today", "recorded_at": "2024-03-09T09:00:00+01:00"},
    ]
    with frozen(NOW):
        status, body = clinic.call("POST", _path(patient), {"gauges": batch})
    assert status == 201
    assert [
        (g["gauge_type"], g["value"], g["scale_min"], g["scale_max"], g["recorded_at"], g["notes"])
        for g in body["gauges"]
    ] == [
        ("steps", 8000, 0, 20000, "2024-03-09T08:00:00.000Z", None),
        ("mood", 7, 1, 10, "2024-03-09T08:00:00.000Z", "Feeling better today"),
    ]
    assert len({g["id"] for g in body["gauges"]}) == 2
    assert {g["created_at"] for g in body["gauges"]} == {NOW}


def test_default_scales_of_the_common_types(clinic: Clinic) -> None:
    patient = clinic.patient()
    with frozen(NOW):
        status, body = clinic.call(
            "POST",
            _path(patient),
            {"gauges": [{"gauge_type": t, "value": low} for t, (low, _) in DEFAULT_SCALES.items()]},
        )
    assert status == 201
    assert {g["gauge_type"]: (g["scale_min"], g["scale_max"]) for g in body["gauges"]} == {
        "mood": (1, 10),
        "anxiety": (1, 10),
        "energy": (1, 10),
        "sleep_quality": (1, 10),
        "pain": (0, 10),
        "medication_adherence": (0, 100),
        "social_interaction": (1, 10),
    }


def _seed(clinic: Clinic, patient: dict[str, Any]) -> list[dict[str, Any]]:
    """Ten gauges, one an hour on 2024-03-09 (UTC), alternating mood and sleep_quality."""
    batch = [
        {
            "gauge_type": "mood" if i % 2 == 0 else "sleep_quality",
            "value": 1 + i % 10,
            "recorded_at": f"2024-03-09T{i:02d}:00:00Z",
        }
        for i in range(10)
    ]
    with frozen(NOW):
        status, body = clinic.call("POST", _path(patient), {"gauges": batch})
    assert status == 201
    return body["gauges"]


def test_list_order_type_filter_and_pages(clinic: Clinic) -> None:
    patient = clinic.patient()
    stored = _seed(clinic, patient)
    newest_first = sorted(stored, key=lambda g: g["recorded_at"], reverse=True)
    assert _list(clinic, patient)["gauges"] == newest_first
    assert _list(clinic, patient, "order=asc")["gauges"] == newest_first[::-1]
    moods = _list(clinic, patient, "gauge_type=mood&order=asc")["gauges"]
    assert [g["recorded_at"][11:13] for g in moods] == ["00", "02", "04", "06", "08"]
    assert _list(clinic, patient, "gauge_type=energy")["gauges"] == []

    # Pages by number and by cursor agree; a cursor walk sees every gauge once.
    first = _list(clinic, patient, "page_size=4")
    assert first["gauges"] == newest_first[:4]
    assert first["meta"]["page"] == 1 and first["meta"]["has_more"] is True and first["meta"]["next_cursor"]
    assert _list(clinic, patient, "page_size=4&page=2")["gauges"] == newest_first[4:8]
    seen, cursor, pages = [], None, 0
    while True:
        body = _list(clinic, patient, "page_size=4" + (f"&cursor={cursor}" if cursor else ""))
        seen += body["gauges"]
        pages += 1
        assert body["meta"]["page"] == pages
        cursor = body["meta"]["next_cursor"]
        if not body["meta"]["has_more"]:
            assert cursor is None
            break
    assert seen == newest_first and pages == 3
    # A cursor is bound to its query: reused with another filter it is refused.
    assert clinic.call(
        "GET", _path(patient, f"?page_size=4&gauge_type=mood&cursor={first['meta']['next_cursor']}")
    ) == (
        422,
        {"errors": {"cursor": ["is invalid"]}},
    )


def test_a_last_page_that_is_full_says_no_more_follow(clinic: Clinic) -> None:
    """Exactly one page of gauges, or exactly two: no empty page after the last, by number or by cursor."""
    patient = clinic.patient()
    batch = [{"gauge_type": "mood", "value": 5, "recorded_at": f"2024-03-09T{h:02d}:00:00Z"} for h in range(8)]
    with frozen(NOW):
        status, body = clinic.call("POST", _path(patient), {"gauges": batch})
    assert status == 201
    newest_first = body["gauges"][::-1]
    last = {"has_more": False, "next_cursor": None}
    assert _list(clinic, patient, "page_size=8") == {
        "gauges": newest_first,
        "meta": {"page": 1, "page_size": 8, **last},
    }
    first = _list(clinic, patient, "page_size=4")
    assert first["gauges"] == newest_first[:4] and first["meta"]["has_more"] is True
    second = _list(clinic, patient, f"page_size=4&cursor={first['meta']['next_cursor']}")
    assert second == {"gauges": newest_first[4:], "meta": {"page": 2, "page_size": 4, **last}}
    assert _list(clinic, patient, "page_size=4&page=2") == second


def test_a_gauge_cursor_is_bound_to_its_order_and_days(clinic: Clinic) -> None:
    patient = clinic.patient()
    newest_first = sorted(_seed(clinic, patient), key=lambda g: g["recorded_at"], reverse=True)
    query = "page_size=3&order=desc&start_date=2024-03-09&end_date=2024-03-09"
    cursor = _list(clinic, patient, query)["meta"]["next_cursor"]
    assert _list(clinic, patient, f"{query}&cursor={cursor}")["gauges"] == newest_first[3:6]
    for changed in (
        query.replace("order=desc", "order=asc"),
        query.replace("start_date=2024-03-09", "start_date=2024-03-08"),
        query.replace("end_date=2024-03-09", "end_date=2024-03-10"),
        query.replace("&start_date=2024-03-09&end_date=2024-03-09", ""),
    ):
        assert clinic.call("GET", _path(patient, f"?{changed}&cursor={cursor}")) == (
            422,
            {"errors": {"cursor": ["is invalid"]}},
        ), changed


def test_a_rewritten_gauge_cursor_is_invalid(clinic: Clinic) -> None:
    """A cursor is base64 JSON a client can rewrite: an anchor that is not a gauge id, no gauge, or another
    patient's gauge is 422 `cursor: is invalid`, never a 5xx nor a position in another patient's gauges."""
    patient, other = clinic.patient(), clinic.patient(first_name="Other")
    _seed(clinic, patient)
    with frozen(NOW):
        status, elsewhere = clinic.call("POST", _path(other), {"gauge": {"gauge_type": "mood", "value": 5}})
    assert status == 201
    cursor = _list(clinic, patient, "page_size=3")["meta"]["next_cursor"]
    data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for anchor in ("x", 1.5, None, [1], 10**15, elsewhere["id"]):
        forged = base64.urlsafe_b64encode(json.dumps({**data, "a": anchor}).encode()).decode().rstrip("=")
        assert clinic.call("GET", _path(patient, f"?page_size=3&cursor={forged}")) == (
            422,
            {"errors": {"cursor": ["is invalid"]}},
        ), anchor


def test_delete_a_gauge(clinic: Clinic) -> None:
    patient, other = clinic.patient(), clinic.patient(first_name="Other")
    stored = _seed(clinic, patient)
    victim = stored[3]
    assert clinic.call("DELETE", _path(other, f"/{victim['id']}")) == (404, {"errors": "Gauge not found"})
    assert clinic.call("DELETE", _path(patient, f"/{victim['id']}")) == (204, None)
    assert victim["id"] not in [g["id"] for g in _list(clinic, patient)["gauges"]]
    assert len(_list(clinic, patient)["gauges"]) == 9
    assert clinic.call("DELETE", _path(patient, f"/{victim['id']}")) == (404, {"errors": "Gauge not found"})
    assert clinic.call("DELETE", _path(patient, "/abc")) == (404, {"errors": "Gauge not found"})


def _moods(clinic: Clinic, patient: dict[str, Any], values: list[tuple[str, float]]) -> list[dict[str, Any]]:
    with frozen(NOW):
        status, body = clinic.call(
            "POST",
            _path(patient),
            {"gauges": [{"gauge_type": "mood", "value": v, "recorded_at": t} for t, v in values]},
        )
    assert status == 201, body
    return body["gauges"]


def _latest(clinic: Clinic, patient: dict[str, Any]) -> list[tuple[Any, ...]]:
    status, body = clinic.call("GET", _path(patient, "/latest"))
    assert status == 200, body
    return [(e["gauge_type"], e["value"], e["previous_value"]) for e in body["latest"]]


def test_deleting_the_newest_gauge_brings_the_one_before_back_into_latest(clinic: Clinic) -> None:
    patient = clinic.patient()
    older, newer, newest = _moods(
        clinic, patient, [("2024-03-09T08:00:00Z", 3), ("2024-03-09T09:00:00Z", 5), ("2024-03-09T10:00:00Z", 8)]
    )
    assert _latest(clinic, patient) == [("mood", 8, 5)]
    with frozen(NOW):
        assert clinic.call("DELETE", _path(patient, f"/{newest['id']}")) == (204, None)
    assert _latest(clinic, patient) == [("mood", 5, 3)]
    with frozen(NOW):
        assert clinic.call("DELETE", _path(patient, f"/{older['id']}")) == (204, None)
    assert _latest(clinic, patient) == [("mood", 5, None)]
    with frozen(NOW):
        assert clinic.call("DELETE", _path(patient, f"/{newer['id']}")) == (204, None)
    assert _latest(clinic, patient) == []


def test_a_deleted_gauge_leaves_the_day_mean_clinic_rules_read(clinic: Clinic) -> None:
    """A rule on 2 days of mean anxiety >= 8: the 8th has 9 and 1 (mean 5); deleting the 1 leaves 9 alone, so a
    9 on the 9th fires. The day mean must lose the deleted gauge exactly once, in the deletion itself."""
    rule = alert_rules.create(
        clinic.caller,
        NewAlertRule(gauge_type="anxiety", operator=">=", threshold=8, consecutive_days=2, priority="high"),
    )
    patient = clinic.patient()

    def anxiety(value: float, recorded_at: str) -> dict[str, Any]:
        with frozen(NOW):
            status, gauge = clinic.call(
                "POST", _path(patient), {"gauge": {"gauge_type": "anxiety", "value": value, "recorded_at": recorded_at}}
            )
        assert status == 201, gauge
        return gauge

    anxiety(9, "2024-03-08T08:00:00Z")
    low = anxiety(1, "2024-03-08T09:00:00Z")
    assert alert_store.day_means(patient["id"], "anxiety", "2024-03-08", "2024-03-09") == {"2024-03-08": (10.0, 2)}
    with frozen(NOW):
        assert clinic.call("DELETE", _path(patient, f"/{low['id']}")) == (204, None)
    assert alert_store.day_means(patient["id"], "anxiety", "2024-03-08", "2024-03-09") == {"2024-03-08": (9.0, 1)}
    trigger = anxiety(9, "2024-03-09T08:00:00Z")
    status, body = clinic.call("GET", f"/v1/patients/{patient['id']}/alerts")
    assert status == 200, body
    assert [(a["rule"], a["trigger"]) for a in body["alerts"]] == [
        (f"alert_rule:{rule['id']}", {"type": "gauge", "id": trigger["id"]})
    ]


def _concurrent_delete(
    monkeypatch: pytest.MonkeyPatch, name: str, patient: dict[str, Any], gauge_id: int
) -> list[None]:
    """Another request deletes the gauge just before this request's next call of store.<name>."""
    real, done = getattr(store, name), []

    def racing(*args: Any, **kwargs: Any) -> Any:
        if not done:
            done.append(None)
            with frozen(NOW):
                gauges.delete(patient, str(gauge_id))  # the other request, whole
        return real(*args, **kwargs)

    monkeypatch.setattr(store, name, racing)
    return done


@pytest.mark.parametrize("step", ["get_gauge", "delete_gauge"])
def test_a_gauge_deleted_by_another_request_meanwhile_is_not_found_and_counted_out_once(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """Two deletions of one gauge at once: the other request's lands between this one's finding the gauge by id and
    reading it (get_gauge), or between reading it and its transaction (delete_gauge). This one is then 404, and
    the gauge leaves its day mean, latest entry and summary once."""
    patient = clinic.patient()
    kept, doomed = _moods(clinic, patient, [("2024-03-09T08:00:00Z", 3), ("2024-03-09T09:00:00Z", 8)])
    with frozen(NOW):
        summaries.run_job()
    raced = _concurrent_delete(monkeypatch, step, patient, doomed["id"])
    with frozen(NOW):
        assert clinic.call("DELETE", _path(patient, f"/{doomed['id']}")) == (404, {"errors": "Gauge not found"})
    assert raced
    monkeypatch.undo()
    assert _list(clinic, patient)["gauges"] == [kept]
    assert alert_store.day_means(patient["id"], "mood", "2024-03-09", "2024-03-09") == {"2024-03-09": (3.0, 1)}
    assert _latest(clinic, patient) == [("mood", 3, None)]
    with frozen(at(NOW) + summaries.SETTLE + timedelta(seconds=1)):
        summaries.run_job()
    status, body = clinic.call("GET", _path(patient, "/summary?start_date=2024-03-09&end_date=2024-03-09"))
    assert status == 200, body
    assert [(s["period_start"], s["count"], s["mean"]) for s in body["summaries"]] == [("2024-03-09", 1, 3)]


def test_a_malformed_gauge_id_is_not_found_without_reading_the_table(clinic: Clinic) -> None:
    """An id that names no gauge by its form (ids.parse) is answered without a lookup; a well-formed unknown id
    costs its one keys-only read of the by-id index."""
    patient = clinic.patient()
    with metered() as meter:
        for malformed in ("abc", "0", "007", "-5", "1.0"):
            assert clinic.call("DELETE", _path(patient, f"/{malformed}")) == (404, {"errors": "Gauge not found"})
        by_id = [entry for entry in meter.log if entry[1].startswith("GAUGEID#")]
        assert by_id == []
        assert clinic.call("DELETE", _path(patient, "/987654321")) == (404, {"errors": "Gauge not found"})
        by_id = [entry for entry in meter.log if entry[1].startswith("GAUGEID#")]
        assert [entry[:2] for entry in by_id] == [("GaugeById", "GAUGEID#987654321")]


def test_access_is_checked_before_validation(clinic: Clinic) -> None:
    patient = clinic.patient()
    outsider = accounts.create_user(clinic.caller.clinic_id, "provider", "Dr. Out")
    token = accounts.issue_token(outsider["id"])["token"]
    client, headers = Client(clinic.gateway), {"Content-Type": "application/json"}
    response = client.post(_path(patient), data=b'{"gauge": {"value": "bad"}}', token=token, headers=headers)
    assert (response.status, response.text) == (403, '{"errors":"You are not authorized to access this patient"}')
    response = client.get(_path(patient, "?start_date=bad"), token=token, headers=headers)
    assert response.status == 403


# ---- local days in the patient's time zone ----

LA_GAUGES = {
    # local time (America/Los_Angeles) -> the local day it belongs to
    "2024-03-09T23:30:00-08:00": "2024-03-09",  # 07:30Z on the 10th
    "2024-03-10T00:30:00-08:00": "2024-03-10",  # DST starts at 02:00: a 23-hour day
    "2024-03-10T23:30:00-07:00": "2024-03-10",  # 06:30Z on the 11th
    "2024-03-11T00:15:00-07:00": "2024-03-11",
    "2024-11-02T23:30:00-07:00": "2024-11-02",  # 06:30Z on the 3rd
    "2024-11-03T01:30:00-07:00": "2024-11-03",  # DST ends at 02:00: 01:30 happens twice, a 25-hour day
    "2024-11-03T01:30:00-08:00": "2024-11-03",
    "2024-11-03T23:30:00-08:00": "2024-11-03",  # 07:30Z on the 4th
}


def test_day_filters_and_summaries_follow_the_patients_time_zone(clinic: Clinic) -> None:
    la, utc = clinic.patient(time_zone="America/Los_Angeles"), clinic.patient(time_zone="UTC")
    recorded = "2024-11-10T00:00:00.000Z"
    with frozen(recorded):
        for patient in (la, utc):
            batch = [{"gauge_type": "mood", "value": 1 + i, "recorded_at": t} for i, t in enumerate(LA_GAUGES)]
            assert clinic.call("POST", _path(patient), {"gauges": batch})[0] == 201

    def days(patient: dict[str, Any], first: str, last: str) -> list[str]:
        gauges = _list(clinic, patient, f"start_date={first}&end_date={last}&order=asc")["gauges"]
        return [g["recorded_at"] for g in gauges]

    def utc_of(local: str) -> str:
        return datetime.fromisoformat(local).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    for day in ("2024-03-09", "2024-03-10", "2024-03-11", "2024-11-02", "2024-11-03", "2024-11-04"):
        expected = sorted(utc_of(t) for t, local_day in LA_GAUGES.items() if local_day == day)
        assert days(la, day, day) == expected, day
    # 23:30 local on the 9th is the 10th in UTC: the same instant is on another day for a UTC patient.
    assert days(la, "2024-03-09", "2024-03-09") == ["2024-03-10T07:30:00.000Z"]
    assert days(utc, "2024-03-09", "2024-03-09") == []
    assert days(utc, "2024-03-10", "2024-03-10") == ["2024-03-10T07:30:00.000Z", "2024-03-10T08:30:00.000Z"]
    assert len(days(la, "2024-03-09", "2024-03-11")) == 4
    # An open-ended range: from a local day on, and up to a local day.
    assert _list(clinic, la, "start_date=2024-11-03&order=asc")["gauges"][0]["recorded_at"] == utc_of(
        "2024-11-03T01:30:00-07:00"
    )
    assert _list(clinic, la, "end_date=2024-03-09")["gauges"][0]["recorded_at"] == "2024-03-10T07:30:00.000Z"

    # The summaries put each gauge on the same local day.
    with frozen(at(recorded) + summaries.SETTLE + timedelta(seconds=1)):
        summaries.run_job()
    status, body = clinic.call("GET", _path(la, "/summary?start_date=2024-03-01&end_date=2024-11-30"))
    assert status == 200
    assert [(s["period_start"], s["count"]) for s in body["summaries"]] == [
        ("2024-03-09", 1),
        ("2024-03-10", 2),
        ("2024-03-11", 1),
        ("2024-11-02", 1),
        ("2024-11-03", 3),
    ]
    dst_day = body["summaries"][1]
    assert (dst_day["min"], dst_day["max"], dst_day["last_value"], dst_day["last_recorded_at"]) == (
        2,
        3,
        3,
        "2024-03-11T06:30:00.000Z",
    )
    status, weeks = clinic.call("GET", _path(la, "/summary?start_date=2024-03-01&end_date=2024-11-30&period=week"))
    assert [(s["period_start"], s["count"]) for s in weeks["summaries"]] == [
        ("2024-03-04", 3),  # Monday; Saturday the 9th and Sunday the 10th
        ("2024-03-11", 1),
        ("2024-10-28", 4),  # Saturday 2 November and Sunday 3 November
    ]
    status, utc_body = clinic.call("GET", _path(utc, "/summary?start_date=2024-03-01&end_date=2024-03-31"))
    assert [(s["period_start"], s["count"]) for s in utc_body["summaries"]] == [("2024-03-10", 2), ("2024-03-11", 2)]


# ---- what a query reads ----

TYPES = list(DEFAULT_SCALES)
# The acceptance size (about 30 s of loading into moto on an idle machine, a minute under load);
# GAUGE_SCAN_TOTAL makes a quicker local run.
TOTAL, PATIENTS = int(os.environ.get("GAUGE_SCAN_TOTAL", "50000")), 20
START = datetime(2024, 1, 1, tzinfo=UTC)  # gauges spread over 10 weeks


@pytest.mark.slow
def test_a_week_of_one_type_reads_only_what_it_returns(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    """TOTAL (50,000) gauges over 20 patients and 7 types; a query for one patient, one type and one week reads
    (DynamoDB's ScannedCount) no more items than it returns plus one per page boundary."""
    fast_moto_queries(monkeypatch)
    patients = [clinic.patient(first_name=f"P{i}") for i in range(PATIENTS)]
    rng = random.Random(4)
    last_id = store.reserve_ids("gauge", TOTAL)
    gauges = []
    for n in range(TOTAL):
        patient, kind = patients[n % PATIENTS], TYPES[(n // PATIENTS) % len(TYPES)]
        low, high = DEFAULT_SCALES[kind]
        recorded = START + timedelta(seconds=rng.randrange(10 * 7 * 86400))
        gauges.append(
            {
                "id": last_id - TOTAL + 1 + n,
                "patient_id": patient["id"],
                "gauge_type": kind,
                "value": rng.randint(int(low), int(high)),
                "scale_min": low,
                "scale_max": high,
                "recorded_at": recorded.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "notes": None,
                "created_at": "2024-07-01T00:00:00.000Z",
                "created_by": clinic.caller.user_id,
            }
        )
    started = time.monotonic()
    # Loading is setup, not what is measured: straight into moto's backend, not 2,000
    # BatchWriteItem round trips.
    with straight_into_moto() as write:
        store.import_gauges(gauges, write=write)
    print(f"loaded {TOTAL} gauges in {time.monotonic() - started:.1f}s")

    target = patients[7]
    week = [
        g
        for g in gauges
        if g["patient_id"] == target["id"]
        and g["gauge_type"] == "sleep_quality"
        and "2024-03-04" <= g["recorded_at"][:10] <= "2024-03-10"
    ]
    expected = sorted(week, key=lambda g: (g["recorded_at"], g["id"]), reverse=True)
    assert len(expected) >= 8  # about TOTAL / 140 / 10 per patient, type and week

    query = "gauge_type=sleep_quality&start_date=2024-03-04&end_date=2024-03-10"
    with metered() as meter:
        body = _list(clinic, target, query)
    gauge_reads = [entry for entry in meter.log if entry[1].startswith("GAUGE#")]
    assert [g["id"] for g in body["gauges"]] == [g["id"] for g in expected]
    assert gauge_reads == [("table", f"GAUGE#{target['id']}#sleep_quality", len(expected), len(expected))]

    # Page by page, each page reads its items and at most one more (to know there is a next page).
    seen, cursor = [], None
    with metered() as meter:
        while True:
            meter.reset()
            body = _list(clinic, target, f"{query}&page_size=5" + (f"&cursor={cursor}" if cursor else ""))
            scanned = sum(entry[2] for entry in meter.log if entry[1].startswith("GAUGE#"))
            assert scanned <= len(body["gauges"]) + 1, (scanned, len(body["gauges"]))
            # A cursor names its last gauge by id; finding where it was is one keys-only item.
            anchors = [entry for entry in meter.log if entry[1].startswith("GAUGEID#")]
            assert [entry[2] for entry in anchors] == ([1] if cursor else [])
            seen += body["gauges"]
            cursor = body["meta"]["next_cursor"]
            if cursor is None:
                break
    assert [g["id"] for g in seen] == [g["id"] for g in expected]

    # The same week across all types (the PatientGauges index) reads only that patient's week too.
    everything = [
        g for g in gauges if g["patient_id"] == target["id"] and "2024-03-04" <= g["recorded_at"][:10] <= "2024-03-10"
    ]
    with metered() as meter:
        body = _list(clinic, target, "start_date=2024-03-04&end_date=2024-03-10&page_size=500")
    assert len(body["gauges"]) == len(everything)
    assert meter.by_index["PatientGauges"] == len(everything)


# ---- demo data ----


def test_the_demo_seed_writes_weeks_of_plausible_gauges(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from zoneinfo import ZoneInfo

    from local import seed

    fast_moto_queries(monkeypatch)

    # moto's own TransactWriteItems copies the whole table for every item (most of this test's time, in the 48
    # assessments); the embedded DynamoDB of `make run`, which seeds this data for real, runs without that copy.
    with frozen(NOW), faster_transactions():
        demo = seed.seed_demo()
        patients = store.get_patients(demo["patient_ids"])
        from clinic.store import alerts as alert_store

        alert = alert_store.get_alert(demo["alert_id"]) or {}
        assert (alert["patient_id"], alert["priority"], alert["status"]) == (demo["patient_ids"][0], "urgent", "open")
        trigger = alert["trigger"]["id"]
        assert demo["gauges"] > 28 * len(patients) * 4  # about six a day each, some days skipped
        for pid in demo["patient_ids"]:
            tz = ZoneInfo(patients[pid].get("time_zone") or "UTC")
            rows = list(store.query_gauges(pid, None, start=None, end=None, newest_first=False, after=None, limit=500))
            rows = [g for g in rows if g["id"] != trigger]  # the demo alert's low mood, recorded now
            totals = [g for g in rows if g["gauge_type"] in instruments.CODES]  # the weekly assessments' totals
            rows = [g for g in rows if g["gauge_type"] not in instruments.CODES]
            assert {g["gauge_type"] for g in totals} == set(instruments.CODES)
            assert {g["gauge_type"] for g in rows} == set(seed.GAUGE_HABITS)
            days = {datetime.fromisoformat(g["recorded_at"]).astimezone(tz).date() for g in rows}
            assert 26 <= len(days) <= 29
            for g in rows:
                assert g["scale_min"] <= g["value"] <= g["scale_max"]
                assert g["recorded_at"] <= NOW and g["recorded_at"] <= g["created_at"] <= NOW
                local = datetime.fromisoformat(g["recorded_at"]).astimezone(tz)
                usual = [datetime.combine(local.date(), t, tzinfo=tz) for t in seed.GAUGE_HABITS[g["gauge_type"]][0]]
                assert min(abs(local - u) for u in usual) <= timedelta(minutes=51)
