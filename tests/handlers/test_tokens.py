"""Token lifecycle: stored only as SHA-256 hashes, several per user, revocation and deactivation at the next
authorizer call, expiry, and the `patients-admin` commands that create users and tokens."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clinic import accounts, store
from clinic.settings import settings
from clinic.store import keys
from clinic.store import table as stored
from support import UNAUTHORIZED, Client, User, clinic, frozen, gateway, moto_tables, user

from patients_admin import cli as admin_cli

NOW = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
# Without a stack or API_ID/API_STAGE, the CLI cannot flush an authorizer cache, and says what that means
# (tests/http/test_revocation_http.py flushes a real one).
NO_API_STAGE = {
    "authorizer_cache": "skipped",
    "warning": "The authorizer cache was not flushed: no API stage is known (--stack, or API_ID and API_STAGE). "
    "A token that was used in the last 300 seconds may keep working for up to 300 seconds.",
}


@pytest.fixture(scope="module")
def table() -> Iterator[Any]:
    with moto_tables() as client:
        yield client


@pytest.fixture(scope="module")
def client(table: Any) -> Client:
    return Client(gateway())


@pytest.fixture(autouse=True)
def fixed_clock(table: Any) -> Iterator[None]:
    with frozen(NOW):
        yield


@pytest.fixture
def provider(table: Any) -> User:
    return user(clinic(), "provider", "Pia Provider")


def status(client: Client, token: str | None) -> tuple[int, Any]:
    reply = client.get("/v1/patients", token=token)
    return reply.status, reply.body


def every_item(table: Any) -> list[dict[str, Any]]:
    """The whole table (a test may Scan; the service never does)."""
    items = []
    for table_name in table.list_tables()["TableNames"]:
        for page in table.get_paginator("scan").paginate(TableName=table_name):
            items += page["Items"]
    return items


# ---- storage ----


def test_tokens_are_stored_only_as_sha256_hashes(table: Any, provider: User) -> None:
    second = accounts.issue_token(provider.id)["token"]
    for token in (provider.token, second):
        assert len(token) >= 32
        digest = hashlib.sha256(token.encode()).hexdigest()
        dumped = json.dumps(every_item(table))
        assert token not in dumped
        assert digest in dumped
        key = {"pk": {"S": f"TOKEN#{digest}"}, "sk": {"S": "TOKEN"}}
        raw = table.get_item(TableName=settings().table_name, Key=key)["Item"]
        assert raw["user_id"] == {"N": str(provider.id)}
        assert token not in json.dumps(raw)


def test_issued_tokens_are_random_and_unique(provider: User) -> None:
    tokens = {accounts.issue_token(provider.id)["token"] for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) >= 32 for t in tokens)


# ---- the authorizer ----


def test_several_tokens_per_user_all_work(client: Client, provider: User) -> None:
    tokens = [provider.token] + [accounts.issue_token(provider.id)["token"] for _ in range(3)]
    assert len(set(tokens)) == 4
    for token in tokens:
        assert status(client, token) == (200, {"patients": [], "meta": _empty_meta()})


def _empty_meta() -> dict[str, Any]:
    return {"page": 1, "page_size": 25, "has_more": False, "next_cursor": None}


def test_revoke_stops_every_token_at_the_next_call(client: Client, provider: User) -> None:
    other = user(provider.clinic_id, "provider", "Other Provider")
    second = accounts.issue_token(provider.id)["token"]
    assert status(client, provider.token)[0] == status(client, second)[0] == 200

    assert accounts.revoke_tokens(provider.id) == {"user_id": provider.id, "revoked": 2}
    assert status(client, provider.token) == (401, UNAUTHORIZED)
    assert status(client, second) == (401, UNAUTHORIZED)
    assert status(client, other.token)[0] == 200  # other users' tokens are untouched
    assert accounts.revoke_tokens(provider.id) == {"user_id": provider.id, "revoked": 0}

    fresh = accounts.issue_token(provider.id)["token"]
    assert status(client, fresh)[0] == 200


def test_expired_token_is_401(client: Client, provider: User) -> None:
    issued = accounts.issue_token(provider.id, expires_in_days=2)
    assert issued["expires_at"] == "2024-03-03T09:30:00.000Z"
    for moment, expected in (
        (NOW + timedelta(days=2) - timedelta(seconds=1), 200),
        (NOW + timedelta(days=2), 401),
        (NOW + timedelta(days=30), 401),
    ):
        with frozen(moment):
            assert status(client, issued["token"])[0] == expected, moment
    # A token without expiry keeps working.
    with frozen(NOW + timedelta(days=30)):
        assert status(client, provider.token)[0] == 200


def test_deactivated_users_tokens_stop_working_and_stay_revoked(client: Client, provider: User) -> None:
    second = accounts.issue_token(provider.id)["token"]
    assert accounts.set_active(provider.id, False) == {"user_id": provider.id, "active": False, "revoked": 2}
    assert status(client, provider.token) == (401, UNAUTHORIZED)
    assert status(client, second) == (401, UNAUTHORIZED)
    # Reactivation brings none of the old tokens back; a new one works.
    assert accounts.set_active(provider.id, True) == {"user_id": provider.id, "active": True}
    assert status(client, provider.token) == (401, UNAUTHORIZED)
    assert status(client, second) == (401, UNAUTHORIZED)
    assert status(client, accounts.issue_token(provider.id)["token"])[0] == 200


@pytest.mark.parametrize("days", [0, -1, accounts.MAX_TOKEN_DAYS + 1, 10**9])
def test_token_lifetime_is_at_least_a_day(capsys: pytest.CaptureFixture[str], provider: User, days: int) -> None:
    with pytest.raises(accounts.AccountError, match=r"^expires-in-days must be between 1 and 3650$"):
        accounts.issue_token(provider.id, expires_in_days=days)
    code, _ = run_cli(capsys, "tokens", "issue", "--user", str(provider.id), "--expires-in-days", str(days))
    assert code == 2


@pytest.mark.parametrize(
    ("days", "expires_at"), [(1, "2024-03-02T09:30:00.000Z"), (accounts.MAX_TOKEN_DAYS, "2034-02-27T09:30:00.000Z")]
)
def test_token_lifetimes_from_a_day_to_ten_years_are_accepted(
    client: Client, provider: User, days: int, expires_at: str
) -> None:
    issued = accounts.issue_token(provider.id, expires_in_days=days)
    assert issued["expires_at"] == expires_at
    assert status(client, issued["token"])[0] == 200


@pytest.mark.parametrize(("length", "read"), [(31, False), (32, True), (512, True), (513, False)])
def test_a_token_of_an_impossible_length_is_refused_without_a_read(
    provider: User, monkeypatch: pytest.MonkeyPatch, length: int, read: bool
) -> None:
    """Issued tokens are 43 characters: anything under 32 or over 512 is refused before it is hashed and
    looked up, so junk in the Authorization header costs no DynamoDB read."""
    looked_up: list[str] = []
    get_token = accounts.store.get_token
    monkeypatch.setattr(accounts.store, "get_token", lambda digest: looked_up.append(digest) or get_token(digest))
    assert accounts.authenticate("a" * length) is None
    assert looked_up == ([hashlib.sha256(b"a" * length).hexdigest()] if read else [])


@pytest.mark.parametrize("token", [None, "", "a" * 31, "a" * 43, "a" * 513, "' OR 1=1 --" * 4])
def test_unknown_or_malformed_tokens_are_401(client: Client, provider: User, token: str | None) -> None:
    assert status(client, token) == (401, UNAUTHORIZED)
    if token is not None:
        assert accounts.authenticate(token) is None


def test_a_hash_is_not_a_token(client: Client, provider: User) -> None:
    digest = hashlib.sha256(provider.token.encode()).hexdigest()
    assert status(client, digest) == (401, UNAUTHORIZED)


def test_authenticate_maps_token_to_user_clinic_and_role(provider: User) -> None:
    assert accounts.authenticate(provider.token) == provider.caller


def test_a_token_of_an_inactive_user_authenticates_no_one(provider: User) -> None:
    """Deactivating a user also deletes their tokens; a token whose user is inactive all the same (written
    before, or left by a deactivation that stopped halfway) still authenticates no one."""
    stored.update(keys.user(provider.id), "SET active = :no", values={":no": False})
    assert accounts.authenticate(provider.token) is None


# ---- patients-admin ----


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    capsys.readouterr()  # not what the API's functions logged before
    code = admin_cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out if code == 0 else err)


def test_cli_creates_clinics_users_and_tokens(capsys: pytest.CaptureFixture[str], client: Client) -> None:
    code, created_clinic = run_cli(capsys, "clinics", "create", "--name", "Northside")
    assert code == 0 and created_clinic["name"] == "Northside" and isinstance(created_clinic["id"], int)
    assert (store.get_clinic(created_clinic["id"]) or {}).get("created_at") == "2024-03-01T09:30:00.000Z"
    cid = str(created_clinic["id"])

    code, supervisor = run_cli(capsys, "users", "create", "--clinic", cid, "--role", "supervisor", "--name", "Sue")
    assert code == 0
    assert {k: supervisor["user"][k] for k in ("clinic_id", "role", "name", "active")} == {
        "clinic_id": created_clinic["id"],
        "role": "supervisor",
        "name": "Sue",
        "active": True,
    }
    assert status(client, supervisor["token"])[0] == 200
    assert (store.get_user(supervisor["user"]["id"]) or {}).get("created_at") == "2024-03-01T09:30:00.000Z"

    sid = str(supervisor["user"]["id"])
    code, provider = run_cli(
        capsys, "users", "create", "--clinic", cid, "--role", "provider", "--name", "Pat", "--supervisor", sid
    )
    assert code == 0
    assert provider["user"]["supervisor_id"] == supervisor["user"]["id"]
    pid = str(provider["user"]["id"])

    code, issued = run_cli(capsys, "tokens", "issue", "--user", pid, "--expires-in-days", "3")
    assert code == 0
    assert issued["user_id"] == provider["user"]["id"]
    assert issued["expires_at"] == "2024-03-04T09:30:00.000Z"
    assert status(client, issued["token"])[0] == 200

    code, revoked = run_cli(capsys, "tokens", "revoke", "--user", pid)
    assert (code, revoked) == (0, {"user_id": provider["user"]["id"], "revoked": 2, **NO_API_STAGE})
    assert status(client, issued["token"]) == (401, UNAUTHORIZED)
    assert status(client, provider["token"]) == (401, UNAUTHORIZED)


def test_cli_supervisor_must_be_a_supervisor_of_the_same_clinic(capsys: pytest.CaptureFixture[str]) -> None:
    home, elsewhere = clinic("Home"), clinic("Elsewhere")
    supervisor = user(home, "supervisor")
    provider = user(home, "provider")
    admin = user(home, "admin")
    foreign = user(elsewhere, "supervisor")
    cases = [
        ("provider", provider.id, f"user {provider.id} is not a supervisor of clinic {home}"),
        ("provider", admin.id, f"user {admin.id} is not a supervisor of clinic {home}"),
        ("provider", foreign.id, f"user {foreign.id} is not a supervisor of clinic {home}"),
        ("provider", 10**9, f"user {10**9} is not a supervisor of clinic {home}"),
        ("supervisor", supervisor.id, "only a provider has a supervisor"),
        ("admin", supervisor.id, "only a provider has a supervisor"),
    ]
    for role, supervisor_id, message in cases:
        argv = [
            "users",
            "create",
            "--clinic",
            str(home),
            "--role",
            role,
            "--name",
            "X",
            "--supervisor",
            str(supervisor_id),
        ]
        assert run_cli(capsys, *argv) == (2, {"error": message}), (role, supervisor_id)


def test_cli_rejects_unknown_clinic_user_and_role(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "users", "create", "--clinic", str(10**9), "--role", "admin", "--name", "X") == (
        2,
        {"error": f"clinic {10**9} does not exist"},
    )
    assert run_cli(capsys, "tokens", "issue", "--user", str(10**9)) == (2, {"error": f"user {10**9} does not exist"})
    for change in ("deactivate", "activate"):
        assert run_cli(capsys, "users", change, "--user", str(10**9)) == (2, {"error": f"user {10**9} does not exist"})
    with pytest.raises(SystemExit) as exited:
        admin_cli.main(["users", "create", "--clinic", "1", "--role", "owner", "--name", "X"])
    assert exited.value.code == 2
    capsys.readouterr()
    # The CLI's choices stop a role first; the domain refuses one too (patients are made from invitations).
    for role in ("owner", "patient"):
        with pytest.raises(accounts.AccountError, match=r"^role must be one of admin, supervisor, provider$"):
            accounts.create_user(1, role, "X")


def test_cli_deactivates_and_reactivates_users(
    capsys: pytest.CaptureFixture[str], client: Client, provider: User
) -> None:
    assert run_cli(capsys, "users", "deactivate", "--user", str(provider.id)) == (
        0,
        {"user_id": provider.id, "active": False, "revoked": 1, **NO_API_STAGE},
    )
    assert status(client, provider.token) == (401, UNAUTHORIZED)
    assert run_cli(capsys, "users", "activate", "--user", str(provider.id))[0] == 0
    assert status(client, provider.token) == (401, UNAUTHORIZED)
    code, issued = run_cli(capsys, "tokens", "issue", "--user", str(provider.id))
    assert code == 0 and status(client, issued["token"])[0] == 200
