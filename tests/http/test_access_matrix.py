"""Issue 3's access matrix over HTTP against the local API: every endpoint × every kind of caller × {own-clinic
patient, other-clinic patient, missing patient}, each cell with its exact status and body. Issue 13 adds the
patient callers: the patient user of the own-clinic patient, one of another patient of the same clinic, and
one of a patient of the other clinic.

The expectations are written out literally (not computed from the policy), so a change to the access policy
that opens or closes any one cell fails that cell's test. The world is built once for the module; cells that
write clean up after themselves so every cell sees the same world.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clinic import accounts, gauges, patients, store, summaries
from clinic.errors import NotFound
from clinic.models.gauges import NewGauge
from clinic.models.patients import PatientChanges
from support import (
    ACTION_FORBIDDEN,
    NOT_FOUND,
    PATIENT_FORBIDDEN,
    PATIENT_KEYS,
    UNAUTHORIZED,
    Client,
    Reply,
    User,
    clinic,
    frozen,
    patient,
    patient_user,
    user,
)

pytestmark = pytest.mark.http

# ---- the world ----

UNAUTHENTICATED = ("no_token", "unknown_token", "revoked_token", "expired_token", "deactivated_user")
STAFF = (
    "admin",
    "supervisor_of_provider",
    "supervisor_unrelated",
    "provider_on_team",
    "provider_off_team",
    "other_clinic",
)
# Patient users: of "own" itself, of "off" (same clinic), of "elsewhere" (the other clinic).
PATIENT_CALLERS = ("patient_self", "patient_same_clinic", "patient_other_clinic")
AUTHENTICATED = STAFF + PATIENT_CALLERS
CALLERS = UNAUTHENTICATED + AUTHENTICATED
TARGETS = ("own", "other", "missing")
MISSING_ID = 10**9


@dataclass
class World:
    client: Client
    tokens: dict[str, str | None]
    users: dict[str, User]
    ids: dict[str, int]  # patient label -> id
    presented: dict[str, dict[str, Any]]  # patient label -> its object as created
    seeded_gauges: dict[str, dict[str, Any]]  # patient label -> its one gauge, presented
    created: list[tuple[str, int]] = field(default_factory=list)  # (creator, id) of POST /v1/patients cells

    def patient_id(self, target: str) -> int:
        return {"own": self.ids["own"], "other": self.ids["other"], "missing": MISSING_ID}[target]

    def care_team_entry(self, name: str) -> dict[str, Any]:
        member = self.users[name]
        return {"user_id": member.id, "name": member.name, "role": member.role}


@pytest.fixture(scope="module")
def world(http_api: Any) -> Iterator[World]:
    a = clinic("Matrix clinic")
    b = clinic("Other clinic")
    admin = user(a, "admin", "Ada Admin")
    sup_rel = user(a, "supervisor", "Sam Supervisor")
    sup_none = user(a, "supervisor", "Una Supervisor")
    prov_on = user(a, "provider", "Pia Provider", supervisor=sup_rel)
    prov_off = user(a, "provider", "Otto Provider", supervisor=sup_none)
    spare = user(a, "provider", "Spencer Spare", supervisor=sup_rel)  # added and removed by care-team cells
    other_admin = user(b, "admin", "Bea Admin")

    # Admins whose tokens no longer work: an admin would see everything if they did.
    revoked = user(a, "admin", "Rev Oked")
    second_token = accounts.issue_token(revoked.id)["token"]
    assert accounts.revoke_tokens(revoked.id) == {"user_id": revoked.id, "revoked": 2}
    expired = user(a, "admin", "Ex Pired")
    with frozen(datetime.now(UTC) - timedelta(days=2)):
        expired_token = accounts.issue_token(expired.id, expires_in_days=1)["token"]
    deactivated = user(a, "admin", "De Activated")
    accounts.set_active(deactivated.id, False)

    own = patient(prov_on, "Sam", "Smith", gender="other")  # care team: prov_on (supervised by sup_rel)
    off = patient(prov_off, "Sal", "Smithers", gender="other")  # care team: prov_off (supervised by sup_none)
    sups = patient(sup_none, "Sue", "Smyth", gender="other")  # care team: sup_none itself
    admins = patient(admin, "Sid", "Small", gender="other")  # no care team: admins only
    inactive = patient(prov_on, "Stan", "Smart", gender="other")
    patients.update(prov_on.caller, inactive, PatientChanges(active=False), None)
    other = patient(other_admin, "Sky", "Smalls", gender="other")  # clinic B, no care team
    elsewhere = patient(other_admin, "Elle", "Elsewhere", gender="other")  # clinic B, its patient user's record
    labels = {
        "own": own,
        "off": off,
        "sups": sups,
        "admins": admins,
        "inactive": inactive,
        "other": other,
        "elsewhere": elsewhere,
    }
    patient_self = patient_user(admin, own)
    patient_same_clinic = patient_user(admin, off)
    patient_other_clinic = patient_user(other_admin, elsewhere)

    seeded = {}
    for label, creator in (("own", prov_on), ("other", other_admin)):
        stored = gauges.record(creator.caller, labels[label], [NewGauge(gauge_type="mood", value=7)])
        seeded[label] = gauges.present(stored[0])

    yield World(
        client=Client(http_api.url),
        tokens={
            "no_token": None,
            "unknown_token": secrets.token_urlsafe(32),
            "revoked_token": revoked.token,
            "expired_token": expired_token,
            "deactivated_user": deactivated.token,
            "admin": admin.token,
            "supervisor_of_provider": sup_rel.token,
            "supervisor_unrelated": sup_none.token,
            "provider_on_team": prov_on.token,
            "provider_off_team": prov_off.token,
            "other_clinic": other_admin.token,
            "patient_self": patient_self.token,
            "patient_same_clinic": patient_same_clinic.token,
            "patient_other_clinic": patient_other_clinic.token,
            "revoked_second_token": second_token,
        },
        users={
            "admin": admin,
            "supervisor_of_provider": sup_rel,
            "supervisor_unrelated": sup_none,
            "provider_on_team": prov_on,
            "provider_off_team": prov_off,
            "other_clinic": other_admin,
            "patient_self": patient_self,
            "patient_same_clinic": patient_same_clinic,
            "patient_other_clinic": patient_other_clinic,
            "spare": spare,
        },
        ids={label: p["id"] for label, p in labels.items()},
        presented={label: patients.present(store.get_patient(p["id"]) or {}) for label, p in labels.items()},
        seeded_gauges=seeded,
    )


# ---- expectations, written out cell by cell ----

OK = "ok"
NF = (404, NOT_FOUND)
PF = (403, PATIENT_FORBIDDEN)
AF = (403, ACTION_FORBIDDEN)
ENDPOINTS = (
    "get_patient",
    "update_patient",
    "get_care_team",
    "add_care_team_member",
    "remove_care_team_member",
    "list_gauges",
    "record_gauge",
    "delete_gauge",
    "gauge_summary",
    "list_assessments",
    "latest_gauges",
    "create_invitation",
)

# Own-clinic patient "own": on the care team of provider_on_team, whom supervisor_of_provider supervises.
# Care-team management is a role question first: a provider is refused the action itself; a supervisor passes
# the patient check (API.md lets supervisors add themselves or a provider they supervise) and is then refused
# for a provider they do not supervise (the cells add or remove `spare`, a provider of supervisor_of_provider).
# Patient callers: their own record allows what API.md's table allows (their PUT of `gender` is a field they may
# not change; the gauge the delete cells set up was recorded by staff), staff-only routes are 403 action; any
# other record is 404, whichever clinic it is in.
NOT_PERMITTED = (422, {"errors": {"gender": ["is not permitted"]}})
OWN: dict[str, dict[str, Any]] = {
    #                          admin  sup_of  sup_un  on  off  other_clinic  patient: self same_clinic other_clinic
    "get_patient": dict(zip(AUTHENTICATED, (OK, OK, PF, OK, PF, NF, OK, NF, NF), strict=True)),
    "update_patient": dict(zip(AUTHENTICATED, (OK, OK, PF, OK, PF, NF, NOT_PERMITTED, NF, NF), strict=True)),
    "get_care_team": dict(zip(AUTHENTICATED, (OK, OK, PF, OK, PF, NF, AF, NF, NF), strict=True)),
    "add_care_team_member": dict(zip(AUTHENTICATED, (OK, OK, AF, AF, AF, NF, AF, NF, NF), strict=True)),
    "remove_care_team_member": dict(zip(AUTHENTICATED, (OK, OK, AF, AF, AF, NF, AF, NF, NF), strict=True)),
    "list_gauges": dict(zip(AUTHENTICATED, (OK, OK, PF, OK, PF, NF, OK, NF, NF), strict=True)),
    "record_gauge": dict(zip(AUTHENTICATED, (OK, OK, PF, OK, PF, NF, OK, NF, NF), strict=True)),
    "delete_gauge": dict(zip(AUTHENTICATED, (OK, OK, PF, OK, PF, NF, AF, NF, NF), strict=True)),
    "gauge_summary": dict(zip(AUTHENTICATED, (OK, OK, PF, OK, PF, NF, OK, NF, NF), strict=True)),
    "create_invitation": dict(zip(AUTHENTICATED, (OK, OK, PF, OK, PF, NF, AF, NF, NF), strict=True)),
    "list_assessments": dict(zip(AUTHENTICATED, (OK, OK, PF, OK, PF, NF, OK, NF, NF), strict=True)),
    "latest_gauges": dict(zip(AUTHENTICATED, (OK, OK, PF, OK, PF, NF, OK, NF, NF), strict=True)),
}
# Clinic B's patient: invisible to everyone of clinic A; its own clinic's admin may do everything, but cannot put
# a user of clinic A on its care team (nor remove one that is not on it).
OTHER: dict[str, dict[str, Any]] = {
    endpoint: {**dict.fromkeys(AUTHENTICATED, NF), "other_clinic": OK} for endpoint in ENDPOINTS
}
OTHER["add_care_team_member"]["other_clinic"] = (
    422,
    {"errors": {"user_id": ["must be a provider or supervisor of this clinic"]}},
)
OTHER["remove_care_team_member"]["other_clinic"] = (404, {"errors": "Care team member not found"})
MISSING: dict[str, dict[str, Any]] = {endpoint: dict.fromkeys(AUTHENTICATED, NF) for endpoint in ENDPOINTS}
EXPECTED = {"own": OWN, "other": OTHER, "missing": MISSING}

# Patients each caller may open (status active), before any POST /v1/patients cell ran.
VISIBLE = {
    "admin": {"own", "off", "sups", "admins"},
    "supervisor_of_provider": {"own"},
    "supervisor_unrelated": {"off", "sups"},
    "provider_on_team": {"own"},
    "provider_off_team": {"off"},
    "other_clinic": {"other", "elsewhere"},
}
VISIBLE_INACTIVE = {
    "admin": {"inactive"},
    "supervisor_of_provider": {"inactive"},
    "provider_on_team": {"inactive"},
}
# Who may open a patient created through POST /v1/patients, by creator (the creator joins its care team).
CREATED_VISIBLE_TO = {
    "admin": {"admin"},
    "supervisor_of_provider": {"supervisor_of_provider", "admin"},
    "supervisor_unrelated": {"supervisor_unrelated", "admin"},
    "provider_on_team": {"provider_on_team", "supervisor_of_provider", "admin"},
    "provider_off_team": {"provider_off_team", "supervisor_unrelated", "admin"},
    "other_clinic": {"other_clinic"},
}


def cells() -> list[Any]:
    out = []
    for endpoint in ENDPOINTS:
        for caller in CALLERS:
            for target in TARGETS:
                expected = (401, UNAUTHORIZED) if caller in UNAUTHENTICATED else EXPECTED[target][endpoint][caller]
                out.append(pytest.param(endpoint, caller, target, expected, id=f"{endpoint}-{caller}-{target}"))
    return out


# ---- requests, with per-cell setup and cleanup ----


def _expected_success(
    world: World, endpoint: str, caller: str, target: str, reply: Reply, pid: int, label: str
) -> None:
    created = world.presented[label]
    if endpoint in ("get_patient", "update_patient"):
        assert reply.status == 200, reply.text
        assert set(reply.body) == PATIENT_KEYS
        assert {k: v for k, v in reply.body.items() if k != "updated_at"} == {
            k: v for k, v in created.items() if k != "updated_at"
        }
        assert reply.header("ETag")
    elif endpoint == "get_care_team":
        team = [world.care_team_entry("provider_on_team")] if target == "own" else []
        assert (reply.status, reply.body) == (200, {"care_team": team})
    elif endpoint == "add_care_team_member":
        team = sorted(
            [world.care_team_entry("provider_on_team"), world.care_team_entry("spare")], key=lambda m: m["user_id"]
        )
        assert (reply.status, reply.body) == (201, {"care_team": team})
    elif endpoint in ("remove_care_team_member", "delete_gauge"):
        assert (reply.status, reply.text) == (204, "")
    elif endpoint == "list_gauges":
        meta = {"page": 1, "page_size": 100, "has_more": False, "next_cursor": None}
        assert (reply.status, reply.body) == (200, {"gauges": [world.seeded_gauges[target]], "meta": meta})
    elif endpoint == "record_gauge":
        assert reply.status == 201, reply.text
        body = reply.body
        keys = ("patient_id", "gauge_type", "value", "scale_min", "scale_max", "notes", "source", "recorded_by")
        assert {k: body[k] for k in keys} == {
            "patient_id": pid,
            "gauge_type": "mood",
            "value": 5,
            "scale_min": 1,
            "scale_max": 10,
            "notes": None,
            "source": "patient" if caller in PATIENT_CALLERS else "staff",
            "recorded_by": world.users[caller].id,
        }
    elif endpoint == "create_invitation":
        assert reply.status == 201, reply.text
        assert set(reply.body["invitation"]) == {"code", "patient_id", "expires_at"}
        assert reply.body["invitation"]["patient_id"] == pid
        assert len(reply.body["invitation"]["code"]) >= 32
    elif endpoint == "gauge_summary":
        checkpoint = store.get_checkpoint(summaries.JOB)
        through = checkpoint["through"] if checkpoint else None
        assert (reply.status, reply.body) == (200, {"summaries": [], "meta": {"complete_through": through}})
    elif endpoint == "list_assessments":
        meta = {"page_size": 25, "has_more": False, "next_cursor": None}
        assert (reply.status, reply.body) == (200, {"assessments": [], "meta": meta})
    elif endpoint == "latest_gauges":
        seeded = world.seeded_gauges[target]
        entry = {k: seeded[k] for k in ("gauge_type", "value", "scale_min", "scale_max", "recorded_at")}
        entry |= {"previous_value": None, "previous_recorded_at": None, "change": None}
        assert (reply.status, reply.body) == (200, {"latest": [entry]})
    else:  # pragma: no cover - a new endpoint needs its own success check
        raise AssertionError(endpoint)


def _remove_member_quietly(patient_id: int, user_id: int) -> None:
    with contextlib.suppress(NotFound):
        accounts.change_care_team(patient_id, user_id, add=False)


WRITES = frozenset(
    {"update_patient", "add_care_team_member", "remove_care_team_member", "record_gauge", "delete_gauge"}
)


def _request(world: World, endpoint: str, pid: int, token: str | None, gauge_id: int) -> Reply:
    base = f"/v1/patients/{pid}"
    spare = world.users["spare"].id
    client = world.client
    if endpoint == "get_patient":
        return client.get(base, token=token)
    if endpoint == "update_patient":
        return client.put(base, {"patient": {"gender": "other"}}, token=token)
    if endpoint == "get_care_team":
        return client.get(f"{base}/care_team", token=token)
    if endpoint == "add_care_team_member":
        return client.post(f"{base}/care_team", {"user_id": spare}, token=token)
    if endpoint == "remove_care_team_member":
        return client.delete(f"{base}/care_team/{spare}", token=token)
    if endpoint == "list_gauges":
        return client.get(f"{base}/gauges", token=token)
    if endpoint == "record_gauge":
        return client.post(f"{base}/gauges", {"gauge": {"gauge_type": "mood", "value": 5}}, token=token)
    if endpoint == "delete_gauge":
        return client.delete(f"{base}/gauges/{gauge_id}", token=token)
    if endpoint == "gauge_summary":
        return client.get(f"{base}/gauges/summary", token=token)
    if endpoint == "list_assessments":
        return client.get(f"{base}/assessments", token=token)
    if endpoint == "latest_gauges":
        return client.get(f"{base}/gauges/latest", token=token)
    if endpoint == "create_invitation":
        return client.post(f"{base}/invitations", token=token)
    raise AssertionError(endpoint)


def _gauge_ids(patient: dict[str, Any]) -> list[int]:
    listed = gauges.list_gauges(
        patient, gauge_type=None, start_date=None, end_date=None, order="desc", page=1, page_size=100, cursor=None
    )
    return [g["id"] for g in listed["gauges"]]


@pytest.mark.parametrize(("endpoint", "caller", "target", "expected"), cells())
def test_cell(world: World, endpoint: str, caller: str, target: str, expected: Any) -> None:
    pid = world.patient_id(target)
    label = "other" if target == "other" else "own"  # the real patient behind the cell (setup and checks)
    spare = world.users["spare"].id

    # Setup: something for the delete cells to delete.
    if endpoint == "remove_care_team_member" and target == "own":
        accounts.change_care_team(pid, spare, add=True)
    gauge_id = world.seeded_gauges["own"]["id"]
    if endpoint == "delete_gauge" and target != "missing":
        stored = store.get_patient(world.ids[label]) or {}
        gauge_id = gauges.record(world.users["admin"].caller, stored, [NewGauge(gauge_type="mood", value=3)])[0]["id"]
    writes = endpoint in WRITES
    before = store.get_patient(world.ids[label]) if writes else None
    gauges_before = _gauge_ids(before) if before else []

    try:
        reply = _request(world, endpoint, pid, world.tokens[caller], gauge_id)
        after = store.get_patient(world.ids[label]) if writes else None
        gauges_after = _gauge_ids(after) if after else []
    finally:
        # Whatever happened, leave the world as every other cell expects it.
        if endpoint in ("add_care_team_member", "remove_care_team_member"):
            _remove_member_quietly(world.ids[label], spare)
        if endpoint in ("record_gauge", "delete_gauge"):
            current = store.get_patient(world.ids[label]) or {}
            for extra in set(_gauge_ids(current)) - {world.seeded_gauges[label]["id"]}:
                gauges.delete(current, str(extra))

    if expected == OK:
        _expected_success(world, endpoint, caller, target, reply, pid, label)
        if endpoint == "delete_gauge":
            assert gauges_after == [g for g in gauges_before if g != gauge_id]
        if endpoint == "record_gauge":
            assert gauges_after == [reply.body["id"], *gauges_before]
        return
    status, body = expected
    assert (reply.status, reply.body) == (status, body), reply.text
    # A refused write changes nothing: not the patient (version, care team), not its gauges.
    assert after == before
    assert gauges_after == gauges_before


# ---- creating and listing ----


@pytest.mark.parametrize("caller", CALLERS)
def test_create_cell(world: World, caller: str) -> None:
    reply = world.client.post(
        "/v1/patients",
        {"patient": {"first_name": "Created", "last_name": f"Zz {caller}", "date_of_birth": "2001-02-03"}},
        token=world.tokens[caller],
    )
    if caller in UNAUTHENTICATED:
        assert (reply.status, reply.body) == (401, UNAUTHORIZED)
        return
    if caller in PATIENT_CALLERS:
        assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN)
        return
    assert reply.status == 201, reply.text
    assert (reply.body["first_name"], reply.body["last_name"]) == ("Created", f"Zz {caller}")
    assert reply.header("Location") == f"/v1/patients/{reply.body['id']}"
    world.created.append((caller, reply.body["id"]))
    # The creator may open what they created.
    assert world.client.get(reply.header("Location") or "", token=world.tokens[caller]).status == 200


def visible(world: World, caller: str, status: str = "active") -> set[int]:
    """The ids the caller may open with that status: fixed patients, and those the create cells made."""
    labels = {
        "active": VISIBLE[caller],
        "inactive": VISIBLE_INACTIVE.get(caller, set()),
        "all": VISIBLE[caller] | VISIBLE_INACTIVE.get(caller, set()),
    }[status]
    ids = {world.ids[label] for label in labels}
    if status != "inactive":
        ids |= {pid for creator, pid in world.created if caller in CREATED_VISIBLE_TO[creator]}
    return ids


def walk(world: World, caller: str, **query: Any) -> list[int]:
    ids: list[int] = []
    reply = world.client.get("/v1/patients", query=query, token=world.tokens[caller])
    while True:
        assert reply.status == 200, reply.text
        ids += [p["id"] for p in reply.body["patients"]]
        cursor = reply.body["meta"]["next_cursor"]
        if cursor is None:
            return ids
        reply = world.client.get("/v1/patients", query={**query, "cursor": cursor}, token=world.tokens[caller])


@pytest.mark.parametrize("caller", CALLERS)
def test_list_cell(world: World, caller: str) -> None:
    reply = world.client.get("/v1/patients", query={"page_size": 100}, token=world.tokens[caller])
    if caller in UNAUTHENTICATED:
        assert (reply.status, reply.body) == (401, UNAUTHORIZED)
        return
    if caller in PATIENT_CALLERS:
        assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN)
        return
    assert reply.status == 200, reply.text
    ids = [p["id"] for p in reply.body["patients"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == visible(world, caller)
    # Every listed patient opens, and every patient the caller may open is listed.
    for pid in ids:
        assert world.client.get(f"/v1/patients/{pid}", token=world.tokens[caller]).status == 200
    assert reply.body["meta"] == {"page": 1, "page_size": 100, "has_more": False, "next_cursor": None}


SEARCH_SM = {  # search "sm" with status=all: the fixed patients' last names all start with "sm"
    "admin": {"own", "off", "sups", "admins", "inactive"},
    "supervisor_of_provider": {"own", "inactive"},
    "supervisor_unrelated": {"off", "sups"},
    "provider_on_team": {"own", "inactive"},
    "provider_off_team": {"off"},
    "other_clinic": {"other"},
}


@pytest.mark.parametrize("caller", STAFF)
def test_search_and_cursor_pages_stay_within_access(world: World, caller: str) -> None:
    expected = {world.ids[label] for label in SEARCH_SM[caller]}
    for status, page_size in (("all", 1), ("active", 100), ("inactive", 100)):
        walked = walk(world, caller, search="sm", status=status, page_size=page_size)
        assert len(walked) == len(set(walked))
        wanted = {
            "all": expected,
            "active": expected - {world.ids["inactive"]},
            "inactive": expected & {world.ids["inactive"]},
        }[status]
        assert set(walked) == wanted, status
    for search in ("sam", "smith", "sal", "sid", "sky", "stan"):
        found = {
            p["id"]
            for p in world.client.get(
                "/v1/patients", query={"search": search, "status": "all"}, token=world.tokens[caller]
            ).body["patients"]
        }
        assert found <= expected, search
    everything = walk(world, caller, status="all", page_size=2)
    assert len(everything) == len(set(everything))
    assert set(everything) == visible(world, caller, "all")


def _cursor(anchor: int, like: str) -> str:
    data = json.loads(base64.urlsafe_b64decode(like + "=" * (-len(like) % 4)))
    data["a"] = anchor
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_cursors_cannot_reach_outside_the_callers_access(world: World) -> None:
    invalid = (422, {"errors": {"cursor": ["is invalid"]}})
    query = {"search": "sm", "page_size": 1}
    # The admin's first page ends at "Sid Small", whom neither provider may open.
    admins_cursor = world.client.get("/v1/patients", query=query, token=world.tokens["admin"]).body["meta"][
        "next_cursor"
    ]
    for caller in (
        "provider_on_team",
        "provider_off_team",
        "supervisor_of_provider",
        "supervisor_unrelated",
        "other_clinic",
    ):
        reply = world.client.get("/v1/patients", query={**query, "cursor": admins_cursor}, token=world.tokens[caller])
        assert (reply.status, reply.body) == invalid, caller
    # A cursor forged to start after a patient the caller may not open is refused the same way.
    own_cursor = walk_first_cursor(world, "provider_on_team")
    for label in ("off", "sups", "admins", "other"):
        forged = _cursor(world.ids[label], own_cursor)
        reply = world.client.get(
            "/v1/patients",
            query={"status": "all", "page_size": 1, "cursor": forged},
            token=world.tokens["provider_on_team"],
        )
        assert (reply.status, reply.body) == invalid, label
    # A deep page number only ever pages through the caller's own patients.
    for page in (1, 2, 3, 50):
        reply = world.client.get(
            "/v1/patients",
            query={"page": page, "page_size": 1, "status": "all"},
            token=world.tokens["provider_off_team"],
        )
        assert reply.status == 200
        assert {p["id"] for p in reply.body["patients"]} <= visible(world, "provider_off_team", "all")


def walk_first_cursor(world: World, caller: str) -> str:
    reply = world.client.get("/v1/patients", query={"status": "all", "page_size": 1}, token=world.tokens[caller])
    cursor = reply.body["meta"]["next_cursor"]
    assert cursor, reply.text
    return cursor


# ---- who am I, and the one public route of issue 13 ----


@pytest.mark.parametrize("caller", CALLERS)
def test_me_cell(world: World, caller: str) -> None:
    reply = world.client.get("/v1/me", token=world.tokens[caller])
    if caller in UNAUTHENTICATED:
        assert (reply.status, reply.body) == (401, UNAUTHORIZED)
        return
    who = world.users[caller]
    bound = {"patient_self": "own", "patient_same_clinic": "off", "patient_other_clinic": "elsewhere"}.get(caller)
    expected = {
        "id": who.id,
        "name": None if bound else who.name,
        "role": who.role,
        "clinic_id": who.clinic_id,
        "patient_id": world.ids[bound] if bound else None,
    }
    assert (reply.status, reply.body) == (200, {"user": expected})


@pytest.mark.parametrize("caller", CALLERS)
def test_redeem_cell(world: World, caller: str) -> None:
    """The route needs no token, and no token changes its answer: only the code counts."""
    reply = world.client.post("/v1/invitations/redeem", {"code": secrets.token_urlsafe(32)}, token=world.tokens[caller])
    assert (reply.status, reply.body) == (404, {"errors": "Invitation not found"})


# ---- token lifecycle over HTTP ----


def test_every_token_of_a_revoked_user_fails(world: World) -> None:
    for name in ("revoked_token", "revoked_second_token"):
        reply = world.client.get("/v1/patients", token=world.tokens[name])
        assert (reply.status, reply.body) == (401, UNAUTHORIZED)


def test_revocation_and_deactivation_apply_at_the_next_call(world: World) -> None:
    someone = user(world.users["admin"].clinic_id, "admin", "Next Call")
    another = accounts.issue_token(someone.id)["token"]
    for token in (someone.token, another):
        assert world.client.get("/v1/patients", token=token).status == 200
    accounts.set_active(someone.id, False)
    for token in (someone.token, another):
        assert (world.client.get("/v1/patients", token=token).body, token) == (UNAUTHORIZED, token)
    accounts.set_active(someone.id, True)  # brings back no token: issue new ones
    fresh, newer = (accounts.issue_token(someone.id)["token"] for _ in range(2))
    assert world.client.get("/v1/patients", token=fresh).status == 200
    accounts.revoke_tokens(someone.id)
    for token in (someone.token, another, fresh, newer):
        reply = world.client.get(f"/v1/patients/{world.ids['own']}", token=token)
        assert (reply.status, reply.body) == (401, UNAUTHORIZED)
    fresh = accounts.issue_token(someone.id)["token"]
    assert world.client.get(f"/v1/patients/{world.ids['own']}", token=fresh).status == 200


@pytest.mark.parametrize(
    "header",
    [
        "",
        "short",
        "x" * 31,
        "x" * 600,
        "Bearer " + "x" * 43,
    ],
)
def test_malformed_tokens_are_401(world: World, header: str) -> None:
    headers = {"X-User-Token": header}
    reply = world.client.get(f"/v1/patients/{world.ids['own']}", headers=headers)
    assert (reply.status, reply.body) == (401, UNAUTHORIZED)


# ---- alerts (issue 15): every alert route × every caller ----
# Clinic A has a rule on a gauge type of its own; a gauge of that type opened an alert on "own" (and clinic B's
# on "other"), and was deleted again, so the cells above never see it. Acknowledging is idempotent, so its OK
# cells may run in any order; resolve cells send an empty body, so passing the access check shows as the
# contract's 422 (validation runs only after access) and nothing is resolved.

ALERT_NF = (404, {"errors": "Alert not found"})
RULE_NF = (404, {"errors": "Alert rule not found"})
MATRIX_GAUGE = "matrix_check"
ALERT_ENDPOINTS = ("list_patient_alerts", "acknowledge_alert", "resolve_alert")
# Patient users never see alerts: on their own record (and on the routes that name no patient) that is 403
# action; another patient's id is 404 Patient not found, before anything is read.
#                                      admin  sup_of  sup_un     on    off       other_clinic  self  same  other
ALERTS_OWN: dict[str, dict[str, Any]] = {
    "list_patient_alerts": dict(zip(AUTHENTICATED, (OK, OK, PF, OK, PF, NF, AF, NF, NF), strict=True)),
    "acknowledge_alert": dict(zip(AUTHENTICATED, (OK, OK, ALERT_NF, OK, ALERT_NF, ALERT_NF, AF, AF, AF), strict=True)),
    "resolve_alert": dict(zip(AUTHENTICATED, (OK, OK, ALERT_NF, OK, ALERT_NF, ALERT_NF, AF, AF, AF), strict=True)),
}
ALERTS_OTHER: dict[str, dict[str, Any]] = {
    "list_patient_alerts": {**dict.fromkeys(AUTHENTICATED, NF), "other_clinic": OK},
    "acknowledge_alert": {**dict.fromkeys(STAFF, ALERT_NF), **dict.fromkeys(PATIENT_CALLERS, AF), "other_clinic": OK},
    "resolve_alert": {**dict.fromkeys(STAFF, ALERT_NF), **dict.fromkeys(PATIENT_CALLERS, AF), "other_clinic": OK},
}
ALERTS_MISSING: dict[str, dict[str, Any]] = {
    "list_patient_alerts": dict.fromkeys(AUTHENTICATED, NF),
    "acknowledge_alert": {**dict.fromkeys(STAFF, ALERT_NF), **dict.fromkeys(PATIENT_CALLERS, AF)},
    "resolve_alert": {**dict.fromkeys(STAFF, ALERT_NF), **dict.fromkeys(PATIENT_CALLERS, AF)},
}
ALERTS_EXPECTED = {"own": ALERTS_OWN, "other": ALERTS_OTHER, "missing": ALERTS_MISSING}
# The inbox (GET /v1/alerts): whose alerts each caller sees (None: 403 action).
INBOX: dict[str, list[str] | None] = {
    "admin": ["own"],
    "supervisor_of_provider": ["own"],
    "supervisor_unrelated": [],
    "provider_on_team": ["own"],
    "provider_off_team": [],
    "other_clinic": ["other"],
    **dict.fromkeys(PATIENT_CALLERS, None),
}
RULE_ROUTES = ("list_alert_rules", "create_alert_rule", "delete_alert_rule")
#                         admin                         sup_of sup_un on  off  other_clinic  patients
RULES_EXPECTED: dict[str, dict[str, Any]] = {
    "list_alert_rules": {**dict.fromkeys(STAFF, OK), **dict.fromkeys(PATIENT_CALLERS, AF)},
    "create_alert_rule": dict(zip(AUTHENTICATED, (OK, AF, AF, AF, AF, OK, AF, AF, AF), strict=True)),
    "delete_alert_rule": dict(zip(AUTHENTICATED, (RULE_NF, AF, AF, AF, AF, RULE_NF, AF, AF, AF), strict=True)),
}


@dataclass
class AlertWorld:
    alerts: dict[str, dict[str, Any]]  # patient label -> its alert, presented
    rules: dict[str, dict[str, Any]]  # clinic label ("own", "other") -> its rule, presented


@pytest.fixture(scope="module")
def alert_world(world: World) -> AlertWorld:
    from clinic import alert_rules, alerts
    from clinic.models.alert_rules import NewAlertRule
    from clinic.store import alerts as alert_store

    found: dict[str, dict[str, Any]] = {}
    rules: dict[str, dict[str, Any]] = {}
    for label, admin in (("own", "admin"), ("other", "other_clinic")):
        rule = alert_rules.create(
            world.users[admin].caller,
            NewAlertRule(gauge_type=MATRIX_GAUGE, operator=">=", threshold=5, consecutive_days=1, priority="high"),
        )
        rules[label] = alert_rules.present(rule)
        stored = store.get_patient(world.ids[label]) or {}
        trigger = NewGauge(gauge_type=MATRIX_GAUGE, value=9, scale_min=0, scale_max=10)
        gauge = gauges.record(world.users[admin].caller, stored, [trigger])[0]
        gauges.delete(stored, str(gauge["id"]))  # the alert stays; the gauge cells see only their own gauges
        (slot,) = alert_store.open_slots(world.ids[label]).values()
        found[label] = alerts.present(alert_store.get_alert(int(slot["alert_id"])) or {})
    return AlertWorld(found, rules)


def alert_cells() -> list[Any]:
    out = []
    for endpoint in ALERT_ENDPOINTS:
        for caller in CALLERS:
            for target in TARGETS:
                expected = (
                    (401, UNAUTHORIZED) if caller in UNAUTHENTICATED else ALERTS_EXPECTED[target][endpoint][caller]
                )
                out.append(pytest.param(endpoint, caller, target, expected, id=f"{endpoint}-{caller}-{target}"))
    return out


@pytest.mark.parametrize(("endpoint", "caller", "target", "expected"), alert_cells())
def test_alert_cell(
    world: World, alert_world: AlertWorld, endpoint: str, caller: str, target: str, expected: Any
) -> None:
    token = world.tokens[caller]
    alert = alert_world.alerts.get(target)
    alert_id = alert["id"] if alert else MISSING_ID
    if endpoint == "list_patient_alerts":
        reply = world.client.get(f"/v1/patients/{world.patient_id(target)}/alerts", token=token)
    elif endpoint == "acknowledge_alert":
        reply = world.client.post(f"/v1/alerts/{alert_id}/acknowledge", token=token)
    else:
        reply = world.client.post(f"/v1/alerts/{alert_id}/resolve", {}, token=token)
    if expected != OK:
        assert (reply.status, reply.body) == expected, reply.text
        return
    assert alert is not None
    if endpoint == "list_patient_alerts":
        assert reply.status == 200, reply.text
        assert [a["id"] for a in reply.body["alerts"]] == [alert["id"]]
        assert reply.body["meta"] == {"page_size": 25, "has_more": False, "next_cursor": None}
    elif endpoint == "acknowledge_alert":
        assert reply.status == 200, reply.text
        assert (reply.body["id"], reply.body["status"]) == (alert["id"], "acknowledged")
    else:
        assert (reply.status, reply.body) == (422, {"errors": {"resolution_note": ["can't be blank"]}})


@pytest.mark.parametrize("caller", CALLERS)
def test_alert_inbox_cell(world: World, alert_world: AlertWorld, caller: str) -> None:
    reply = world.client.get("/v1/alerts", token=world.tokens[caller], query={"status": "all"})
    if caller in UNAUTHENTICATED:
        assert (reply.status, reply.body) == (401, UNAUTHORIZED)
        return
    labels = INBOX[caller]
    if labels is None:
        assert (reply.status, reply.body) == AF, reply.text
        return
    assert reply.status == 200, reply.text
    assert [a["id"] for a in reply.body["alerts"]] == [alert_world.alerts[label]["id"] for label in labels]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", RULE_ROUTES)
def test_alert_rule_cell(world: World, alert_world: AlertWorld, endpoint: str, caller: str) -> None:
    token = world.tokens[caller]
    invalid = {
        "alert_rule": {
            "gauge_type": MATRIX_GAUGE,
            "operator": "=",
            "threshold": 1,
            "consecutive_days": 1,
            "priority": "high",
        }
    }
    if endpoint == "list_alert_rules":
        reply = world.client.get("/v1/alert_rules", token=token)
    elif endpoint == "create_alert_rule":
        reply = world.client.post("/v1/alert_rules", invalid, token=token)  # a valid one would change the world
    else:
        reply = world.client.delete(f"/v1/alert_rules/{MISSING_ID}", token=token)
    if caller in UNAUTHENTICATED:
        assert (reply.status, reply.body) == (401, UNAUTHORIZED)
        return
    expected = RULES_EXPECTED[endpoint][caller]
    if expected != OK:
        assert (reply.status, reply.body) == expected, reply.text
    elif endpoint == "list_alert_rules":
        clinic = "other" if caller == "other_clinic" else "own"
        assert (reply.status, reply.body) == (200, {"alert_rules": [alert_world.rules[clinic]]})
    else:
        assert reply.status == 422, reply.text
        assert reply.body == {"errors": {"alert_rule.operator": ["is not included in the list"]}}
    # Another clinic's rule is not found, not forbidden, for its admin's peer.
    if endpoint == "delete_alert_rule" and caller == "other_clinic":
        own_rule = alert_world.rules["own"]["id"]
        assert world.client.delete(f"/v1/alert_rules/{own_rule}", token=token).body == RULE_NF[1]
