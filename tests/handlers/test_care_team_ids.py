"""Care-team facts that depend on which ids users get, in a fresh world of their own (the `aws` fixture), where
ids start at 1: test_care_team.py's shared world hands out whatever ids earlier tests left."""

from __future__ import annotations

from typing import Any

from clinic import store
from support import PATIENT_FORBIDDEN, Client, clinic, gateway, user


def test_a_patient_of_a_provider_without_a_supervisor_is_no_supervisors(aws: Any) -> None:
    """The care team maps each member to their supervisor's id, 0 for none; ids start at 1, so 0 names nobody.
    A supervisor of user id 1 (the first id there is) supervises no one here, and so never reaches the patient
    of a provider who has no supervisor."""
    client = Client(gateway())
    cid = clinic()
    supervisor = user(cid, "supervisor", "Sam Supervisor")
    lone = user(cid, "provider", "Lou Provider")
    assert (supervisor.id, lone.id) == (1, 2)  # the premise: the supervisor holds the first id
    reply = client.post(
        "/v1/patients",
        {"patient": {"first_name": "Lone", "last_name": "Patient", "date_of_birth": "2000-01-01"}},
        token=lone.token,
    )
    assert reply.status == 201, reply.text
    pid = reply.body["id"]
    assert (store.get_patient(pid) or {}).get("care_team") == {str(lone.id): 0}
    assert client.get(f"/v1/patients/{pid}", token=lone.token).status == 200
    reply = client.get(f"/v1/patients/{pid}", token=supervisor.token)
    assert (reply.status, reply.body) == (403, PATIENT_FORBIDDEN)
    reply = client.get("/v1/patients", query={"status": "all"}, token=supervisor.token)
    assert (reply.status, reply.body["patients"]) == (200, [])
