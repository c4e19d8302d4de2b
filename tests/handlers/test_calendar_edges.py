"""Every date and time input of every route, at the edges of the calendar and beyond (property tests through
the local gateway): any string is answered 2xx or 4xx, never 5xx, and whatever was accepted can then be
read back, listed, summarized and deleted."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from clinic import gauges, summaries
from clinic.validation import time_zones
from gauge_support import Clinic, fast_moto_queries, new_clinic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import frozen

from local.moto_server import faster_transactions

BASE = datetime(2024, 3, 20, 12, tzinfo=UTC)
AFTER_SETTLE = summaries.SETTLE + timedelta(seconds=1)
_minutes = itertools.count()  # each example's clock is later than the last one's (the job reads what changed)

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Zones at the ends of the offsets, with half- and quarter-hour offsets and odd DST rules, plus any other.
ZONES = st.one_of(
    st.sampled_from(["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kathmandu", "Australia/Lord_Howe"]),
    st.sampled_from(sorted(time_zones())),
)
EDGE_DAYS = [
    date.min,
    date(1, 1, 29),
    date(1, 1, 30),
    date(1899, 12, 31),
    date(1900, 1, 1),
    date(1970, 1, 1),
    date(2000, 2, 29),
    BASE.date() - timedelta(days=1),
    BASE.date(),
    BASE.date() + timedelta(days=1),
    date(9999, 12, 24),
    date.max,
]
NOT_QUITE_DATES = [
    "",
    " ",
    "2024-W01-1",
    "20240101",
    "2024-1-1",
    "2024-02-30",
    "2023-02-29",
    "0000-01-01",
    "-2024-01-01",
    "+2024-01-01",
    "10000-01-01",
    " 2024-01-01",
    "2024-01-01T00:00",
    "２０２４-０１-０１",
    "٢٠٢٤-٠١-٠١",
    "2024-01-01\x00",
]
DATE_STRINGS = st.one_of(
    st.sampled_from(EDGE_DAYS).map(date.isoformat),
    st.dates().map(date.isoformat),
    st.sampled_from(NOT_QUITE_DATES),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
    st.text(max_size=12),
)
EDGE_MOMENTS = [
    datetime.min,
    datetime.max,
    datetime(1899, 12, 31, 23, 59, 59, 999999),
    datetime(1900, 1, 1),
    datetime(1900, 1, 1, 0, 30),
    datetime(9999, 12, 31, 23, 59, 59),
]
MOMENTS = st.one_of(
    st.sampled_from(EDGE_MOMENTS),
    st.datetimes(),
    st.datetimes(min_value=datetime(1899, 12, 31), max_value=datetime(1900, 1, 2)),
    st.datetimes(
        min_value=BASE.replace(tzinfo=None) - timedelta(days=2),
        max_value=BASE.replace(tzinfo=None) + timedelta(days=2),
    ),
)
OFFSETS = st.one_of(
    st.none(),
    st.just("Z"),
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
        lambda m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}"
    ),
)
TIME_STRINGS = st.one_of(
    st.builds(lambda moment, offset: moment.isoformat() + (offset or ""), MOMENTS, OFFSETS),
    st.sampled_from(
        [
            "9999-12-31T23:59:59-01:00",
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:00:00Z",
            "1900-01-01T00:00:00+00:01",
            "2024-03-20",
            "2024-03-20T24:00:00Z",
            "2024-W12-3T10:00:00Z",
            "20240320T100000Z",
            "2024-03-20T10:00:00,5Z",
            "2024-03-20t10:00:00z",
            "2024-03-20 10:00:00",
            "２０２４-03-20T10:00:00Z",
        ]
    ),
    st.text(max_size=30),
)


@pytest.fixture
def clinic(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clinic]:
    # moto sorts the whole table for every Query and copies it for every transaction item; DynamoDB does neither.
    fast_moto_queries(monkeypatch)
    with faster_transactions():
        yield new_clinic()


def moment() -> datetime:
    return BASE + timedelta(minutes=2 * next(_minutes))


def get(clinic: Clinic, path: str, **query: Any) -> tuple[int, Any]:
    query = {k: v for k, v in query.items() if v is not None}
    return clinic.call("GET", f"{path}?{urlencode(query)}" if query else path)


def run_job(now: datetime) -> None:
    with frozen(now + AFTER_SETTLE):
        assert summaries.run_job()["set_aside"] == 0


@PROPERTY
@given(date_of_birth=DATE_STRINGS, zone=ZONES)
def test_any_date_of_birth(clinic: Clinic, date_of_birth: str, zone: str) -> None:
    body = {"patient": {"first_name": "Cal", "last_name": "Endar", "date_of_birth": date_of_birth, "time_zone": zone}}
    with frozen(moment()):
        status, created = clinic.call("POST", "/v1/patients", body)
        assert status in (201, 422), created
        if status == 422:
            assert set(created["errors"]) == {"date_of_birth"}
            return
        path = f"/v1/patients/{created['id']}"
        assert get(clinic, path) == (200, created)
        assert created["date_of_birth"] == date_of_birth and 0 <= created["age"] <= 125
        status, updated = clinic.call("PUT", path, {"patient": {"date_of_birth": date_of_birth}})
        assert (status, updated["date_of_birth"]) == (200, date_of_birth)
        status, listed = get(clinic, "/v1/patients", search="endar", page_size=100)
        assert status == 200 and created["id"] in [p["id"] for p in listed["patients"]]


@PROPERTY
@given(recorded_at=TIME_STRINGS, zone=ZONES)
def test_any_recorded_at(clinic: Clinic, recorded_at: str, zone: str) -> None:
    now = moment()
    with frozen(now):
        patient = clinic.patient(time_zone=zone)
        gauges_path = f"/v1/patients/{patient['id']}/gauges"
        status, gauge = clinic.call(
            "POST", gauges_path, {"gauge": {"gauge_type": "mood", "value": 5, "recorded_at": recorded_at}}
        )
    assert status in (201, 422), gauge
    if status == 422:
        assert set(gauge["errors"]) == {"recorded_at"}
        return
    day = gauges.local_day(gauge["recorded_at"], gauges.zone(patient)).isoformat()
    status, listed = get(clinic, gauges_path, start_date=day, end_date=day)
    assert (status, [g["id"] for g in listed["gauges"]]) == (200, [gauge["id"]])
    run_job(now)
    for period in ("day", "week"):
        status, summary = get(clinic, f"{gauges_path}/summary", start_date=day, end_date=day, period=period)
        assert status == 200, summary
        assert [s["count"] for s in summary["summaries"]] == [1], (period, summary)
    later = now + timedelta(seconds=2)  # after the checkpoint the run above left (its clock minus SETTLE)
    with frozen(later):
        assert clinic.call("DELETE", f"{gauges_path}/{quote(str(gauge['id']))}")[0] == 204
    run_job(later)
    assert get(clinic, gauges_path, start_date=day, end_date=day)[1]["gauges"] == []
    assert get(clinic, f"{gauges_path}/summary", start_date=day, end_date=day)[1]["summaries"] == []


QUERY_DATES = st.one_of(st.none(), DATE_STRINGS)


@PROPERTY
@given(
    start_date=QUERY_DATES,
    end_date=QUERY_DATES,
    zone=ZONES,
    period=st.sampled_from(["day", "week"]),
    order=st.sampled_from(["asc", "desc"]),
)
def test_any_query_dates(
    clinic: Clinic, start_date: str | None, end_date: str | None, zone: str, period: str, order: str
) -> None:
    with frozen(moment()):
        patient = clinic.patient(time_zone=zone)
        clinic.call("POST", f"/v1/patients/{patient['id']}/gauges", {"gauge": {"gauge_type": "mood", "value": 5}})
        path = f"/v1/patients/{patient['id']}/gauges"
        status, listed = get(clinic, path, start_date=start_date, end_date=end_date, order=order)
        assert status in (200, 422), listed
        if status == 422:
            assert set(listed["errors"]) <= {"start_date", "end_date"}
        status, summary = get(clinic, f"{path}/summary", start_date=start_date, end_date=end_date, period=period)
        assert status in (200, 422), summary
        if status == 422:
            assert set(summary["errors"]) <= {"start_date", "end_date"}
        else:
            assert summary["summaries"] == []  # the job has not run


def test_the_first_and_last_days_of_the_calendar_as_filters(clinic: Clinic) -> None:
    """In Tokyo the calendar's first day starts before the calendar does (0000-12-31 in UTC): it is held at the
    calendar's start; its last day has no next day to end at: the range runs to the calendar's end."""
    patient = clinic.patient(time_zone="Asia/Tokyo")
    path = f"/v1/patients/{patient['id']}/gauges"
    with frozen(moment()):
        status, gauge = clinic.call("POST", path, {"gauge": {"gauge_type": "mood", "value": 5}})
    assert status == 201, gauge
    for start_date, end_date in (("0001-01-01", "9999-12-31"), ("0001-01-01", None), (None, "9999-12-31")):
        status, listed = get(clinic, path, start_date=start_date, end_date=end_date)
        assert status == 200, (start_date, end_date, listed)
        assert [g["id"] for g in listed["gauges"]] == [gauge["id"]], (start_date, end_date)


def test_shifting_a_day_holds_at_the_ends_of_the_calendar() -> None:
    assert gauges.shift(date(2024, 3, 20), -29) == date(2024, 2, 20)
    assert gauges.shift(date(2024, 3, 20), 0) == date(2024, 3, 20)
    for days in (1, 2, 6, 10**6):
        assert gauges.shift(date.max, days) == date.max
        assert gauges.shift(date.max - timedelta(days=1), days + 1) == date.max
        assert gauges.shift(date.min, -days) == date.min
        assert gauges.shift(date.min + timedelta(days=1), -days - 1) == date.min


def test_summaries_in_the_last_week_of_the_calendar(clinic: Clinic) -> None:
    """The calendar's last week ends on Friday 9999-12-31: a week period there is held at that day rather than
    lost to an overflow (gauges start in 1900, so the calendar's first days hold none)."""
    patient = clinic.patient()
    path = f"/v1/patients/{patient['id']}/gauges"
    last_days = datetime(9999, 12, 30, 12, tzinfo=UTC)  # a Thursday; recorded now: a gauge may not be in the future
    with frozen(last_days):
        assert clinic.call("POST", path, {"gauge": {"gauge_type": "mood", "value": 7}})[0] == 201
    run_job(last_days)

    def periods(**query: Any) -> list[tuple[str, int]]:
        status, body = get(clinic, f"{path}/summary", **query)
        assert status == 200, body
        return [(s["period_start"], s["count"]) for s in body["summaries"]]

    assert periods(start_date="9999-12-27", end_date="9999-12-31", period="week") == [("9999-12-27", 1)]
    assert periods(start_date="9999-12-30", end_date="9999-12-30", period="week") == [("9999-12-27", 1)]
    with frozen(last_days + AFTER_SETTLE):  # the default windows, through today
        assert periods() == [("9999-12-30", 1)]
        assert periods(period="week") == [("9999-12-27", 1)]
