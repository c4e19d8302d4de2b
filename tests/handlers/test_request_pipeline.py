"""The request pipeline every API function runs (clinic.middleware), invoked as Lambda invokes a function: one
request, made right one problem at a time, answers each check's status in the contract's order (401, 413, 415,
400, 404, 403, 422), and the function itself answers 401 when the gateway's authorizer left no identity."""

from __future__ import annotations

import json
from typing import Any

import support

from local import events

GET_AND_PUT = ("GetPatientFunction", "UpdatePatientFunction")


def _identity(user: support.User) -> dict[str, Any]:
    return {"user_id": user.id, "clinic_id": user.clinic_id, "role": user.role}


def test_one_request_meets_each_check_in_the_contracts_order(aws: Any) -> None:
    gateway = support.gateway()
    clinic_id = support.clinic()
    admin, outsider = support.user(clinic_id, "admin"), support.user(clinic_id, "provider")
    pid = support.patient(admin)["id"]

    def put(patient_id: int, body: str, content_type: str, user: support.User | None) -> tuple[int, Any]:
        event = events.make_event(
            "PUT",
            f"/v1/patients/{patient_id}",
            body=body,
            headers={"Content-Type": content_type},
            user=_identity(user) if user is not None else None,
        )
        reply = gateway.invoke("UpdatePatientFunction", event)
        return reply["statusCode"], json.loads(reply["body"])

    huge = '{"patient": {"first_name": "' + "a" * (1024 * 1024) + '"'
    assert put(pid + 1000, huge, "text/plain", None) == (401, support.UNAUTHORIZED)
    assert put(pid + 1000, huge, "text/plain", outsider) == (
        413,
        {"errors": "Request body is larger than 1 MB"},
    )
    assert put(pid + 1000, '{"patient": {', "text/plain", outsider) == (
        415,
        {"errors": "Request body must be JSON (Content-Type: application/json)"},
    )
    assert put(pid + 1000, '{"patient": {', "application/json", outsider) == (
        400,
        {"errors": "Request body is not valid JSON"},
    )
    invalid = json.dumps({"patient": {"gender": "x", "id": 1}})
    assert put(pid + 1000, invalid, "application/json", outsider) == (404, support.NOT_FOUND)
    assert put(pid, invalid, "application/json", outsider) == (403, support.PATIENT_FORBIDDEN)
    assert put(pid, invalid, "application/json", admin) == (
        422,
        {"errors": {"gender": ["is not included in the list"], "id": ["is not permitted"]}},
    )
    status, changed = put(pid, json.dumps({"patient": {"gender": "female"}}), "application/json", admin)
    assert (status, changed["id"], changed["gender"]) == (200, pid, "female")


def test_a_malformed_identity_is_401_on_every_route_of_the_function(aws: Any) -> None:
    """API Gateway passes the authorizer's context as strings; anything else is no identity at all."""
    gateway = support.gateway()
    clinic_id = support.clinic()
    admin = support.user(clinic_id, "admin")
    pid = support.patient(admin)["id"]
    for identity in ({"user_id": "x", "clinic_id": "1", "role": "admin"}, {**_identity(admin), "role": "owner"}):
        for function_id in GET_AND_PUT:
            method = "GET" if function_id == "GetPatientFunction" else "PUT"
            event = events.make_event(method, f"/v1/patients/{pid}", body={"patient": {}}, user=identity)
            reply = gateway.invoke(function_id, event)
            assert (reply["statusCode"], json.loads(reply["body"])) == (401, support.UNAUTHORIZED), identity
    event = events.make_event("GET", "/v1/patients", user={"user_id": str(admin.id)})
    reply = gateway.invoke("ListPatientsFunction", event)
    assert (reply["statusCode"], json.loads(reply["body"])) == (401, support.UNAUTHORIZED)
