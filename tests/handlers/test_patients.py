"""Patient behaviour through the real handlers behind the local gateway on moto: create, read, update with
ETags, the computed age, and the list (order, search, status, pages, cursors and what a page reads)."""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from clinic import clock, cursors, ids, retries, store
from clinic.store import keys, table
from support import (
    NOT_FOUND,
    PATIENT_KEYS,
    Client,
    User,
    clinic,
    dynamodb_hooks,
    frozen,
    gateway,
    moto_tables,
    patient,
    user,
)

NOW = datetime(2023, 10, 20, 10, 0, 0, 123000, tzinfo=UTC)
PRECONDITION_FAILED = {"errors": "Patient has been modified since it was read"}


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with moto_tables():
        yield Client(gateway())


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with frozen(NOW):
        yield


@pytest.fixture
def admin(client: Client) -> User:
    """The admin of a clinic of their own: every test lists only the patients it made."""
    return user(clinic(), "admin")


def create(client: Client, admin: User, **fields: Any) -> Any:
    body = {"first_name": "John", "last_name": "Doe", "date_of_birth": "2010-05-15", **fields}
    reply = client.post("/v1/patients", {"patient": body}, token=admin.token)
    assert reply.status == 201, reply.text
    return reply


def names(reply: Any) -> list[str]:
    assert reply.status == 200, reply.text
    return [f"{p['first_name']} {p['last_name']}" for p in reply.body["patients"]]


# ---- create and read ----


def test_patient_ids_continue_from_the_tables_counter(client: Client, admin: User) -> None:
    """Ids come from the table's patient counter, not from the container: after 10**6 patients stored (here
    reserved) and a new container, the next patient's id is above them. The item keeps who created it."""
    store.reserve_ids("patient", 10**6)
    ids.reset()  # a new container: no block of ids reserved yet
    created = create(client, admin).body
    assert created["id"] > 10**6
    stored = store.get_patient(created["id"]) or {}
    assert (stored.get("first_name"), stored.get("created_by")) == ("John", admin.id)  # and who created it


def test_create_returns_the_patient_with_location_and_etag(client: Client, admin: User) -> None:
    full = {
        "gender": "male",
        "phone": "+1-555-123-4567",
        "email": "john@example.com",
        "address": {"street": "123 Main St", "city": "Anytown", "state": "CA", "zip_code": "12345"},
        "time_zone": "America/Los_Angeles",
    }
    reply = create(client, admin, **full)
    pid = reply.body["id"]
    assert isinstance(pid, int) and pid > 0
    assert reply.body == {
        "id": pid,
        "first_name": "John",
        "last_name": "Doe",
        "date_of_birth": "2010-05-15",
        "age": 13,
        **full,
        "active": True,
        "created_at": "2023-10-20T10:00:00.123Z",
        "updated_at": "2023-10-20T10:00:00.123Z",
    }
    assert reply.header("Location") == f"/v1/patients/{pid}"
    etag = reply.header("ETag")
    assert etag and etag.startswith('"')

    read = client.get(f"/v1/patients/{pid}", token=admin.token)
    assert (read.status, read.body, read.header("ETag")) == (200, reply.body, etag)


def test_optional_fields_default_to_null_and_utc(client: Client, admin: User) -> None:
    body = create(client, admin).body
    assert {k: body[k] for k in ("gender", "phone", "email", "address", "time_zone", "active")} == {
        "gender": None,
        "phone": None,
        "email": None,
        "address": None,
        "time_zone": "UTC",
        "active": True,
    }
    assert set(body) == PATIENT_KEYS


def test_partial_address_lists_every_part(client: Client, admin: User) -> None:
    body = create(client, admin, address={"city": "Anytown"}).body
    assert body["address"] == {"street": None, "city": "Anytown", "state": None, "zip_code": None}


def test_ids_are_unique_and_increasing(client: Client, admin: User) -> None:
    ids = [create(client, admin).body["id"] for _ in range(5)]
    assert ids == sorted(set(ids))


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        ("2010-05-15", datetime(2023, 5, 14, 23, 59, 59, tzinfo=UTC), 12),
        ("2010-05-15", datetime(2023, 5, 15, 0, 0, 0, tzinfo=UTC), 13),
        ("2010-05-15", datetime(2010, 5, 15, 12, tzinfo=UTC), 0),
        ("2000-02-29", datetime(2023, 2, 28, tzinfo=UTC), 22),
        ("2000-02-29", datetime(2023, 3, 1, tzinfo=UTC), 23),
        ("2000-02-29", datetime(2024, 2, 29, tzinfo=UTC), 24),
        ("1900-01-01", datetime(2023, 12, 31, tzinfo=UTC), 123),
    ],
)
def test_age_is_computed_from_the_clock_at_response_time(
    client: Client, admin: User, born: str, today: datetime, age: int
) -> None:
    with frozen(datetime(2030, 1, 1, tzinfo=UTC)):
        pid = create(client, admin, date_of_birth=born).body["id"]
    with frozen(today):
        assert client.get(f"/v1/patients/{pid}", token=admin.token).body["age"] == age
        listed = client.get("/v1/patients", token=admin.token).body["patients"]
    assert [p["age"] for p in listed] == [age]


def test_age_follows_the_clock_without_any_write(client: Client, admin: User) -> None:
    pid = create(client, admin).body["id"]
    ages = []
    for day in (14, 15):
        with frozen(datetime(2023, 5, day, 12, tzinfo=UTC)):
            reply = client.get(f"/v1/patients/{pid}", token=admin.token)
        ages.append((reply.body["age"], reply.body["updated_at"], reply.header("ETag")))
    assert ages[0][0] == 12 and ages[1][0] == 13
    assert ages[0][1:] == ages[1][1:]  # nothing was stored


@pytest.mark.parametrize("bad", ["abc", "1.0", "-1", "0", "01", "1e3", "%20", "99999999999999999999999", "1;2"])
def test_non_integer_or_non_canonical_id_is_404(client: Client, admin: User, bad: str) -> None:
    create(client, admin)
    for method in ("GET", "PUT"):
        body = {"patient": {"first_name": "X"}} if method == "PUT" else ...
        reply = client.request(method, f"/v1/patients/{bad}", json_body=body, token=admin.token)
        assert (reply.status, reply.body) == (404, NOT_FOUND), (method, bad)


def test_missing_and_other_clinics_patients_are_404(client: Client, admin: User) -> None:
    other = user(clinic(), "admin")
    theirs = create(client, other).body["id"]
    for pid in (theirs, 10**9):
        assert (client.get(f"/v1/patients/{pid}", token=admin.token).body, pid) == (NOT_FOUND, pid)
        reply = client.put(f"/v1/patients/{pid}", {"patient": {"first_name": "Mallory"}}, token=admin.token)
        assert (reply.status, reply.body) == (404, NOT_FOUND)
        # Existence is checked before validation: an invalid body says nothing about the patient either.
        reply = client.put(f"/v1/patients/{pid}", {"patient": {"first_name": 5, "x": 1}}, token=admin.token)
        assert (reply.status, reply.body) == (404, NOT_FOUND)
    assert client.get(f"/v1/patients/{theirs}", token=other.token).body["first_name"] == "John"


# ---- update ----


def test_update_changes_only_the_keys_sent(client: Client, admin: User) -> None:
    created = create(client, admin, gender="male", email="john@example.com", address={"street": "1 A St"}).body
    with frozen(datetime(2023, 10, 21, 8, tzinfo=UTC)):
        reply = client.put(f"/v1/patients/{created['id']}", {"patient": {"first_name": "Johnny"}}, token=admin.token)
        assert reply.status == 200, reply.text
        assert reply.body == {**created, "first_name": "Johnny", "updated_at": "2023-10-21T08:00:00.000Z"}
        assert client.get(f"/v1/patients/{created['id']}", token=admin.token).body == reply.body


def test_null_clears_optional_fields(client: Client, admin: User) -> None:
    created = create(
        client,
        admin,
        gender="female",
        phone="+1-555-123-4567",
        email="jane@example.com",
        address={"street": "1 A St", "city": "B"},
        time_zone="Europe/Paris",
    ).body
    cleared = {"gender": None, "phone": None, "email": None, "address": None, "time_zone": None}
    reply = client.put(f"/v1/patients/{created['id']}", {"patient": cleared}, token=admin.token)
    assert reply.status == 200, reply.text
    assert reply.body == {**created, **cleared, "time_zone": "UTC"}
    # The cleared email is no longer found by an email search.
    listed = client.get("/v1/patients", query={"search": "jane@example.com"}, token=admin.token)
    assert listed.body["patients"] == []


def test_a_cleared_time_zone_is_stored_as_utc_and_moves_no_days_when_it_was_utc(client: Client, admin: User) -> None:
    """`time_zone: null` restores the default: the patient is stored in "UTC" (as a created one is), not without
    a zone; and for a patient in UTC already the zone does not change, so the summary job is not told to
    recompute all of the patient's days (no REZONED marker)."""
    paris = create(client, admin, time_zone="Europe/Paris").body
    reply = client.put(f"/v1/patients/{paris['id']}", {"patient": {"time_zone": None}}, token=admin.token)
    assert (reply.status, reply.body) == (200, {**paris, "time_zone": "UTC"})
    assert (store.get_patient(paris["id"]) or {}).get("time_zone") == "UTC"
    assert table.get(keys.rezoned(paris["id"])) is not None  # Paris to UTC moved the days

    utc = create(client, admin).body
    reply = client.put(f"/v1/patients/{utc['id']}", {"patient": {"time_zone": None}}, token=admin.token)
    assert (reply.status, reply.body) == (200, {**utc, "time_zone": "UTC"})
    stored = store.get_patient(utc["id"]) or {}
    assert (stored.get("time_zone"), stored.get("version")) == ("UTC", 2)
    assert table.get(keys.rezoned(utc["id"])) is None


def test_a_patient_stored_without_a_time_zone_reads_and_updates_as_utc(client: Client, admin: User) -> None:
    """A patient item may lack `time_zone` (store.items: "UTC when missing"; items written before the field):
    it reads as "UTC", and setting "UTC" on it moves no days (no REZONED marker) while another zone does."""
    created = create(client, admin).body
    table.update(keys.patient(created["id"]), "REMOVE time_zone")
    assert "time_zone" not in (store.get_patient(created["id"]) or {})

    reply = client.get(f"/v1/patients/{created['id']}", token=admin.token)
    assert (reply.status, reply.body["time_zone"]) == (200, "UTC")
    days = {"start_date": "2024-01-01", "end_date": "2024-01-31"}  # its days are UTC days
    reply = client.get(f"/v1/patients/{created['id']}/gauges", query=days, token=admin.token)
    assert (reply.status, reply.body.get("gauges")) == (200, []), reply.text
    reply = client.put(f"/v1/patients/{created['id']}", {"patient": {"time_zone": "UTC"}}, token=admin.token)
    assert (reply.status, reply.body) == (200, created)
    assert table.get(keys.rezoned(created["id"])) is None

    table.update(keys.patient(created["id"]), "REMOVE time_zone")
    reply = client.put(f"/v1/patients/{created['id']}", {"patient": {"time_zone": "Asia/Tokyo"}}, token=admin.token)
    assert (reply.status, reply.body) == (200, {**created, "time_zone": "Asia/Tokyo"})
    assert table.get(keys.rezoned(created["id"])) is not None


def test_address_is_replaced_as_a_whole(client: Client, admin: User) -> None:
    pid = create(client, admin, address={"street": "1 A St", "city": "Anytown", "state": "CA", "zip_code": "1"}).body[
        "id"
    ]
    reply = client.put(f"/v1/patients/{pid}", {"patient": {"address": {"city": "Elsewhere"}}}, token=admin.token)
    assert reply.body["address"] == {"street": None, "city": "Elsewhere", "state": None, "zip_code": None}


def test_active_toggles_and_moves_between_lists(client: Client, admin: User) -> None:
    pid = create(client, admin).body["id"]
    path = f"/v1/patients/{pid}"
    assert client.put(path, {"patient": {"active": False}}, token=admin.token).body["active"] is False
    assert client.get("/v1/patients", token=admin.token).body["patients"] == []
    inactive = client.get("/v1/patients", query={"status": "inactive"}, token=admin.token).body["patients"]
    assert [p["id"] for p in inactive] == [pid]
    assert client.put(path, {"patient": {"active": True}}, token=admin.token).body["active"] is True
    assert [p["id"] for p in client.get("/v1/patients", token=admin.token).body["patients"]] == [pid]
    assert client.get("/v1/patients", query={"status": "inactive"}, token=admin.token).body["patients"] == []


def test_empty_update_changes_nothing(client: Client, admin: User) -> None:
    created = create(client, admin)
    reply = client.put(f"/v1/patients/{created.body['id']}", {"patient": {}}, token=admin.token)
    assert (reply.status, reply.body, reply.header("ETag")) == (200, created.body, created.header("ETag"))


def test_if_match_applies_only_to_the_version_read(client: Client, admin: User) -> None:
    created = create(client, admin)
    path = f"/v1/patients/{created.body['id']}"
    first_etag = created.header("ETag")

    reply = client.put(
        path, {"patient": {"phone": "555-123-4567"}}, headers={"If-Match": first_etag}, token=admin.token
    )
    assert (reply.status, reply.body["phone"]) == (200, "555-123-4567")
    second_etag = reply.header("ETag")
    assert second_etag and second_etag != first_etag
    assert client.get(path, token=admin.token).header("ETag") == second_etag

    stale = client.put(
        path, {"patient": {"phone": "555-000-0000"}}, headers={"If-Match": first_etag}, token=admin.token
    )
    assert (stale.status, stale.body) == (412, PRECONDITION_FAILED)
    stale = client.put(path, {"patient": {"last_name": "Moved"}}, headers={"If-Match": first_etag}, token=admin.token)
    assert (stale.status, stale.body) == (412, PRECONDITION_FAILED)
    after = client.get(path, token=admin.token)
    assert (after.body["phone"], after.body["last_name"], after.header("ETag")) == ("555-123-4567", "Doe", second_etag)

    renamed = client.put(
        path, {"patient": {"last_name": "Moved"}}, headers={"If-Match": second_etag}, token=admin.token
    )
    assert (renamed.status, renamed.body["last_name"]) == (200, "Moved")


def test_if_match_holds_against_a_change_landing_between_the_read_and_the_write(
    client: Client, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The If-Match named the version read, but another request changed the patient before this one wrote:
    the write is conditioned on that version, so 412 and the other change stays, never a silent overwrite."""
    created = create(client, admin)
    path = f"/v1/patients/{created.body['id']}"
    write = store.update_patient

    def after_a_concurrent_change(current: Any, fields: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(store, "update_patient", write)
        now = clock.iso(clock.now())
        write(store.get_patient(current["id"]), {"email": "other@example.com"}, updated_at=now, expected_version=None)
        return write(current, fields, **kwargs)

    monkeypatch.setattr(store, "update_patient", after_a_concurrent_change)
    etag = created.header("ETag")
    reply = client.put(path, {"patient": {"phone": "555-123-4567"}}, headers={"If-Match": etag}, token=admin.token)
    assert (reply.status, reply.body) == (412, PRECONDITION_FAILED)
    after = client.get(path, token=admin.token)
    assert (after.body["phone"], after.body["email"], after.header("ETag")) == (None, "other@example.com", '"v2"')


@pytest.mark.parametrize("jitter", [0.0, 1.0])
@pytest.mark.parametrize("losses", [2, 100])
def test_a_rename_that_keeps_losing_the_race_reads_again_backs_off_and_then_is_412(
    client: Client, admin: User, monkeypatch: pytest.MonkeyPatch, jitter: float, losses: int
) -> None:
    """Without If-Match, a rename (which rewrites list entries, so its write is conditioned on the version read)
    that loses to a concurrent change reads the patient again and retries, after a random wait in
    [0, 20 ms * 2**try] (full jitter, doubling); after 8 tries it is 412 at once, with no wait or read after the
    last. The jitter is pinned to its ends."""
    created = create(client, admin)
    path = f"/v1/patients/{created.body['id']}"
    write = store.update_patient
    tries: list[int] = []

    def contended(*args: Any, **kwargs: Any) -> Any:
        tries.append(len(tries))
        if len(tries) <= losses:
            raise store.ConditionFailed
        return write(*args, **kwargs)

    slept: list[float] = []
    monkeypatch.setattr(store, "update_patient", contended)
    monkeypatch.setattr(retries.time, "sleep", slept.append)
    monkeypatch.setattr(retries.random, "uniform", lambda low, high: low + (high - low) * jitter)
    reply = client.put(path, {"patient": {"last_name": "Moved"}}, token=admin.token)
    assert slept == pytest.approx([0.02 * 2**attempt * jitter for attempt in range(min(losses, 7))])
    if losses < 8:
        assert (reply.status, reply.body, len(tries)) == (200, {**created.body, "last_name": "Moved"}, losses + 1)
    else:
        assert (reply.status, reply.body, len(tries)) == (412, PRECONDITION_FAILED, 8)
        monkeypatch.undo()
        assert client.get(path, token=admin.token).body == created.body


@pytest.mark.parametrize("header", ['"nonsense"', '"v999"', '"v0"', "", '"x1"', '"1"', 'W/"x1"', 'W/"v1"'])
def test_if_match_naming_no_current_version_is_412(client: Client, admin: User, header: str) -> None:
    created = create(client, admin)
    path = f"/v1/patients/{created.body['id']}"
    reply = client.put(path, {"patient": {"first_name": "X"}}, headers={"If-Match": header}, token=admin.token)
    assert (reply.status, reply.body) == (412, PRECONDITION_FAILED)
    assert client.get(path, token=admin.token).body == created.body


@pytest.mark.parametrize("header", ['"v1"', ' "v1" ', '"v0", "v1"'])
def test_if_match_of_the_current_version_applies(client: Client, admin: User, header: str) -> None:
    pid = create(client, admin).body["id"]
    reply = client.put(
        f"/v1/patients/{pid}", {"patient": {"first_name": "Tag"}}, headers={"If-Match": header}, token=admin.token
    )
    assert (reply.status, reply.body["first_name"], reply.header("ETag")) == (200, "Tag", '"v2"')


def test_if_match_star_applies(client: Client, admin: User) -> None:
    pid = create(client, admin).body["id"]
    reply = client.put(
        f"/v1/patients/{pid}", {"patient": {"first_name": "Star"}}, headers={"If-Match": "*"}, token=admin.token
    )
    assert (reply.status, reply.body["first_name"]) == (200, "Star")


# RFC 9110's optional whitespace around `*` is spaces and tabs only; a value that is neither `*` nor a list of
# quoted entity-tags is refused whole, and nothing changes.
@pytest.mark.parametrize("header", ["X*X", "X*", "**", "\f*", "*\r", "\x0b*\x0b", "\u00a0*", "v1", '"v1" v2'])
def test_if_match_that_is_neither_star_nor_a_list_of_entity_tags_is_400(
    client: Client, admin: User, header: str
) -> None:
    created = create(client, admin)
    path = f"/v1/patients/{created.body['id']}"
    reply = client.put(path, {"patient": {"first_name": "Bad"}}, headers={"If-Match": header}, token=admin.token)
    assert (reply.status, reply.body) == (400, {"errors": 'If-Match must be "*" or a list of quoted ETags'})
    assert client.get(path, token=admin.token).body == created.body


# ---- list: order, search, status, pages ----


def seed(client: Client, admin: User, people: list[tuple[str, str]], **fields: Any) -> list[int]:
    return [create(client, admin, first_name=first, last_name=last, **fields).body["id"] for first, last in people]


def test_list_order_is_last_then_first_name_case_insensitive_then_id(client: Client, admin: User) -> None:
    seed(
        client,
        admin,
        [("john", "Doe"), ("Zed", "adams"), ("Anna", "DOE"), ("john", "doe smith"), ("Bob", "Ádams"), ("John", "doe")],
    )
    reply = client.get("/v1/patients", token=admin.token)
    # "doe" < "doe smith" (the whole last name first), and the two John Does by id.
    assert names(reply) == ["Zed adams", "Anna DOE", "john Doe", "John doe", "john doe smith", "Bob Ádams"]
    johns = [
        p["id"]
        for p in reply.body["patients"]
        if p["first_name"].casefold() == "john" and p["last_name"].casefold() == "doe"
    ]
    assert johns == sorted(johns)
    assert reply.body["meta"] == {"page": 1, "page_size": 25, "has_more": False, "next_cursor": None}


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("jo", ["John Doe", "Jo Jones", "Mary Jordan"]),
        ("JO", ["John Doe", "Jo Jones", "Mary Jordan"]),
        ("do", ["John Doe", "Dora Smith"]),
        ("Doe", ["John Doe"]),
        ("mary", ["Mary Jordan"]),
        ("christopher", ["Christopher Christopherson"]),
        ("christophers", ["Christopher Christopherson"]),
        ("christopherx", []),
        ("christopherson", ["Christopher Christopherson"]),
        ("John Doe", []),
        ("ohn", []),
        ("z", []),
        ("  jo  ", ["John Doe", "Jo Jones", "Mary Jordan"]),
        ("john@example.com", ["John Doe"]),
        ("JOHN@EXAMPLE.COM", ["John Doe"]),
        ("john@example", []),
        ("mary@example.com", []),
    ],
)
def test_search(client: Client, admin: User, search: str, expected: list[str]) -> None:
    seed(client, admin, [("John", "Doe")], email="john@example.com")
    seed(client, admin, [("Jo", "Jones"), ("Mary", "Jordan"), ("Dora", "Smith"), ("Christopher", "Christopherson")])
    assert names(client.get("/v1/patients", query={"search": search}, token=admin.token)) == expected


def test_search_follows_renames(client: Client, admin: User) -> None:
    (pid,) = seed(client, admin, [("Alice", "Walker")])
    client.put(f"/v1/patients/{pid}", {"patient": {"last_name": "Brown"}}, token=admin.token)
    assert names(client.get("/v1/patients", query={"search": "wal"}, token=admin.token)) == []
    assert names(client.get("/v1/patients", query={"search": "bro"}, token=admin.token)) == ["Alice Brown"]
    assert names(client.get("/v1/patients", query={"search": "ali"}, token=admin.token)) == ["Alice Brown"]


def test_status_filter(client: Client, admin: User) -> None:
    ids = seed(client, admin, [("A", "Active"), ("B", "Inactive"), ("C", "Active")])
    client.put(f"/v1/patients/{ids[1]}", {"patient": {"active": False}}, token=admin.token)
    assert names(client.get("/v1/patients", token=admin.token)) == ["A Active", "C Active"]
    assert names(client.get("/v1/patients", query={"status": "active"}, token=admin.token)) == ["A Active", "C Active"]
    assert names(client.get("/v1/patients", query={"status": "inactive"}, token=admin.token)) == ["B Inactive"]
    assert names(client.get("/v1/patients", query={"status": "all"}, token=admin.token)) == [
        "A Active",
        "C Active",
        "B Inactive",
    ]
    assert names(client.get("/v1/patients", query={"status": "inactive", "search": "b"}, token=admin.token)) == [
        "B Inactive"
    ]


def test_page_and_page_size(client: Client, admin: User) -> None:
    seed(client, admin, [(f"P{i}", f"Name{i:02d}") for i in range(7)])
    pages = [client.get("/v1/patients", query={"page": n, "page_size": 3}, token=admin.token) for n in (1, 2, 3, 4)]
    assert [names(p) for p in pages] == [
        ["P0 Name00", "P1 Name01", "P2 Name02"],
        ["P3 Name03", "P4 Name04", "P5 Name05"],
        ["P6 Name06"],
        [],
    ]
    assert [(p.body["meta"]["page"], p.body["meta"]["page_size"], p.body["meta"]["has_more"]) for p in pages] == [
        (1, 3, True),
        (2, 3, True),
        (3, 3, False),
        (4, 3, False),
    ]
    assert [p.body["meta"]["next_cursor"] is not None for p in pages] == [True, True, False, False]


def test_a_last_page_that_is_full_says_no_more_follow(client: Client, admin: User) -> None:
    """Six patients in pages of three: page 2 is the last, by number and by cursor (no empty third page)."""
    seed(client, admin, [(f"P{i}", f"Name{i:02d}") for i in range(6)])
    second = client.get("/v1/patients", query={"page": 2, "page_size": 3}, token=admin.token)
    assert names(second) == ["P3 Name03", "P4 Name04", "P5 Name05"]
    assert second.body["meta"] == {"page": 2, "page_size": 3, "has_more": False, "next_cursor": None}
    walked, metas = walk(client, admin.token, page_size=3)
    assert len(walked) == 6
    assert [(m["page"], m["has_more"]) for m in metas] == [(1, True), (2, False)]


# ---- cursors ----


def walk(client: Client, token: str, **query: Any) -> tuple[list[int], list[dict[str, Any]]]:
    """Every page through next_cursor; the ids in order and each page's meta."""
    ids: list[int] = []
    metas = []
    reply = client.get("/v1/patients", query=query, token=token)
    while True:
        assert reply.status == 200, reply.text
        ids += [p["id"] for p in reply.body["patients"]]
        metas.append(reply.body["meta"])
        cursor = reply.body["meta"]["next_cursor"]
        if cursor is None:
            return ids, metas
        reply = client.get("/v1/patients", query={**query, "cursor": cursor}, token=token)


@pytest.mark.parametrize("page_size", [1, 3, 11])
def test_cursor_walks_every_page_without_duplicates_or_gaps(client: Client, admin: User, page_size: int) -> None:
    people = [("Ann", "Lee"), ("ann", "lee"), ("Bo", "Lee"), ("Cy", "Li"), ("Di", "Lo"), ("Ed", "Lu"), ("Flo", "Ly")]
    ids = seed(client, admin, people)
    client.put(f"/v1/patients/{ids[2]}", {"patient": {"active": False}}, token=admin.token)
    client.put(f"/v1/patients/{ids[5]}", {"patient": {"active": False}}, token=admin.token)
    everyone = client.get("/v1/patients", query={"status": "all", "page_size": 100}, token=admin.token)

    for status, expected in (
        ("all", [p["id"] for p in everyone.body["patients"]]),
        ("active", [i for i in ids if i not in (ids[2], ids[5])]),
        ("inactive", [ids[2], ids[5]]),
    ):
        walked, metas = walk(client, admin.token, status=status, page_size=page_size)
        assert walked == expected, status
        assert [m["page"] for m in metas] == list(range(1, len(metas) + 1))
        assert all(m["has_more"] for m in metas[:-1]) and not metas[-1]["has_more"]
    assert sorted(p["id"] for p in everyone.body["patients"]) == sorted(ids)

    walked, _ = walk(client, admin.token, search="l", page_size=page_size)
    assert walked == [i for i in ids if i not in (ids[2], ids[5])]


def test_an_email_search_lists_in_order_and_pages_by_cursor(client: Client, admin: User) -> None:
    ids = seed(client, admin, [("Cara", "Zed"), ("Abe", "Young"), ("Bea", "Young")], email="family@example.com")
    seed(client, admin, [("Other", "Person")], email="other@example.com")
    reply = client.get("/v1/patients", query={"search": "family@example.com"}, token=admin.token)
    assert names(reply) == ["Abe Young", "Bea Young", "Cara Zed"]
    walked, metas = walk(client, admin.token, search="FAMILY@example.com", page_size=1)
    assert walked == [ids[1], ids[2], ids[0]]
    assert [(m["page"], m["has_more"]) for m in metas] == [(1, True), (2, True), (3, False)]


def test_cursor_continues_after_the_anchor_even_when_rows_change(client: Client, admin: User) -> None:
    ids = seed(client, admin, [("A", "Aa"), ("B", "Bb"), ("C", "Cc"), ("D", "Dd")])
    first = client.get("/v1/patients", query={"page_size": 2}, token=admin.token)
    # A patient added before the anchor is not repeated, one after it is included.
    seed(client, admin, [("A", "Ab"), ("C", "Cd")])
    second = client.get(
        "/v1/patients", query={"page_size": 2, "cursor": first.body["meta"]["next_cursor"]}, token=admin.token
    )
    assert names(first) == ["A Aa", "B Bb"]
    assert names(second) == ["C Cc", "C Cd"]
    assert [p["id"] for p in first.body["patients"]] == ids[:2]


def decode(cursor: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def encode(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_cursor_reveals_no_patient_data(client: Client, admin: User) -> None:
    seed(client, admin, [("Secretname", "Hiddensurname"), ("Sam", "Sosa")], email="secret@example.com")
    reply = client.get("/v1/patients", query={"page_size": 1, "search": "s"}, token=admin.token)
    cursor = reply.body["meta"]["next_cursor"]
    data = decode(cursor)
    # Page, anchor id and a digest of the query: nothing else.
    assert set(data) == {"p", "a", "q"}
    assert (data["p"], data["a"]) == (1, reply.body["patients"][0]["id"])
    assert re.fullmatch("[0-9a-f]{16}", data["q"])
    # The digest is random hex, where a digit canary could appear by chance: search the rest.
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().replace(data["q"], "")
    for secret in ("secret", "hidden", "sosa", "sam", "2010-05-15", "example", '"s"'):
        assert secret not in raw.casefold()


def test_a_cursor_has_the_documented_shape_and_reads_back_whatever_its_length() -> None:
    """Unpadded base64url (the OpenAPI pattern, safe in a URL as it is), whose padding decode() restores: pages
    and anchors of every digit count give cursors of every length modulo 4."""
    query = cursors.digest("patients", "active", "")
    for page, anchor in itertools.product((1, 12, 999), (1, 22, 333, 4444, 55555, 10**17)):
        cursor = cursors.encode(page, anchor, query)
        assert re.fullmatch(cursors.CURSOR_PATTERN, cursor), cursor
        assert cursors.decode(cursor, query) == (page, anchor)


def test_tampered_or_foreign_cursor_is_422(client: Client, admin: User) -> None:
    seed(client, admin, [("A", "Aa"), ("B", "Bb"), ("C", "Cc")])
    cursor = client.get("/v1/patients", query={"page_size": 1}, token=admin.token).body["meta"]["next_cursor"]
    data = decode(cursor)
    stranger = user(clinic(), "admin")
    seed(client, stranger, [("X", "Xx"), ("Y", "Yy")])
    strangers_cursor = client.get("/v1/patients", query={"page_size": 1}, token=stranger.token).body["meta"][
        "next_cursor"
    ]

    invalid = {"errors": {"cursor": ["is invalid"]}}
    attempts: list[tuple[dict[str, Any], str]] = [
        ({}, "garbage"),
        ({}, cursor[:-3]),
        ({}, cursor + "x"),
        ({}, encode({**data, "p": 0})),
        ({}, encode({**data, "p": 1000})),  # no page 1001: `page` stops at 1000 too
        ({}, encode({**data, "p": "1"})),
        ({}, encode({**data, "p": 1.5})),
        ({}, encode({**data, "a": 10**9})),
        ({}, encode({**data, "a": "1"})),
        ({}, encode({**data, "a": str(data["a"])})),  # the anchor's own id, but as text
        ({}, encode({**data, "q": "0" * 16})),
        ({}, encode({"p": 1, "a": data["a"]})),
        ({}, encode([1, 2, 3])),
        ({}, strangers_cursor),  # another clinic's patient as anchor
        ({"status": "all"}, cursor),  # a cursor belongs to its query
        ({"search": "a"}, cursor),
    ]
    for query, bad in attempts:
        reply = client.get("/v1/patients", query={"page_size": 1, **query, "cursor": bad}, token=admin.token)
        assert (reply.status, reply.body) == (422, invalid), (query, bad)
    fine = client.get("/v1/patients", query={"page_size": 1, "cursor": cursor}, token=admin.token)
    assert names(fine) == ["B Bb"]
    # Page 1000 is the last a list has: it says more rows follow, but gives no cursor to them.
    deepest = client.get(
        "/v1/patients", query={"page_size": 1, "cursor": encode({**data, "p": 999})}, token=admin.token
    )
    assert names(deepest) == ["B Bb"]
    assert deepest.body["meta"] == {"page": 1000, "page_size": 1, "has_more": True, "next_cursor": None}


# ---- what a page reads ----


@contextmanager
def reads() -> Iterator[dict[str, int]]:
    """Items read by the domain's DynamoDB client, by operation, while the block runs (no Scan allowed)."""
    counts = {"Query": 0, "BatchGetItem": 0, "GetItem": 0, "Scan": 0}

    def after(model: Any, parsed: dict[str, Any], **_: Any) -> None:
        name = model.name
        if name in ("Query", "Scan"):
            counts[name] += parsed.get("ScannedCount", 0)
        elif name == "BatchGetItem":
            counts[name] += sum(len(items) for items in parsed.get("Responses", {}).values())
        elif name == "GetItem":
            counts[name] += 1 if parsed.get("Item") else 0

    with dynamodb_hooks(("after-call.dynamodb", after)):
        yield counts


@pytest.fixture(scope="module")
def small_and_big(client: Client) -> tuple[User, User]:
    """The admins of a clinic with 30 patients and of one with 300."""
    admins = []
    for count in (30, 300):
        admin = user(clinic(), "admin")
        for i in range(count):
            patient(admin, f"First{i:03d}", f"Last{i:03d}")
        admins.append(admin)
    return admins[0], admins[1]


@pytest.mark.parametrize("search", [None, "la", "fir"])
def test_a_page_reads_page_size_plus_one_entries_however_big_the_clinic(
    client: Client, small_and_big: tuple[User, User], search: str | None
) -> None:
    query = {"page_size": 5, **({"search": search} if search else {})}
    costs = []
    for admin in small_and_big:
        with reads() as first:
            reply = client.get("/v1/patients", query=query, token=admin.token)
        assert len(reply.body["patients"]) == 5 and reply.body["meta"]["has_more"]
        cursor = reply.body["meta"]["next_cursor"]
        for _ in range(3):  # a few pages deep costs the same as page 1
            with reads() as deeper:
                reply = client.get("/v1/patients", query={**query, "cursor": cursor}, token=admin.token)
            cursor = reply.body["meta"]["next_cursor"]
        costs.append((dict(first), dict(deeper)))
    for first, deeper in costs:
        assert first["Scan"] == deeper["Scan"] == 0
        assert first["Query"] == deeper["Query"] == 6  # page_size + 1 list entries
        assert first["BatchGetItem"] == deeper["BatchGetItem"] == 5
    assert costs[0] == costs[1]
