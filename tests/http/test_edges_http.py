"""Issue 11 over HTTP against the local API: the ends of the calendar, media types, deep and large bodies,
digit strings in ids and ETags, and a summary range that starts in the future. Each was a 5xx (or worse, a
wrong gauge deleted) before its fix; none may be a 5xx now."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clinic import clock, store, summaries
from support import NOT_FOUND, Client, Reply, User, clinic, frozen, user

from local import events

pytestmark = pytest.mark.http

GAUGE_NOT_FOUND = {"errors": "Gauge not found"}
NOT_JSON = {"errors": "Request body must be JSON (Content-Type: application/json)"}
TOO_LARGE = {"errors": "Request body is larger than 1 MB"}
TOO_DEEP = {"errors": "Request body is nested too deeply"}


@pytest.fixture(scope="module")
def admin(http_api: Any) -> User:
    return user(clinic("Edges clinic"), "admin", "Edge Admin")


@pytest.fixture(scope="module")
def api(http_api: Any) -> Client:
    return Client(http_api.url)


def new_patient(api: Client, admin: User, time_zone: str = "UTC") -> int:
    body = {
        "patient": {"first_name": "Eve", "last_name": "Edge", "date_of_birth": "1990-01-01", "time_zone": time_zone}
    }
    reply = api.post("/v1/patients", body, token=admin.token)
    assert reply.status == 201, reply.text
    return int(reply.body["id"])


def record(api: Client, admin: User, patient_id: int, **gauge: Any) -> Reply:
    return api.post(
        f"/v1/patients/{patient_id}/gauges", {"gauge": {"gauge_type": "mood", "value": 5, **gauge}}, token=admin.token
    )


def gauge_ids(api: Client, admin: User, patient_id: int, **query: Any) -> list[int]:
    reply = api.get(f"/v1/patients/{patient_id}/gauges", token=admin.token, query=query or None)
    assert reply.status == 200, reply.text
    return [g["id"] for g in reply.body["gauges"]]


def run_summary_job(http_api: Any) -> dict[str, Any]:
    """One run of the scheduled job as EventBridge would start it, past the minute it waits for new gauges.

    That run's checkpoint is then a minute ahead of the real clock: a gauge that another test of this API records
    within that minute would never be read by the next run, and that test's summary would miss it (it did, in
    random order). So the checkpoint goes back to where a run at the real time would leave it; the next run reads
    that minute's changes again, and a window read twice writes the same summaries (test_summaries.py:
    test_two_runs_in_a_row_change_nothing)."""
    with frozen(datetime.now(UTC) + timedelta(minutes=2)):
        result = http_api.gateway.invoke("SummarizeGaugesFunction", events.scheduled_event("summaries"))
    store.put_checkpoint(summaries.JOB, clock.iso(datetime.now(UTC) - summaries.SETTLE), result["complete_through"])
    return result


# ---- 1. recorded_at before 1900, four-digit years ----


@pytest.mark.local_only("runs the summary job in-process, past the minute it waits; a stack runs it on its schedule")
def test_recorded_at_has_a_lower_bound_and_four_digit_years(http_api: Any, api: Client, admin: User) -> None:
    pid = new_patient(api, admin)
    for early in ("0001-01-01T00:00:00Z", "1899-12-31T23:59:59.999Z", "1900-01-01T00:30:00+01:00"):
        reply = record(api, admin, pid, recorded_at=early)
        assert (reply.status, reply.body) == (422, {"errors": {"recorded_at": ["must be on or after 1900-01-01"]}})
    earliest = record(api, admin, pid, recorded_at="1900-01-01T00:00:00Z")
    assert (earliest.status, earliest.body["recorded_at"]) == (201, "1900-01-01T00:00:00.000Z")

    result = run_summary_job(http_api)
    assert result["set_aside"] == 0
    summary = api.get(
        f"/v1/patients/{pid}/gauges/summary",
        token=admin.token,
        query={"start_date": "1900-01-01", "end_date": "1900-01-01"},
    )
    assert [(s["period_start"], s["count"]) for s in summary.body["summaries"]] == [("1900-01-01", 1)]
    deleted = api.delete(f"/v1/patients/{pid}/gauges/{earliest.body['id']}", token=admin.token)
    assert deleted.status == 204
    assert run_summary_job(http_api)["set_aside"] == 0


# ---- 2. the ends of the calendar ----


@pytest.mark.parametrize(
    ("recorded_at", "message"),
    [
        ("9999-12-31T23:59:59-01:00", "can't be in the future"),
        ("9999-12-31T23:59:59+14:00", "can't be in the future"),
        ("0001-01-01T00:00:00+01:00", "must be on or after 1900-01-01"),
        ("0001-01-01T00:00:00-23:59", "must be on or after 1900-01-01"),
    ],
)
def test_recorded_at_at_the_ends_of_the_calendar(api: Client, admin: User, recorded_at: str, message: str) -> None:
    pid = new_patient(api, admin)
    reply = record(api, admin, pid, recorded_at=recorded_at)
    assert (reply.status, reply.body) == (422, {"errors": {"recorded_at": [message]}})


@pytest.mark.parametrize("time_zone", ["Pacific/Kiritimati", "Etc/GMT+12", "UTC"])
def test_gauge_list_dates_at_the_ends_of_the_calendar(api: Client, admin: User, time_zone: str) -> None:
    pid = new_patient(api, admin, time_zone)
    gid = record(api, admin, pid).body["id"]
    assert gauge_ids(api, admin, pid, start_date="9999-12-31") == []
    assert gauge_ids(api, admin, pid, end_date="9999-12-31") == [gid]
    assert gauge_ids(api, admin, pid, start_date="0001-01-01") == [gid]
    assert gauge_ids(api, admin, pid, start_date="0001-01-01", end_date="9999-12-31") == [gid]
    assert gauge_ids(api, admin, pid, end_date="0001-01-01") == []


@pytest.mark.parametrize(
    "query",
    [
        {"end_date": "0001-01-29"},
        {"end_date": "0001-01-01", "period": "week"},
        {"end_date": "9999-12-31", "period": "week"},
        {"end_date": "9999-12-31"},
        {"start_date": "9999-12-31", "end_date": "9999-12-31", "period": "week"},
        {"start_date": "0001-01-01", "end_date": "0001-01-01", "period": "week"},
    ],
)
def test_summary_dates_at_the_ends_of_the_calendar(api: Client, admin: User, query: dict[str, str]) -> None:
    pid = new_patient(api, admin, "Pacific/Kiritimati")
    reply = api.get(f"/v1/patients/{pid}/gauges/summary", token=admin.token, query=query)
    assert (reply.status, reply.body["summaries"]) == (200, [])


# ---- 3. media types ----


@pytest.mark.parametrize(
    "content_type",
    ["APPLICATION/JSON", "application/json; charset=utf-8", 'Application/Json;Charset="UTF-8"', "application/json "],
)
def test_json_media_types_are_case_insensitive(api: Client, admin: User, content_type: str) -> None:
    body = {"patient": {"first_name": "Cas", "last_name": "Insensitive", "date_of_birth": "1990-01-01"}}
    reply = api.request(
        "POST", "/v1/patients", token=admin.token, data=json.dumps(body), headers={"Content-Type": content_type}
    )
    assert reply.status == 201, reply.text
    pid = reply.body["id"]
    changed = api.request(
        "PUT",
        f"/v1/patients/{pid}",
        token=admin.token,
        data='{"patient": {"first_name": "Ada"}}',
        headers={"Content-Type": content_type},
    )
    assert (changed.status, changed.body["first_name"]) == (200, "Ada")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/json",
        "application/vnd.api+json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "application/json; charset=latin-1",
        "text/plain",
        None,
    ],
)
def test_anything_else_is_415(api: Client, admin: User, content_type: str | None) -> None:
    pid = new_patient(api, admin)
    headers = {"Content-Type": content_type} if content_type else {}
    for method, path, body in (
        ("POST", "/v1/patients", {"patient": {"first_name": "A", "last_name": "B", "date_of_birth": "1990-01-01"}}),
        ("PUT", f"/v1/patients/{pid}", {"patient": {"first_name": "A"}}),
        ("POST", f"/v1/patients/{pid}/gauges", {"gauge": {"gauge_type": "mood", "value": 5}}),
        ("POST", f"/v1/patients/{pid}/care_team", {"user_id": admin.id}),
    ):
        reply = api.request(method, path, token=admin.token, data=json.dumps(body), headers=headers)
        assert (reply.status, reply.body) == (415, NOT_JSON), (method, path)
    assert gauge_ids(api, admin, pid) == []


# ---- 4. deeply nested bodies ----


def test_deeply_nested_bodies_are_400(api: Client, admin: User) -> None:
    pid = new_patient(api, admin)
    deep = "[" * 990 + "]" * 990
    for method, path, body in (
        ("POST", "/v1/patients", '{"patient": ' + deep + "}"),
        ("PUT", f"/v1/patients/{pid}", '{"patient": {"address": ' + deep + "}}"),
        ("POST", f"/v1/patients/{pid}/gauges", '{"gauges": ' + deep + "}"),
        ("POST", f"/v1/patients/{pid}/care_team", '{"user_id": ' + '{"a":' * 990 + "1" + "}" * 990 + "}"),
    ):
        reply = api.request(method, path, token=admin.token, data=body, headers={"Content-Type": "application/json"})
        assert (reply.status, reply.body) == (400, TOO_DEEP), (method, path)
    # Bodies as deep as the contract's own are fine.
    shallow = {"gauges": [{"gauge_type": "mood", "value": 5}]}
    assert api.post(f"/v1/patients/{pid}/gauges", shallow, token=admin.token).status == 201


# ---- 5. digit strings: ids and ETags ----

NOT_IDS = ["²", "①", "٣", "１", "1" * 4301, "01", "+1", "-1", " 1", "1 ", "1_0", "0", "1e3", "0x1", "1" * 19]


@pytest.fixture(scope="module")
def target(api: Client, admin: User) -> dict[str, int]:
    pid = new_patient(api, admin)
    gid = record(api, admin, pid).body["id"]
    provider = user(admin.clinic_id, "provider", "Ida Digit")
    assert api.post(f"/v1/patients/{pid}/care_team", {"user_id": provider.id}, token=admin.token).status == 201
    return {"patient": pid, "gauge": gid, "member": provider.id}


def _encoded(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@pytest.mark.parametrize("bad", NOT_IDS)
def test_patient_ids_are_ascii_digits_only(api: Client, admin: User, target: dict[str, int], bad: str) -> None:
    pid = _encoded(bad)
    for method, path, body in (
        ("GET", f"/v1/patients/{pid}", ...),
        ("PUT", f"/v1/patients/{pid}", {"patient": {"first_name": "X"}}),
        ("GET", f"/v1/patients/{pid}/gauges", ...),
        ("POST", f"/v1/patients/{pid}/gauges", {"gauge": {"gauge_type": "mood", "value": 5}}),
        ("GET", f"/v1/patients/{pid}/gauges/summary", ...),
        ("DELETE", f"/v1/patients/{pid}/gauges/{target['gauge']}", ...),
        ("GET", f"/v1/patients/{pid}/care_team", ...),
        ("POST", f"/v1/patients/{pid}/care_team", {"user_id": target["member"]}),
        ("DELETE", f"/v1/patients/{pid}/care_team/{target['member']}", ...),
    ):
        reply = api.request(method, path, token=admin.token, json_body=body)
        assert (reply.status, reply.body) == (404, NOT_FOUND), (method, path)


@pytest.mark.parametrize("bad", NOT_IDS)
def test_gauge_and_member_ids_are_ascii_digits_only(api: Client, admin: User, target: dict[str, int], bad: str) -> None:
    pid = target["patient"]
    lookalike = bad.replace("1", str(target["gauge"])) if bad.strip("1") else bad
    reply = api.delete(f"/v1/patients/{pid}/gauges/{_encoded(lookalike)}", token=admin.token)
    assert (reply.status, reply.body) == (404, GAUGE_NOT_FOUND)
    member = bad.replace("1", str(target["member"])) if bad.strip("1") else bad
    reply = api.delete(f"/v1/patients/{pid}/care_team/{_encoded(member)}", token=admin.token)
    assert (reply.status, reply.body) == (404, {"errors": "Care team member not found"})
    assert target["gauge"] in gauge_ids(api, admin, pid)


def test_look_alike_digits_never_delete_a_gauge(api: Client, admin: User) -> None:
    pid = new_patient(api, admin)
    gid = record(api, admin, pid).body["id"]
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in str(gid))
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in str(gid))
    for lookalike in (arabic_indic, fullwidth, f"0{gid}", f"00{gid}", f" {gid}", f"+{gid}"):
        reply = api.delete(f"/v1/patients/{pid}/gauges/{_encoded(lookalike)}", token=admin.token)
        assert (reply.status, reply.body) == (404, GAUGE_NOT_FOUND), lookalike
    assert gauge_ids(api, admin, pid) == [gid]


@pytest.mark.parametrize("if_match", ['"v\xb2"', '"v' + "1" * 5000 + '"', '"v01"', '"v-1"'])
def test_etags_that_name_no_version_never_match(api: Client, admin: User, if_match: str) -> None:
    pid = new_patient(api, admin)
    reply = api.put(
        f"/v1/patients/{pid}", {"patient": {"first_name": "Ned"}}, token=admin.token, headers={"If-Match": if_match}
    )
    assert (reply.status, reply.body) == (412, {"errors": "Patient has been modified since it was read"})


# ---- 6. the 1 MB limit counts bytes ----


@pytest.mark.parametrize("character", ["😀", "é"])
def test_the_size_limit_counts_bytes(api: Client, admin: User, character: str) -> None:
    over = (1024 * 1024) // len(character.encode()) + 1  # fewer than 1 MB characters, more than 1 MB bytes
    body = json.dumps({"patient": {"first_name": character * over}}, ensure_ascii=False).encode()
    reply = api.request(
        "POST", "/v1/patients", token=admin.token, data=body, headers={"Content-Type": "application/json"}
    )
    assert (reply.status, reply.body) == (413, TOO_LARGE)


# ---- 7. a summary range that starts after today ----


@pytest.mark.local_only("runs the summary job in-process, past the minute it waits; a stack runs it on its schedule")
@pytest.mark.parametrize("period", ["day", "week"])
def test_summary_starting_after_today_is_empty(http_api: Any, api: Client, admin: User, period: str) -> None:
    pid = new_patient(api, admin, "Pacific/Kiritimati")
    record(api, admin, pid)
    run_summary_job(http_api)
    for days in (2, 10, 400):
        start = (datetime.now(UTC) + timedelta(days=days)).date().isoformat()
        reply = api.get(
            f"/v1/patients/{pid}/gauges/summary", token=admin.token, query={"start_date": start, "period": period}
        )
        assert (reply.status, reply.body["summaries"]) == (200, []), start
