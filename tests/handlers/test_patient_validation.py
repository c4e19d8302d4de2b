"""API.md's validation table for patients (create, update, list), through the real handlers behind the local
gateway on moto: exact 422 bodies, 400/413/415, and no input of any shape giving a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from clinic.models.patients import NewPatient
from clinic.validation import rails_errors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from support import PATIENT_KEYS, Client, clinic, frozen, gateway, moto_tables, patient, user

from local.gateway import LocalGateway

TODAY = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
VALID = {"first_name": "John", "last_name": "Doe", "date_of_birth": "2010-05-15"}
BLANK = "can't be blank"
BAD_DATE = "must be a valid date"


@pytest.fixture(scope="module")
def world() -> Iterator[Api]:
    with moto_tables(), frozen(TODAY):
        yield Api(gateway())


class Api:
    """The admin of a fresh clinic, one existing patient, and shortcuts for the three patient requests."""

    def __init__(self, gateway: LocalGateway) -> None:
        self.admin = user(clinic(), "admin")
        self.client = Client(gateway)
        self.token = self.admin.token
        self.patient: dict[str, Any] = {}

    def create(self, fields: Any) -> Any:
        return self.client.post("/v1/patients", {"patient": fields}, token=self.token)

    def update(self, fields: Any, patient_id: int | None = None) -> Any:
        pid = patient_id or self.patient["id"]
        return self.client.put(f"/v1/patients/{pid}", {"patient": fields}, token=self.token)

    def list(self, **query: Any) -> Any:
        return self.client.get("/v1/patients", query=query, token=self.token)


@pytest.fixture
def api(world: Api) -> Iterator[Api]:
    """The module's world, with the clock at TODAY during each test and a fresh patient to update."""
    with frozen(TODAY):
        world.patient = patient(world.admin, "Jane", "Roe", date_of_birth="1990-02-03")
        yield world


def errors(reply: Any) -> dict[str, list[str]]:
    assert reply.status == 422, reply.text
    assert set(reply.body) == {"errors"}, reply.text
    return reply.body["errors"]


def fields(**changes: Any) -> dict[str, Any]:
    """VALID with `changes` applied; a value of ... removes the key."""
    out = {**VALID, **changes}
    return {k: v for k, v in out.items() if v is not ...}


# ---- required fields and blanks ----


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (fields(first_name=...), {"first_name": [BLANK]}),
        (fields(first_name=None), {"first_name": [BLANK]}),
        (fields(first_name=""), {"first_name": [BLANK]}),
        (fields(first_name="   "), {"first_name": [BLANK]}),
        (fields(last_name=...), {"last_name": [BLANK]}),
        (fields(last_name="\t"), {"last_name": [BLANK]}),
        (fields(date_of_birth=...), {"date_of_birth": [BLANK, BAD_DATE]}),
        (fields(date_of_birth=""), {"date_of_birth": [BLANK, BAD_DATE]}),
        (fields(date_of_birth="  "), {"date_of_birth": [BLANK, BAD_DATE]}),
        (fields(date_of_birth=None), {"date_of_birth": [BLANK, BAD_DATE]}),
        (
            {},
            {"first_name": [BLANK], "last_name": [BLANK], "date_of_birth": [BLANK, BAD_DATE]},
        ),
    ],
    ids=[
        "first_name-missing",
        "first_name-null",
        "first_name-empty",
        "first_name-spaces",
        "last_name-missing",
        "last_name-tab",
        "dob-missing",
        "dob-empty",
        "dob-spaces",
        "dob-null",
        "all-missing",
    ],
)
def test_create_requires_names_and_birth_date(api: Any, sent: dict[str, Any], expected: dict[str, Any]) -> None:
    assert errors(api.create(sent)) == expected


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ({"first_name": None}, {"first_name": [BLANK]}),
        ({"last_name": " "}, {"last_name": [BLANK]}),
        ({"date_of_birth": None}, {"date_of_birth": [BLANK, BAD_DATE]}),
        ({"date_of_birth": ""}, {"date_of_birth": [BLANK, BAD_DATE]}),
        ({"active": None}, {"active": [BLANK]}),
    ],
    ids=["first_name-null", "last_name-blank", "dob-null", "dob-empty", "active-null"],
)
def test_update_cannot_clear_required_fields(api: Any, sent: dict[str, Any], expected: dict[str, Any]) -> None:
    assert errors(api.update(sent)) == expected
    unchanged = api.client.get(f"/v1/patients/{api.patient['id']}", token=api.token)
    assert (unchanged.body["first_name"], unchanged.body["date_of_birth"]) == ("Jane", "1990-02-03")


# ---- dates ----


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2010-02-30", [BAD_DATE]),
        ("2010-13-01", [BAD_DATE]),
        ("15/05/2010", [BAD_DATE]),
        ("2010-5-15", [BAD_DATE]),
        ("2010-05-15T00:00:00Z", [BAD_DATE]),
        ("yesterday", [BAD_DATE]),
        ("2024-06-16", ["can't be in the future"]),
        ("3000-01-01", ["can't be in the future"]),
        ("1899-12-31", ["must be on or after 1900-01-01"]),
        ("0001-01-01", ["must be on or after 1900-01-01"]),
    ],
)
def test_birth_date_rules(api: Any, value: str, expected: list[str]) -> None:
    assert errors(api.create(fields(date_of_birth=value))) == {"date_of_birth": expected}
    assert errors(api.update({"date_of_birth": value})) == {"date_of_birth": expected}


@pytest.mark.parametrize("value", ["2024-06-15", "1900-01-01", "2000-02-29"])
def test_birth_date_boundaries_are_accepted(api: Any, value: str) -> None:
    reply = api.create(fields(date_of_birth=value))
    assert reply.status == 201, reply.text
    assert reply.body["date_of_birth"] == value


# ---- JSON types ----


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ({"first_name": 5}, {"first_name": ["must be a string"]}),
        ({"last_name": ["Doe"]}, {"last_name": ["must be a string"]}),
        ({"date_of_birth": 20100515}, {"date_of_birth": ["must be a string"]}),
        ({"phone": 5551234567}, {"phone": ["must be a string"]}),
        ({"email": True}, {"email": ["must be a string"]}),
        ({"time_zone": 3}, {"time_zone": ["must be a string"]}),
        ({"address": "123 Main St"}, {"address": ["must be an object"]}),
        ({"address": ["123 Main St"]}, {"address": ["must be an object"]}),
        ({"address": {"zip_code": 12345}}, {"address.zip_code": ["must be a string"]}),
        ({"address": {"street": {"line": 1}}}, {"address.street": ["must be a string"]}),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else None,
)
def test_wrong_json_types(api: Any, sent: dict[str, Any], expected: dict[str, Any]) -> None:
    assert errors(api.create(fields(**sent))) == expected
    assert errors(api.update(sent)) == expected


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, [], {}])
def test_active_must_be_a_boolean(api: Any, value: Any) -> None:
    assert errors(api.update({"active": value})) == {"active": ["must be true or false"]}


@pytest.mark.parametrize("wrapped", ["a string", 5, ["list"], True])
def test_patient_wrapper_must_be_an_object(api: Any, wrapped: Any) -> None:
    assert errors(api.create(wrapped)) == {"patient": ["must be an object"]}
    assert errors(api.update(wrapped)) == {"patient": ["must be an object"]}


# ---- lengths ----


@pytest.mark.parametrize(
    "street", ["1 Main St\n2nd floor", "1 Main\x00St", "1 Main St\r", "1 Main St\u20282nd floor", "1 Main\u2029St"]
)
def test_an_address_line_with_a_control_character_is_invalid(api: Any, street: str) -> None:
    assert errors(api.create(fields(address={"street": street}))) == {"address.street": ["is invalid"]}


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ({"first_name": "a" * 101}, {"first_name": ["is too long (maximum is 100 characters)"]}),
        ({"last_name": "é" * 101}, {"last_name": ["is too long (maximum is 100 characters)"]}),
        ({"address": {"street": "s" * 201}}, {"address.street": ["is too long (maximum is 200 characters)"]}),
        ({"address": {"city": "c" * 201}}, {"address.city": ["is too long (maximum is 200 characters)"]}),
        ({"address": {"state": "s" * 201}}, {"address.state": ["is too long (maximum is 200 characters)"]}),
        ({"address": {"zip_code": "1" * 201}}, {"address.zip_code": ["is too long (maximum is 200 characters)"]}),
        # RFC 5321's longest path is 254 characters.
        ({"email": "a" * 64 + "@" + "b" * 186 + ".com"}, {"email": ["is too long (maximum is 254 characters)"]}),
    ],
    ids=["first_name", "last_name", "street", "city", "state", "zip_code", "email"],
)
def test_too_long(api: Any, sent: dict[str, Any], expected: dict[str, Any]) -> None:
    assert errors(api.create(fields(**sent))) == expected
    assert errors(api.update(sent)) == expected


def test_longest_allowed_values_are_stored_whole(api: Any) -> None:
    address = {"street": "s" * 200, "city": "c" * 200, "state": "t" * 200, "zip_code": "z" * 200}
    email = "a" * 64 + "@" + "b" * 185 + ".com"  # 254 characters, RFC 5321's longest path
    reply = api.create(fields(first_name="f" * 100, last_name="l" * 100, address=address, email=email))
    assert reply.status == 201, reply.text
    assert (reply.body["first_name"], reply.body["last_name"], reply.body["address"], reply.body["email"]) == (
        "f" * 100,
        "l" * 100,
        address,
        email,
    )


def test_search_longer_than_100_characters(api: Any) -> None:
    assert errors(api.list(search="d" * 101)) == {"search": ["is too long (maximum is 100 characters)"]}
    assert api.list(search="d" * 100).status == 200


# ---- formats and lists ----


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ({"email": "john"}, {"email": ["is invalid"]}),
        ({"email": "john@"}, {"email": ["is invalid"]}),
        ({"email": "john@example"}, {"email": ["is invalid"]}),
        ({"email": "jo hn@example.com"}, {"email": ["is invalid"]}),
        ({"email": "a@b@example.com"}, {"email": ["is invalid"]}),
        ({"phone": "call me"}, {"phone": ["is invalid"]}),
        ({"phone": "12"}, {"phone": ["is invalid"]}),
        ({"phone": "+1-555-CALL-NOW"}, {"phone": ["is invalid"]}),
        ({"phone": "555-123"}, {"phone": ["is invalid"]}),  # the pattern's shape, 6 digits
        ({"phone": "1 (  ) 2"}, {"phone": ["is invalid"]}),  # the pattern's shape, 2 digits
        ({"phone": "555-1234 ext 5"}, {"phone": ["is invalid"]}),  # 8 digits, not the pattern's shape
        ({"phone": "1" * 31}, {"phone": ["is invalid"]}),  # 31 digits, longer than the pattern's 30 characters
        ({"gender": "robot"}, {"gender": ["is not included in the list"]}),
        ({"gender": "Male"}, {"gender": ["is not included in the list"]}),
        ({"gender": ""}, {"gender": ["is not included in the list"]}),
        ({"time_zone": "Mars/Olympus_Mons"}, {"time_zone": ["is not a valid time zone"]}),
        ({"time_zone": "america/los_angeles"}, {"time_zone": ["is not a valid time zone"]}),
        ({"time_zone": ""}, {"time_zone": ["is not a valid time zone"]}),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else None,
)
def test_malformed_values(api: Any, sent: dict[str, Any], expected: dict[str, Any]) -> None:
    assert errors(api.create(fields(**sent))) == expected
    assert errors(api.update(sent)) == expected


@pytest.mark.parametrize("gender", ["male", "female", "non_binary", "other", "unknown", "prefer_not_to_say"])
def test_every_listed_gender_is_accepted(api: Any, gender: str) -> None:
    reply = api.create(fields(gender=gender))
    assert (reply.status, reply.body["gender"]) == (201, gender)


def test_well_formed_contact_details_are_accepted(api: Any) -> None:
    sent = fields(phone="+1-555-123-4567", email="john@example.com", time_zone="America/Los_Angeles")
    reply = api.create(sent)
    assert reply.status == 201, reply.text
    assert (reply.body["phone"], reply.body["email"], reply.body["time_zone"]) == (
        "+1-555-123-4567",
        "john@example.com",
        "America/Los_Angeles",
    )


@pytest.mark.parametrize("phone", ["555-1234", "5551234", "+1 (555) 123-4567", "1" * 30])
def test_phone_numbers_of_seven_digits_or_more_are_accepted(api: Any, phone: str) -> None:
    reply = api.create(fields(phone=phone))
    assert (reply.status, reply.body.get("phone")) == (201, phone), reply.text


# ---- fields that may not be sent ----


@pytest.mark.parametrize("name", ["id", "age", "created_at", "updated_at", "clinic_id", "care_team", "version", "x"])
def test_unknown_or_read_only_fields_are_not_permitted(api: Any, name: str) -> None:
    assert errors(api.create(fields(**{name: 7}))) == {name: ["is not permitted"]}
    assert errors(api.update({name: 7})) == {name: ["is not permitted"]}


def test_a_field_that_may_not_be_sent_is_not_permitted_even_as_null(api: Any) -> None:
    """`null` is as blank as a missing key for a field the request has; for one it does not have, `null` is
    still a value sent where none may be: "is not permitted", never "can't be blank"."""
    assert errors(api.create(fields(id=None, active=None))) == {
        "id": ["is not permitted"],
        "active": ["is not permitted"],
    }
    assert errors(api.update({"created_at": None, "x": None})) == {
        "created_at": ["is not permitted"],
        "x": ["is not permitted"],
    }
    sent = fields(address={"street": "1 Main St", "country": None})
    assert errors(api.create(sent)) == {"address.country": ["is not permitted"]}
    reply = api.client.post("/v1/patients", {"patient": VALID, "admin": None}, token=api.token)
    assert errors(reply) == {"admin": ["is not permitted"]}


def test_active_is_not_permitted_on_create(api: Any) -> None:
    assert errors(api.create(fields(active=False))) == {"active": ["is not permitted"]}


def test_unknown_address_part_is_not_permitted(api: Any) -> None:
    sent = {"address": {"street": "1 Main St", "country": "US"}}
    assert errors(api.create(fields(**sent))) == {"address.country": ["is not permitted"]}


def test_unknown_key_beside_the_wrapper_is_not_permitted(api: Any) -> None:
    reply = api.client.post("/v1/patients", {"patient": VALID, "admin": True}, token=api.token)
    assert errors(reply) == {"admin": ["is not permitted"]}


def test_all_problems_are_reported_at_once(api: Any) -> None:
    sent = {
        "first_name": "",
        "last_name": 3,
        "gender": "robot",
        "email": "nope",
        "address": {"zip_code": 5},
        "id": 1,
    }
    assert errors(api.create(sent)) == {
        "first_name": [BLANK],
        "last_name": ["must be a string"],
        "date_of_birth": [BLANK, BAD_DATE],
        "gender": ["is not included in the list"],
        "email": ["is invalid"],
        "address.zip_code": ["must be a string"],
        "id": ["is not permitted"],
    }


# ---- list query parameters ----


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"page": "x"}, {"page": ["is not a number"]}),
        ({"page": "1.5"}, {"page": ["is not a number"]}),
        ({"page": ""}, {"page": ["is not a number"]}),
        ({"page_size": "ten"}, {"page_size": ["is not a number"]}),
        ({"page": "0"}, {"page": ["must be greater than or equal to 1"]}),
        ({"page": "-3"}, {"page": ["must be greater than or equal to 1"]}),
        ({"page_size": "0"}, {"page_size": ["must be greater than or equal to 1"]}),
        ({"page_size": "101"}, {"page_size": ["must be less than or equal to 100"]}),
        ({"page": "1001"}, {"page": ["must be less than or equal to 1000"]}),
        ({"page": "15542450677346574336"}, {"page": ["must be less than or equal to 1000"]}),
        ({"status": "deleted"}, {"status": ["is not included in the list"]}),
        ({"cursor": "not-a-cursor"}, {"cursor": ["is invalid"]}),
        (
            {"page": "x", "page_size": "500"},
            {"page": ["is not a number"], "page_size": ["must be less than or equal to 100"]},
        ),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else None,
)
def test_list_parameters(api: Any, query: dict[str, str], expected: dict[str, Any]) -> None:
    assert errors(api.list(**query)) == expected


def test_a_repeated_page_size_is_not_a_number(api: Any) -> None:
    # Both values reach validation as a list, which is no integer (int_type, where text that is none is int_parsing).
    reply = api.client.get("/v1/patients?page_size=10&page_size=20", token=api.token)
    assert errors(reply) == {"page_size": ["is not a number"]}


def test_list_parameter_bounds_are_accepted(api: Any) -> None:
    for query in ({"page": "1", "page_size": "1"}, {"page_size": "100"}, {"status": "all"}, {"status": "inactive"}):
        reply = api.list(**query)
        assert reply.status == 200, (query, reply.text)
        assert set(reply.body) == {"patients", "meta"}


# ---- bodies that are not a patient at all ----


@pytest.mark.parametrize("body", [..., {}, [], None, "patient", 7, {"patient": None}, {"Patient": VALID}])
def test_body_missing_or_without_the_wrapper(api: Any, body: Any) -> None:
    path = f"/v1/patients/{api.patient['id']}"
    for method in ("POST", "PUT"):
        reply = api.client.request(
            method, "/v1/patients" if method == "POST" else path, json_body=body, token=api.token
        )
        expected = {"patient": [BLANK]}
        if isinstance(body, dict) and "Patient" in body:
            expected = {"patient": [BLANK], "Patient": ["is not permitted"]}
        assert errors(reply) == expected


@pytest.mark.parametrize(("value", "message"), [(None, BLANK), ("patient", "must be an object")])
def test_an_error_about_the_whole_value_is_named_by_the_root(value: Any, message: str) -> None:
    """The request's errors always have a loc (where the value came from, then the field), but a model validated
    by itself reports an error about the whole value with none: rails_errors names it by its root, and a null
    there is as blank as a missing body."""
    with pytest.raises(ValidationError) as raised:
        NewPatient.model_validate(value)
    [error] = raised.value.errors()
    assert error["loc"] == ()
    assert rails_errors([error], root="patient") == {"patient": [message]}


@pytest.mark.parametrize(
    "raw",
    ["{", '{"patient": {"first_name": "a",}}', "patient=1", "\x00", "[1, 2", '{"patient": NaN}', '{"x": -Infinity}'],
)
def test_malformed_json_is_400(api: Any, raw: str) -> None:
    for method, path in (("POST", "/v1/patients"), ("PUT", f"/v1/patients/{api.patient['id']}")):
        reply = api.client.request(
            method, path, data=raw, headers={"Content-Type": "application/json"}, token=api.token
        )
        assert (reply.status, reply.body) == (400, {"errors": "Request body is not valid JSON"}), reply.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_body_that_is_not_json_is_415(api: Any, content_type: str) -> None:
    body = json.dumps({"patient": {**VALID, "first_name": "Unsupported"}})
    for method, path in (("POST", "/v1/patients"), ("PUT", f"/v1/patients/{api.patient['id']}")):
        reply = api.client.request(method, path, data=body, headers={"Content-Type": content_type}, token=api.token)
        assert reply.status == 415, reply.text
        assert reply.body == {"errors": "Request body must be JSON (Content-Type: application/json)"}
    assert api.list(search="unsupported", status="all").body["patients"] == []
    assert api.client.get(f"/v1/patients/{api.patient['id']}", token=api.token).body["first_name"] == "Jane"


def test_json_content_type_with_charset_is_accepted(api: Any) -> None:
    reply = api.client.request(
        "POST",
        "/v1/patients",
        data=json.dumps({"patient": VALID}),
        headers={"Content-Type": "application/json; charset=utf-8"},
        token=api.token,
    )
    assert reply.status == 201, reply.text


def test_body_over_one_megabyte_is_413(api: Any) -> None:
    megabyte = 1024 * 1024
    padding = megabyte - len(json.dumps({"patient": {**VALID, "first_name": ""}}))
    at_limit = json.dumps({"patient": {**VALID, "first_name": "x" * padding}})
    assert len(at_limit) == megabyte
    # Exactly 1 MB is read and validated; one byte more is refused before anything else.
    json_type = {"Content-Type": "application/json"}
    assert errors(api.client.post("/v1/patients", data=at_limit, headers=json_type, token=api.token)) == {
        "first_name": ["is too long (maximum is 100 characters)"]
    }
    over = json.dumps({"patient": {**VALID, "first_name": "x" * (padding + 1)}})
    for method, path in (("POST", "/v1/patients"), ("PUT", f"/v1/patients/{api.patient['id']}")):
        reply = api.client.request(
            method, path, data=over, headers={"Content-Type": "application/json"}, token=api.token
        )
        assert (reply.status, reply.body) == (413, {"errors": "Request body is larger than 1 MB"})


# ---- no input of any shape is a 5xx ----

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from([*VALID, "gender", "phone", "email", "address", "time_zone", "active", "id", "age"])
patient_like = st.dictionaries(field_names, json_values, max_size=6) | st.fixed_dictionaries(
    {k: st.just(v) for k, v in VALID.items()}, optional={"address": json_values, "email": json_values}
)
bodies = st.one_of(json_values, st.builds(lambda p: {"patient": p}, patient_like | json_values))


def assert_contract_shaped(reply: Any, success: int) -> None:
    assert reply.status < 500, reply.text
    if reply.status == success:
        assert set(reply.body) == PATIENT_KEYS
    else:
        assert reply.status in (400, 422), reply.text
        assert set(reply.body) == {"errors"}
        if reply.status == 422:
            problems = reply.body["errors"]
            assert isinstance(problems, dict) and problems
            assert all(isinstance(m, list) and m and all(isinstance(s, str) for s in m) for m in problems.values())
        else:
            assert isinstance(reply.body["errors"], str)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, create=st.booleans())
def test_no_body_gives_a_server_error(api: Any, body: Any, create: bool) -> None:
    if create:
        reply = api.client.post("/v1/patients", body, token=api.token)
        assert_contract_shaped(reply, 201)
    else:
        reply = api.client.put(f"/v1/patients/{api.patient['id']}", body, token=api.token)
        assert_contract_shaped(reply, 200)
