"""Integrity under retries and faults: Idempotency-Key, throttling and timeouts as 503, all-or-nothing
batches, retried unprocessed items, bare 500s, limits, and the audit trail. Requests go through the local
gateway in-process (routing, authorizer, handlers) against moto."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.stub import Stubber
from clinic import accounts, settings, store
from clinic.store import keys, table
from support import Client, Reply, frozen

from local import events
from local.events import make_event
from local.gateway import LocalGateway
from local.template import load_template
from patients_admin import cli as admin

INTERNAL = {"errors": "Internal server error"}
UNAVAILABLE = {"errors": "The service is temporarily unavailable, please retry"}
AUDIT_PHONE = "+1-555-010-8642"
NEW_PATIENT = {"patient": {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1990-12-10"}}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture
def gateway(aws: Any, template: dict[str, Any]) -> LocalGateway:
    # The `aws` fixture has set the functions' environment; a fresh gateway loads fresh handler modules.
    return LocalGateway(template, authorizer_cache=False, set_environment=False)


def calls_of(gateway: LocalGateway, token: str) -> Callable[..., Reply]:
    """`call(method, path, body=None, headers=None)` as the token's user: a JSON body, or bytes as they are."""
    client = Client(gateway)

    def call(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        return client.request(
            method,
            path,
            token=token,
            json_body=... if body is None or isinstance(body, bytes) else body,
            data=body if isinstance(body, bytes) else None,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    return call


@pytest.fixture
def clinic(gateway: LocalGateway) -> dict[str, Any]:
    clinic = accounts.create_clinic("Integrity")
    users = {}
    for role in ("admin", "provider", "supervisor"):
        user = accounts.create_user(clinic["id"], role, f"Test {role}")
        users[role] = {"user": user, "call": calls_of(gateway, accounts.issue_token(user["id"])["token"])}
    return {"clinic": clinic, **users}


def stored_patients(clinic_id: int) -> list[int]:
    return [
        e["patient_id"] for e in store.list_entries(store.clinic_partition(clinic_id, True, ""), after=None, limit=100)
    ]


# ---- Idempotency-Key ----


def test_a_retried_create_returns_the_first_response_and_stores_nothing_new(clinic: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    first = call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "create-ada-1"})
    again = call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "create-ada-1"})

    assert first.status == again.status == 201
    assert again.body == first.body and first.body["first_name"] == "Ada"
    for header in ("Location", "ETag", "Content-Type"):
        assert again.headers[header] == first.headers[header]
    assert first.headers["Location"] == f"/v1/patients/{first.body['id']}"
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert stored_patients(clinic["clinic"]["id"]) == [first.body["id"]]


def test_the_record_is_keyed_by_user_and_route_and_expires_after_a_day(clinic: dict[str, Any], aws: Any) -> None:
    clinic["admin"]["call"]("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "secret-looking-key"})
    table = settings.settings().table_name
    records = [i for i in aws.scan(TableName=table)["Items"] if i["pk"]["S"].startswith("IDEMPOTENCY#")]
    assert len(records) == 1
    record = records[0]
    assert record["pk"]["S"].startswith("IDEMPOTENCY#POST /v1/patients#") and record["sk"]["S"] == "IDEMPOTENCY"
    assert "secret-looking-key" not in json.dumps(record["pk"])  # hashed with the user id
    assert record["idempotency_status"]["S"] == "COMPLETED"
    assert abs(int(record["expires_at"]["N"]) - (time.time() + 86400)) < 60
    # Stored data: a renamed attribute would strand the records already written (expires_at is the TTL
    # attribute template.yaml declares; in_progress_expires_at ends a crashed invocation's lock).
    assert sorted(record) == [
        "expires_at",
        "idempotency_status",
        "in_progress_expires_at",
        "pk",
        "request_hash",
        "response",
        "sk",
    ]


def test_idempotency_records_are_read_and_written_within_the_services_timeouts(clinic: dict[str, Any]) -> None:
    """Powertools would otherwise make a DynamoDB client of its own, with botocore's 60-second timeouts and its
    legacy retries: a POST could then hang on its idempotency record far past the function's timeout."""
    from clinic import idempotency

    config = idempotency.Idempotency("POST /v1/patients")._store().client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries == {"mode": "standard", "total_max_attempts": 4}  # settings.dynamodb(): 3 retries


def test_the_idempotency_store_is_built_once_and_again_only_when_its_client_or_table_changes(
    clinic: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Powertools' persistence layer is built once per container, not per request; settings.reset() (tests
    switching endpoints or tables) gives a new one, or the records would go through the old client or table."""
    from clinic import idempotency

    keeper = idempotency.Idempotency("POST /v1/patients")
    first = keeper._store()
    assert keeper._store() is first
    settings.dynamodb.cache_clear()  # another client, the same table
    by_new_client = keeper._store()
    assert by_new_client is not first and by_new_client.client is settings.dynamodb()
    monkeypatch.setenv("IDEMPOTENCY_TABLE_NAME", "OtherIdempotencyTable")
    settings.settings.cache_clear()  # the same client, another table
    in_new_table = keeper._store()
    assert in_new_table is not by_new_client and in_new_table.table_name == "OtherIdempotencyTable"
    monkeypatch.undo()
    settings.settings.cache_clear()


def test_the_same_key_from_another_user_is_another_request(clinic: dict[str, Any]) -> None:
    a = clinic["admin"]["call"]("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "shared"})
    b = clinic["provider"]["call"]("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "shared"})
    assert a.status == b.status == 201
    assert a.body["id"] != b.body["id"]
    assert "Idempotent-Replayed" not in b.headers


def test_another_key_from_the_same_user_is_another_request(clinic: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    grace = {"patient": {**NEW_PATIENT["patient"], "first_name": "Grace"}}
    ada = call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "ada"})
    grace_created = call("POST", "/v1/patients", grace, {"Idempotency-Key": "grace"})
    assert (ada.status, grace_created.status) == (201, 201), grace_created.body
    assert "Idempotent-Replayed" not in grace_created.headers
    assert stored_patients(clinic["clinic"]["id"]) == [ada.body["id"], grace_created.body["id"]]
    # Each key replays its own first answer.
    again = call("POST", "/v1/patients", grace, {"Idempotency-Key": "grace"})
    assert (again.body, again.headers["Idempotent-Replayed"]) == (grace_created.body, "true")


def test_the_same_key_with_a_different_body_is_422_and_stores_nothing(clinic: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    first = call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "k1"})
    other = {"patient": {**NEW_PATIENT["patient"], "first_name": "Augusta"}}
    reused = call("POST", "/v1/patients", other, {"Idempotency-Key": "k1"})
    assert reused.status == 422
    assert reused.body == {"errors": {"idempotency_key": ["is already used for a different request"]}}
    assert stored_patients(clinic["clinic"]["id"]) == [first.body["id"]]
    # Key order and spacing are not a different request.
    reordered = json.dumps({"patient": dict(reversed(list(NEW_PATIENT["patient"].items())))}, indent=2).encode()
    assert call("POST", "/v1/patients", reordered, {"Idempotency-Key": "k1"}).status == 201


def test_error_responses_are_not_stored_so_a_fixed_retry_goes_through(clinic: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    invalid = call("POST", "/v1/patients", {"patient": {"first_name": "Ada"}}, {"Idempotency-Key": "k2"})
    assert invalid.status == 422 and "last_name" in invalid.body["errors"]
    fixed = call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "k2"})
    assert fixed.status == 201 and "Idempotent-Replayed" not in fixed.headers


def test_an_error_the_domain_answers_is_not_stored_either(clinic: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    pid = call("POST", "/v1/patients", NEW_PATIENT).body["id"]
    path, key = f"/v1/patients/{pid}/care_team", {"Idempotency-Key": "k3"}
    outsider = accounts.create_user(accounts.create_clinic("Elsewhere")["id"], "provider", "Out Sider")
    for _ in range(2):  # answered twice, never replayed
        refused = call("POST", path, {"user_id": outsider["id"]}, key)
        assert (refused.status, refused.body) == (
            422,
            {"errors": {"user_id": ["must be a provider or supervisor of this clinic"]}},
        )
        assert "Idempotent-Replayed" not in refused.headers
    fixed = call("POST", path, {"user_id": clinic["provider"]["user"]["id"]}, key)
    assert fixed.status == 201 and "Idempotent-Replayed" not in fixed.headers


def test_a_non_2xx_response_a_route_returns_itself_is_not_stored_and_a_bytes_body_is_replayed_as_text(
    clinic: dict[str, Any], lambda_context: Any
) -> None:
    """The routes raise their errors today, but one (or a middleware) that answers a 3xx or 4xx Response itself
    must not have it replayed to every retry; and a body given as bytes is stored, and replayed, as text."""
    from aws_lambda_powertools.event_handler import Response
    from clinic import idempotency

    keeper = idempotency.Idempotency("POST /v1/patients")
    produced: list[int] = []

    def respond(status: int, body: str | bytes) -> Response:
        def produce() -> Response:
            produced.append(status)
            return Response(status_code=status, content_type="application/json", body=body)

        return keeper.respond(
            user_id=clinic["admin"]["user"]["id"],
            key="answered-by-the-route",
            request=idempotency.request_fingerprint("/v1/patients", "{}"),
            lambda_context=lambda_context,
            produce=produce,
        )

    assert (respond(300, "{}").status_code, respond(404, "{}").status_code) == (300, 404)
    first = respond(200, b'{"ok": 1}')
    again = respond(200, b'{"ok": 2}')
    assert produced == [300, 404, 200]  # the 300 and the 404 were not stored; the 200 was, and replayed
    assert (first.status_code, first.body, "Idempotent-Replayed" in first.headers) == (200, '{"ok": 1}', False)
    assert (again.status_code, again.body, again.headers) == (
        200,
        '{"ok": 1}',
        {"Content-Type": "application/json", "Idempotent-Replayed": "true"},
    )


def test_a_blank_or_oversized_key_is_422(clinic: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    blank = call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "  "})
    assert (blank.status, blank.body) == (422, {"errors": {"idempotency_key": ["can't be blank"]}})
    long = call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "k" * 256})
    assert long.body == {"errors": {"idempotency_key": ["is too long (maximum is 255 characters)"]}}
    assert stored_patients(clinic["clinic"]["id"]) == []
    assert call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "k" * 255}).status == 201


def test_a_key_with_no_body_or_not_json_gets_the_answer_it_would_get_without_one(clinic: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    for body in (None, b"", b"{not json"):
        plain = call("POST", "/v1/patients", body)
        keyed = call("POST", "/v1/patients", body, {"Idempotency-Key": "odd-body"})
        assert plain.status in (400, 422) and (keyed.status, keyed.body) == (plain.status, plain.body), body
    assert stored_patients(clinic["clinic"]["id"]) == []
    assert call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "odd-body"}).status == 201


def test_gauge_batches_and_care_team_additions_are_idempotent(clinic: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    patient = call("POST", "/v1/patients", NEW_PATIENT).body
    batch = {"gauges": [{"gauge_type": "mood", "value": v} for v in (3, 5, 7)]}
    path = f"/v1/patients/{patient['id']}/gauges"
    first = call("POST", path, batch, {"Idempotency-Key": "g1"})
    again = call("POST", path, batch, {"Idempotency-Key": "g1"})
    assert first.status == again.status == 201 and first.body == again.body
    listed = call("GET", path).body["gauges"]
    assert sorted(g["id"] for g in listed) == sorted(g["id"] for g in first.body["gauges"])

    # The same key on another patient's route is a different request.
    other = call("POST", "/v1/patients", NEW_PATIENT).body
    moved = call("POST", f"/v1/patients/{other['id']}/gauges", batch, {"Idempotency-Key": "g1"})
    assert moved.body == {"errors": {"idempotency_key": ["is already used for a different request"]}}
    assert call("GET", f"/v1/patients/{other['id']}/gauges").body["gauges"] == []

    team = f"/v1/patients/{patient['id']}/care_team"
    member = {"user_id": clinic["provider"]["user"]["id"]}
    added = call("POST", team, member, {"Idempotency-Key": "c1"})
    replayed = call("POST", team, member, {"Idempotency-Key": "c1"})
    assert added.status == replayed.status == 201 and added.body == replayed.body
    assert [m["user_id"] for m in replayed.body["care_team"]] == [member["user_id"]]


INVOCATION_SECONDS = 60


class _Crash(BaseException):
    """What a Lambda timeout or crash looks like to the code: it never gets to clean up."""


def _idempotency_store_clock_moved(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """The time Powertools' DynamoDB idempotency store reads (for the condition of its in-progress write) moved
    `seconds` ahead: what waiting that long would do, without the wait."""
    from aws_lambda_powertools.utilities.idempotency.persistence import dynamodb

    class Later(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
            return datetime.now(tz) + timedelta(seconds=seconds)

    # The module reads datetime.now() through `import datetime as dt`; only its view of the time changes.
    monkeypatch.setattr(dynamodb, "dt", SimpleNamespace(datetime=Later))


def test_a_duplicate_of_an_unfinished_create_is_409_until_the_invocation_would_have_timed_out(
    clinic: dict[str, Any], gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinic import patients

    def crash(*_: Any) -> Any:
        raise _Crash

    user = {"user_id": clinic["admin"]["user"]["id"], "clinic_id": clinic["clinic"]["id"], "role": "admin"}
    event = make_event("POST", "/v1/patients", body=NEW_PATIENT, headers={"Idempotency-Key": "crash"}, user=user)
    module = gateway._module("CreatePatientFunction")
    monkeypatch.setattr(patients, "create", crash)
    # Long enough that the duplicate below lands inside it on any machine; nothing waits for it to pass.
    with pytest.raises(_Crash):
        module.lambda_handler(event, events.LambdaContext("CreatePatientFunction", timeout_seconds=INVOCATION_SECONDS))
    monkeypatch.undo()

    call = clinic["admin"]["call"]
    duplicate = call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "crash"})
    assert (duplicate.status, duplicate.headers["Retry-After"]) == (409, "1")
    assert duplicate.body == {"errors": "A request with this Idempotency-Key is still in progress"}
    assert stored_patients(clinic["clinic"]["id"]) == []
    _idempotency_store_clock_moved(monkeypatch, INVOCATION_SECONDS + 1)  # the crashed invocation's time is up
    retry = call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "crash"})
    assert retry.status == 201 and "Idempotent-Replayed" not in retry.headers
    assert stored_patients(clinic["clinic"]["id"]) == [retry.body["id"]]


# ---- faults ----


def _raise_on(operation: str, error: Exception, times: int = 1_000_000) -> Callable[..., None]:
    """A before-call hook: the operation fails as botocore raises once its retries are exhausted."""
    left = {"n": times}

    def hook(**_: Any) -> None:
        if left["n"] > 0:
            left["n"] -= 1
            raise error

    settings.dynamodb().meta.events.register(f"before-call.dynamodb.{operation}", hook)
    return hook


def _client_error(code: str, operation: str = "GetItem", **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "injected"}, **extra}, operation)


@pytest.mark.parametrize(
    "error",
    [
        _client_error("ProvisionedThroughputExceededException"),
        _client_error("ThrottlingException"),
        _client_error("RequestLimitExceeded"),
        _client_error("InternalServerError"),
        EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        ConnectTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
    ],
    ids=lambda e: type(e).__name__ if not isinstance(e, ClientError) else e.response["Error"]["Code"],
)
def test_throttling_timeouts_and_outages_are_503_with_retry_after(
    clinic: dict[str, Any], gateway: LocalGateway, lambda_context: Any, error: Exception
) -> None:
    patient = clinic["admin"]["call"]("POST", "/v1/patients", NEW_PATIENT).body
    module = gateway._module("GetPatientFunction")
    user = {"user_id": clinic["admin"]["user"]["id"], "clinic_id": clinic["clinic"]["id"], "role": "admin"}
    _raise_on("GetItem", error)
    result = module.lambda_handler(make_event("GET", f"/v1/patients/{patient['id']}", user=user), lambda_context)
    assert result["statusCode"] == 503
    assert _header(result, "Retry-After") == "1"
    assert json.loads(result["body"]) == UNAVAILABLE


def test_throttling_seen_through_the_gateway_is_503_never_500(clinic: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    _raise_on("TransactWriteItems", _client_error("ThrottlingException", "TransactWriteItems"))
    response = call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "throttled"})
    assert (response.status, response.body) == (503, UNAVAILABLE) and response.headers["Retry-After"] == "1"
    assert stored_patients(clinic["clinic"]["id"]) == []


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (_client_error("ThrottlingException", "PutItem"), 503, UNAVAILABLE),
        (ConnectTimeoutError(endpoint_url="https://dynamodb"), 503, UNAVAILABLE),
        (_client_error("ValidationException", "PutItem"), 500, INTERNAL),  # a bug: not worth a retry
    ],
)
def test_an_idempotency_record_that_cannot_be_written_is_503_when_a_retry_can_help(
    clinic: dict[str, Any], error: Exception, status: int, body: Any
) -> None:
    """Powertools writes the record itself (and wraps what DynamoDB raised): the store still tells transient."""
    _raise_on("PutItem", error)
    response = clinic["admin"]["call"]("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "unwritable"})
    assert (response.status, response.body) == (status, body)
    assert ("Retry-After" in response.headers) == (status == 503)
    assert stored_patients(clinic["clinic"]["id"]) == []


def test_a_transaction_cancelled_by_throttling_is_503(
    clinic: dict[str, Any], gateway: LocalGateway, lambda_context: Any
) -> None:
    """A throttled transaction fails as TransactionCanceledException with ThrottlingError reasons."""
    patient = clinic["admin"]["call"]("POST", "/v1/patients", NEW_PATIENT).body
    user = {"user_id": clinic["admin"]["user"]["id"], "clinic_id": clinic["clinic"]["id"], "role": "admin"}
    module = gateway._module("RecordGaugesFunction")
    event = make_event(
        "POST",
        f"/v1/patients/{patient['id']}/gauges",
        body={"gauges": [{"gauge_type": "pain", "value": 2}, {"gauge_type": "pain", "value": 3}]},
        user=user,
    )
    item = _patient_item(patient["id"])
    with Stubber(settings.dynamodb()) as stub:
        stub.add_response("get_item", {"Item": item})
        stub.add_response("update_item", {"Attributes": {"next": {"N": "1000"}}})
        stub.add_response("query", {"Items": [], "Count": 0, "ScannedCount": 0})  # the clinic's alert rules: none
        # The latest values of the batch's types (none yet).
        stub.add_response("batch_get_item", {"Responses": {settings.settings().table_name: []}, "UnprocessedKeys": {}})
        stub.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            response_meta={},
            modeled_fields={"CancellationReasons": [{"Code": "ThrottlingError"}, {"Code": "None"}]},
        )
        result = module.lambda_handler(event, lambda_context)
    assert (result["statusCode"], json.loads(result["body"])) == (503, UNAVAILABLE)
    assert _header(result, "Retry-After") == "1"


def _header(result: dict[str, Any], name: str) -> str:
    """A header of a Lambda proxy result (Powertools' REST resolver answers with multiValueHeaders)."""
    values = (result.get("multiValueHeaders") or {}).get(name) or [(result.get("headers") or {}).get(name)]
    return values[0]


def _patient_item(patient_id: int) -> dict[str, Any]:
    return table.encode_item(table.get(keys.patient(patient_id), consistent=True) or {})


def test_a_gauge_batch_that_fails_partway_stores_nothing(clinic: dict[str, Any]) -> None:
    """The last gauge of the transaction fails its condition: DynamoDB (moto) cancels every write (the latest
    values written with them included)."""
    call = clinic["admin"]["call"]
    patient = call("POST", "/v1/patients", NEW_PATIENT).body

    def fail_the_last_write(params: dict[str, Any], **_: Any) -> None:
        gauges = [i for i in params["TransactItems"] if "Put" in i and i["Put"]["Item"]["pk"]["S"].startswith("GAUGE")]
        gauges[-1]["Put"]["ConditionExpression"] = "attribute_exists(pk)"

    settings.dynamodb().meta.events.register("provide-client-params.dynamodb.TransactWriteItems", fail_the_last_write)
    batch = {"gauges": [{"gauge_type": "mood", "value": v, "notes": f"note {v}"} for v in range(1, 6)]}
    response = call("POST", f"/v1/patients/{patient['id']}/gauges", batch)
    assert (response.status, response.body) == (500, INTERNAL)
    settings.dynamodb().meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", fail_the_last_write)
    assert call("GET", f"/v1/patients/{patient['id']}/gauges").body["gauges"] == []


def _unprocessed_once(operation: str) -> dict[str, int]:
    """The first call of a batch operation leaves its last request unprocessed, as DynamoDB may."""
    calls = {"n": 0}
    held: dict[str, Any] = {}
    client = settings.dynamodb()

    def drop(params: dict[str, Any], **_: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            table, requests = next(iter(params["RequestItems"].items()))
            if operation == "BatchWriteItem":
                held["unprocessed"] = {table: [requests.pop()]}
            else:
                held["unprocessed"] = {table: {**requests, "Keys": [requests["Keys"].pop()]}}

    def report(parsed: dict[str, Any], **_: Any) -> None:
        if "unprocessed" in held:
            key = "UnprocessedItems" if operation == "BatchWriteItem" else "UnprocessedKeys"
            parsed[key] = held.pop("unprocessed")

    client.meta.events.register(f"provide-client-params.dynamodb.{operation}", drop)
    client.meta.events.register(f"after-call.dynamodb.{operation}", report)
    return calls


def test_batch_reads_and_writes_retry_unprocessed_items_to_completion(clinic: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    created = [call("POST", "/v1/patients", NEW_PATIENT).body["id"] for _ in range(3)]
    reads = _unprocessed_once("BatchGetItem")
    writes = _unprocessed_once("BatchWriteItem")
    listed = call("GET", "/v1/patients")
    assert listed.status == 200
    assert sorted(p["id"] for p in listed.body["patients"]) == sorted(created)
    assert reads["n"] == 2 and writes["n"] == 2
    # The audit write of the listed page (a BatchWriteItem) also completed: one event per patient.
    request_id = listed.headers["x-amzn-RequestId"]
    for patient_id in created:
        assert [e["request_id"] for e in store.audit_events(patient_id) if e["action"] == "list"] == [request_id]


def test_a_bug_is_a_bare_500(clinic: dict[str, Any], monkeypatch: pytest.MonkeyPatch, logged: io.StringIO) -> None:
    from clinic import patients

    def broken(patient: Any) -> Any:
        raise ValueError(f"cannot present {patient['first_name']} {patient['last_name']}")

    monkeypatch.setattr(patients, "present", broken)
    call = clinic["admin"]["call"]
    response = call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "bug"})
    assert (response.status, response.body) == (500, INTERNAL)
    assert response.headers["Content-Type"] == "application/json"
    lines = [json.loads(line) for line in logged.getvalue().splitlines()]
    bug = [line for line in lines if line["message"] == "unhandled error"]
    assert bug and bug[0]["error_type"] == "ValueError" and "Lovelace" not in logged.getvalue()
    # The failed create released its key: once fixed, the retry creates.
    monkeypatch.undo()
    assert call("POST", "/v1/patients", NEW_PATIENT, {"Idempotency-Key": "bug"}).status == 201


# ---- limits ----


def test_limits(clinic: dict[str, Any], template: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    huge = b'{"patient": {"first_name": "' + b"a" * (1024 * 1024) + b'"}}'
    assert call("POST", "/v1/patients", huge).status == 413
    page = call("GET", "/v1/patients?page_size=101")
    assert page.body == {"errors": {"page_size": ["must be less than or equal to 100"]}}
    search = call("GET", "/v1/patients?search=" + "a" * 101)
    assert search.body == {"errors": {"search": ["is too long (maximum is 100 characters)"]}}
    name = call("POST", "/v1/patients", {"patient": {**NEW_PATIENT["patient"], "last_name": "x" * 101}})
    assert name.body == {"errors": {"last_name": ["is too long (maximum is 100 characters)"]}}
    patient = call("POST", "/v1/patients", NEW_PATIENT).body
    gauges = call("GET", f"/v1/patients/{patient['id']}/gauges?page_size=501")
    assert gauges.body == {"errors": {"page_size": ["must be less than or equal to 500"]}}

    api = template["Resources"]["PatientsApi"]["Properties"]
    settings_ = api["MethodSettings"][0]
    assert settings_["ThrottlingBurstLimit"] == {"Ref": "ThrottlingBurstLimit"}
    assert settings_["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}
    assert settings_["DataTraceEnabled"] is False and settings_["LoggingLevel"] == "ERROR"


# ---- audit trail ----


def _events(patient_id: int) -> list[dict[str, Any]]:
    return list(store.audit_events(patient_id))


def test_every_read_and_change_of_a_patient_is_audited_without_phi(clinic: dict[str, Any]) -> None:
    call = clinic["admin"]["call"]
    admin_id = clinic["admin"]["user"]["id"]
    created = call("POST", "/v1/patients", NEW_PATIENT)
    pid = created.body["id"]
    gauges = f"/v1/patients/{pid}/gauges"
    recorded = call("POST", gauges, {"gauge": {"gauge_type": "mood", "value": 4, "notes": "Lovelace note"}})
    responses = [
        created,  # the gauge was recorded right after it
        call("GET", f"/v1/patients/{pid}"),
        call("PUT", f"/v1/patients/{pid}", {"patient": {"phone": AUDIT_PHONE}}),
        call("GET", "/v1/patients?search=lov"),
        call("GET", gauges),
        call("GET", f"{gauges}/summary"),
        call("DELETE", f"{gauges}/{recorded.body['id']}"),
        call("POST", f"/v1/patients/{pid}/care_team", {"user_id": clinic["provider"]["user"]["id"]}),
        call("GET", f"/v1/patients/{pid}/care_team"),
        call("DELETE", f"/v1/patients/{pid}/care_team/{clinic['provider']['user']['id']}"),
    ]
    assert all(200 <= r.status < 300 for r in [*responses, recorded]), [r.status for r in responses]
    expected = [
        ("create", "POST", "/v1/patients"),
        ("change", "POST", "/v1/patients/{id}/gauges"),
        ("read", "GET", "/v1/patients/{id}"),
        ("change", "PUT", "/v1/patients/{id}"),
        ("list", "GET", "/v1/patients"),
        ("read", "GET", "/v1/patients/{id}/gauges"),
        ("read", "GET", "/v1/patients/{id}/gauges/summary"),
        ("change", "DELETE", "/v1/patients/{id}/gauges/{gauge_id}"),
        ("manage_care_team", "POST", "/v1/patients/{id}/care_team"),
        ("read_care_team", "GET", "/v1/patients/{id}/care_team"),
        ("manage_care_team", "DELETE", "/v1/patients/{id}/care_team/{user_id}"),
    ]
    events = _events(pid)
    request_ids = [r.headers["x-amzn-RequestId"] for r in [responses[0], recorded, *responses[1:]]]
    # In time order (requests of one millisecond may tie; then the request id orders them).
    assert sorted((e["request_id"], e["action"], e["method"], e["route"]) for e in events) == sorted(
        (rid, *what) for rid, what in zip(request_ids, expected, strict=True)
    )
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    for event in events:
        assert (event["user_id"], event["role"], event["clinic_id"], event["patient_id"]) == (
            admin_id,
            "admin",
            clinic["clinic"]["id"],
            pid,
        )
        assert event["at"].endswith("Z") and event["status"] in (200, 201, 204)
        assert set(event) == {
            "patient_id",
            "at",
            "request_id",
            "user_id",
            "role",
            "clinic_id",
            "action",
            "method",
            "route",
            "status",
        }
    # Every field is pinned above but `at`, whose format is: nothing else could carry a value.
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", e["at"]) for e in events)
    # Belt and braces, on the text without the request ids and times, whose random digits and hex letters
    # could spell a short canary by chance (a "555" in a request id once failed this test).
    text = json.dumps([{k: v for k, v in e.items() if k not in ("request_id", "at")} for e in events])
    for phi in ("Ada", "Lovelace", "1990-12-10", AUDIT_PHONE, AUDIT_PHONE.replace("-", "")[1:], "lov"):
        assert phi not in text


def test_audit_events_expire_after_the_retention_days(
    clinic: dict[str, Any], aws: Any, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIT_RETENTION_DAYS", "30")
    settings.reset()
    pid = clinic["admin"]["call"]("POST", "/v1/patients", NEW_PATIENT).body["id"]
    ttl = template["Resources"]["PatientsTable"]["Properties"]["TimeToLiveSpecification"]["AttributeName"]
    items = aws.query(
        TableName=settings.settings().table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"AUDIT#{pid}"}},
    )["Items"]
    assert len(items) == 1
    assert abs(int(items[0][ttl]["N"]) - (time.time() + 30 * 86400)) < 60


def test_denied_and_failed_requests_leave_no_audit_event(clinic: dict[str, Any]) -> None:
    pid = clinic["admin"]["call"]("POST", "/v1/patients", NEW_PATIENT).body["id"]
    before = _events(pid)
    assert clinic["provider"]["call"]("GET", f"/v1/patients/{pid}").status == 403
    assert clinic["admin"]["call"]("PUT", f"/v1/patients/{pid}", {"patient": {"gender": "x"}}).status == 422
    assert _events(pid) == before


def test_an_audit_failure_fails_reads_closed_and_logs_changes(clinic: dict[str, Any], logged: io.StringIO) -> None:
    call = clinic["admin"]["call"]
    pid = call("POST", "/v1/patients", NEW_PATIENT).body["id"]
    _raise_on("PutItem", _client_error("ProvisionedThroughputExceededException", "PutItem"))
    read = call("GET", f"/v1/patients/{pid}")
    assert (read.status, read.body) == (503, UNAVAILABLE)
    change = call("PUT", f"/v1/patients/{pid}", {"patient": {"gender": "female"}})
    assert change.status == 200 and change.body["gender"] == "female"
    lines = [json.loads(line) for line in logged.getvalue().splitlines()]
    failures = [line for line in lines if line.get("message") == "audit write failed"]
    assert [f["audit"]["action"] for f in failures] == ["read", "change"]
    # The line is the lost event itself (ids only), so the trail can be mended from the log.
    assert failures[1]["audit"] == {
        "user_id": clinic["admin"]["user"]["id"],
        "role": "admin",
        "action": "change",
        "route": "PUT /v1/patients/{id}",
        "patient_ids": [pid],
    }
    assert failures[1]["error_type"] == "Unavailable"  # the store's throttling error, without its message
    assert failures[1]["correlation_id"] == change.headers["x-amzn-RequestId"]


def test_patients_admin_audit_prints_a_patients_trail(clinic: dict[str, Any], capsys: Any) -> None:
    call = clinic["admin"]["call"]
    # a second apart, so that --since below can tell them apart
    with frozen(datetime(2024, 3, 1, 9, 0, 0, tzinfo=UTC)):
        pid = call("POST", "/v1/patients", NEW_PATIENT).body["id"]
    with frozen(datetime(2024, 3, 1, 9, 0, 1, tzinfo=UTC)):
        read = call("GET", f"/v1/patients/{pid}")
    capsys.readouterr()
    assert admin.main(["audit", "--patient", str(pid)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [(e["action"], e["route"]) for e in printed["events"]] == [
        ("create", "/v1/patients"),
        ("read", "/v1/patients/{id}"),
    ]
    assert printed["events"][1]["request_id"] == read.headers["x-amzn-RequestId"]
    assert printed["patient_id"] == pid
    # --since: only the events at or after that time.
    capsys.readouterr()
    assert printed["events"][1]["at"] == "2024-03-01T09:00:01.000Z"
    assert admin.main(["audit", "--patient", str(pid), "--since", "2024-03-01T09:00:00.500Z"]) == 0
    assert [e["request_id"] for e in json.loads(capsys.readouterr().out)["events"]] == [
        read.headers["x-amzn-RequestId"]
    ]


@pytest.fixture
def logged(service_log: io.StringIO) -> io.StringIO:
    return service_log


@pytest.fixture(autouse=True)
def _fresh_client_hooks(aws: Any) -> Iterator[None]:
    """Hooks registered on the cached client must not outlive a test."""
    yield
    settings.reset()


@pytest.mark.parametrize("path", ["one gauge", "gauge batch"])
def test_a_create_retried_after_a_hidden_success_is_not_an_error(
    clinic: dict[str, Any], monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """The SDK retries a write whose answer timed out although it landed; the retry then fails its
    attribute_not_exists condition. The create must still answer 201, with exactly one stored copy.
    (Patient creates are transactions with a ClientRequestToken, which makes DynamoDB itself absorb such a
    retry; they share the same check.)"""
    call = clinic["admin"]["call"]
    patient_id = call("POST", "/v1/patients", NEW_PATIENT).body["id"]
    ddb = settings.dynamodb()
    for operation in ("put_item", "transact_write_items"):
        real = getattr(ddb, operation)

        def twice(*args: Any, _real: Callable[..., Any] = real, **kwargs: Any) -> Any:
            _real(*args, **kwargs)  # lands, but its answer is lost
            return _real(*args, **kwargs)  # the retry: ConditionalCheckFailed / TransactionCanceled

        monkeypatch.setattr(ddb, operation, twice)
    gauges = [{"gauge_type": "mood", "value": 4}] + ([{"gauge_type": "pain", "value": 2}] if "batch" in path else [])
    sent = {"gauge": gauges[0]} if path == "one gauge" else {"gauges": gauges}
    response = call("POST", f"/v1/patients/{patient_id}/gauges", sent)
    assert response.status == 201, response.body
    monkeypatch.undo()
    stored = call("GET", f"/v1/patients/{patient_id}/gauges").body["gauges"]
    assert sorted((g["gauge_type"], g["value"]) for g in stored) == sorted(
        (g["gauge_type"], g["value"]) for g in gauges
    )
