"""Patients reporting for themselves, through the real handlers and authorizer: invitations, their redemption,
GET /v1/me, what a patient user may do to their own record, and the end of their access on deactivation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clinic import clock, patient_users, patients, retries, settings, store
from clinic.accounts import hash_token
from clinic.errors import ValidationFailed
from clinic.models.patients import PatientChanges
from clinic.store import patient_users as patient_user_store
from support import (
    ACTION_FORBIDDEN,
    NOT_FOUND,
    PATIENT_FORBIDDEN,
    UNAUTHORIZED,
    Client,
    User,
    clinic,
    dynamodb_calls,
    frozen,
    gateway,
    moto_tables,
    patient,
    patient_user,
    user,
)

from patients_admin import cli as admin_cli

INVITATION_NOT_FOUND = {"errors": "Invitation not found"}


@pytest.fixture(scope="module")
def moto() -> Iterator[Any]:
    with moto_tables() as client:
        yield client


@pytest.fixture(scope="module")
def client(moto: Any) -> Client:
    return Client(gateway())


@dataclass
class Clinic:
    admin: User
    provider: User
    other_provider: User
    record: dict[str, Any]  # on provider's care team
    neighbour: dict[str, Any]  # another patient of the clinic, on other_provider's team
    elsewhere: dict[str, Any]  # a patient of another clinic


@pytest.fixture
def c(client: Client) -> Clinic:
    cid = clinic()
    provider = user(cid, "provider", "Pia Provider")
    other_provider = user(cid, "provider", "Otto Provider")
    stranger = user(clinic(), "admin", "Stan Stranger")
    return Clinic(
        admin=user(cid, "admin", "Ada Admin"),
        provider=provider,
        other_provider=other_provider,
        record=patient(provider, "Rita", "Record", phone="+1-555-000-1111"),
        neighbour=patient(other_provider, "Ned", "Neighbour"),
        elsewhere=patient(stranger, "Elsa", "Elsewhere"),
    )


def invite(client: Client, by: User, patient_id: int, body: Any = ...) -> Any:
    return client.post(f"/v1/patients/{patient_id}/invitations", body, token=by.token)


def redeem(client: Client, code: Any) -> Any:
    return client.post("/v1/invitations/redeem", {"code": code})


# ---- invitations ----


def test_an_invitation_is_a_long_random_code_stored_only_as_its_hash(client: Client, c: Clinic, moto: Any) -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with frozen(now):
        reply = invite(client, c.provider, c.record["id"])
    assert reply.status == 201, reply.text
    invitation = reply.body["invitation"]
    assert set(invitation) == {"code", "patient_id", "expires_at"}
    assert invitation["patient_id"] == c.record["id"]
    assert invitation["expires_at"] == "2026-03-04T12:00:00.000Z"  # 72 hours by default
    code = invitation["code"]
    assert len(code) >= 43 and code.replace("-", "").replace("_", "").isalnum()  # 256 bits, URL-safe
    stored = patient_user_store.get_invitation(hash_token(code))
    assert stored is not None and stored["patient_id"] == c.record["id"]
    assert stored["created_by"] == c.provider.id
    # The table holds no trace of the code itself (a test may read the whole table; requests never do).
    dump = str(moto.scan(TableName=settings.settings().table_name)["Items"])
    assert code not in dump
    # Two invitations never share a code.
    assert invite(client, c.provider, c.record["id"]).body["invitation"]["code"] != code


@pytest.mark.parametrize(
    ("body", "hours"),
    [
        (..., 72),
        ({}, 72),
        ({"invitation": None}, 72),
        ({"invitation": {}}, 72),
        ({"invitation": {"expires_in_hours": 1}}, 1),
        ({"invitation": {"expires_in_hours": 168}}, 168),
    ],
)
def test_invitation_expiry(client: Client, c: Clinic, body: Any, hours: int) -> None:
    before = clock.now()
    reply = invite(client, c.admin, c.record["id"], body)
    assert reply.status == 201, reply.text
    expires = datetime.fromisoformat(reply.body["invitation"]["expires_at"])
    assert before + timedelta(hours=hours) <= expires <= clock.now() + timedelta(hours=hours)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"invitation": {"expires_in_hours": 0}},
            {"invitation.expires_in_hours": ["must be greater than or equal to 1"]},
        ),
        (
            {"invitation": {"expires_in_hours": 169}},
            {"invitation.expires_in_hours": ["must be less than or equal to 168"]},
        ),
        ({"invitation": {"expires_in_hours": "72"}}, {"invitation.expires_in_hours": ["must be a number"]}),
        ({"invitation": {"expires_in_hours": 1.5}}, {"invitation.expires_in_hours": ["must be a number"]}),
        ({"invitation": {"code": "mine"}}, {"invitation.code": ["is not permitted"]}),
        ({"invitation": [1]}, {"invitation": ["must be an object"]}),
    ],
)
def test_invitation_validation(client: Client, c: Clinic, body: Any, errors: Any) -> None:
    reply = invite(client, c.admin, c.record["id"], body)
    assert (reply.status, reply.body) == (422, {"errors": errors})


def test_who_may_invite(client: Client, c: Clinic) -> None:
    assert invite(client, c.other_provider, c.record["id"]).body == PATIENT_FORBIDDEN
    assert invite(client, c.provider, c.elsewhere["id"]).body == NOT_FOUND
    assert invite(client, c.provider, 10**9).body == NOT_FOUND
    assert invite(client, c.provider, "abc").body == NOT_FOUND  # type: ignore[arg-type]
    # A patient user may not invite, not even to their own record.
    me = patient_user(c.provider, c.record)
    reply = invite(client, me, c.record["id"])
    assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN)
    reply = invite(client, me, c.neighbour["id"])
    assert (reply.status, reply.body) == (404, NOT_FOUND)
    # Access comes before validation: no message about the body reaches a caller without access.
    reply = invite(client, c.other_provider, c.record["id"], {"invitation": {"expires_in_hours": 0}})
    assert (reply.status, reply.body) == (403, PATIENT_FORBIDDEN)


def test_an_inactive_patient_cannot_be_invited(client: Client, c: Clinic) -> None:
    client.put(f"/v1/patients/{c.record['id']}", {"patient": {"active": False}}, token=c.provider.token)
    reply = invite(client, c.provider, c.record["id"])
    assert (reply.status, reply.body) == (422, {"errors": {"patient": ["is inactive"]}})


# ---- redemption ----


def test_redeeming_makes_a_patient_user_bound_to_the_record(client: Client, c: Clinic) -> None:
    code = invite(client, c.provider, c.record["id"]).body["invitation"]["code"]
    reply = redeem(client, code)  # no token
    assert reply.status == 201, reply.text
    assert set(reply.body) == {"token", "user"}
    user_id = reply.body["user"]["id"]
    assert reply.body["user"] == {"id": user_id, "role": "patient", "patient_id": c.record["id"]}
    token = reply.body["token"]
    assert len(token) >= 32
    own = client.get(f"/v1/patients/{c.record['id']}", token=token)
    assert (own.status, own.body["id"]) == (200, c.record["id"])
    me = client.get("/v1/me", token=token)
    assert (me.status, me.body) == (
        200,
        {
            "user": {
                "id": user_id,
                "name": None,
                "role": "patient",
                "clinic_id": c.record["clinic_id"],
                "patient_id": c.record["id"],
            }
        },
    )
    # Used: the same 404 as a code that never existed.
    again = redeem(client, code)
    assert (again.status, again.body) == (404, INVITATION_NOT_FOUND)
    # The redemption is in the patient's audit trail, by the new user.
    events = [e for e in store.audit_events(c.record["id"]) if e["action"] == "redeem_invitation"]
    assert [(e["user_id"], e["role"], e["status"]) for e in events] == [(user_id, "patient", 201)]


def test_unknown_used_and_expired_codes_are_the_same_404_at_the_same_cost(client: Client, c: Clinic) -> None:
    used = invite(client, c.provider, c.record["id"]).body["invitation"]["code"]
    assert redeem(client, used).status == 201
    expired = invite(client, c.provider, c.record["id"], {"invitation": {"expires_in_hours": 1}}).body["invitation"][
        "code"
    ]
    unknown = "x" * 43

    costs = {}
    with dynamodb_calls() as calls, frozen(clock.now() + timedelta(hours=1, seconds=1)):
        for name, code in (("unknown", unknown), ("used", used), ("expired", expired)):
            calls.clear()
            reply = redeem(client, code)
            assert (reply.status, reply.body) == (404, INVITATION_NOT_FOUND), name
            costs[name] = list(calls)
    assert costs == {"unknown": ["GetItem"], "used": ["GetItem"], "expired": ["GetItem"]}


def test_an_invitation_expires_at_its_time(client: Client, c: Clinic) -> None:
    with frozen(clock.now()) as start:
        code = invite(client, c.provider, c.record["id"], {"invitation": {"expires_in_hours": 2}}).body["invitation"][
            "code"
        ]
    with frozen(start + timedelta(hours=2)):
        assert redeem(client, code).body == INVITATION_NOT_FOUND
    with frozen(start + timedelta(hours=2) - timedelta(seconds=1)):
        assert redeem(client, code).status == 201


def test_an_invitation_whose_patient_was_deactivated_is_not_found(client: Client, c: Clinic) -> None:
    code = invite(client, c.provider, c.record["id"]).body["invitation"]["code"]
    client.put(f"/v1/patients/{c.record['id']}", {"patient": {"active": False}}, token=c.provider.token)
    assert (redeem(client, code).status, redeem(client, code).body) == (404, INVITATION_NOT_FOUND)
    assert patient_user_store.active_patient_users(c.record["id"]) == []
    # Reactivated, the patient's invitation still works once (it did not expire and was not used).
    client.put(f"/v1/patients/{c.record['id']}", {"patient": {"active": True}}, token=c.provider.token)
    assert redeem(client, code).status == 201


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, (422, {"errors": {"code": ["can't be blank"]}})),
        ({"code": None}, (422, {"errors": {"code": ["can't be blank"]}})),
        ({"code": "  "}, (422, {"errors": {"code": ["can't be blank"]}})),
        ({"code": 12345}, (422, {"errors": {"code": ["must be a string"]}})),
        ({"code": ["a"]}, (422, {"errors": {"code": ["must be a string"]}})),
        ({"code": "abc", "patient_id": 1}, (422, {"errors": {"patient_id": ["is not permitted"]}})),
        ({"code": "short"}, (404, INVITATION_NOT_FOUND)),
        ({"code": "x" * 5000}, (404, INVITATION_NOT_FOUND)),
        ({"code": "\u0000\ud7ff日本"}, (404, INVITATION_NOT_FOUND)),
    ],
)
def test_redeem_bad_input(client: Client, c: Clinic, body: Any, expected: Any) -> None:
    reply = redeem(client, ...) if body is ... else client.post("/v1/invitations/redeem", body)
    assert (reply.status, reply.body) == expected


def test_redeem_without_a_body_or_with_one_that_is_not_json(client: Client) -> None:
    reply = client.post("/v1/invitations/redeem")
    assert (reply.status, reply.body) == (422, {"errors": {"code": ["can't be blank"]}})
    reply = client.request("POST", "/v1/invitations/redeem", data="{", headers={"Content-Type": "application/json"})
    assert reply.status == 400


def test_two_redemptions_of_one_code_at_the_same_moment_make_one_user(
    client: Client, c: Clinic, monkeypatch: Any
) -> None:
    """The race, made deterministic: the first redemption reads the invitation, then the second runs all
    the way through before the first writes. Only the transaction's condition stands between them (moto's
    transactions are not atomic across threads, so threads would test moto, not this code)."""
    code = invite(client, c.provider, c.record["id"]).body["invitation"]["code"]
    read = patient_user_store.get_invitation
    second: list[Any] = []

    def read_then_let_the_other_redeem(code_hash: str) -> Any:
        found = read(code_hash)
        if not second:
            monkeypatch.setattr(patient_user_store, "get_invitation", read)
            second.append(patient_users.redeem(code))  # both have now read an unused invitation
        return found

    monkeypatch.setattr(patient_user_store, "get_invitation", read_then_let_the_other_redeem)
    with pytest.raises(patient_users.InvitationNotFound):
        patient_users.redeem(code)
    winner = second[0]
    assert patient_user_store.active_patient_users(c.record["id"]) == [winner["user"]["id"]]
    assert client.get("/v1/me", token=winner["token"]).status == 200
    # The loser made no user: the next user id is the one after the loser's (reserved, never stored).
    assert store.get_user(winner["user"]["id"] + 1) is None


# ---- GET /v1/me ----


def test_me_for_every_role(client: Client, c: Clinic) -> None:
    supervisor = user(c.admin.clinic_id, "supervisor", "Sam Supervisor")
    for who in (c.admin, supervisor, c.provider):
        reply = client.get("/v1/me", token=who.token)
        assert (reply.status, reply.body) == (
            200,
            {
                "user": {
                    "id": who.id,
                    "name": who.name,
                    "role": who.role,
                    "clinic_id": who.clinic_id,
                    "patient_id": None,
                }
            },
        )
    assert (client.get("/v1/me").status, client.get("/v1/me").body) == (401, UNAUTHORIZED)


# ---- what a patient user may do ----


def test_a_patient_user_changes_only_their_contact_details(client: Client, c: Clinic) -> None:
    me = patient_user(c.provider, c.record)
    path = f"/v1/patients/{c.record['id']}"
    change = {
        "phone": "+1-555-222-3333",
        "email": "rita@example.com",
        "address": {"city": "Springfield"},
        "time_zone": "Europe/Paris",
    }
    reply = client.put(path, {"patient": change}, token=me.token)
    assert reply.status == 200, reply.text
    assert {k: reply.body[k] for k in change} == {
        **change,
        "address": {"street": None, "city": "Springfield", "state": None, "zip_code": None},
    }
    for field, value in (
        ("first_name", "Rosa"),
        ("last_name", "X"),
        ("date_of_birth", "1990-01-01"),
        ("gender", "other"),
        ("active", False),
    ):
        reply = client.put(path, {"patient": {field: value}}, token=me.token)
        assert (reply.status, reply.body) == (422, {"errors": {field: ["is not permitted"]}}), field
    # All problems at once: a field they may not change, and one they may but sent invalid.
    reply = client.put(path, {"patient": {"first_name": "Rosa", "phone": "nope", "age": 3}}, token=me.token)
    assert reply.status == 422
    assert reply.body["errors"] == {
        "first_name": ["is not permitted"],
        "phone": ["is invalid"],
        "age": ["is not permitted"],
    }
    after = client.get(path, token=c.provider.token).body
    assert (after["first_name"], after["phone"], after["active"]) == ("Rita", "+1-555-222-3333", True)
    # Staff are not limited by the patient's rule.
    assert client.put(path, {"patient": {"first_name": "Rosa"}}, token=c.provider.token).body["first_name"] == "Rosa"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        *((body, {"patient": ["can't be blank"]}) for body in (..., None, [], "patient", 7, {"patient": None})),
        ({"patient": "ab"}, {"patient": ["must be an object"]}),
        ({"patient": ["age"]}, {"patient": ["must be an object"]}),
    ],
)
def test_a_patient_user_s_body_that_is_not_an_object_of_objects_is_refused_as_staff_s_is(
    client: Client, c: Clinic, body: Any, errors: dict[str, list[str]]
) -> None:
    """The patient user's own rule (which keys they may send) looks into `patient` only when it is an object:
    anything else gets the same validation errors as a staff member's, never a 500 or errors made up from it."""
    me = patient_user(c.provider, c.record)
    path = f"/v1/patients/{c.record['id']}"
    for who in (c.provider, me):
        reply = client.put(path, body, token=who.token)
        assert (reply.status, reply.body) == (422, {"errors": errors}), who.role


def test_a_patient_user_s_change_that_loses_a_transaction_conflict_is_retried_as_theirs(
    client: Client, c: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new time zone is written in a transaction (with the summary job's REZONED marker), which DynamoDB may
    cancel for a conflict with another write of the patient (store.ConditionFailed): the retry reads the patient
    again with the patient user's own right to change it, and succeeds."""
    me = patient_user(c.provider, c.record)
    path = f"/v1/patients/{c.record['id']}"
    write = store.update_patient
    tries: list[int] = []

    def conflicted_once(*args: Any, **kwargs: Any) -> Any:
        tries.append(len(tries))
        if len(tries) == 1:
            raise store.ConditionFailed
        return write(*args, **kwargs)

    monkeypatch.setattr(store, "update_patient", conflicted_once)
    monkeypatch.setattr(retries.time, "sleep", lambda seconds: None)
    reply = client.put(path, {"patient": {"time_zone": "Europe/Paris"}}, token=me.token)
    assert (reply.status, len(tries)) == (200, 2), reply.text
    assert reply.body["time_zone"] == "Europe/Paris"


def test_patients_update_itself_refuses_a_patient_user_the_fields_beyond_their_own(c: Clinic) -> None:
    """Defence in depth: the route's body rule refuses these keys before the model is even built, but
    patients.update (which other code calls too) refuses them itself, with the same 422 body, and writes
    nothing, not even the fields the patient user may change."""
    me = patient_user(c.provider, c.record)
    before = store.get_patient(c.record["id"])
    assert before is not None
    changes = PatientChanges(first_name="Rosa", active=False, phone="+1-555-999-0000", time_zone="Europe/Paris")
    with pytest.raises(ValidationFailed) as refused:
        patients.update(me.caller, before, changes, None)
    assert (refused.value.status, refused.value.body()) == (
        422,
        {"errors": {"active": ["is not permitted"], "first_name": ["is not permitted"]}},
    )
    assert store.get_patient(c.record["id"]) == before
    # What they may change, alone, is applied.
    updated = patients.update(me.caller, before, PatientChanges(phone="+1-555-999-0000"), None)
    assert (updated["phone"], updated["first_name"], updated["active"]) == ("+1-555-999-0000", "Rita", True)


def test_staff_only_routes_are_403_on_their_own_record_and_404_elsewhere(client: Client, c: Clinic) -> None:
    me = patient_user(c.provider, c.record)
    own = c.record["id"]
    for method, path, body in (
        ("GET", "/v1/patients", ...),
        ("POST", "/v1/patients", {"patient": {"first_name": "A", "last_name": "B", "date_of_birth": "2000-01-01"}}),
        ("POST", "/v1/patients", {"patient": {}}),  # 403 before validation
        ("GET", f"/v1/patients/{own}/care_team", ...),
        ("POST", f"/v1/patients/{own}/care_team", {"user_id": c.provider.id}),
        ("DELETE", f"/v1/patients/{own}/care_team/{c.provider.id}", ...),
        ("POST", f"/v1/patients/{own}/invitations", ...),
    ):
        reply = client.request(method, path, token=me.token, json_body=body)
        assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN), (method, path)
    for other in (c.neighbour["id"], c.elsewhere["id"], 10**9, "abc", "0"):
        for method, suffix, body in (
            ("GET", "", ...),
            ("PUT", "", {"patient": {"phone": "+1-555-222-3333"}}),
            ("PUT", "", {"patient": {"first_name": ""}}),  # 404 before validation
            ("GET", "/gauges", ...),
            ("POST", "/gauges", {"gauge": {"gauge_type": "mood", "value": 5}}),
            ("DELETE", "/gauges/1", ...),
            ("GET", "/gauges/summary", ...),
            ("GET", "/care_team", ...),
            ("POST", "/care_team", {"user_id": 1}),
            ("DELETE", "/care_team/1", ...),
            ("POST", "/invitations", ...),
        ):
            reply = client.request(method, f"/v1/patients/{other}{suffix}", token=me.token, json_body=body)
            assert (reply.status, reply.body) == (404, NOT_FOUND), (method, other, suffix)


def test_gauges_carry_who_recorded_them_and_a_patient_deletes_only_their_own(client: Client, c: Clinic) -> None:
    me = patient_user(c.provider, c.record)
    base = f"/v1/patients/{c.record['id']}/gauges"
    mine = client.post(base, {"gauge": {"gauge_type": "mood", "value": 6}}, token=me.token)
    assert mine.status == 201, mine.text
    assert (mine.body["source"], mine.body["recorded_by"]) == ("patient", me.id)
    batch = client.post(base, {"gauges": [{"gauge_type": "pain", "value": 2}]}, token=me.token).body["gauges"]
    assert [(g["source"], g["recorded_by"]) for g in batch] == [("patient", me.id)]
    staffs = client.post(base, {"gauge": {"gauge_type": "mood", "value": 4}}, token=c.provider.token).body
    assert (staffs["source"], staffs["recorded_by"]) == ("staff", c.provider.id)
    listed = client.get(base, token=me.token).body["gauges"]
    assert {(g["id"], g["source"], g["recorded_by"]) for g in listed} == {
        (mine.body["id"], "patient", me.id),
        (batch[0]["id"], "patient", me.id),
        (staffs["id"], "staff", c.provider.id),
    }
    # Another patient user of the same record did not record `mine`.
    sibling = patient_user(c.provider, c.record)
    for who, gauge_id in ((me, staffs["id"]), (sibling, mine.body["id"])):
        reply = client.delete(f"{base}/{gauge_id}", token=who.token)
        assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN)
    assert client.delete(f"{base}/{mine.body['id']}", token=me.token).status == 204
    assert client.delete(f"{base}/{mine.body['id']}", token=me.token).body == {"errors": "Gauge not found"}
    # Staff may delete what the patient recorded.
    assert client.delete(f"{base}/{batch[0]['id']}", token=c.provider.token).status == 204
    assert [g["id"] for g in client.get(base, token=me.token).body["gauges"]] == [staffs["id"]]


def test_gauges_recorded_before_the_patient_role_read_as_staffs(client: Client, c: Clinic) -> None:
    gauge = {
        "id": 1,
        "patient_id": 2,
        "gauge_type": "mood",
        "value": 3,
        "scale_min": 1,
        "scale_max": 10,
        "recorded_at": "2024-01-01T00:00:00.000Z",
        "created_at": "2024-01-01T00:00:00.000Z",
        "created_by": 7,
    }
    from clinic import gauges

    assert (gauges.present(gauge)["source"], gauges.present(gauge)["recorded_by"]) == ("staff", 7)


# ---- deactivation ----


def test_deactivating_the_patient_ends_their_users_access_for_good(client: Client, c: Clinic) -> None:
    first, second = patient_user(c.provider, c.record), patient_user(c.provider, c.record)
    neighbour = patient_user(c.other_provider, c.neighbour)
    path = f"/v1/patients/{c.record['id']}"
    for who in (first, second):
        assert client.get(path, token=who.token).status == 200
    reply = client.put(path, {"patient": {"active": False}}, token=c.provider.token)
    assert (reply.status, reply.body["active"]) == (200, False)
    for who in (first, second):
        for route in (path, "/v1/me", f"{path}/gauges"):
            reply = client.get(route, token=who.token)
            assert (reply.status, reply.body) == (401, UNAUTHORIZED), route
    assert client.get("/v1/me", token=neighbour.token).status == 200  # another patient's user is untouched
    # Reactivating the patient revives none of them; a new invitation makes a new user.
    client.put(path, {"patient": {"active": True}}, token=c.provider.token)
    for who in (first, second):
        assert client.get(path, token=who.token).status == 401
    fresh = patient_user(c.provider, c.record)
    assert fresh.id not in (first.id, second.id)
    assert client.get(path, token=fresh.token).status == 200


def test_a_deactivation_whose_write_fails_has_already_ended_the_users_access(
    client: Client, c: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their access ends before the patient changes: a write that fails after that leaves them locked out (503,
    the patient still active, a repeated PUT finishes it), never with access to a record meant to be inactive."""
    me = patient_user(c.provider, c.record)
    path = f"/v1/patients/{c.record['id']}"

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise store.Unavailable("ProvisionedThroughputExceededException")

    monkeypatch.setattr(store, "update_patient", unavailable)
    assert client.put(path, {"patient": {"active": False}}, token=c.provider.token).status == 503
    monkeypatch.undo()
    assert client.get(path, token=c.provider.token).body["active"] is True
    reply = client.get("/v1/me", token=me.token)
    assert (reply.status, reply.body) == (401, UNAUTHORIZED)


def test_a_redemption_landing_just_before_the_deactivation_is_ended_too(
    client: Client, c: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code redeemed after the deactivation ended the users but before the patient changed makes one more
    user; their access is ended after the write, so reactivating the patient revives them no more than the
    others."""
    path = f"/v1/patients/{c.record['id']}"
    code = patient_users.invite(c.provider.caller, c.record)["code"]
    write = store.update_patient
    late: list[str] = []

    def redeemed_first(*args: Any, **kwargs: Any) -> Any:
        late.append(patient_users.redeem(code)["token"])
        return write(*args, **kwargs)

    monkeypatch.setattr(store, "update_patient", redeemed_first)
    reply = client.put(path, {"patient": {"active": False}}, token=c.provider.token)
    assert (reply.status, reply.body["active"], len(late)) == (200, False, 1)
    monkeypatch.undo()
    assert client.put(path, {"patient": {"active": True}}, token=c.provider.token).status == 200
    reply = client.get("/v1/me", token=late[0])
    assert (reply.status, reply.body) == (401, UNAUTHORIZED)


def test_a_patient_user_of_an_inactive_record_is_refused_even_if_still_marked_active(client: Client, c: Clinic) -> None:
    """Defence in depth: whatever the authorizer (or its cache) says, the record's status decides."""
    me = patient_user(c.provider, c.record)
    store.update_patient(
        store.get_patient(c.record["id"]) or {},
        {"active": False},
        updated_at=clock.iso(clock.now()),
        expected_version=None,
    )
    reply = client.get(f"/v1/patients/{c.record['id']}", token=me.token)
    assert (reply.status, reply.body) == (401, UNAUTHORIZED)


def test_patients_admin_prints_an_invitation_code(client: Client, c: Clinic, capsys: Any) -> None:
    import json

    assert admin_cli.main(["invitations", "create", "--patient", str(c.record["id"]), "--expires-in-hours", "5"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["invitation"]["patient_id"] == c.record["id"]
    assert redeem(client, printed["invitation"]["code"]).status == 201
    assert admin_cli.main(["invitations", "create", "--patient", str(10**9)]) == 2
    assert admin_cli.main(["invitations", "create", "--patient", str(c.record["id"]), "--expires-in-hours", "0"]) == 2
    # Patient users come from invitations only.
    with pytest.raises(SystemExit):
        admin_cli.main(["users", "create", "--clinic", "1", "--role", "patient", "--name", "X"])


def test_a_failed_audit_write_does_not_lose_the_redeemed_token(
    client: Client, c: Clinic, monkeypatch: Any, service_log: Any
) -> None:
    """The code is spent by the transaction: the answer must still carry the token."""
    from clinic import audit

    code = invite(client, c.provider, c.record["id"]).body["invitation"]["code"]

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(audit, "record", broken)
    reply = redeem(client, code)
    assert reply.status == 201, reply.text
    monkeypatch.undo()
    assert client.get("/v1/me", token=reply.body["token"]).status == 200
    assert '"audit write failed"' in service_log.getvalue()
    assert code not in service_log.getvalue() and reply.body["token"] not in service_log.getvalue()


@pytest.mark.parametrize("body", [[1], "text", 3, True])
def test_an_invitation_body_that_is_not_an_object_is_refused(client: Client, c: Clinic, body: Any) -> None:
    reply = invite(client, c.admin, c.record["id"], body)
    assert (reply.status, reply.body) == (422, {"errors": {"invitation": ["must be an object"]}})
