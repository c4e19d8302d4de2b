"""Care teams and supervision through the real handlers: who joins, who may add and remove whom, and how a
change of the team changes what each user may open and list at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from clinic import accounts, care_teams, retries
from clinic.store import keys, table
from support import (
    ACTION_FORBIDDEN,
    NOT_FOUND,
    PATIENT_FORBIDDEN,
    Client,
    User,
    clinic,
    dynamodb_calls,
    gateway,
    moto_tables,
    patient,
    user,
)

from patients_admin import cli as admin_cli

UNAVAILABLE = {"errors": "The service is temporarily unavailable, please retry"}


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with moto_tables():
        yield Client(gateway())


@dataclass
class Clinic:
    admin: User
    supervisor: User
    other_supervisor: User
    provider: User  # supervised by `supervisor`
    lone_provider: User  # supervised by nobody
    stranger: User  # a provider of another clinic


@pytest.fixture
def c(client: Client) -> Clinic:
    cid = clinic()
    supervisor = user(cid, "supervisor", "Sam Supervisor")
    return Clinic(
        admin=user(cid, "admin", "Ada Admin"),
        supervisor=supervisor,
        other_supervisor=user(cid, "supervisor", "Una Supervisor"),
        provider=user(cid, "provider", "Pia Provider", supervisor=supervisor),
        lone_provider=user(cid, "provider", "Lou Provider"),
        stranger=user(clinic(), "provider", "Stan Stranger"),
    )


def entry(member: User) -> dict[str, Any]:
    return {"user_id": member.id, "name": member.name, "role": member.role}


def team(*members: User) -> dict[str, Any]:
    return {"care_team": [entry(m) for m in sorted(members, key=lambda m: m.id)]}


def opens(client: Client, who: User, pid: int) -> int:
    return client.get(f"/v1/patients/{pid}", token=who.token).status


def listed(client: Client, who: User) -> list[int]:
    reply = client.get("/v1/patients", query={"status": "all"}, token=who.token)
    assert reply.status == 200, reply.text
    return [p["id"] for p in reply.body["patients"]]


def add(client: Client, by: User, pid: int, member_id: Any) -> Any:
    return client.post(f"/v1/patients/{pid}/care_team", {"user_id": member_id}, token=by.token)


def remove(client: Client, by: User, pid: int, member_id: Any) -> Any:
    return client.delete(f"/v1/patients/{pid}/care_team/{member_id}", token=by.token)


# ---- who joins on creation ----


@pytest.mark.parametrize("role", ["provider", "supervisor", "admin"])
def test_the_creator_joins_the_care_team_unless_an_admin(client: Client, c: Clinic, role: str) -> None:
    creator = {"provider": c.provider, "supervisor": c.supervisor, "admin": c.admin}[role]
    reply = client.post(
        "/v1/patients",
        {"patient": {"first_name": "New", "last_name": "Patient", "date_of_birth": "2000-01-01"}},
        token=creator.token,
    )
    pid = reply.body["id"]
    expected = team() if role == "admin" else team(creator)
    assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == expected
    assert listed(client, creator) == [pid]


def test_a_creation_reads_the_creators_user_record_only_for_a_provider(client: Client, c: Clinic) -> None:
    """A provider's supervisor goes on the team with them (read from the provider's user record); a supervisor
    has none and an admin does not join, so their creation reads no user record: one GetItem fewer per patient."""
    with dynamodb_calls() as calls:
        for creator, reads in ((c.supervisor, 0), (c.admin, 0), (c.provider, 1), (c.lone_provider, 1)):
            calls.clear()
            patient(creator)
            assert calls.count("GetItem") == reads, (creator.role, calls)


# ---- adding ----


def test_admin_adds_providers_and_supervisors(client: Client, c: Clinic) -> None:
    pid = patient(c.admin)["id"]
    assert opens(client, c.lone_provider, pid) == 403
    reply = add(client, c.admin, pid, c.lone_provider.id)
    assert (reply.status, reply.body) == (201, team(c.lone_provider))
    assert opens(client, c.lone_provider, pid) == 200
    assert listed(client, c.lone_provider) == [pid]
    reply = add(client, c.admin, pid, c.other_supervisor.id)
    assert (reply.status, reply.body) == (201, team(c.lone_provider, c.other_supervisor))
    # Adding a member twice changes nothing.
    reply = add(client, c.admin, pid, c.lone_provider.id)
    assert (reply.status, reply.body) == (201, team(c.lone_provider, c.other_supervisor))


def test_supervisor_adds_a_supervised_provider_and_then_sees_the_patient(client: Client, c: Clinic) -> None:
    pid = patient(c.admin)["id"]
    assert opens(client, c.supervisor, pid) == 403
    reply = add(client, c.supervisor, pid, c.provider.id)
    assert (reply.status, reply.body) == (201, team(c.provider))
    # Through the provider they supervise, the supervisor now reaches the patient too.
    assert opens(client, c.provider, pid) == opens(client, c.supervisor, pid) == 200
    assert listed(client, c.supervisor) == listed(client, c.provider) == [pid]
    assert opens(client, c.other_supervisor, pid) == 403
    assert listed(client, c.other_supervisor) == []


def test_supervisor_may_add_themselves(client: Client, c: Clinic) -> None:
    # API.md: POST care_team is "allowed for admins, and for supervisors adding themselves or a provider they
    # supervise" -- with no relationship to the patient required beforehand.
    pid = patient(c.admin)["id"]
    reply = add(client, c.other_supervisor, pid, c.other_supervisor.id)
    assert (reply.status, reply.body) == (201, team(c.other_supervisor))
    assert opens(client, c.other_supervisor, pid) == 200


@pytest.mark.parametrize("member", ["lone_provider", "provider_of_another", "other_supervisor"])
def test_supervisor_may_not_add_others(client: Client, c: Clinic, member: str) -> None:
    pid = patient(c.supervisor)["id"]
    other_sups_provider = user(c.admin.clinic_id, "provider", "Theirs", supervisor=c.other_supervisor)
    target = {
        "lone_provider": c.lone_provider,
        "provider_of_another": other_sups_provider,
        "other_supervisor": c.other_supervisor,
    }[member]
    reply = add(client, c.supervisor, pid, target.id)
    assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN)
    assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == team(c.supervisor)
    assert opens(client, target, pid) == 403


@pytest.mark.parametrize("who", ["provider", "lone_provider"])
def test_providers_may_not_manage_care_teams(client: Client, c: Clinic, who: str) -> None:
    provider = getattr(c, who)
    pid = patient(provider)["id"]
    for member in (provider, c.lone_provider, c.provider, c.supervisor):
        reply = add(client, provider, pid, member.id)
        assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN)
    reply = remove(client, provider, pid, provider.id)
    assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN)
    # ...but may read the team of their patient.
    assert client.get(f"/v1/patients/{pid}/care_team", token=provider.token).body == team(provider)


def test_only_providers_and_supervisors_of_the_clinic_can_join(client: Client, c: Clinic) -> None:
    pid = patient(c.admin)["id"]
    invalid = {"errors": {"user_id": ["must be a provider or supervisor of this clinic"]}}
    for member_id in (c.admin.id, c.stranger.id, 10**9):
        reply = add(client, c.admin, pid, member_id)
        assert (reply.status, reply.body) == (422, invalid), member_id
    assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == team()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (..., {"user_id": ["can't be blank"]}),
        ({}, {"user_id": ["can't be blank"]}),
        ({"user_id": None}, {"user_id": ["can't be blank"]}),
        ({"user_id": "7"}, {"user_id": ["must be a number"]}),
        ({"user_id": 1.5}, {"user_id": ["must be a number"]}),
        ({"user_id": True}, {"user_id": ["must be a number"]}),
        ({"user_id": 0}, {"user_id": ["must be greater than or equal to 1"]}),
        ({"user_id": 3, "role": "admin"}, {"role": ["is not permitted"]}),
    ],
    ids=lambda v: json.dumps(v) if v is not ... else "no-body",
)
def test_add_validation(client: Client, c: Clinic, body: Any, errors: dict[str, Any]) -> None:
    pid = patient(c.admin)["id"]
    reply = client.post(f"/v1/patients/{pid}/care_team", body, token=c.admin.token)
    assert (reply.status, reply.body) == (422, {"errors": errors})


def test_access_is_checked_before_validation(client: Client, c: Clinic) -> None:
    pid = patient(c.provider)["id"]
    reply = client.post(f"/v1/patients/{pid}/care_team", {"user_id": "x"}, token=c.lone_provider.token)
    assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN)
    reply = client.post(f"/v1/patients/{pid}/care_team", {"user_id": "x"}, token=c.stranger.token)
    assert (reply.status, reply.body) == (404, NOT_FOUND)


# ---- removing ----


def test_removing_a_provider_revokes_their_and_their_supervisors_access(client: Client, c: Clinic) -> None:
    pid = patient(c.provider)["id"]
    assert opens(client, c.provider, pid) == opens(client, c.supervisor, pid) == 200
    reply = remove(client, c.admin, pid, c.provider.id)
    assert (reply.status, reply.text) == (204, "")
    for who in (c.provider, c.supervisor):
        reply = client.get(f"/v1/patients/{pid}", token=who.token)
        assert (reply.status, reply.body) == (403, PATIENT_FORBIDDEN)
        assert listed(client, who) == []
    assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == team()


def test_supervisor_removes_themselves_and_their_providers_only(client: Client, c: Clinic) -> None:
    pid = patient(c.admin)["id"]
    for member in (c.provider, c.lone_provider, c.supervisor, c.other_supervisor):
        assert add(client, c.admin, pid, member.id).status == 201
    for member in (c.lone_provider, c.other_supervisor):
        reply = remove(client, c.supervisor, pid, member.id)
        assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN)
    assert remove(client, c.supervisor, pid, c.provider.id).status == 204
    assert remove(client, c.supervisor, pid, c.supervisor.id).status == 204
    assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == team(
        c.lone_provider, c.other_supervisor
    )


def test_a_member_whose_user_record_is_gone_can_be_removed_by_an_admin_only(client: Client, c: Clinic) -> None:
    """The API deletes no user, but an item removed from the table by hand (an erasure, a partial restore)
    leaves its id on care teams. The team no longer shows it; an admin can still take it off, while a
    supervisor cannot (nothing says whom the member reported to) and a provider manages no team."""
    pid = patient(c.provider)["id"]
    for member in (c.supervisor, c.lone_provider):
        assert add(client, c.admin, pid, member.id).status == 201
    table.call("delete_item", TableName=table.name(), Key=table.encode_key(keys.user(c.provider.id)))
    shown = team(c.supervisor, c.lone_provider)
    assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == shown
    etag = client.get(f"/v1/patients/{pid}", token=c.admin.token).header("ETag")

    for who in (c.supervisor, c.lone_provider):
        reply = remove(client, who, pid, c.provider.id)
        assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN)
    assert client.get(f"/v1/patients/{pid}", token=c.admin.token).header("ETag") == etag

    reply = remove(client, c.admin, pid, c.provider.id)
    assert (reply.status, reply.text) == (204, "")
    assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == shown
    assert client.get(f"/v1/patients/{pid}", token=c.admin.token).header("ETag") != etag
    again = remove(client, c.admin, pid, c.provider.id)
    assert (again.status, again.body) == (404, {"errors": "Care team member not found"})


@pytest.mark.parametrize("member", ["not-a-member", "x", "0", "-1", "1.0"])
def test_removing_someone_not_on_the_team_is_404(client: Client, c: Clinic, member: str) -> None:
    pid = patient(c.provider)["id"]
    member_id = str(c.lone_provider.id) if member == "not-a-member" else member
    reply = remove(client, c.admin, pid, member_id)
    assert (reply.status, reply.body) == (404, {"errors": "Care team member not found"})
    assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == team(c.provider)


def test_removal_for_a_missing_or_foreign_patient_is_404(client: Client, c: Clinic) -> None:
    theirs = patient(c.stranger)["id"]
    for pid in (theirs, 10**9, "abc"):
        reply = remove(client, c.admin, pid, c.stranger.id)
        assert (reply.status, reply.body) == (404, NOT_FOUND)
    assert listed(client, c.stranger) == [theirs]


def test_an_addition_reads_the_users_once(client: Client, c: Clinic) -> None:
    """The new member and the names the answer shows come from one BatchGetItem, however many are on the team."""
    pid = patient(c.provider)["id"]
    assert add(client, c.admin, pid, c.supervisor.id).status == 201
    with dynamodb_calls() as calls:
        for member in (c.lone_provider, c.lone_provider):  # joining, then already on the team
            calls.clear()
            reply = add(client, c.admin, pid, member.id)
            assert (reply.status, reply.body) == (201, team(c.provider, c.supervisor, c.lone_provider))
            assert calls.count("BatchGetItem") == 1, calls


def test_a_care_team_holds_at_most_20_members(client: Client, c: Clinic) -> None:
    pid = patient(c.admin)["id"]
    members = [user(c.admin.clinic_id, "provider", f"Member {n:02d}") for n in range(21)]
    replies = [add(client, c.admin, pid, m.id) for m in members]
    assert [r.status for r in replies[:20]] == [201] * 20
    assert replies[19].body == team(*members[:20])
    assert (replies[20].status, replies[20].body) == (
        422,
        {"errors": {"user_id": ["cannot join a full care team (maximum is 20 members)"]}},
    )
    assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == team(*members[:20])
    assert opens(client, members[20], pid) == 403
    # A member already on a full team may be added again (nothing changes); a removal makes room.
    assert add(client, c.admin, pid, members[0].id).status == 201
    assert client.delete(f"/v1/patients/{pid}/care_team/{members[0].id}", token=c.admin.token).status == 204
    assert add(client, c.admin, pid, members[20].id).status == 201


@pytest.mark.parametrize(("by", "member"), [("admin", "lone_provider"), ("other_supervisor", "other_supervisor")])
def test_a_care_team_change_from_a_stale_read_is_applied_to_the_current_patient(
    client: Client, c: Clinic, by: str, member: str
) -> None:
    """A rename lands between a care-team change's read of the patient and its write: the write must not
    derive the new member's list entry from the stale read (it is conditioned on the version read, and
    retried, by the same caller), so the member finds the patient by its new name."""
    caller, joining = getattr(c, by), getattr(c, member)
    read = patient(c.admin, "Olga", "Oldname")
    pid = read["id"]
    renamed = client.put(f"/v1/patients/{pid}", {"patient": {"last_name": "Newname"}}, token=c.admin.token)
    assert renamed.status == 200
    care_teams.add(caller.caller, read, joining.id)

    def search(term: str) -> list[tuple[int, str]]:
        reply = client.get("/v1/patients", query={"search": term}, token=joining.token)
        assert reply.status == 200, reply.text
        return [(p["id"], p["last_name"]) for p in reply.body["patients"]]

    assert search("newname") == [(pid, "Newname")]
    assert search("oldname") == []
    current = client.get(f"/v1/patients/{pid}", token=c.admin.token)
    assert (current.body["last_name"], current.header("ETag")) == ("Newname", '"v3"')
    assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == team(joining)


@pytest.mark.parametrize("jitter", [0.0, 1.0])
@pytest.mark.parametrize("losses", [2, 100])
def test_a_care_team_change_that_keeps_losing_the_race_backs_off_and_then_is_503(
    client: Client, c: Clinic, monkeypatch: pytest.MonkeyPatch, jitter: float, losses: int
) -> None:
    """Each lost race waits a random time in [0, 20 ms * 2**try] (full jitter, doubling) before reading the
    patient again; after 8 tries the answer is 503 with Retry-After at once (no wait after the last try), having
    waited at most 20 ms * (2**7 - 1) = 2.54 s between tries, well within the function's 10 s timeout. The jitter
    is pinned to its ends here."""
    pid = patient(c.admin)["id"]
    write = care_teams.store.set_care_team_member
    tries: list[int] = []

    def contended(*args: Any, **kwargs: Any) -> Any:
        tries.append(len(tries))
        if len(tries) <= losses:
            raise care_teams.store.ConditionFailed
        return write(*args, **kwargs)

    slept: list[float] = []
    monkeypatch.setattr(care_teams.store, "set_care_team_member", contended)
    monkeypatch.setattr(retries.time, "sleep", slept.append)
    monkeypatch.setattr(retries.random, "uniform", lambda low, high: low + (high - low) * jitter)
    reply = add(client, c.admin, pid, c.provider.id)
    between = [0.02 * 2**attempt * jitter for attempt in range(min(losses, 7))]
    assert slept == pytest.approx(between)
    if losses < 8:
        assert (reply.status, reply.body, len(tries)) == (201, team(c.provider), losses + 1)
    else:
        assert (reply.status, reply.body, len(tries)) == (503, UNAVAILABLE, 8)
        assert reply.header("Retry-After") == "1"
        monkeypatch.undo()
        assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == team()


def test_a_removal_from_a_stale_read_is_applied_to_the_current_patient(client: Client, c: Clinic) -> None:
    read = patient(c.lone_provider, "Rita", "Oldname")
    pid = read["id"]
    add(client, c.admin, pid, c.provider.id)  # the read above no longer has the current version
    care_teams.remove(c.admin.caller, read, str(c.lone_provider.id))
    assert client.get(f"/v1/patients/{pid}/care_team", token=c.admin.token).body == team(c.provider)
    assert opens(client, c.lone_provider, pid) == 403
    assert client.get(f"/v1/patients/{pid}", token=c.admin.token).header("ETag") == '"v3"'


# ---- lists follow the team ----


def test_member_lists_follow_renames_and_status(client: Client, c: Clinic) -> None:
    pid = patient(c.provider, "Alice", "Walker")["id"]
    client.put(f"/v1/patients/{pid}", {"patient": {"last_name": "Brown", "active": False}}, token=c.admin.token)
    for who in (c.provider, c.supervisor):
        assert client.get("/v1/patients", token=who.token).body["patients"] == []
        inactive = client.get("/v1/patients", query={"status": "inactive", "search": "bro"}, token=who.token)
        assert [(p["id"], p["last_name"]) for p in inactive.body["patients"]] == [(pid, "Brown")]
        old_name = client.get("/v1/patients", query={"status": "all", "search": "walker"}, token=who.token)
        assert old_name.body["patients"] == []


def test_an_email_search_finds_only_the_patients_the_caller_may_open(client: Client, c: Clinic) -> None:
    mine = patient(c.provider, "Mia", "Mine", email="shared.family@example.com")["id"]
    other = patient(c.lone_provider, "Otto", "Other", email="shared.family@example.com")["id"]

    def found(who: User, status: str = "active") -> list[int]:
        query = {"search": "Shared.Family@example.com", "status": status}
        reply = client.get("/v1/patients", query=query, token=who.token)
        assert reply.status == 200, reply.text
        return [p["id"] for p in reply.body["patients"]]

    assert (found(c.provider), found(c.lone_provider), found(c.other_supervisor)) == ([mine], [other], [])
    assert sorted(found(c.admin)) == sorted([mine, other])
    client.put(f"/v1/patients/{mine}", {"patient": {"active": False}}, token=c.admin.token)
    assert (found(c.provider), found(c.provider, "inactive"), found(c.provider, "all")) == ([], [mine], [mine])


def test_a_member_s_alert_inbox_follows_the_care_team(client: Client, c: Clinic) -> None:
    """Joining gives the member's inbox the patient's open alerts at once; leaving takes them away (and their
    supervisor's, who sees through them)."""
    rule = {"gauge_type": "pain", "operator": ">=", "threshold": 5, "consecutive_days": 1, "priority": "high"}
    assert client.post("/v1/alert_rules", {"alert_rule": rule}, token=c.admin.token).status == 201
    pid = patient(c.admin)["id"]  # an admin's patient: nobody on its team
    gauge = {"gauge": {"gauge_type": "pain", "value": 7}}
    assert client.post(f"/v1/patients/{pid}/gauges", gauge, token=c.admin.token).status == 201
    (alert,) = client.get(f"/v1/patients/{pid}/alerts", token=c.admin.token).body["alerts"]

    def inbox(who: User) -> list[dict[str, Any]]:
        reply = client.get("/v1/alerts", token=who.token)
        assert reply.status == 200, reply.text
        return reply.body["alerts"]

    assert inbox(c.provider) == inbox(c.supervisor) == []
    assert add(client, c.admin, pid, c.provider.id).status == 201
    assert inbox(c.provider) == inbox(c.supervisor) == [alert]
    assert inbox(c.lone_provider) == []
    assert remove(client, c.admin, pid, c.provider.id).status == 204
    assert inbox(c.provider) == inbox(c.supervisor) == []


def test_a_patient_on_several_teams_is_listed_once(client: Client, c: Clinic) -> None:
    pid = patient(c.provider)["id"]
    add(client, c.admin, pid, c.supervisor.id)
    # The supervisor reaches it twice (own team and their provider's): once in the list.
    assert listed(client, c.supervisor) == [pid]


# ---- patients-admin care-team ----


def test_cli_care_team_add_and_remove(capsys: pytest.CaptureFixture[str], client: Client, c: Clinic) -> None:
    def cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()  # not what the API's functions logged meanwhile
        code = admin_cli.main(list(args))
        printed = capsys.readouterr()
        return code, printed.out, printed.err

    pid = patient(c.admin)["id"]
    code, out, _ = cli("care-team", "add", "--patient", str(pid), "--user", str(c.lone_provider.id))
    assert (code, json.loads(out)) == (0, {"patient_id": pid, **team(c.lone_provider)})
    assert opens(client, c.lone_provider, pid) == 200

    code, out, _ = cli("care-team", "remove", "--patient", str(pid), "--user", str(c.lone_provider.id))
    assert (code, json.loads(out)) == (0, {"patient_id": pid, **team()})
    assert opens(client, c.lone_provider, pid) == 403

    code, _, err = cli("care-team", "add", "--patient", str(pid), "--user", str(c.stranger.id))
    assert code == 2
    assert json.loads(err) == {
        "error": "Validation failed",
        "errors": {"user_id": ["must be a provider or supervisor of this clinic"]},
    }


def test_cli_care_team_unknown_patient(capsys: pytest.CaptureFixture[str], c: Clinic) -> None:
    code = admin_cli.main(["care-team", "add", "--patient", str(10**9), "--user", str(c.provider.id)])
    assert (code, json.loads(capsys.readouterr().err)) == (2, {"error": f"patient {10**9} does not exist"})
    assert accounts.authenticate(c.provider.token) == c.provider.caller
