"""The summary job against items it cannot process: each is set aside (counted, kept for an operator) while
the run goes on, summarizes everything else and moves its checkpoint; and over arbitrary accepted gauges (any
time zone, any accepted recorded_at) it never needs to set anything aside."""

from __future__ import annotations

import io
import itertools
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clinic import clock, gauges, settings, store, summaries
from clinic.models import EARLIEST_TIME, FUTURE_TOLERANCE
from clinic.models.gauges import NewGauge
from clinic.store import keys, table
from clinic.validation import time_zones
from gauge_support import Clinic, fast_moto_queries, new_clinic, stored_days
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from support import at, frozen

from local.events import scheduled_event
from local.moto_server import faster_transactions
from patients_admin import cli as admin

T0 = at("2024-03-20T12:00:00Z")
AFTER_SETTLE = summaries.SETTLE + timedelta(seconds=1)


@pytest.fixture
def clinic(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clinic]:
    # moto sorts the whole table for every Query and copies it for every transaction item; DynamoDB does neither.
    fast_moto_queries(monkeypatch)
    with faster_transactions():
        yield new_clinic()


def record(clinic: Clinic, patient: dict[str, Any], when: datetime, *new: dict[str, Any]) -> list[dict[str, Any]]:
    with frozen(when):
        return gauges.record(clinic.caller, patient, [NewGauge(**g) for g in new])


def poison_gauge(patient_id: int, gauge_id: int, created_at: str, **fields: Any) -> None:
    """A gauge item written straight into the table, in the store's own format, bypassing validation."""
    gauge = {
        "id": gauge_id,
        "patient_id": patient_id,
        "gauge_type": "mood",
        "value": 5,
        "scale_min": 1,
        "scale_max": 10,
        "recorded_at": "2024-03-19T10:00:00.000Z",
        "created_at": created_at,
        "created_by": 1,
        **fields,
    }
    store.import_gauges([gauge])


def set_aside_items() -> list[dict[str, Any]]:
    """What an operator sees: `patients-admin summaries set-aside`."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert admin.main(["summaries", "set-aside"]) == 0
    settings.reset()  # the CLI set its own ID_BLOCK_SIZE
    return json.loads(out.getvalue())["items"]


def test_poison_items_are_set_aside_and_everything_else_is_summarized(clinic: Clinic) -> None:
    healthy = clinic.patient(time_zone="Europe/Paris")
    other = clinic.patient(time_zone="America/New_York", first_name="Other")
    with frozen(T0):
        first = summaries.run_job()  # the first run is a full rebuild; later ones read changes
    assert first["set_aside"] == 0

    created = clock.iso(T0 + timedelta(minutes=1))
    # The bug of issue 11 (year not zero-padded), a value that is not a number, a scale without a range.
    poison_gauge(healthy["id"], 900_001, created, recorded_at="1-01-01T00:00:00.000Z")
    poison_gauge(healthy["id"], 900_002, created, value="seven")
    poison_gauge(other["id"], 900_003, created, scale_min=5, scale_max=5)
    record(
        clinic,
        healthy,
        T0 + timedelta(minutes=1),
        {"gauge_type": "mood", "value": 4, "recorded_at": "2024-03-19T10:30:00Z"},
    )
    record(
        clinic,
        other,
        T0 + timedelta(minutes=1),
        {"gauge_type": "mood", "value": 8, "recorded_at": "2024-03-19T15:00:00Z"},
    )

    with frozen(T0 + timedelta(minutes=1) + AFTER_SETTLE):
        result = summaries.run_job()
    assert result["set_aside"] == 3
    assert store.get_checkpoint(summaries.JOB)["through"] == result["complete_through"]
    # Each patient's good gauges are summarized; the poison ones count nowhere.
    assert stored_days(healthy["id"]) == {"2024-03-19": 1}
    assert stored_days(other["id"]) == {"2024-03-19": 1}
    items = set_aside_items()
    assert sorted((i["source_pk"], i["source_sk"].rsplit("#", 1)[-1], i["error_type"]) for i in items) == [
        (f"GAUGE#{healthy['id']}#mood", "000000900001", "ValueError"),
        (f"GAUGE#{healthy['id']}#mood", "000000900002", "ValueError"),
        (f"GAUGE#{other['id']}#mood", "000000900003", "ValueError"),
    ]
    assert all(i["times_seen"] == 1 for i in items)

    # Deleting the bad gauge leaves a deletion marker with the same time: the next run sets that aside too,
    # meets the bad scale again while recounting its day, and still summarizes the new gauge.
    with frozen(T0 + timedelta(minutes=5)):
        gauges.delete(healthy, "900001")
    record(
        clinic,
        other,
        T0 + timedelta(minutes=5),
        {"gauge_type": "mood", "value": 2, "recorded_at": "2024-03-19T16:00:00Z"},
    )
    with frozen(T0 + timedelta(minutes=5) + AFTER_SETTLE):
        again = summaries.run_job()
    assert again["set_aside"] == 2
    assert stored_days(other["id"]) == {"2024-03-19": 2}
    items = {i["source_pk"]: i for i in set_aside_items()}
    assert items["DELETED#900001"]["times_seen"] == 1
    assert items[f"GAUGE#{other['id']}#mood"]["times_seen"] == 2


def test_a_patient_that_cannot_be_processed_is_set_aside(clinic: Clinic) -> None:
    broken = clinic.patient()
    fine = clinic.patient(first_name="Fine")
    record(clinic, broken, T0, {"gauge_type": "mood", "value": 3, "recorded_at": "2024-03-19T10:00:00Z"})
    record(clinic, fine, T0, {"gauge_type": "mood", "value": 6, "recorded_at": "2024-03-19T10:00:00Z"})
    settings.dynamodb().update_item(  # a time zone no release of tzdata knows
        TableName=settings.settings().table_name,
        Key={"pk": {"S": f"PATIENT#{broken['id']}"}, "sk": {"S": "PATIENT"}},
        UpdateExpression="SET time_zone = :zone",
        ExpressionAttributeValues={":zone": {"S": "Mars/Olympus_Mons"}},
    )
    with frozen(T0 + AFTER_SETTLE):
        result = summaries.run_job()
    assert result["set_aside"] == 1
    assert stored_days(fine["id"]) == {"2024-03-19": 1}
    assert stored_days(broken["id"]) == {}
    [item] = set_aside_items()
    assert (item["source_pk"], item["patient_id"]) == (f"PATIENT#{broken['id']}", broken["id"])


def test_items_set_aside_by_an_incremental_run_name_their_patient(clinic: Clinic) -> None:
    """What an incremental run cannot read is set aside with its patient: a change that is not a gauge (no
    gauge_type), a gauge whose day cannot be placed, one whose value is not a number, and a patient whose zone
    is unknown; that patient's new gauge is not set aside as well (its day waits with the patient)."""
    patient = clinic.patient()
    unzoned = clinic.patient(first_name="Unzoned")
    with frozen(T0):
        summaries.run_job()
    created = clock.iso(T0 + timedelta(minutes=1))
    table.put({"pk": "STRAY#1", "sk": "STRAY", "patient_id": patient["id"], **keys.change(created, 1)})
    poison_gauge(patient["id"], 900_020, created, recorded_at="1-01-01T00:00:00.000Z")
    poison_gauge(patient["id"], 900_021, created, value="seven")
    record(clinic, unzoned, T0 + timedelta(minutes=1), {"gauge_type": "mood", "value": 3})
    table.update(keys.patient(unzoned["id"]), "SET time_zone = :zone", values={":zone": "Mars/Olympus_Mons"})
    with frozen(T0 + timedelta(minutes=1) + AFTER_SETTLE):
        result = summaries.run_job()
    assert result["set_aside"] == 4
    assert sorted(
        (i["source_sk"].rsplit("#")[-1].lstrip("0"), i["patient_id"], i["error_type"]) for i in set_aside_items()
    ) == [
        ("900020", patient["id"], "ValueError"),  # its day cannot be placed
        ("900021", patient["id"], "ValueError"),  # its value is not a number
        ("PATIENT", unzoned["id"], "ZoneInfoNotFoundError"),
        ("STRAY", patient["id"], "KeyError"),
    ]


def test_what_a_new_time_zone_cannot_move_is_set_aside_with_its_patient(clinic: Clinic) -> None:
    """A new zone recounts all of a patient's gauges and stored days: a gauge whose day cannot be placed and a
    stored day that is not a date are set aside, each with the patient."""
    patient = clinic.patient()
    with frozen(T0):
        summaries.run_job()
    poison_gauge(patient["id"], 900_030, clock.iso(T0 + timedelta(minutes=1)), recorded_at="1-01-01T00:00:00.000Z")
    stray = keys.day_summary(patient["id"], "2024-13-45", "mood")
    table.put({**stray._asdict(), "patient_id": patient["id"], "gauge_type": "mood", "day": "2024-13-45"})
    with frozen(T0 + timedelta(minutes=1)):
        status, body = clinic.call("PUT", f"/v1/patients/{patient['id']}", {"patient": {"time_zone": "Asia/Tokyo"}})
    assert status == 200, body
    with frozen(T0 + timedelta(minutes=1) + AFTER_SETTLE):
        assert summaries.run_job()["set_aside"] == 2
    assert sorted((i["source_pk"], i["source_sk"][-10:], i["patient_id"]) for i in set_aside_items()) == [
        (f"GAUGE#{patient['id']}#mood", "0000900030", patient["id"]),
        (f"SUMMARY#{patient['id']}", "13-45#mood", patient["id"]),
    ]


def test_a_full_rebuild_from_the_cli_shows_its_progress_patient_by_patient(
    clinic: Clinic, capsys: pytest.CaptureFixture[str]
) -> None:
    """It also counts over all patients: their days, and the latest values it had to rewrite (two patients' were
    lost, as after a crash between a batch's writes)."""
    for name in ("A", "B", "C"):
        patient = clinic.patient(first_name=name)
        record(clinic, patient, T0, {"gauge_type": "mood", "value": 5, "recorded_at": "2024-03-19T10:00:00Z"})
        if name != "C":
            table.call("delete_item", TableName=table.name(), Key=table.encode_key(keys.latest(patient["id"], "mood")))
    capsys.readouterr()
    with frozen(T0 + AFTER_SETTLE):
        assert admin.main(["summaries", "run", "--full"]) == 0
    settings.reset()  # the CLI set its own ID_BLOCK_SIZE
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert (result["patients"], result["days_recomputed"], result["latest_rewritten"]) == (3, 3, 2)
    assert captured.err.split("\r") == [
        "",
        f"[{'#' * 10}{'.' * 20}] 1/3 patients",
        f"[{'#' * 20}{'.' * 10}] 2/3 patients",
        f"[{'#' * 30}] 3/3 patients\n",
    ]


def test_a_run_that_an_overlapping_run_overtook_ends_normally(clinic: Clinic) -> None:
    """Two runs read the same checkpoint; the one that finishes second finds it moved (its conditional write
    fails): both wrote the same summaries, so it reports its work and leaves the other's checkpoint."""
    patient = clinic.patient()
    with frozen(T0):
        summaries.run_job()
    record(clinic, patient, T0 + timedelta(minutes=1), {"gauge_type": "mood", "value": 5})
    previous = store.get_checkpoint(summaries.JOB)["through"]
    overtaken = summaries._changed_days

    def overtaking(run: summaries.Run, after: str, upto: str) -> Any:
        store.put_checkpoint(summaries.JOB, "2024-03-20T12:01:00.000Z", previous)  # the other run, done first
        return overtaken(run, after, upto)

    with pytest.MonkeyPatch.context() as patch, frozen(T0 + timedelta(minutes=1) + AFTER_SETTLE):
        patch.setattr(summaries, "_changed_days", overtaking)
        result = summaries.run_job()
    assert (result["changes_read"], result["days_recomputed"]) == (1, 1)
    assert store.get_checkpoint(summaries.JOB)["through"] == "2024-03-20T12:01:00.000Z"
    assert stored_days(patient["id"]) == {"2024-03-20": 1}


def test_a_run_reports_its_duration_in_milliseconds(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    clock_readings = iter([100.0, 102.5])
    monkeypatch.setattr(summaries, "time", type("Clock", (), {"monotonic": staticmethod(lambda: next(clock_readings))}))
    with frozen(T0):
        assert summaries.run_job()["duration_ms"] == 2500


def test_the_scheduled_lambda_counts_items_set_aside(
    clinic: Clinic, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = clinic.patient()
    with frozen(T0):
        summaries.run_job()
    poison_gauge(patient["id"], 900_010, clock.iso(T0 + timedelta(seconds=30)), value="not a number")
    # Powertools' logger keeps the stream it found first (another test's capture): point it at this one.
    module = clinic.gateway._module("SummarizeGaugesFunction")
    for handler in logging.getLogger(module.logger.name).handlers:
        if isinstance(handler, logging.StreamHandler):
            monkeypatch.setattr(handler, "stream", sys.stdout)
    capsys.readouterr()
    with frozen(T0 + timedelta(seconds=30) + AFTER_SETTLE):
        result = clinic.gateway.invoke("SummarizeGaugesFunction", scheduled_event("summaries"))
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (emf,) = [d for d in documents if "_aws" in d]
    assert (result["set_aside"], emf["ItemsSetAside"]) == (1, [1.0])
    (warning,) = [d for d in documents if d.get("message") == "item set aside"]
    assert (warning["level"], warning["source_pk"], warning["error_type"]) == (
        "WARNING",
        f"GAUGE#{patient['id']}#mood",
        "ValueError",
    )


# ---- any accepted gauge can be summarized ----

OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1)


def _spelled(moment: datetime, offset_minutes: int | None) -> str:
    """A recorded_at as a client may write it: with an offset, with Z, or without one (taken as UTC)."""
    text = moment.replace(tzinfo=None).isoformat()
    if offset_minutes is None:
        return text + "Z"
    sign = "+" if offset_minutes >= 0 else "-"
    return f"{text}{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"


NOW = datetime(2024, 3, 20, 12, tzinfo=UTC)
RECORDED = st.one_of(
    st.datetimes(min_value=datetime(1899, 12, 30), max_value=datetime(1900, 1, 2)),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=NOW.replace(tzinfo=None) + timedelta(days=1)),
    st.datetimes(
        min_value=NOW.replace(tzinfo=None) - timedelta(days=1), max_value=NOW.replace(tzinfo=None) + timedelta(days=1)
    ),
)


_runs = itertools.count(1)  # each example's clock is later than the last one's: the job reads what changed since


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(sorted(time_zones())),
    times=st.lists(st.tuples(RECORDED, st.one_of(st.none(), OFFSETS)), min_size=1, max_size=6),
)
def test_any_accepted_gauge_is_summarized(clinic: Clinic, zone: str, times: list[Any]) -> None:
    when = NOW + timedelta(minutes=10 * next(_runs))
    with frozen(when):  # "not in the future" is judged by the same clock
        accepted = []
        for text in (_spelled(moment, offset) for moment, offset in times):
            try:
                accepted.append(NewGauge(gauge_type="mood", value=5, recorded_at=text))
            except ValueError:
                continue
        patient = clinic.patient(time_zone=zone)
        stored = gauges.record(clinic.caller, patient, accepted) if accepted else []
    assert all(EARLIEST_TIME <= at(g["recorded_at"]) <= when + FUTURE_TOLERANCE for g in stored)
    with frozen(when + AFTER_SETTLE):
        result = summaries.run_job()
    assert result["set_aside"] == 0
    days = stored_days(patient["id"])
    assert sum(days.values()) == len(stored)
    for g in stored:
        assert gauges.local_day(g["recorded_at"], gauges.zone(patient)).isoformat() in days
