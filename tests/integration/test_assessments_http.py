"""Instruments, assessments and latest values over real HTTP against the local API: the contract's bodies,
every validation message on the wire, access (401/404/403 before 422), Idempotency-Key, deletion."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from support import NOT_FOUND, PATIENT_FORBIDDEN, UNAUTHORIZED, User, clinic, patient, user

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
def world(local_api: Any) -> dict[str, Any]:
    home = clinic("Assessments clinic")
    admin = user(home, "admin", "Asa Admin")
    provider = user(home, "provider", "Dr. Pia Prov")
    stranger = user(home, "provider", "Dr. Off Team")
    elsewhere = user(clinic("Other clinic"), "admin", "Other Admin")
    return {"admin": admin, "provider": provider, "stranger": stranger, "elsewhere": elsewhere}


def _session(who: User) -> requests.Session:
    s = requests.Session()
    s.headers["X-User-Token"] = who.token
    return s


def _url(local_api: Any, path: str) -> str:
    return local_api.url + path


def test_record_read_list_latest_and_delete(local_api: Any, world: dict[str, Any]) -> None:
    provider = world["provider"]
    mine = patient(provider, "Hedda", "Http", time_zone="Europe/Oslo")
    s = _session(provider)
    base = _url(local_api, f"/v1/patients/{mine['id']}")

    instruments = s.get(_url(local_api, "/v1/instruments"))
    assert instruments.status_code == 200
    assert [(i["code"], i["total_max"]) for i in instruments.json()["instruments"]] == [("phq9", 27), ("gad7", 21)]

    answers = [0, 1, 2, 0, 0, 1, 0, 0, 0]
    sent = {"assessment": {"instrument": "phq9", "answers": answers, "completed_at": "2024-05-01T08:00:00+02:00"}}
    created = s.post(f"{base}/assessments", json=sent, headers={"Idempotency-Key": "http-phq9-1"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == ASSESSMENT_KEYS
    assert (body["total"], body["severity"], body["completed_at"], body["source"], body["recorded_by"]) == (
        4,
        "minimal",
        "2024-05-01T06:00:00.000Z",
        "staff",
        provider.id,
    )
    replay = s.post(f"{base}/assessments", json=sent, headers={"Idempotency-Key": "http-phq9-1"})
    assert (replay.status_code, replay.json(), replay.headers.get("Idempotent-Replayed")) == (201, body, "true")

    worse = {"assessment": {"instrument": "phq9", "answers": [2] * 9, "completed_at": "2024-05-08T08:00:00Z"}}
    second = s.post(f"{base}/assessments", json=worse).json()
    assert (second["total"], second["severity"]) == (18, "moderately_severe")

    assert s.get(f"{base}/assessments/{body['id']}").json() == body
    listed = s.get(f"{base}/assessments", params={"instrument": "phq9", "start_date": "2024-05-01"}).json()
    assert [a["id"] for a in listed["assessments"]] == [second["id"], body["id"]]
    assert listed["meta"] == {"page_size": 25, "has_more": False, "next_cursor": None}

    latest = s.get(f"{base}/gauges/latest").json()["latest"]
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
    assert s.delete(f"{base}/assessments/{second['id']}").status_code == 204
    (after,) = s.get(f"{base}/gauges/latest").json()["latest"]
    assert (after["value"], after["previous_value"], after["change"]) == (4, None, None)
    assert [g["value"] for g in s.get(f"{base}/gauges").json()["gauges"]] == [4]
    gone = s.get(f"{base}/assessments/{second['id']}")
    assert (gone.status_code, gone.json()) == (404, {"errors": "Assessment not found"})


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
    local_api: Any, world: dict[str, Any], fields: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    mine = patient(world["admin"], "Vera", "Valid")
    reply = _session(world["admin"]).post(
        _url(local_api, f"/v1/patients/{mine['id']}/assessments"), json={"assessment": fields}
    )
    assert (reply.status_code, reply.json()) == (422, {"errors": errors})


def test_access_comes_before_validation(local_api: Any, world: dict[str, Any]) -> None:
    theirs = patient(world["provider"], "Ada", "Access")
    bad = {"assessment": {"instrument": "nope"}}
    path = f"/v1/patients/{theirs['id']}"
    for method, suffix, body in (
        ("POST", "/assessments", bad),
        ("GET", "/assessments", None),
        ("GET", "/assessments/1", None),
        ("DELETE", "/assessments/1", None),
        ("GET", "/gauges/latest", None),
    ):
        url = _url(local_api, path + suffix)
        unauthenticated = requests.request(method, url, json=body)
        assert (unauthenticated.status_code, unauthenticated.json()) == (401, UNAUTHORIZED)
        off_team = _session(world["stranger"]).request(method, url, json=body)
        assert (off_team.status_code, off_team.json()) == (403, PATIENT_FORBIDDEN), (method, suffix)
        other_clinic = _session(world["elsewhere"]).request(method, url, json=body)
        assert (other_clinic.status_code, other_clinic.json()) == (404, NOT_FOUND), (method, suffix)
    instruments = requests.get(_url(local_api, "/v1/instruments"))
    assert (instruments.status_code, instruments.json()) == (401, UNAUTHORIZED)


def test_reserved_gauge_types_and_the_totals_gauge(local_api: Any, world: dict[str, Any]) -> None:
    mine = patient(world["admin"], "Rex", "Reserved")
    s = _session(world["admin"])
    base = _url(local_api, f"/v1/patients/{mine['id']}")
    refused = s.post(f"{base}/gauges", json={"gauge": {"gauge_type": "gad7", "value": 3}})
    assert (refused.status_code, refused.json()) == (422, {"errors": {"gauge_type": ["is reserved for assessments"]}})
    s.post(f"{base}/assessments", json={"assessment": {"instrument": "gad7", "answers": [1] * 7}})
    (total,) = s.get(f"{base}/gauges", params={"gauge_type": "gad7"}).json()["gauges"]
    conflict = s.delete(f"{base}/gauges/{total['id']}")
    assert (conflict.status_code, conflict.json()) == (
        409,
        {"errors": "This gauge is an assessment's total; delete the assessment"},
    )
