"""What the tests share: clinics, users with tokens and patients made through the domain; the one JSON client
(`Client`: in-process through a `LocalGateway`, or over HTTP to a URL); and the one way to set the time
(`frozen`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
import requests
from clinic import accounts, clock, patient_users, patients, settings
from clinic.access import Caller
from clinic.models.patients import NewPatient
from moto import mock_aws

from local.dynamodb import create_tables, start_embedded
from local.gateway import LocalGateway
from local.moto_server import faster_transactions
from local.template import REGION, environment, load_template

UNAUTHORIZED = {"errors": "You are not authorized to perform this action."}
NOT_FOUND = {"errors": "Patient not found"}
PATIENT_FORBIDDEN = {"errors": "You are not authorized to access this patient"}
ACTION_FORBIDDEN = {"errors": "You are not authorized to perform this action."}
PATIENT_KEYS = {
    "id",
    "first_name",
    "last_name",
    "date_of_birth",
    "age",
    "gender",
    "phone",
    "email",
    "address",
    "time_zone",
    "active",
    "created_at",
    "updated_at",
}


# Random ids and clock readings, in which a digit canary ("013-7931", "3.14159") could appear by chance: request
# and X-Ray trace ids, timestamps, epoch seconds or milliseconds. No PHI looks like them.
_RANDOM_IDS_AND_TIMES = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|1-[0-9a-f]{8}-[0-9a-f]{24}"
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\b1[6-9]\d{8}(?:\d{3})?(?:\.\d+)?\b"  # 2020-2033, not a 10-digit phone number
)


def at(text: str) -> datetime:
    """An ISO 8601 time (`Z` or an offset) as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


_frozen_at: list[datetime] = []


@contextmanager
def frozen(moment: str | datetime) -> Iterator[datetime]:
    """The service's clock (`clinic.clock`) stopped at `moment` inside the block, then back to what it was
    before (an enclosing block's moment, or the real clock): the one way tests set the time. Blocks nest, so a
    fixture can freeze a whole test and the test move the time within it. It changes this process's clock
    only: the domain functions the tests call and the local API they serve, never a deployed stack's."""
    when = at(moment) if isinstance(moment, str) else moment
    _frozen_at.append(when)
    clock.set_clock(lambda: when)
    try:
        yield when
    finally:
        _frozen_at.pop()
        outer = _frozen_at[-1] if _frozen_at else None
        clock.set_clock((lambda: outer) if outer else None)


def without_random_ids_and_times(text: str) -> str:
    """The text to search for canaries: random ids and times blanked, so that a canary found is a leak."""
    return _RANDOM_IDS_AND_TIMES.sub("<random>", text)


def mock_dynamodb() -> Any:
    """moto's mock_aws, keeping boto3's default session across mocks: moto would replace it on every entry, and a
    fresh session parses botocore's endpoint and service JSON again (~0.2 s of CPU per test, most of the `aws`
    fixture's cost). Every client is still created anew, and moto intercepts it whatever its session (its handler
    is in botocore's BUILTIN_HANDLERS since `import moto`); region and endpoint are read from the environment
    when each client is created, never cached by the session."""
    return mock_aws(config={"core": {"reset_boto3_session": False}})


@contextmanager
def moto_tables() -> Iterator[Any]:
    """What conftest's `aws` fixture does, for a module-scoped world (one set of tables shared by many tests
    keeps the suite fast), with the faster transactions above; yields a DynamoDB client."""
    template = load_template()
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
            patch.delenv(name, raising=False)
        for name, value in environment(template).items():
            patch.setenv(name, value)
        with mock_dynamodb(), faster_transactions():
            client = boto3.client("dynamodb", region_name=REGION)
            create_tables(template, client=client)
            settings.reset()
            try:
                yield client
            finally:
                settings.reset()


@contextmanager
def served_api(
    gateway_class: type[LocalGateway] = LocalGateway, *, authorizer_cache: bool = False, **options: Any
) -> Iterator[tuple[LocalGateway, str, str]]:
    """The real template served over HTTP (a free port) by a `gateway_class`, on its own moto server, with the
    functions' environment pointing at it; yields (gateway, url, DynamoDB endpoint).

    The moto server runs in a subprocess: moto's in-process state is global and every mock_aws()
    (the `aws` fixture) resets it. The authorizer cache is off unless asked for, so a token revoked by a test
    without a flush fails at once.
    """
    template = load_template()
    endpoint, stop_db = start_embedded(in_process=False)
    served = None
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        for name, value in environment(template).items():
            patch.setenv(name, value)
        try:
            create_tables(template, endpoint_url=endpoint)
            settings.reset()
            served = gateway_class(template, authorizer_cache=authorizer_cache, **options)
            server = served.serve("127.0.0.1", 0)
            yield served, server.url, endpoint  # type: ignore[attr-defined]
        finally:
            if served is not None:
                served.shutdown()
            stop_db()
            settings.reset()


def gateway() -> LocalGateway:
    """The template's routes and authorizer in-process, without touching the environment."""
    return LocalGateway(load_template(), authorizer_cache=False, set_environment=False)


@dataclass(frozen=True)
class User:
    id: int
    clinic_id: int
    role: str
    name: str
    token: str
    patient_id: int | None = None  # the record of a patient user

    @property
    def caller(self) -> Caller:
        return Caller(user_id=self.id, clinic_id=self.clinic_id, role=self.role, patient_id=self.patient_id)


def clinic(name: str = "Clinic") -> int:
    return accounts.create_clinic(name)["id"]


def user(clinic_id: int, role: str, name: str | None = None, supervisor: User | None = None) -> User:
    name = name or f"{role.title()} of {clinic_id}"
    created = accounts.create_user(clinic_id, role, name, supervisor.id if supervisor else None)
    return User(created["id"], clinic_id, role, name, accounts.issue_token(created["id"])["token"])


def patient_user(by: User, record: dict[str, Any]) -> User:
    """A patient user of `record`, made the way a patient's app gets one: `by` invites, the code is redeemed."""
    redeemed = patient_users.redeem(patient_users.invite(by.caller, record)["code"])
    return User(redeemed["user"]["id"], record["clinic_id"], "patient", "", redeemed["token"], record["id"])


def patient(by: User | Caller, first_name: str = "Pat", last_name: str = "Doe", **fields: Any) -> dict[str, Any]:
    """A patient created through the domain (the creator joins its care team unless an admin)."""
    caller = by.caller if isinstance(by, User) else by
    fields.setdefault("date_of_birth", "1980-01-01")
    return patients.create(caller, NewPatient(first_name=first_name, last_name=last_name, **fields))


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str
    body: Any = field(default=None)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


def _reply(status: int, headers: dict[str, str], raw: bytes) -> Reply:
    text = raw.decode("utf-8", "replace")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    return Reply(status, headers, text, body)


class Client:
    """`client.get("/v1/patients/1", token=...)`; `json` is sent as JSON, `data` as raw bytes or text."""

    def __init__(self, target: LocalGateway | str) -> None:
        self.target = target
        self.session = requests.Session() if isinstance(target, str) else None

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = ...,
        data: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if token is not None:
            sent["X-User-Token"] = token
        raw = b""
        if json_body is not ...:
            raw = json.dumps(json_body).encode()
            sent.setdefault("Content-Type", "application/json")
        elif data is not None:
            raw = data.encode() if isinstance(data, str) else data
        if query:
            path = f"{path}?{urlencode(query)}"
        if self.session is not None:
            assert isinstance(self.target, str)
            resp = self.session.request(method, self.target + path, headers=sent, data=raw or None, timeout=30)
            return _reply(resp.status_code, dict(resp.headers), resp.content)
        assert isinstance(self.target, LocalGateway)
        if raw:
            sent.setdefault("Content-Length", str(len(raw)))
        out = self.target.handle(method, path, sent, raw)
        return _reply(out.status, out.headers, out.body)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = ..., **kwargs: Any) -> Reply:
        return self.request("POST", path, json_body=body, **kwargs)

    def put(self, path: str, body: Any = ..., **kwargs: Any) -> Reply:
        return self.request("PUT", path, json_body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)


@contextmanager
def dynamodb_hooks(*hooks: tuple[str, Callable[..., None]]) -> Iterator[None]:
    """The domain's DynamoDB client calls each (botocore event, handler) inside the block."""
    events = settings.dynamodb().meta.events
    for event, handler in hooks:
        events.register(event, handler)
    try:
        yield
    finally:
        for event, handler in hooks:
            events.unregister(event, handler)


@contextmanager
def dynamodb_calls() -> Iterator[list[str]]:
    """The names of the DynamoDB operations the domain's client calls inside the block, in order."""
    calls: list[str] = []

    def count(event_name: str, **_: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[-1])

    with dynamodb_hooks(("before-call.dynamodb", count)):
        yield calls
