"""Revocation takes effect at once over HTTP (issue 18), against the local API with its authorizer cache on, as
under `make run`: a token already used (so cached for 300 s) gets 401 right after `tokens revoke`,
`users deactivate`, and a `PUT /v1/patients/{id}` with `active: false`, because each flushes the stage's
authorizer cache through the gateway's FlushStageAuthorizersCache endpoint (boto3 pointed there by
AWS_ENDPOINT_URL_API_GATEWAY, as local/server.py does)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from clinic import accounts, settings
from support import UNAUTHORIZED, Client, User, clinic, patient, patient_user, served_api, user

from local.events import API_ID
from local.gateway import LocalGateway
from patients_admin import cli as admin_cli

pytestmark = [
    pytest.mark.http,
    pytest.mark.local_only("serves a local API of its own with the authorizer cache on, flushed at its local endpoint"),
]

# "Within a few seconds": the flush is synchronous, so the very next request is expected to be refused.
AT_ONCE_SECONDS = 3.0


@dataclass
class Api:
    gateway: LocalGateway
    client: Client


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with served_api(authorizer_cache=True) as (gateway, url, _), pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_API_GATEWAY", url)
        patch.setenv("API_ID", API_ID)
        patch.setenv("API_STAGE", gateway.stage)
        settings.reset()
        yield Api(gateway, Client(url))
        settings.reset()


def status(api: Api, token: str) -> int:
    return api.client.get("/v1/patients", token=token).status


def seconds_until_401(api: Api, token: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < AT_ONCE_SECONDS:
        if status(api, token) == 401:
            return time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"the token still worked {AT_ONCE_SECONDS} s after the revocation")


def cached_but_revoked(api: Api, clinic_id: int) -> User:
    """A user whose token the gateway has cached, then revoked in the table without a flush: it keeps working
    (what every revocation did for up to 300 s before), until something flushes the cache."""
    someone = user(clinic_id, "provider")
    assert status(api, someone.token) == 200
    accounts.revoke_tokens(someone.id)
    assert status(api, someone.token) == 200, "the gateway's authorizer cache is not on"
    return someone


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = admin_cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out if code == 0 else err)


def test_tokens_revoke_ends_a_cached_token_at_once(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    home = clinic()
    target, bystander = user(home, "provider"), user(home, "provider")
    assert status(api, target.token) == status(api, bystander.token) == 200
    held = cached_but_revoked(api, home)

    code, printed = run_cli(capsys, "tokens", "revoke", "--user", str(target.id))
    assert (code, printed) == (0, {"user_id": target.id, "revoked": 1, "authorizer_cache": "flushed"})
    assert seconds_until_401(api, target.token) < AT_ONCE_SECONDS
    # The whole stage's cache is gone: a token revoked earlier without a flush ends too, and a token still
    # valid goes on working (its next request calls the authorizer once).
    assert status(api, held.token) == 401
    assert status(api, bystander.token) == 200


def test_users_deactivate_ends_a_cached_token_at_once(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    home = clinic()
    target = user(home, "supervisor")
    assert status(api, target.token) == 200
    held = cached_but_revoked(api, home)

    code, printed = run_cli(capsys, "users", "deactivate", "--user", str(target.id))
    assert (code, printed) == (
        0,
        {"user_id": target.id, "active": False, "revoked": 1, "authorizer_cache": "flushed"},
    )
    assert seconds_until_401(api, target.token) < AT_ONCE_SECONDS
    assert status(api, held.token) == 401


def test_deactivating_a_patient_flushes_the_cache(api: Api) -> None:
    """The flush itself: a staff token that is cached, revoked without a flush, stops as soon as an admin sets
    a patient `active: false` (the whole stage's cache goes). The patient's own tokens: the next test."""
    home = clinic()
    admin = user(home, "admin")
    record = patient(admin)
    held = cached_but_revoked(api, home)

    reply = api.client.put(f"/v1/patients/{record['id']}", {"patient": {"active": False}}, token=admin.token)
    assert (reply.status, reply.body["active"]) == (200, False)
    assert seconds_until_401(api, held.token) < AT_ONCE_SECONDS
    assert status(api, admin.token) == 200

    # Any other change leaves the cache alone.
    again = cached_but_revoked(api, home)
    reply = api.client.put(f"/v1/patients/{record['id']}", {"patient": {"phone": "555-0100"}}, token=admin.token)
    assert reply.status == 200
    assert status(api, again.token) == 200


def test_deactivating_a_patient_ends_their_own_cached_token_at_once(api: Api) -> None:
    """Issue 18's third action, with issue 13's patient users: the patient's token, used once (so the gateway
    caches its allow), gets 401 on its very next request after staff set the record `active: false`. The probe
    is GET /v1/me, which reads no patient: only the flush of the cached allow refuses it there."""
    home = clinic()
    admin = user(home, "admin")
    record = patient(admin)
    own = patient_user(admin, record)
    me = api.client.get("/v1/me", token=own.token)
    assert (me.status, me.body["user"]["patient_id"]) == (200, record["id"])
    assert api.client.get(f"/v1/patients/{record['id']}", token=own.token).status == 200

    reply = api.client.put(f"/v1/patients/{record['id']}", {"patient": {"active": False}}, token=admin.token)
    assert (reply.status, reply.body["active"]) == (200, False)
    me = api.client.get("/v1/me", token=own.token)
    assert (me.status, me.body) == (401, UNAUTHORIZED)
    own_record = api.client.get(f"/v1/patients/{record['id']}", token=own.token)
    assert (own_record.status, own_record.body) == (401, UNAUTHORIZED)
    assert status(api, admin.token) == 200


def test_the_local_endpoint_answers_only_for_its_own_stage(api: Api) -> None:
    with pytest.raises(ClientError) as refused:
        settings.api_gateway().flush_stage_authorizers_cache(restApiId=API_ID, stageName="elsewhere")
    assert refused.value.response["Error"]["Code"] == "NotFoundException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # Only DELETE of the flush's path is the management API; the API's own 404 answers anything else.
    reply = api.client.get(f"/restapis/{API_ID}/stages/{api.gateway.stage}/cache/authorizers")
    assert (reply.status, reply.body) == (404, {"errors": "Not found"})
