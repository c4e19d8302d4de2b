"""A patient token against the local API, driven by hypothesis: random sequences of routes, ids and bodies never
reach another patient's data and never get a 5xx (issue 13). The other patients' names, notes and ids are
canaries: none may appear in any answer to the patient's app."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from clinic import gauges
from clinic.models.gauges import NewGauge
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import ACTION_FORBIDDEN, NOT_FOUND, Client, clinic, patient, patient_user, user

pytestmark = pytest.mark.http


@dataclass
class World:
    client: Client
    token: str
    user_id: int
    own: int
    others: dict[str, int]  # label -> a patient id the patient user must never reach
    other_gauges: list[int]
    canaries: list[str]  # text of the other patients' records and gauges


@pytest.fixture(scope="module")
def world(http_api: Any) -> Iterator[World]:
    a, b = clinic("Hypothesis clinic"), clinic("Hypothesis other clinic")
    admin, other_admin = user(a, "admin", "Hy Admin"), user(b, "admin", "Hy Other Admin")
    own = patient(admin, "Owen", "Ownrecord")
    neighbour = patient(admin, "Zebulon", "Canarysame", email="zebulon.canary@example.com")
    stranger = patient(other_admin, "Xanthe", "Canaryother", email="xanthe.canary@example.com")
    other_gauges = []
    for record, by in ((neighbour, admin), (stranger, other_admin)):
        stored = gauges.record(by.caller, record, [NewGauge(gauge_type="mood", value=3, notes="canary-note-7731")])
        other_gauges.append(stored[0]["id"])
    gauges.record(admin.caller, own, [NewGauge(gauge_type="mood", value=5)])
    me = patient_user(admin, own)
    yield World(
        client=Client(http_api.url),
        token=me.token,
        user_id=me.id,
        own=own["id"],
        others={"neighbour": neighbour["id"], "stranger": stranger["id"], "missing": 10**9},
        other_gauges=other_gauges,
        canaries=[
            "Zebulon",
            "Canarysame",
            "Xanthe",
            "Canaryother",
            "canary-note-7731",
            "zebulon.canary",
            "xanthe.canary",
        ],
    )


TARGETS = ("own", "neighbour", "stranger", "missing", "0", "-1", "abc", "1e3", "%20")
BODIES = st.sampled_from(
    [
        ...,
        None,
        {},
        {"patient": {"phone": "+1-555-101-2020"}},
        {"patient": {"first_name": "Hacker"}},
        {"patient": {"active": False}},
        {"patient": {"time_zone": "Europe/Paris", "email": "owen@example.com"}},
        {"gauge": {"gauge_type": "mood", "value": 4}},
        {"gauges": [{"gauge_type": "pain", "value": 1}, {"gauge_type": "energy", "value": 9}]},
        {"gauge": {"gauge_type": "mood", "value": 99}},
        {"user_id": 1},
        {"invitation": {"expires_in_hours": 5}},
        {"patient_id": 1},
        [1, 2],
        "text",
    ]
)
ROUTES = st.sampled_from(
    [
        ("GET", "/v1/patients/{id}"),
        ("PUT", "/v1/patients/{id}"),
        ("GET", "/v1/patients/{id}/gauges"),
        ("POST", "/v1/patients/{id}/gauges"),
        ("DELETE", "/v1/patients/{id}/gauges/{gauge}"),
        ("GET", "/v1/patients/{id}/gauges/summary"),
        ("GET", "/v1/patients/{id}/care_team"),
        ("POST", "/v1/patients/{id}/care_team"),
        ("DELETE", "/v1/patients/{id}/care_team/{gauge}"),
        ("POST", "/v1/patients/{id}/invitations"),
        ("GET", "/v1/patients"),
        ("POST", "/v1/patients"),
        ("GET", "/v1/me"),
    ]
)
STEPS = st.lists(st.tuples(ROUTES, st.sampled_from(TARGETS), st.integers(0, 3), BODIES), min_size=1, max_size=6)
STAFF_ONLY = ("/care_team", "/invitations")


def _target(world: World, label: str) -> str:
    if label == "own":
        return str(world.own)
    return str(world.others[label]) if label in world.others else label


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_a_patient_token_never_reaches_another_record(world: World, steps: list[Any]) -> None:
    for (method, template), target, gauge_pick, body in steps:
        path = template.replace("{id}", _target(world, target))
        if "{gauge}" in template:  # only these routes name a gauge: read the patient's own ones for them alone
            own_gauges = [
                g["id"] for g in world.client.get(f"/v1/patients/{world.own}/gauges", token=world.token).body["gauges"]
            ]
            gauge = ([*own_gauges, *world.other_gauges] or [1])[
                gauge_pick % max(1, len(own_gauges) + len(world.other_gauges))
            ]
            path = path.replace("{gauge}", str(gauge))
        reply = world.client.request(method, path, token=world.token, json_body=body)
        where = (method, path, body, reply.status, reply.text)
        assert reply.status < 500, where
        for canary in world.canaries:
            assert canary not in reply.text, where
        if "{id}" not in template:
            if template == "/v1/me":
                assert reply.body["user"]["patient_id"] == world.own, where
            else:  # the patient list and creating patients are staff-only
                assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN), where
            continue
        if target != "own":
            assert (reply.status, reply.body) == (404, NOT_FOUND), where
            continue
        if any(part in template for part in STAFF_ONLY):
            assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN), where
        elif reply.status < 300 and isinstance(reply.body, dict):
            # Whatever it answers about its own record concerns its own record only.
            if template == "/v1/patients/{id}":
                assert reply.body["id"] == world.own, where
            for item in [reply.body, *reply.body.get("gauges", [])]:
                assert item.get("patient_id", world.own) == world.own, where
                assert item.get("id") not in world.other_gauges or item is reply.body, where
    # A patient's own PUT can never have deactivated or renamed the record.
    record = world.client.get(f"/v1/patients/{world.own}", token=world.token).body
    assert (record["first_name"], record["active"]) == ("Owen", True)
