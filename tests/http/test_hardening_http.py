"""Issue 11's hardening where the contract is silent, over HTTP against the local API: If-Match per RFC 9110,
control and invisible characters in text, JSON that cannot be stored, no caching of PHI, CORS from the
template, and cursors whose anchor was deleted or whose page is forged."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from clinic import settings
from support import Client, User, clinic, user

from local.gateway import LocalGateway

pytestmark = pytest.mark.http

PRECONDITION_FAILED = {"errors": "Patient has been modified since it was read"}
BAD_IF_MATCH = {"errors": 'If-Match must be "*" or a list of quoted ETags'}
ORIGIN = "https://partner.example.org"


@pytest.fixture(scope="module")
def admin(http_api: Any) -> User:
    return user(clinic("Hardening clinic"), "admin", "Hard Admin")


@pytest.fixture(scope="module")
def api(http_api: Any) -> Client:
    return Client(http_api.url)


def new_patient(api: Client, admin: User, **fields: Any) -> dict[str, Any]:
    body = {"patient": {"first_name": "Hal", "last_name": "Hardy", "date_of_birth": "1990-01-01", **fields}}
    reply = api.post("/v1/patients", body, token=admin.token)
    assert reply.status == 201, reply.text
    return reply.body


# ---- If-Match (RFC 9110 section 13.1.1) ----


def test_if_match_uses_the_strong_comparison_over_a_list(api: Client, admin: User) -> None:
    pid = new_patient(api, admin)["id"]
    path = f"/v1/patients/{pid}"
    etag = api.get(path, token=admin.token).header("ETag")
    assert etag == '"v1"'

    weak = api.put(path, {"patient": {"first_name": "Weak"}}, token=admin.token, headers={"If-Match": "W/" + etag})
    assert (weak.status, weak.body) == (412, PRECONDITION_FAILED)
    for unquoted in ("v1", "1", '"v1" v2', "W/v1"):
        reply = api.put(path, {"patient": {"first_name": "Bare"}}, token=admin.token, headers={"If-Match": unquoted})
        assert (reply.status, reply.body) == (400, BAD_IF_MATCH), unquoted
    listed = api.put(
        path, {"patient": {"first_name": "Listed"}}, token=admin.token, headers={"If-Match": f'"v9", W/"v2", {etag}'}
    )
    assert (listed.status, listed.body["first_name"], listed.header("ETag")) == (200, "Listed", '"v2"')
    stale = api.put(path, {"patient": {"first_name": "Stale"}}, token=admin.token, headers={"If-Match": f'"x", {etag}'})
    assert (stale.status, stale.body) == (412, PRECONDITION_FAILED)
    assert api.get(path, token=admin.token).body["first_name"] == "Listed"


# ---- text fields ----


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"first_name": "Ja\x00ne"}, {"first_name": ["is invalid"]}),
        ({"last_name": "Doe\x1b[31m"}, {"last_name": ["is invalid"]}),
        ({"first_name": "Ja\x7fne"}, {"first_name": ["is invalid"]}),
        ({"first_name": "Ja\u0085ne"}, {"first_name": ["is invalid"]}),
        ({"first_name": "Jane\nDoe"}, {"first_name": ["is invalid"]}),
        ({"first_name": "Jane\u2028Doe"}, {"first_name": ["is invalid"]}),
        ({"first_name": "\u200b\u200d\ufeff"}, {"first_name": ["can't be blank"]}),
        ({"last_name": "\u3164"}, {"last_name": ["can't be blank"]}),
        ({"last_name": " \u00a0\u2003 "}, {"last_name": ["can't be blank"]}),
        ({"address": {"street": "1 Main St\r\nX-Injected: yes"}}, {"address.street": ["is invalid"]}),
    ],
)
def test_names_and_addresses_reject_control_and_invisible_characters(
    api: Client, admin: User, fields: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    body = {"patient": {"first_name": "Hal", "last_name": "Hardy", "date_of_birth": "1990-01-01", **fields}}
    reply = api.post("/v1/patients", body, token=admin.token)
    assert (reply.status, reply.body) == (422, {"errors": errors})


def test_names_with_letters_of_any_script_are_fine(api: Client, admin: User) -> None:
    created = new_patient(api, admin, first_name="Zoë\u200dÅ", last_name="\u0645\u062d\u0645\u062f")
    assert (created["first_name"], created["last_name"]) == ("Zoë\u200dÅ", "\u0645\u062d\u0645\u062f")


def test_notes_keep_line_breaks_but_no_other_control_characters(api: Client, admin: User) -> None:
    pid = new_patient(api, admin)["id"]
    path = f"/v1/patients/{pid}/gauges"
    kept = api.post(
        path, {"gauge": {"gauge_type": "mood", "value": 5, "notes": "Line one\r\n\tLine two"}}, token=admin.token
    )
    assert (kept.status, kept.body["notes"]) == (201, "Line one\r\n\tLine two")
    for bad in ("nul\x00", "bell\x07", "esc\x1b"):
        reply = api.post(path, {"gauge": {"gauge_type": "mood", "value": 5, "notes": bad}}, token=admin.token)
        assert (reply.status, reply.body) == (422, {"errors": {"notes": ["is invalid"]}})


# ---- JSON that cannot be stored ----


@pytest.mark.parametrize(
    "raw",
    [
        '{"patient": {"first_name": "\\ud800", "last_name": "X", "date_of_birth": "1990-01-01"}}',
        '{"patient": {"first_name": "A", "last_name": "X", "date_of_birth": "1990-01-01", "age": ' + "9" * 5000 + "}}",
        '{"patient": {"first_name": NaN}}',
    ],
    ids=["lone-surrogate", "5000-digit-number", "NaN"],
)
def test_json_that_cannot_be_stored_is_400(api: Client, admin: User, raw: str) -> None:
    reply = api.request(
        "POST", "/v1/patients", token=admin.token, data=raw, headers={"Content-Type": "application/json"}
    )
    assert (reply.status, reply.body) == (400, {"errors": "Request body is not valid JSON"})


# ---- no caching of PHI ----


def test_every_answer_says_no_store(api: Client, admin: User) -> None:
    created = api.post(
        "/v1/patients",
        {"patient": {"first_name": "Cache", "last_name": "Less", "date_of_birth": "1990-01-01"}},
        token=admin.token,
    )
    pid = created.body["id"]
    gauge = api.post(f"/v1/patients/{pid}/gauges", {"gauge": {"gauge_type": "mood", "value": 5}}, token=admin.token)
    replies = [
        created,
        gauge,
        api.get(f"/v1/patients/{pid}", token=admin.token),
        api.get("/v1/patients", token=admin.token),
        api.get(f"/v1/patients/{pid}/gauges", token=admin.token),
        api.get(f"/v1/patients/{pid}/gauges/summary", token=admin.token),
        api.get(f"/v1/patients/{pid}/care_team", token=admin.token),
        api.put(f"/v1/patients/{pid}", {"patient": {"age": 3}}, token=admin.token),  # 422
        api.get(f"/v1/patients/{10**12}", token=admin.token),  # 404 from the function
        api.delete(f"/v1/patients/{pid}/gauges/{gauge.body['id']}", token=admin.token),  # 204
    ]
    assert [r.status for r in replies] == [201, 201, 200, 200, 200, 200, 200, 422, 404, 204]
    for reply in replies:
        assert reply.header("Cache-Control") == "no-store", reply.status


# ---- CORS ----


@pytest.fixture
def cors_api(http_api: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """The local API started with CorsAllowedOrigins set (the handlers read it from their environment)."""
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", f"{ORIGIN},https://other.example.org")
    settings.reset()
    gateway = LocalGateway(
        http_api.gateway.template,
        {"CorsAllowedOrigins": f"{ORIGIN},https://other.example.org"},
        authorizer_cache=False,
        set_environment=False,
    )
    server = gateway.serve("127.0.0.1", 0)
    yield Client(server.url)  # type: ignore[attr-defined]
    gateway.shutdown()
    monkeypatch.undo()
    settings.reset()


@pytest.mark.local_only(
    "serves a second local API with CorsAllowedOrigins set; a stack has the origins it was deployed with"
)
def test_cors_for_the_template_s_allowed_origins(cors_api: Client, admin: User) -> None:
    preflight = cors_api.request(
        "OPTIONS",
        "/v1/patients/1",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "if-match",
        },
    )
    assert preflight.status == 200  # answered without a token, as API Gateway does with the template's Cors
    assert preflight.header("Access-Control-Allow-Origin") == "*"
    assert set(preflight.header("Access-Control-Allow-Methods").split(",")) >= {"GET", "PUT", "POST", "DELETE"}
    assert {"X-User-Token", "If-Match", "Content-Type", "Idempotency-Key"} <= set(
        preflight.header("Access-Control-Allow-Headers").split(",")
    )

    read = cors_api.get("/v1/patients", token=admin.token, headers={"Origin": ORIGIN})
    assert read.status == 200
    assert (read.header("Access-Control-Allow-Origin"), read.header("Vary")) == (ORIGIN, "Origin")
    assert "ETag" in read.header("Access-Control-Expose-Headers")

    elsewhere = cors_api.get("/v1/patients", token=admin.token, headers={"Origin": "https://evil.example.com"})
    assert elsewhere.status == 200 and elsewhere.header("Access-Control-Allow-Origin") is None

    refused = cors_api.get("/v1/patients", headers={"Origin": ORIGIN})  # API Gateway's own 401
    assert (refused.status, refused.header("Access-Control-Allow-Origin")) == (401, "*")


def test_no_cors_by_default(api: Client, admin: User) -> None:
    preflight = api.request(
        "OPTIONS", "/v1/patients", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.header("Access-Control-Allow-Origin") is None
    read = api.get("/v1/patients", token=admin.token, headers={"Origin": ORIGIN})
    assert read.status == 200 and read.header("Access-Control-Allow-Origin") is None
    assert api.get("/v1/patients", headers={"Origin": ORIGIN}).header("Access-Control-Allow-Origin") is None


# ---- cursors ----


def _cursor(page: int, anchor: Any, query: str) -> str:
    raw = json.dumps({"p": page, "a": anchor, "q": query}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_whose_anchor_was_deleted_continues_after_it(api: Client, admin: User) -> None:
    pid = new_patient(api, admin)["id"]
    path = f"/v1/patients/{pid}/gauges"
    for hour in range(3):
        gauge = {"gauge_type": "mood", "value": 5, "recorded_at": f"2024-03-20T1{hour}:00:00Z"}
        assert api.post(path, {"gauge": gauge}, token=admin.token).status == 201
    first = api.get(path, token=admin.token, query={"page_size": 1, "order": "asc"})
    [anchor] = first.body["gauges"]
    assert api.delete(f"{path}/{anchor['id']}", token=admin.token).status == 204
    rest = api.get(
        path, token=admin.token, query={"page_size": 1, "order": "asc", "cursor": first.body["meta"]["next_cursor"]}
    )
    assert rest.status == 200, rest.text
    assert [g["recorded_at"] for g in rest.body["gauges"]] == ["2024-03-20T11:00:00.000Z"]
    assert rest.body["meta"]["page"] == 2


def test_a_cursor_s_page_is_bounded_like_page(api: Client, admin: User) -> None:
    pid = new_patient(api, admin)["id"]
    path = f"/v1/patients/{pid}/gauges"
    for hour in range(3):
        gauge = {"gauge_type": "mood", "value": 5, "recorded_at": f"2024-03-20T1{hour}:00:00Z"}
        api.post(path, {"gauge": gauge}, token=admin.token)
    first = api.get(path, token=admin.token, query={"page_size": 1})
    decoded = json.loads(base64.urlsafe_b64decode(first.body["meta"]["next_cursor"] + "=="))
    deepest = _cursor(999, decoded["a"], decoded["q"])
    last = api.get(path, token=admin.token, query={"page_size": 1, "cursor": deepest})
    # Page 1000 is the last a list reaches: more follow, but no cursor leads past it.
    assert (last.status, last.body["meta"]) == (
        200,
        {"page": 1000, "page_size": 1, "has_more": True, "next_cursor": None},
    )
    for page in (1000, 10**30, 0, -1):
        forged = api.get(
            path, token=admin.token, query={"page_size": 1, "cursor": _cursor(page, decoded["a"], decoded["q"])}
        )
        assert (forged.status, forged.body) == (422, {"errors": {"cursor": ["is invalid"]}}), page
