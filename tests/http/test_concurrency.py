"""Races over HTTP against the local API: conditional updates, per-field updates, idempotent creates and id
allocation.

One LocalGateway runs one invocation at a time, like one Lambda container. To race for real, requests are
spread over several gateway processes (containers), all on one DynamoDB server (moto) of this module's own.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from clinic import accounts, settings, store

from local.dynamodb import create_tables, free_port
from local.template import environment, load_template

pytestmark = pytest.mark.local_only("races gateway processes of its own on an embedded DynamoDB of its own")

CONTAINERS = 5
PATIENT = {"first_name": "Grace", "last_name": "Hopper", "date_of_birth": "1946-12-09"}


# A moto server of this module's own, with DynamoDB's guarantees made explicit: each write (and each
# transaction, as a whole) is atomic with respect to the others, and a transaction costs what its items
# cost (moto's own copies the whole table per item, so 200 creates on a busy table take minutes).
_SERVER = """
import sys
from local.moto_server import serve
serve(["-H", "127.0.0.1", "-p", sys.argv[1]])
"""


# One Lambda container = one process: Powertools keeps the current event in a class attribute
# (BaseRouter.current_event), so two resolvers must never run at once in one process.
_CONTAINER = """
import sys, threading
from local.gateway import default_gateway
default_gateway(authorizer_cache=False).serve("127.0.0.1", int(sys.argv[1]))
threading.Event().wait()
"""


def _start(code: str, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("a test server did not start") from None
            time.sleep(0.05)


@pytest.fixture(scope="module")
def urls() -> Iterator[list[str]]:
    template = load_template()
    processes: list[subprocess.Popen[bytes]] = []
    with pytest.MonkeyPatch.context() as patch:
        try:
            db_port = free_port()
            processes.append(_start(_SERVER, db_port))
            endpoint = f"http://127.0.0.1:{db_port}"
            patch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
            for name, value in environment(template).items():
                patch.setenv(name, value)
            create_tables(template, endpoint_url=endpoint)
            settings.reset()
            ports = [free_port() for _ in range(CONTAINERS)]
            with ThreadPoolExecutor(CONTAINERS) as pool:
                processes += pool.map(lambda port: _start(_CONTAINER, port, dict(os.environ)), ports)
            yield [f"http://127.0.0.1:{port}" for port in ports]
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)
            settings.reset()


@pytest.fixture
def admin(urls: list[str]) -> dict[str, Any]:
    clinic = accounts.create_clinic("Concurrency")
    user = accounts.create_user(clinic["id"], "admin", "Race Admin")
    return {"clinic": clinic, "user": user, "token": accounts.issue_token(user["id"])["token"]}


def _race(urls: list[str], token: str, requests_: list[tuple[str, str, Any, dict[str, str]]]) -> list[Any]:
    """Sends every request at once, round-robin over the gateways; returns the responses in order."""

    def send(i: int) -> requests.Response:
        method, path, body, headers = requests_[i]
        sent = {"X-User-Token": token, "Content-Type": "application/json", **headers}
        return requests.request(method, urls[i % len(urls)] + path, data=json.dumps(body), headers=sent, timeout=60)

    with ThreadPoolExecutor(max_workers=len(requests_)) as pool:
        return list(pool.map(send, range(len(requests_))))


def _create(url: str, token: str, body: dict[str, Any] | None = None) -> requests.Response:
    headers = {"X-User-Token": token, "Content-Type": "application/json"}
    return requests.post(f"{url}/v1/patients", json={"patient": body or PATIENT}, headers=headers, timeout=30)


def test_concurrent_updates_with_the_same_etag_one_wins_the_rest_get_412(urls: list[str], admin: dict) -> None:
    created = _create(urls[0], admin["token"])
    etag, pid = created.headers["ETag"], created.json()["id"]
    updates = [
        ("PUT", f"/v1/patients/{pid}", {"patient": {"phone": f"+1-555-000-{i:04d}"}}, {"If-Match": etag})
        for i in range(20)
    ]
    responses = _race(urls, admin["token"], updates)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 19
    winner = next(r for r in responses if r.status_code == 200)
    for loser in (r for r in responses if r.status_code == 412):
        assert loser.json() == {"errors": "Patient has been modified since it was read"}
    current = requests.get(f"{urls[0]}/v1/patients/{pid}", headers={"X-User-Token": admin["token"]}, timeout=30)
    assert current.json()["phone"] == winner.json()["phone"]
    assert current.headers["ETag"] == winner.headers["ETag"] != etag


def test_concurrent_updates_of_different_fields_all_persist(urls: list[str], admin: dict) -> None:
    """The patient has 9 updatable fields: 20 updates cover each at least twice. Every final value is one
    that was sent, and every field moved off its original value: no update was lost to another's write."""
    pid = _create(urls[0], admin["token"]).json()["id"]
    values: dict[str, list[Any]] = {
        "first_name": [f"Grace{i}" for i in range(3)],
        "last_name": [f"Hopper{i}" for i in range(3)],
        "date_of_birth": ["1950-01-01", "1951-02-02"],
        "gender": ["female", "other"],
        "phone": ["+1-555-111-0000", "+1-555-111-0001"],
        "email": ["grace@example.com", "hopper@example.com"],
        "address": [
            {"street": "1 Navy Way", "city": "Arlington", "state": "VA", "zip_code": "22202"},
            {"street": "2 Yale Ave", "city": "New Haven", "state": "CT", "zip_code": "06511"},
        ],
        "time_zone": ["America/New_York", "Europe/Paris"],
        "active": [False, False],
    }
    updates = [(field, value) for field, choices in values.items() for value in choices]
    assert len(updates) == 20
    sent = [("PUT", f"/v1/patients/{pid}", {"patient": {field: value}}, {}) for field, value in updates]
    responses = _race(urls, admin["token"], sent)

    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses if r.status_code != 200]
    final = requests.get(f"{urls[0]}/v1/patients/{pid}", headers={"X-User-Token": admin["token"]}, timeout=30).json()
    for field, choices in values.items():
        assert final[field] in choices, field
    original = {"gender": None, "phone": None, "email": None, "address": None, "time_zone": "UTC", "active": True}
    for field in values:
        assert final[field] != {**PATIENT, **original}[field], field
    # The list entries follow the final name and status: the patient is listed once, under its final name.
    status = "inactive"
    listed = requests.get(
        f"{urls[0]}/v1/patients",
        params={"status": status, "search": final["last_name"]},
        headers={"X-User-Token": admin["token"]},
        timeout=30,
    ).json()["patients"]
    assert [(p["id"], p["first_name"]) for p in listed] == [(pid, final["first_name"])]


def test_concurrent_creates_with_one_idempotency_key_store_one_patient(urls: list[str], admin: dict) -> None:
    body = {"patient": {**PATIENT, "last_name": "Idempotent"}}
    creates = [("POST", "/v1/patients", body, {"Idempotency-Key": "one-create"}) for _ in range(10)]
    responses = _race(urls, admin["token"], creates)

    created = [r for r in responses if r.status_code == 201]
    in_flight = [r for r in responses if r.status_code == 409]
    assert len(created) + len(in_flight) == 10 and created
    assert len({r.json()["id"] for r in created}) == 1
    assert len({r.headers["ETag"] for r in created}) == 1
    for r in in_flight:
        assert r.json() == {"errors": "A request with this Idempotency-Key is still in progress"}
        assert r.headers["Retry-After"] == "1"
    retried = _race(urls, admin["token"], creates[:3])
    assert {(r.status_code, r.json()["id"]) for r in retried} == {(201, created[0].json()["id"])}
    listed = requests.get(
        f"{urls[0]}/v1/patients", params={"search": "idempotent"}, headers={"X-User-Token": admin["token"]}, timeout=30
    ).json()["patients"]
    assert [p["id"] for p in listed] == [created[0].json()["id"]]


def test_200_concurrent_creates_get_200_distinct_ids(urls: list[str], admin: dict) -> None:
    creates = [("POST", "/v1/patients", {"patient": {**PATIENT, "first_name": f"G{i}"}}, {}) for i in range(200)]
    responses = _race(urls, admin["token"], creates)
    assert [r.status_code for r in responses] == [201] * 200
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == 200
    assert all(r.headers["Location"] == f"/v1/patients/{r.json()['id']}" for r in responses)


def test_containers_reserving_id_blocks_at_once_get_disjoint_blocks(urls: list[str]) -> None:
    """Each container reserves its own block with one atomic ADD: concurrent reservations never overlap."""
    size = 20
    with ThreadPoolExecutor(max_workers=40) as pool:
        lasts = list(pool.map(lambda _: store.reserve_ids("race-test", size), range(40)))
    blocks = [set(range(last - size + 1, last + 1)) for last in lasts]
    assert len(set().union(*blocks)) == 40 * size
    assert sorted(lasts) == [size * (i + 1) for i in range(40)]


def test_20_concurrent_triggers_of_one_rule_make_one_alert_with_20_occurrences(urls: list[str], admin: dict) -> None:
    """Each gauge fires the clinic rule; every request but one finds the rule's slot taken (or loses a race on
    the alert) and counts an occurrence instead: one alert, whatever the interleaving, and every 201 counted."""
    token = admin["token"]
    rule = {"gauge_type": "anxiety", "operator": ">=", "threshold": 8, "consecutive_days": 1, "priority": "urgent"}
    created = requests.post(
        f"{urls[0]}/v1/alert_rules", json={"alert_rule": rule}, headers={"X-User-Token": token}, timeout=30
    )
    assert created.status_code == 201, created.text
    pid = _create(urls[0], token).json()["id"]
    gauges = [("POST", f"/v1/patients/{pid}/gauges", {"gauge": {"gauge_type": "anxiety", "value": 9}}, {})] * 20
    responses = _race(urls, token, gauges)

    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses if r.status_code != 201]
    listed = requests.get(
        f"{urls[0]}/v1/patients/{pid}/alerts", params={"status": "all"}, headers={"X-User-Token": token}, timeout=30
    ).json()["alerts"]
    assert len(listed) == 1
    (alert,) = listed
    assert (alert["rule"], alert["priority"], alert["status"]) == (
        f"alert_rule:{created.json()['alert_rule']['id']}",
        "urgent",
        "open",
    )
    assert alert["occurrences"] == 20
    assert alert["trigger"]["id"] in {r.json()["id"] for r in responses}
    inbox = requests.get(f"{urls[0]}/v1/alerts", headers={"X-User-Token": token}, timeout=30).json()["alerts"]
    assert [a["id"] for a in inbox if a["patient_id"] == pid] == [alert["id"]]


def test_20_concurrent_assessments_firing_one_rule_make_one_alert_with_20_occurrences(
    urls: list[str], admin: dict
) -> None:
    """Each PHQ-9 answers item 9 with 1 (self_harm_risk, urgent). All 20 also race on the instrument's latest
    entry; one retry loop re-reads both, so every request lands: 20 assessments, one alert, 20 occurrences."""
    token = admin["token"]
    pid = _create(urls[0], token).json()["id"]
    answers = [0, 0, 0, 0, 0, 0, 0, 0, 1]
    body = {"assessment": {"instrument": "phq9", "answers": answers}}
    responses = _race(urls, token, [("POST", f"/v1/patients/{pid}/assessments", body, {})] * 20)

    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses if r.status_code != 201]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 20
    listed = requests.get(
        f"{urls[0]}/v1/patients/{pid}/alerts", params={"status": "all"}, headers={"X-User-Token": token}, timeout=30
    ).json()["alerts"]
    assert [(a["rule"], a["priority"], a["status"], a["occurrences"]) for a in listed] == [
        ("self_harm_risk", "urgent", "open", 20)
    ]
    assert listed[0]["trigger"]["type"] == "assessment" and listed[0]["trigger"]["id"] in ids
    stored = requests.get(
        f"{urls[0]}/v1/patients/{pid}/assessments",
        params={"page_size": 100},
        headers={"X-User-Token": token},
        timeout=30,
    ).json()["assessments"]
    assert {a["id"] for a in stored} == ids
    latest = requests.get(
        f"{urls[0]}/v1/patients/{pid}/gauges/latest", headers={"X-User-Token": token}, timeout=30
    ).json()["latest"]
    assert [(e["gauge_type"], e["value"], e["previous_value"]) for e in latest] == [("phq9", 1, 1)]
