"""Latest values: for any sequence of gauge writes and deletions (single, batch, full batch, assessment),
`GET .../gauges/latest` equals what a full read of the patient's gauges computes; and the pure rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from clinic import ids, latest, store, summaries
from clinic.store import keys, table
from clinic.store import latest as store_latest
from gauge_support import Clinic, new_clinic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import frozen, moto_tables

TYPES = ("mood", "pain")
# Few distinct times, so that equal recorded_at (ordered by id) happens often.
TIMES = [f"2024-03-0{d}T10:00:00.000Z" for d in range(1, 5)]


@pytest.fixture(scope="module")
def clinic() -> Iterator[Clinic]:
    with moto_tables():
        yield new_clinic()


def _expected(clinic: Clinic, patient: dict[str, Any]) -> list[dict[str, Any]]:
    """The latest values computed from a full read of the patient's gauges (every page, every type)."""
    gauges: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = "?page_size=500&order=desc" + (f"&cursor={cursor}" if cursor else "")
        status, body = clinic.call("GET", f"/v1/patients/{patient['id']}/gauges{query}")
        assert status == 200, body
        gauges += body["gauges"]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
    out = []
    for gauge_type in sorted({g["gauge_type"] for g in gauges}):
        newest, *rest = [g for g in gauges if g["gauge_type"] == gauge_type]  # already newest first
        previous = rest[0] if rest else None
        out.append(
            {
                "gauge_type": gauge_type,
                "value": newest["value"],
                "scale_min": newest["scale_min"],
                "scale_max": newest["scale_max"],
                "recorded_at": newest["recorded_at"],
                "previous_value": previous["value"] if previous else None,
                "previous_recorded_at": previous["recorded_at"] if previous else None,
                "change": round(newest["value"] - previous["value"], 9) if previous else None,
            }
        )
    return out


gauge = st.fixed_dictionaries(
    {
        "gauge_type": st.sampled_from(TYPES),
        "value": st.sampled_from([1, 2.5, 7, 10]),
        "recorded_at": st.sampled_from(TIMES),
    }
)
operation = st.one_of(
    st.tuples(st.just("one"), gauge),
    st.tuples(st.just("batch"), st.lists(gauge, min_size=2, max_size=5)),
    st.tuples(st.just("full batch"), gauge),  # 100 gauges: too many for the entries to join the transaction
    st.tuples(st.just("assessment"), st.integers(0, 3), st.sampled_from(TIMES)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("delete assessment"), st.integers(0, 50)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operation, min_size=1, max_size=6))
def test_latest_equals_a_full_read_after_any_writes_and_deletions(clinic: Clinic, operations: list[Any]) -> None:
    patient = clinic.patient()
    base = f"/v1/patients/{patient['id']}"
    gauge_ids: list[int] = []
    assessment_ids: list[int] = []
    for op in operations:
        kind = op[0]
        if kind == "one":
            status, body = clinic.call("POST", f"{base}/gauges", {"gauge": op[1]})
            gauge_ids.append(body["id"])
        elif kind in ("batch", "full batch"):
            batch = op[1] if kind == "batch" else [op[1]] * 100
            status, body = clinic.call("POST", f"{base}/gauges", {"gauges": batch})
            gauge_ids += [g["id"] for g in body["gauges"]]
        elif kind == "assessment":
            fields = {"instrument": "gad7", "answers": [op[1]] * 7, "completed_at": op[2]}
            status, body = clinic.call("POST", f"{base}/assessments", {"assessment": fields})
            assessment_ids.append(body["id"])
        elif kind == "delete" and gauge_ids:
            status, body = clinic.call("DELETE", f"{base}/gauges/{gauge_ids.pop(op[1] % len(gauge_ids))}")
        elif kind == "delete assessment" and assessment_ids:
            index = op[1] % len(assessment_ids)
            status, body = clinic.call("DELETE", f"{base}/assessments/{assessment_ids.pop(index)}")
        else:
            continue
        assert status in (201, 204), body
        status, body = clinic.call("GET", f"{base}/gauges/latest")
        assert status == 200
        assert body["latest"] == _expected(clinic, patient)


def _ref(gauge_id: int, recorded_at: str, value: float = 5) -> dict[str, Any]:
    return {"id": gauge_id, "value": value, "scale_min": 1, "scale_max": 10, "recorded_at": recorded_at}


def test_the_pure_rules() -> None:
    a, b, c = (
        _ref(1, "2024-01-02T00:00:00.000Z"),
        _ref(2, "2024-01-01T00:00:00.000Z"),
        _ref(3, "2024-01-02T00:00:00.000Z"),
    )
    assert latest.top_two([]) is None
    assert latest.top_two([b, a, None]) == {"newest": a, "previous": b}
    assert latest.top_two([a, c, b]) == {"newest": c, "previous": a}  # same time: the higher id is newer
    entry = {"newest": a, "previous": b, "version": 3}
    assert latest.after_write(entry, [{**c, "gauge_type": "mood"}]) == {"newest": c, "previous": a}
    older = _ref(4, "2023-01-01T00:00:00.000Z")
    assert latest.after_write(entry, [{**older, "gauge_type": "mood"}]) == {"newest": a, "previous": b}
    # Deleting the newest brings the next older gauge in; deleting one the entry does not hold changes nothing.
    assert latest.after_delete(entry, 1, [a, b, older]) == {"newest": b, "previous": older}
    assert latest.after_delete(entry, 4, []) == {"newest": a, "previous": b}
    assert latest.after_delete({"newest": a, "previous": None, "version": 1}, 1, [a]) is None


def test_present_entry_computes_the_change_exactly() -> None:
    entry = {
        "gauge_type": "pain",
        "newest": _ref(2, "2024-01-02T00:00:00.000Z", 7.1),
        "previous": _ref(1, "2024-01-01T00:00:00.000Z", 5),
    }
    presented = latest.present_entry(entry)
    assert (presented["value"], presented["previous_value"], presented["change"]) == (7.1, 5, 2.1)


def test_the_summary_job_repairs_entries_a_full_batch_left_unwritten(clinic: Clinic) -> None:
    """A crash between a full batch's gauges and its entries: the gauges are stored (here straight through the
    store, as the crashed request left them), and the next run of the job writes the entries. The job has run
    before (its checkpoint just before the batch): it reads what changed since, not every patient of the module
    (a full rebuild after the property test took 10 s)."""
    table.put({**keys.checkpoint(summaries.JOB)._asdict(), "through": "2024-03-09T11:59:59.000Z"})
    patient = clinic.patient()
    with frozen("2024-03-09T12:00:00Z"):
        status, body = clinic.call(
            "POST", f"/v1/patients/{patient['id']}/gauges", {"gauge": {"gauge_type": "mood", "value": 3}}
        )
        assert status == 201
        batch = [
            {**body, "id": ids.next_id("gauge"), "value": 8, "recorded_at": "2024-03-09T11:00:00.000Z"},
            {**body, "id": ids.next_id("gauge"), "gauge_type": "pain", "value": 2, "scale_min": 0},
        ]
        store.put_gauges(batch)
    assert [
        e["gauge_type"] for e in clinic.call("GET", f"/v1/patients/{patient['id']}/gauges/latest")[1]["latest"]
    ] == ["mood"]
    with frozen("2024-03-09T12:05:00Z"):
        assert summaries.run_job()["latest_rewritten"] >= 2
    assert clinic.call("GET", f"/v1/patients/{patient['id']}/gauges/latest")[1]["latest"] == _expected(clinic, patient)
    with frozen("2024-03-09T12:10:00Z"):
        assert summaries.run_job()["latest_rewritten"] == 0  # nothing changed since: nothing rewritten


def test_refresh_reads_every_types_entry_at_once_and_rereads_only_a_conflicting_one(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary job refreshes each touched type of a patient: one read of all their entries, not one per type;
    an entry that moved since (a conflict) is read again on its own and written from the fresh read."""
    patient = clinic.patient()
    with frozen("2024-03-09T12:00:00Z"):
        gauge = {"gauge_type": "mood", "value": 3}
        status, body = clinic.call("POST", f"/v1/patients/{patient['id']}/gauges", {"gauge": gauge})
        assert status == 201
        # Gauges stored without their entries (as a crashed full batch leaves them).
        store.put_gauges(
            [
                {**body, "id": ids.next_id("gauge"), "value": 8, "recorded_at": "2024-03-09T11:59:00.000Z"},
                {**body, "id": ids.next_id("gauge"), "gauge_type": "pain", "value": 2},
            ]
        )
    reads: list[list[str]] = []
    entries_of, write_entry = store_latest.entries_of, store_latest.write_entry
    conflicts = ["mood"]

    def counted(patient_id: int, gauge_types: list[str]) -> dict[str, Any]:
        reads.append(list(gauge_types))
        return entries_of(patient_id, gauge_types)

    def conflicting(write: dict[str, Any]) -> None:
        kind = next(iter(write))
        if write[kind]["Key" if "Key" in write[kind] else "Item"]["sk"]["S"] in conflicts:
            conflicts.clear()
            raise store.ConditionFailed
        write_entry(write)

    monkeypatch.setattr(store_latest, "entries_of", counted)
    monkeypatch.setattr(store_latest, "write_entry", conflicting)
    assert latest.refresh(patient["id"], ["mood", "pain", "mood"]) == 2
    assert reads == [["mood", "pain"], ["mood"]]
    assert clinic.call("GET", f"/v1/patients/{patient['id']}/gauges/latest")[1]["latest"] == _expected(clinic, patient)


def test_the_demo_data_has_weekly_instruments_and_its_latest_values(clinic: Clinic) -> None:
    from clinic.access import Caller

    from local.seed import seed_demo

    demo = seed_demo()
    assert demo["assessments"] == 6 * 4 * 2  # six patients, four weeks, PHQ-9 and GAD-7
    admin = Caller(demo["users"]["admin"], demo["clinic_id"], "admin")
    viewer = Clinic(admin, demo["tokens"]["admin"], clinic.gateway)
    for patient_id in demo["patient_ids"][:2]:
        demo_patient = {"id": patient_id}
        status, body = viewer.call("GET", f"/v1/patients/{patient_id}/assessments?instrument=phq9")
        assert status == 200 and len(body["assessments"]) == 4
        assert all(a["answers"][8] == 0 for a in body["assessments"])
        got = viewer.call("GET", f"/v1/patients/{patient_id}/gauges/latest")[1]["latest"]
        assert {e["gauge_type"] for e in got} >= {"mood", "phq9", "gad7"}
        assert got == _expected(viewer, demo_patient)
