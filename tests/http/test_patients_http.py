"""The patient endpoints over real HTTP against the local API (the README's flow): headers, encodings and the
contract's error bodies as a client sees them on the wire."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from support import NOT_FOUND, PATIENT_KEYS, UNAUTHORIZED, User, clinic, user

pytestmark = pytest.mark.http

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def admin(http_api: Any) -> User:
    return user(clinic("HTTP clinic"), "admin", "Http Admin")


@pytest.fixture(scope="module")
def session(admin: User) -> requests.Session:
    s = requests.Session()
    s.headers["X-User-Token"] = admin.token
    return s


def url(http_api: Any, path: str) -> str:
    return http_api.url + path


def test_create_read_update_list_over_http(http_api: Any, session: requests.Session) -> None:
    body = {
        "patient": {
            "first_name": "Zoë",
            "last_name": "Ångström",
            "date_of_birth": "2010-05-15",
            "email": "zoe@example.com",
            "address": {"street": "123 Main St", "city": "Anytown", "state": "CA", "zip_code": "12345"},
            "time_zone": "America/Los_Angeles",
        }
    }
    created = session.post(url(http_api, "/v1/patients"), json=body)
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"].startswith("application/json")
    patient = created.json()
    assert set(patient) == PATIENT_KEYS
    assert (patient["first_name"], patient["last_name"]) == ("Zoë", "Ångström")
    assert created.headers["Location"] == f"/v1/patients/{patient['id']}"
    etag = created.headers["ETag"]

    read = session.get(url(http_api, created.headers["Location"]))
    assert (read.status_code, read.json(), read.headers["ETag"]) == (200, patient, etag)

    updated = session.put(
        url(http_api, created.headers["Location"]),
        json={"patient": {"phone": "+1-555-123-4567"}},
        headers={"If-Match": etag},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json() == {**patient, "phone": "+1-555-123-4567", "updated_at": updated.json()["updated_at"]}
    assert updated.headers["ETag"] != etag

    stale = session.put(
        url(http_api, created.headers["Location"]), json={"patient": {"phone": None}}, headers={"If-Match": etag}
    )
    assert (stale.status_code, stale.json()) == (412, {"errors": "Patient has been modified since it was read"})

    for search in ("zo", "ZOË", "ång", "zoe@example.com"):
        listed = session.get(url(http_api, "/v1/patients"), params={"search": search})
        assert [p["id"] for p in listed.json()["patients"]] == [patient["id"]], search
    assert session.get(url(http_api, "/v1/patients"), params={"search": "zoe"}).json()["patients"] == []


@pytest.mark.parametrize("path", ["/v1/patients/abc", "/v1/patients/0", "/v1/patients/1.5", "/v1/patients/%2F1"])
def test_non_integer_ids_are_404(http_api: Any, session: requests.Session, path: str) -> None:
    reply = session.get(url(http_api, path))
    assert (reply.status_code, reply.json()) == (404, NOT_FOUND)


def test_missing_patient_is_404(http_api: Any, session: requests.Session) -> None:
    for method in ("GET", "PUT"):
        reply = session.request(method, url(http_api, f"/v1/patients/{10**9}"), json={"patient": {"first_name": "X"}})
        assert (reply.status_code, reply.json()) == (404, NOT_FOUND)


def test_error_bodies_on_the_wire(http_api: Any, session: requests.Session) -> None:
    post = url(http_api, "/v1/patients")
    malformed = session.post(post, data="{not json", headers=JSON)
    assert (malformed.status_code, malformed.json()) == (400, {"errors": "Request body is not valid JSON"})

    plain = session.post(post, data="first_name=John", headers={"Content-Type": "text/plain"})
    assert (plain.status_code, plain.json()) == (
        415,
        {"errors": "Request body must be JSON (Content-Type: application/json)"},
    )

    huge = json.dumps({"patient": {"first_name": "x" * (1024 * 1024)}})
    too_large = session.post(post, data=huge, headers=JSON)
    assert (too_large.status_code, too_large.json()) == (413, {"errors": "Request body is larger than 1 MB"})

    empty = session.post(post, headers=JSON)
    assert (empty.status_code, empty.json()) == (422, {"errors": {"patient": ["can't be blank"]}})

    invalid = session.post(post, json={"patient": {"first_name": "John", "last_name": "Doe"}})
    assert (invalid.status_code, invalid.json()) == (
        422,
        {"errors": {"date_of_birth": ["can't be blank", "must be a valid date"]}},
    )
    for reply in (malformed, plain, too_large, empty, invalid):
        assert reply.headers["Content-Type"].startswith("application/json")
        assert "Traceback" not in reply.text


def test_authentication_comes_first(http_api: Any) -> None:
    # No token: 401 even for a body that is not JSON, a missing patient or an invalid query.
    for method, path, data in (
        ("POST", "/v1/patients", "{not json"),
        ("GET", f"/v1/patients/{10**9}", None),
        ("GET", "/v1/patients?page=x", None),
        ("PUT", "/v1/patients/abc", "{}"),
    ):
        reply = requests.request(method, url(http_api, path), data=data, headers=JSON, timeout=10)
        assert (reply.status_code, reply.json()) == (401, UNAUTHORIZED), (method, path)


def test_unknown_routes_are_404_with_a_json_body(http_api: Any, session: requests.Session) -> None:
    for method, path in (("GET", "/v1/nothing"), ("DELETE", "/v1/patients/1"), ("GET", "/v2/patients")):
        for headers in ({}, {"X-User-Token": None}):  # with the session's token, and without any
            reply = session.request(method, url(http_api, path), headers=headers)
            assert (reply.status_code, reply.json()) == (404, {"errors": "Not found"}), (method, path, headers)
