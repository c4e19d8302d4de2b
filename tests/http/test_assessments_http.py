"""Instruments, assessments and latest values over real HTTP against the local API: the contract's bodies,
every validation message on the wire, access (401/404/403 before 422), Idempotency-Key, deletion."""

from __future__ import annotations

from typing import Any

import pytest
from support import NOT_FOUND, PATIENT_FORBIDDEN, UNAUTHORIZED, Client, clinic, patient, user

pytestmark = pytest.mark.http

ASSESSMENT_KEYS = {
    "id",
    "patient_id",
    "instrument",
    "answers",
    "total",
    "severity",
    "completed_at",
    "notes",
    "source",
    "recorded_by",
    "created_at",
}


@pytest.fixture(scope="module")
def world(http_api: Any) -> dict[str, Any]:
    home = clinic("Assessments clinic")
    admin = user(home, "admin", "Asa Admin")
    provider = user(home, "provider", "Dr. Pia Prov")
    stranger = user(home, "provider", "Dr. Off Team")
    elsewhere = user(clinic("Other clinic"), "admin", "Other Admin")
    return {"admin": admin, "provider": provider, "stranger": stranger, "elsewhere": elsewhere}


@pytest.fixture(scope="module")
def api(http_api: Any) -> Client:
    return Client(http_api.url)


def test_record_read_list_latest_and_delete(api: Client, world: dict[str, Any]) -> None:
    provider = world["provider"]
    mine = patient(provider, "Hedda", "Http", time_zone="Europe/Oslo")
    token = provider.token
    base = f"/v1/patients/{mine['id']}"

    instruments = api.get("/v1/instruments", token=token)
    assert instruments.status == 200
    assert [(i["code"], i["total_max"]) for i in instruments.body["instruments"]] == [("phq9", 27), ("gad7", 21)]

    answers = [0, 1, 2, 0, 0, 1, 0, 0, 0]
    sent = {"assessment": {"instrument": "phq9", "answers": answers, "completed_at": "2024-05-01T08:00:00+02:00"}}
    created = api.post(f"{base}/assessments", sent, token=token, headers={"Idempotency-Key": "http-phq9-1"})
    assert created.status == 201, created.text
    body = created.body
    assert set(body) == ASSESSMENT_KEYS
    assert (body["total"], body["severity"], body["completed_at"], body["source"], body["recorded_by"]) == (
        4,
        "minimal",
        "2024-05-01T06:00:00.000Z",
        "staff",
        provider.id,
    )
    replay = api.post(f"{base}/assessments", sent, token=token, headers={"Idempotency-Key": "http-phq9-1"})
    assert (replay.status, replay.body, replay.header("Idempotent-Replayed")) == (201, body, "true")

    worse = {"assessment": {"instrument": "phq9", "answers": [2] * 9, "completed_at": "2024-05-08T08:00:00Z"}}
    second = api.post(f"{base}/assessments", worse, token=token).body
    assert (second["total"], second["severity"]) == (18, "moderately_severe")

    assert api.get(f"{base}/assessments/{body['id']}", token=token).body == body
    listed = api.get(f"{base}/assessments", token=token, query={"instrument": "phq9", "start_date": "2024-05-01"}).body
    assert [a["id"] for a in listed["assessments"]] == [second["id"], body["id"]]
    assert listed["meta"] == {"page_size": 25, "has_more": False, "next_cursor": None}

    latest = api.get(f"{base}/gauges/latest", token=token).body["latest"]
    assert latest == [
        {
            "gauge_type": "phq9",
            "value": 18,
            "scale_min": 0,
            "scale_max": 27,
            "recorded_at": "2024-05-08T08:00:00.000Z",
            "previous_value": 4,
            "previous_recorded_at": "2024-05-01T06:00:00.000Z",
            "change": 14,
        }
    ]
    assert api.delete(f"{base}/assessments/{second['id']}", token=token).status == 204
    (after,) = api.get(f"{base}/gauges/latest", token=token).body["latest"]
    assert (after["value"], after["previous_value"], after["change"]) == (4, None, None)
    assert [g["value"] for g in api.get(f"{base}/gauges", token=token).body["gauges"]] == [4]
    gone = api.get(f"{base}/assessments/{second['id']}", token=token)
    assert (gone.status, gone.body) == (404, {"errors": "Assessment not found"})


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"instrument": "bdi2", "answers": [0] * 21}, {"instrument": ["is not included in the list"]}),
        ({"instrument": "gad7", "answers": [0] * 6}, {"answers": ["must have exactly 7 answers"]}),
        ({"instrument": "gad7", "answers": [0, 0, 0, 7, 0, 0, 0]}, {"answers[3]": ["must be between 0 and 3"]}),
        (
            {"instrument": "gad7", "answers": [0] * 7, "completed_at": "2999-01-01T00:00:00Z"},
            {"completed_at": ["can't be in the future"]},
        ),
        (
            {"instrument": "gad7", "answers": [0] * 7, "notes": "n" * 2001},
            {"notes": ["is too long (maximum is 2000 characters)"]},
        ),
        ({}, {"instrument": ["can't be blank"], "answers": ["can't be blank"]}),
    ],
)
def test_validation_messages_on_the_wire(
    api: Client, world: dict[str, Any], fields: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    mine = patient(world["admin"], "Vera", "Valid")
    reply = api.post(f"/v1/patients/{mine['id']}/assessments", {"assessment": fields}, token=world["admin"].token)
    assert (reply.status, reply.body) == (422, {"errors": errors})


def test_access_comes_before_validation(api: Client, world: dict[str, Any]) -> None:
    theirs = patient(world["provider"], "Ada", "Access")
    bad = {"assessment": {"instrument": "nope"}}
    path = f"/v1/patients/{theirs['id']}"
    for method, suffix, body in (
        ("POST", "/assessments", bad),
        ("GET", "/assessments", ...),
        ("GET", "/assessments/1", ...),
        ("DELETE", "/assessments/1", ...),
        ("GET", "/gauges/latest", ...),
    ):
        unauthenticated = api.request(method, path + suffix, json_body=body)
        assert (unauthenticated.status, unauthenticated.body) == (401, UNAUTHORIZED)
        off_team = api.request(method, path + suffix, json_body=body, token=world["stranger"].token)
        assert (off_team.status, off_team.body) == (403, PATIENT_FORBIDDEN), (method, suffix)
        other_clinic = api.request(method, path + suffix, json_body=body, token=world["elsewhere"].token)
        assert (other_clinic.status, other_clinic.body) == (404, NOT_FOUND), (method, suffix)
    instruments = api.get("/v1/instruments")
    assert (instruments.status, instruments.body) == (401, UNAUTHORIZED)


def test_reserved_gauge_types_and_the_totals_gauge(api: Client, world: dict[str, Any]) -> None:
    mine = patient(world["admin"], "Rex", "Reserved")
    token = world["admin"].token
    base = f"/v1/patients/{mine['id']}"
    refused = api.post(f"{base}/gauges", {"gauge": {"gauge_type": "gad7", "value": 3}}, token=token)
    assert (refused.status, refused.body) == (422, {"errors": {"gauge_type": ["is reserved for assessments"]}})
    api.post(f"{base}/assessments", {"assessment": {"instrument": "gad7", "answers": [1] * 7}}, token=token)
    (total,) = api.get(f"{base}/gauges", token=token, query={"gauge_type": "gad7"}).body["gauges"]
    conflict = api.delete(f"{base}/gauges/{total['id']}", token=token)
    assert (conflict.status, conflict.body) == (
        409,
        {"errors": "This gauge is an assessment's total; delete the assessment"},
    )
