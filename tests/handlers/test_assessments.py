"""Instruments and assessments through the handlers (the template's routes in-process): scoring, the total as a
gauge in gauge lists, summaries and latest values, deletion, lists, validation, and who may delete."""

from __future__ import annotations

from typing import Any

import pytest
from clinic import assessments, summaries
from clinic.access import Caller, may_delete
from gauge_support import Clinic, metered, new_clinic
from support import Client, dynamodb_calls, frozen

NOW = "2024-03-10T12:00:00.000Z"
PHQ9_MILD = [0, 1, 2, 0, 0, 1, 0, 0, 3]  # 7: mild, item 9 answered


@pytest.fixture
def clinic(aws: Any) -> Clinic:
    return new_clinic()


def _path(patient: dict[str, Any], suffix: str = "") -> str:
    return f"/v1/patients/{patient['id']}/assessments{suffix}"


def _record(clinic: Clinic, patient: dict[str, Any], **fields: Any) -> dict[str, Any]:
    status, body = clinic.call("POST", _path(patient), {"assessment": fields})
    assert status == 201, body
    return body


def test_instruments_are_listed_with_their_wording(clinic: Clinic) -> None:
    status, body = clinic.call("GET", "/v1/instruments")
    assert status == 200
    phq9, gad7 = body["instruments"]
    assert (phq9["code"], phq9["loinc"], phq9["total_loinc"], phq9["total_max"]) == ("phq9", "44249-1", "44261-6", 27)
    assert (gad7["code"], gad7["loinc"], gad7["total_loinc"], gad7["total_max"]) == ("gad7", "69737-5", "70274-6", 21)
    assert [i["number"] for i in phq9["items"]] == list(range(1, 10))
    assert phq9["items"][1] == {"number": 2, "text": "Feeling down, depressed, or hopeless"}
    assert [o["label"] for o in gad7["options"]] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert gad7["severity"][-1] == {"min": 15, "max": 21, "label": "severe"}


def test_record_scores_and_stores_with_its_total_gauge(clinic: Clinic) -> None:
    patient = clinic.patient()
    with frozen(NOW):
        body = _record(clinic, patient, instrument="phq9", answers=PHQ9_MILD, notes="Seen in clinic")
    assert body == {
        "id": body["id"],
        "patient_id": patient["id"],
        "instrument": "phq9",
        "answers": PHQ9_MILD,
        "total": 7,
        "severity": "mild",
        "completed_at": NOW,
        "notes": "Seen in clinic",
        "source": "staff",
        "recorded_by": clinic.caller.user_id,
        "created_at": NOW,
    }
    assert clinic.call("GET", _path(patient, f"/{body['id']}")) == (200, body)
    status, listed = clinic.call("GET", f"/v1/patients/{patient['id']}/gauges")
    assert status == 200
    assert [
        (g["gauge_type"], g["value"], g["scale_min"], g["scale_max"], g["recorded_at"]) for g in listed["gauges"]
    ] == [("phq9", 7, 0, 27, NOW)]


def test_band_edges_over_the_api(clinic: Clinic) -> None:
    patient = clinic.patient()
    cases = [
        ("phq9", [3, 3, 3, 3, 3, 3, 2, 0, 0], 20, "severe"),
        ("phq9", [3, 3, 3, 3, 3, 3, 1, 0, 0], 19, "moderately_severe"),
        ("gad7", [3, 3, 3, 3, 3, 0, 0], 15, "severe"),
        ("gad7", [3, 3, 3, 3, 2, 0, 0], 14, "moderate"),
        ("gad7", [0] * 7, 0, "minimal"),
        ("gad7", [3] * 7, 21, "severe"),
    ]
    for instrument, answers, total, severity in cases:
        body = _record(clinic, patient, instrument=instrument, answers=answers)
        assert (body["total"], body["severity"]) == (total, severity)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"instrument": "phq10", "answers": [0]}, {"instrument": ["is not included in the list"]}),
        ({"answers": [0] * 9}, {"instrument": ["can't be blank"]}),
        ({"instrument": "phq9"}, {"answers": ["can't be blank"]}),
        ({"instrument": "phq9", "answers": [0] * 8}, {"answers": ["must have exactly 9 answers"]}),
        ({"instrument": "gad7", "answers": [0] * 9}, {"answers": ["must have exactly 7 answers"]}),
        (
            {"instrument": "phq9", "answers": [0, 4, 0, 0, -1, 0, 0, 0, 0]},
            {"answers[1]": ["must be between 0 and 3"], "answers[4]": ["must be between 0 and 3"]},
        ),
        (
            {"instrument": "gad7", "answers": [0, 0, "1", 0, 0, 0, 1.5]},
            {"answers[2]": ["must be a number"], "answers[6]": ["must be a number"]},
        ),
        ({"instrument": "gad7", "answers": "0000000"}, {"answers": ["must be an array"]}),
        ({"instrument": 9, "answers": [0] * 9}, {"instrument": ["must be a string"]}),
        (
            {"instrument": "gad7", "answers": [0] * 7, "completed_at": "2024-03-10T12:06:00Z"},
            {"completed_at": ["can't be in the future"]},
        ),
        (
            {"instrument": "gad7", "answers": [0] * 7, "completed_at": "yesterday"},
            {"completed_at": ["must be a valid date-time"]},
        ),
        (
            {"instrument": "gad7", "answers": [0] * 7, "notes": "x" * 2001},
            {"notes": ["is too long (maximum is 2000 characters)"]},
        ),
        (
            {"instrument": "gad7", "answers": [0] * 7, "total": 21, "severity": "severe"},
            {"total": ["is not permitted"], "severity": ["is not permitted"]},
        ),
        (
            {"instrument": "nope", "answers": [0] * 101},
            {"instrument": ["is not included in the list"], "answers": ["must have at most 100 answers"]},
        ),
    ],
)
def test_every_validation_message(clinic: Clinic, fields: dict[str, Any], errors: dict[str, list[str]]) -> None:
    patient = clinic.patient()
    with frozen(NOW):
        assert clinic.call("POST", _path(patient), {"assessment": fields}) == (422, {"errors": errors})
    assert clinic.call("GET", _path(patient))[1]["assessments"] == []
    assert clinic.call("GET", f"/v1/patients/{patient['id']}/gauges")[1]["gauges"] == []


def test_a_body_without_its_wrapper(clinic: Clinic) -> None:
    patient = clinic.patient()
    assert clinic.call("POST", _path(patient), {"instrument": "gad7"}) == (
        422,
        {"errors": {"assessment": ["can't be blank"], "instrument": ["is not permitted"]}},
    )
    assert clinic.call("POST", _path(patient)) == (422, {"errors": {"assessment": ["can't be blank"]}})


def test_gauges_may_not_use_an_instruments_code(clinic: Clinic) -> None:
    patient = clinic.patient()
    status, body = clinic.call(
        "POST",
        f"/v1/patients/{patient['id']}/gauges",
        {"gauge": {"gauge_type": "phq9", "value": 3, "scale_min": 0, "scale_max": 27}},
    )
    assert (status, body) == (422, {"errors": {"gauge_type": ["is reserved for assessments"]}})
    status, body = clinic.call(
        "POST",
        f"/v1/patients/{patient['id']}/gauges",
        {"gauges": [{"gauge_type": "mood", "value": 3}, {"gauge_type": "gad7", "value": 3}]},
    )
    assert (status, body) == (422, {"errors": {"gauges[1].gauge_type": ["is reserved for assessments"]}})


def test_delete_removes_the_assessment_and_its_gauge_and_the_total_gauge_alone_is_409(clinic: Clinic) -> None:
    patient = clinic.patient()
    first = _record(clinic, patient, instrument="gad7", answers=[1] * 7, completed_at="2024-03-01T10:00:00Z")
    second = _record(clinic, patient, instrument="gad7", answers=[2] * 7, completed_at="2024-03-08T10:00:00Z")
    gauges = clinic.call("GET", f"/v1/patients/{patient['id']}/gauges")[1]["gauges"]
    assert [g["value"] for g in gauges] == [14, 7]
    assert clinic.call("DELETE", f"/v1/patients/{patient['id']}/gauges/{gauges[0]['id']}") == (
        409,
        {"errors": "This gauge is an assessment's total; delete the assessment"},
    )
    assert clinic.call("DELETE", _path(patient, f"/{second['id']}")) == (204, None)
    assert [g["value"] for g in clinic.call("GET", f"/v1/patients/{patient['id']}/gauges")[1]["gauges"]] == [7]
    assert [a["id"] for a in clinic.call("GET", _path(patient))[1]["assessments"]] == [first["id"]]
    (entry,) = clinic.call("GET", f"/v1/patients/{patient['id']}/gauges/latest")[1]["latest"]
    assert (entry["gauge_type"], entry["value"], entry["previous_value"], entry["change"]) == ("gad7", 7, None, None)
    missing = (404, {"errors": "Assessment not found"})
    assert clinic.call("DELETE", _path(patient, f"/{second['id']}")) == missing
    assert clinic.call("GET", _path(patient, f"/{second['id']}")) == missing
    for bad in ("0", "abc", "99999", "1.5", "-1"):
        assert clinic.call("GET", _path(patient, f"/{bad}")) == missing
        assert clinic.call("DELETE", _path(patient, f"/{bad}")) == missing


def test_another_patients_assessment_is_not_found(clinic: Clinic) -> None:
    one, other = clinic.patient(), clinic.patient(first_name="Other")
    mine = _record(clinic, one, instrument="gad7", answers=[0] * 7)
    missing = (404, {"errors": "Assessment not found"})
    assert clinic.call("GET", _path(other, f"/{mine['id']}")) == missing
    assert clinic.call("DELETE", _path(other, f"/{mine['id']}")) == missing
    assert clinic.call("GET", _path(one, f"/{mine['id']}"))[0] == 200


def test_the_total_is_summarized_like_any_gauge(clinic: Clinic) -> None:
    patient = clinic.patient()
    with frozen("2024-03-09T12:00:00Z"):
        _record(clinic, patient, instrument="phq9", answers=PHQ9_MILD, completed_at="2024-03-09T08:00:00Z")
        _record(clinic, patient, instrument="phq9", answers=[3] * 9, completed_at="2024-03-09T09:00:00Z")
    with frozen("2024-03-10T12:00:00Z"):
        summaries.run_job()
    query = "gauge_type=phq9&start_date=2024-03-01&end_date=2024-03-10"
    status, body = clinic.call("GET", f"/v1/patients/{patient['id']}/gauges/summary?{query}")
    assert status == 200
    (day,) = body["summaries"]
    assert (day["period_start"], day["count"], day["min"], day["max"], day["mean"], day["last_value"]) == (
        "2024-03-09",
        2,
        7,
        27,
        17,
        27,
    )


def test_list_filters_orders_and_pages(clinic: Clinic) -> None:
    patient = clinic.patient(time_zone="America/New_York")
    made = []
    for day in range(1, 7):
        instrument, answers = ("phq9", [day % 4] * 9) if day % 2 else ("gad7", [day % 4] * 7)
        made.append(
            _record(clinic, patient, instrument=instrument, answers=answers, completed_at=f"2024-03-0{day}T03:00:00Z")
        )
    _, body = clinic.call("GET", _path(patient))
    assert [a["id"] for a in body["assessments"]] == [a["id"] for a in reversed(made)]
    assert body["meta"] == {"page_size": 25, "has_more": False, "next_cursor": None}
    _, body = clinic.call("GET", _path(patient, "?instrument=gad7&order=asc"))
    assert [a["id"] for a in body["assessments"]] == [made[1]["id"], made[3]["id"], made[5]["id"]]
    # 03:00 UTC is the evening before in New York: days 2-3 there are the assessments of 3 and 4 March UTC.
    _, body = clinic.call("GET", _path(patient, "?start_date=2024-03-02&end_date=2024-03-03&order=asc"))
    assert [a["id"] for a in body["assessments"]] == [made[2]["id"], made[3]["id"]]
    seen, cursor = [], None
    while True:
        query = "?page_size=4" + (f"&cursor={cursor}" if cursor else "")
        status, body = clinic.call("GET", _path(patient, query))
        assert status == 200, body
        seen += [a["id"] for a in body["assessments"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
        # The anchor of a cursor may be deleted meanwhile: the next page still starts after it.
        assert clinic.call("DELETE", _path(patient, f"/{seen[-1]}"))[0] == 204
    assert seen == [a["id"] for a in reversed(made)]


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("instrument=mood", {"instrument": ["is not included in the list"]}),
        ("start_date=2024-02-30", {"start_date": ["must be a valid date"]}),
        ("start_date=2024-03-05&end_date=2024-03-01", {"end_date": ["must be on or after start_date"]}),
        ("order=newest", {"order": ["is not included in the list"]}),
        ("page_size=0", {"page_size": ["must be greater than or equal to 1"]}),
        ("page_size=101", {"page_size": ["must be less than or equal to 100"]}),
        ("page_size=x", {"page_size": ["is not a number"]}),
        ("cursor=bm9wZQ", {"cursor": ["is invalid"]}),
    ],
)
def test_list_query_messages(clinic: Clinic, query: str, errors: dict[str, list[str]]) -> None:
    patient = clinic.patient()
    assert clinic.call("GET", _path(patient, f"?{query}")) == (422, {"errors": errors})


def test_a_cursor_of_another_patient_is_invalid(clinic: Clinic) -> None:
    one, other = clinic.patient(), clinic.patient(first_name="Other")
    for _ in range(2):
        _record(clinic, one, instrument="gad7", answers=[0] * 7)
    cursor = clinic.call("GET", _path(one, "?page_size=1"))[1]["meta"]["next_cursor"]
    assert clinic.call("GET", _path(other, f"?page_size=1&cursor={cursor}")) == (
        422,
        {"errors": {"cursor": ["is invalid"]}},
    )


def test_idempotency_key_replays_the_first_response(clinic: Clinic) -> None:
    patient = clinic.patient()
    client, headers = Client(clinic.gateway), {"Idempotency-Key": "phq9-visit-1"}
    body = {"assessment": {"instrument": "phq9", "answers": PHQ9_MILD}}
    first = client.post(_path(patient), body, token=clinic.token, headers=headers)
    again = client.post(_path(patient), body, token=clinic.token, headers=headers)
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    assert len(clinic.call("GET", _path(patient))[1]["assessments"]) == 1
    assert len(clinic.call("GET", f"/v1/patients/{patient['id']}/gauges")[1]["gauges"]) == 1


def test_recording_is_one_transaction_and_reading_latest_is_one_query(clinic: Clinic) -> None:
    patient = clinic.patient()
    with dynamodb_calls() as calls:
        _record(clinic, patient, instrument="gad7", answers=[1] * 7)
        writes = [
            c for c in calls if c in ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")
        ]
        # The id counters' blocks (reserved once per container) and the audit item aside: one transaction.
        assert [c for c in writes if c != "UpdateItem"] == ["TransactWriteItems", "PutItem"]
        calls.clear()
        with metered() as meter:
            assert clinic.call("GET", f"/v1/patients/{patient['id']}/gauges/latest")[0] == 200
        assert meter.calls == 1
        # After the authorizer's reads: the patient (access), then the latest values, then the audit item.
        assert calls[-3:] == ["GetItem", "Query", "PutItem"]


def test_only_a_patient_user_is_limited_to_what_they_recorded() -> None:
    mine = {"recorded_by": 88}
    assert may_delete(Caller(7, 1, "provider"), mine)
    assert may_delete(Caller(88, 1, "patient"), mine)
    assert not may_delete(Caller(89, 1, "patient"), mine)
    assert assessments.source_of(Caller(88, 1, "patient")) == "patient"
    assert assessments.source_of(Caller(7, 1, "admin")) == "staff"
