"""The local gateway against a tiny fake SAM template with its own handlers, so these tests pin API
Gateway's behaviour (routing, authorizer, gateway responses, proxy events) independently of the domain."""

from __future__ import annotations

import base64
import json
import socket
import struct
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from local.gateway import LocalGateway, start_schedules, wait_until_idle
from local.template import load_template

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: test}
  Greeting: {Type: String, Default: hello}
Globals:
  Function:
    Handler: app.lambda_handler
    Environment:
      Variables:
        FAKE_GREETING: !Sub "${Greeting}-${AWS::Region}"
        FAKE_TABLE: !Ref ThingsTable
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      Auth:
        DefaultAuthorizer: Tok
        Authorizers:
          Tok:
            FunctionPayloadType: REQUEST
            FunctionArn: !GetAtt AuthFunction.Arn
            Identity: {Headers: [X-User-Token], ReauthorizeEvery: 300}
      GatewayResponses:
        UNAUTHORIZED:
          StatusCode: "401"
          ResponseTemplates: {application/json: '{"errors": "not authorized"}'}
        ACCESS_DENIED:
          StatusCode: "403"
          ResponseTemplates: {application/json: '{"errors": "denied"}'}
        MISSING_AUTHENTICATION_TOKEN:
          StatusCode: "404"
          ResponseTemplates: {application/json: '{"errors": "Not found"}'}
        DEFAULT_5XX:
          ResponseTemplates: {application/json: '{"errors": "Internal server error"}'}
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: auth/}
  ThingFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/things/{id}", Method: get}}
        List: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /things, Method: GET}}
  SummaryFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/things/{id}/summary", Method: GET}}
  ThingPartFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/things/{id}/{part}", Method: any}}
  DocsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Events:
        Docs:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: "/docs/{proxy+}", Method: GET, Auth: {Authorizer: NONE}}
  BoomFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: boom/
      Events:
        Crash: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /boom, Method: GET}}
        Garbage: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /garbage, Method: GET}}
        Binary: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /binary, Method: GET}}
  TickFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: tick/
      Events:
        Every: {Type: Schedule, Properties: {Schedule: "rate(1 minute)"}}
  ThingsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      SSESpecification: {SSEEnabled: true, SSEType: KMS}
"""

AUTH = """
import os

CALLS = {"n": 0}

def lambda_handler(event, context):
    CALLS["n"] += 1
    token = event["headers"].get("X-User-Token") or event["headers"].get("x-user-token")
    assert event["type"] == "REQUEST" and event["methodArn"].startswith("arn:aws:execute-api:")
    if token == "bad":
        raise Exception("Unauthorized")
    if token == "crash":
        raise ValueError("bug in the authorizer")
    effect = "Deny" if token == "deny" else "Allow"
    api = event["methodArn"].split("/")[0]
    resource = f"{api}/*/GET/things/*" if token == "narrow" else f"{api}/*"
    return {
        "principalId": f"user-{token}",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": {"clinic_id": 7, "role": "admin", "active": True, "calls": CALLS["n"],
                    "greeting": os.environ["FAKE_GREETING"]},
    }
"""

ECHO = """
import json

def lambda_handler(event, context):
    return {"statusCode": 200, "headers": {"X-Function": context.function_name},
            "multiValueHeaders": {"X-Multi": ["a", "b"]},
            "body": json.dumps({"function": context.function_name, "event": event})}
"""

BOOM = """
import base64

def lambda_handler(event, context):
    if event["path"] == "/boom":
        raise RuntimeError("secret patient detail in a traceback")
    if event["path"] == "/garbage":
        return "not a proxy response"
    return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
            "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
"""

TICK = """
RUNS = []

def lambda_handler(event, context):
    RUNS.append(event)
"""

TOKEN = {"X-User-Token": "good"}


@pytest.fixture
def template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    for directory, source in {"auth": AUTH, "echo": ECHO, "boom": BOOM, "tick": TICK}.items():
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "app.py").write_text(textwrap.dedent(source))
    # The gateway writes the functions' variables into os.environ; let monkeypatch restore them.
    for name in ("FAKE_GREETING", "FAKE_TABLE"):
        monkeypatch.delenv(name, raising=False)
    return load_template(tmp_path / "template.yaml")


@pytest.fixture
def gateway(template: dict[str, Any]) -> LocalGateway:
    return LocalGateway(template, authorizer_cache=False)


@pytest.fixture
def http(gateway: LocalGateway) -> Iterator[str]:
    server = gateway.serve("127.0.0.1", 0)
    yield server.url  # type: ignore[attr-defined]
    gateway.shutdown()


def _echo(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def test_routes_and_path_parameters(http: str) -> None:
    body = _echo(requests.get(f"{http}/things/42", headers=TOKEN))
    assert body["function"] == "ThingFunction"
    event = body["event"]
    assert event["resource"] == "/things/{id}"
    assert event["path"] == "/things/42"
    assert event["pathParameters"] == {"id": "42"}
    assert event["requestContext"]["path"] == "/test/things/42"
    assert event["requestContext"]["stage"] == "test"
    assert event["queryStringParameters"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False

    listing = _echo(requests.get(f"{http}/things", headers=TOKEN))
    assert listing["function"] == "ThingFunction"
    assert listing["event"]["pathParameters"] is None


def test_literal_segment_beats_parameter_and_any_method(http: str) -> None:
    assert _echo(requests.get(f"{http}/things/1/summary", headers=TOKEN))["function"] == "SummaryFunction"
    part = _echo(requests.delete(f"{http}/things/1/photo%20one", headers=TOKEN))
    assert part["function"] == "ThingPartFunction"
    assert part["event"]["pathParameters"] == {"id": "1", "part": "photo one"}


def test_unknown_path_or_method_is_the_missing_token_gateway_response(http: str) -> None:
    for response in (
        requests.get(f"{http}/nope", headers=TOKEN),
        requests.post(f"{http}/things/1", headers=TOKEN),
        # /things/{id}/summary exists without DELETE: API Gateway does not fall back to {part}.
        requests.delete(f"{http}/things/1/summary", headers=TOKEN),
    ):
        assert response.status_code == 404
        assert response.json() == {"errors": "Not found"}
        assert response.headers["Content-Type"] == "application/json"


def test_missing_or_empty_token_is_401_without_calling_the_authorizer(gateway: LocalGateway) -> None:
    for headers in ({}, {"X-User-Token": ""}):
        response = gateway.handle("GET", "/things/1", headers, b"")
        assert response.status == 401
        assert json.loads(response.body) == {"errors": "not authorized"}
    assert "AuthFunction" not in gateway._modules


def test_authorizer_outcomes(http: str) -> None:
    unauthorized = requests.get(f"{http}/things/1", headers={"X-User-Token": "bad"})
    assert (unauthorized.status_code, unauthorized.json()) == (401, {"errors": "not authorized"})

    denied = requests.get(f"{http}/things/1", headers={"X-User-Token": "deny"})
    assert (denied.status_code, denied.json()) == (403, {"errors": "denied"})

    # An Allow that does not cover the method ARN is a 403 too.
    assert requests.get(f"{http}/things/1", headers={"X-User-Token": "narrow"}).status_code == 200
    narrow = requests.delete(f"{http}/things/1/x", headers={"X-User-Token": "narrow"})
    assert (narrow.status_code, narrow.json()) == (403, {"errors": "denied"})

    crash = requests.get(f"{http}/things/1", headers={"X-User-Token": "crash"})
    assert crash.status_code == 500
    assert crash.json() == {"errors": "Internal server error"}
    assert "bug in the authorizer" not in crash.text


def test_authorizer_context_reaches_the_handler_stringified(http: str) -> None:
    event = _echo(requests.get(f"{http}/things/1", headers=TOKEN))["event"]
    authorizer = event["requestContext"]["authorizer"]
    assert authorizer["principalId"] == "user-good"
    assert authorizer["clinic_id"] == "7"
    assert authorizer["active"] == "true"
    assert authorizer["role"] == "admin"
    assert authorizer["greeting"] == "hello-us-east-1"


def test_authorizer_cache(template: dict[str, Any]) -> None:
    cached = LocalGateway(template, authorizer_cache=True)
    calls = [
        json.loads(cached.handle("GET", "/things/1", TOKEN, b"").body)["event"]["requestContext"]["authorizer"]["calls"]
        for _ in range(2)
    ]
    assert calls == ["1", "1"]
    uncached = LocalGateway(template, authorizer_cache=False)
    calls = [
        json.loads(uncached.handle("GET", "/things/1", TOKEN, b"").body)["event"]["requestContext"]["authorizer"][
            "calls"
        ]
        for _ in range(2)
    ]
    assert calls == ["1", "2"]


def test_public_greedy_route_needs_no_token(http: str) -> None:
    body = _echo(requests.get(f"{http}/docs/assets/swagger-ui.css"))
    assert body["function"] == "DocsFunction"
    assert body["event"]["pathParameters"] == {"proxy": "assets/swagger-ui.css"}
    assert "authorizer" not in body["event"]["requestContext"]


def test_query_strings_headers_and_body(http: str) -> None:
    response = requests.post(
        f"{http}/things/1/notes?tag=a&tag=b%20c&empty=",
        headers={**TOKEN, "Content-Type": "application/json"},
        data=json.dumps({"note": "héllo"}).encode(),
    )
    event = _echo(response)["event"]
    assert event["queryStringParameters"] == {"tag": "b c", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b c"], "empty": [""]}
    assert event["httpMethod"] == "POST"
    assert json.loads(event["body"]) == {"note": "héllo"}
    assert event["isBase64Encoded"] is False
    headers = {k.lower(): v for k, v in event["headers"].items()}
    assert headers["content-type"] == "application/json"
    assert event["multiValueHeaders"]["X-User-Token"] == ["good"]
    assert response.headers["X-Function"] == "ThingPartFunction"
    assert response.headers["X-Multi"] == "a, b"


def test_binary_request_body_is_base64(gateway: LocalGateway) -> None:
    response = gateway.handle("PUT", "/things/1/blob", TOKEN, b"\xff\xfe\x00")
    event = json.loads(response.body)["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe\x00"


def test_handler_failure_is_502_without_traceback(http: str, capsys: pytest.CaptureFixture[str]) -> None:
    for path in ("/boom", "/garbage"):
        response = requests.get(f"{http}{path}", headers=TOKEN)
        assert response.status_code == 502
        assert response.json() == {"errors": "Internal server error"}
    assert "secret patient detail" not in response.text
    assert "RuntimeError" in capsys.readouterr().err  # the traceback goes to the server log instead


def test_base64_response_body_is_decoded(http: str) -> None:
    response = requests.get(f"{http}/binary", headers=TOKEN)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.content == bytes(range(256))


def test_request_log_has_no_query_string(http: str, capsys: pytest.CaptureFixture[str]) -> None:
    requests.get(f"{http}/things/1?search=doe", headers=TOKEN)
    err = capsys.readouterr().err
    assert "GET /things/1 200" in err
    assert "doe" not in err


def test_schedules_run_at_start_with_a_scheduled_event(gateway: LocalGateway) -> None:
    stop = threading.Event()
    start_schedules(gateway, stop)
    try:
        deadline = time.monotonic() + 5
        while "TickFunction" not in gateway._modules or not gateway._modules["TickFunction"].RUNS:
            assert time.monotonic() < deadline, "schedule did not run"
            time.sleep(0.02)
    finally:
        stop.set()
    event = gateway._modules["TickFunction"].RUNS[0]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"][0].startswith("arn:aws:events:us-east-1:123456789012:rule/")


@pytest.mark.http
def test_real_template_over_http(http_api: Any) -> None:
    """The session's local API (real template, embedded DynamoDB): gateway answers need no domain code."""
    no_token = requests.get(f"{http_api.url}/v1/patients")
    assert no_token.status_code == 401
    assert no_token.json() == {"errors": "You are not authorized to perform this action."}
    unknown = requests.get(f"{http_api.url}/v1/unknown", headers={"X-User-Token": "x" * 40})
    assert unknown.status_code == 404
    assert unknown.json() == {"errors": "Not found"}
    assert http_api.endpoint_url.startswith("http://127.0.0.1:")


# ---- the HTTP front end under bursts, odd framing and clients that hang up ----


@pytest.mark.parametrize("clients", [40, 100])
def test_a_burst_of_simultaneous_clients_is_all_answered(http: str, clients: int) -> None:
    """Every client connects at once (a barrier), each on its own connection: none may be reset or refused."""
    host, port = http.removeprefix("http://").split(":")
    start = threading.Barrier(clients)

    def one(_: int) -> int:
        start.wait(timeout=30)
        with socket.create_connection((host, int(port)), timeout=60) as sock:
            sock.sendall(b"GET /things/7 HTTP/1.1\r\nHost: x\r\nX-User-Token: good\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        return int(reply.split(b" ", 2)[1])

    with ThreadPoolExecutor(max_workers=clients) as pool:
        statuses = list(pool.map(one, range(clients)))
    assert statuses == [200] * clients


def test_chunked_request_bodies_are_read(http: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"note": '
        yield b'"in three'
        yield b' chunks"}'

    response = requests.post(
        f"{http}/things/1/notes", headers={**TOKEN, "Content-Type": "application/json"}, data=chunks()
    )
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert json.loads(_echo(response)["event"]["body"]) == {"note": "in three chunks"}
    # The connection is still usable: the chunked body was read to its end.
    session = requests.Session()
    for _ in range(2):
        reply = session.post(f"{http}/things/1/notes", headers=TOKEN, data=iter([b"a", b"b"]))
        assert _echo(reply)["event"]["body"] == "ab"


def _raw(http: str, request: bytes) -> tuple[int, bytes]:
    host, port = http.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize("length", [b"abc", b"-1", b"1e3", b" ", b"\xd9\xa3", b"9" * 30])
def test_a_content_length_that_is_not_a_number_is_400(http: str, length: bytes) -> None:
    request = b"POST /things/1/notes HTTP/1.1\r\nHost: x\r\nX-User-Token: good\r\nContent-Length: " + length
    status, body = _raw(http, request + b"\r\n\r\n{}")
    assert (status, json.loads(body)) == (400, {"errors": "Content-Length must be a number of bytes"})


def test_malformed_chunks_are_400(http: str) -> None:
    request = (
        b"POST /things/1/notes HTTP/1.1\r\nHost: x\r\nX-User-Token: good\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    )
    status, body = _raw(http, request)
    assert (status, json.loads(body)) == (400, {"errors": "Malformed chunked request body"})


def test_a_client_that_hangs_up_leaves_one_quiet_line(
    http: str, gateway: LocalGateway, capsys: pytest.CaptureFixture[str]
) -> None:
    host, port = http.removeprefix("http://").split(":")
    capsys.readouterr()
    # Hangs up halfway through its body.
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /things/1/notes HTTP/1.1\r\nHost: x\r\nX-User-Token: good\r\nContent-Length: 100\r\n\r\n{")
    # Hangs up (with a reset) right after its request, before the answer.
    for _ in range(5):
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(b"GET /things/1 HTTP/1.1\r\nHost: x\r\nX-User-Token: good\r\n\r\n")
        sock.close()
    # The server is still fine, and said what happened in single lines.
    assert requests.get(f"{http}/things/1", headers=TOKEN).status_code == 200
    assert wait_until_idle(10)  # every hung-up request answered and logged
    err = capsys.readouterr().err
    assert "POST /things/1/notes client disconnected before sending its body" in err
    assert "Traceback" not in err and "Error" not in err


def test_waiting_until_idle_covers_a_request_whose_client_hung_up(
    http: str, gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that sends a request and hangs up (a browser tab closed mid-fetch) leaves the request running on
    a server thread: wait_until_idle is False until it is answered, and True once it is."""
    module = gateway._module("ThingFunction")
    handler, started, release, answered = module.lambda_handler, threading.Event(), threading.Event(), []

    def held(event: dict[str, Any], context: Any) -> Any:
        started.set()
        release.wait(10)
        answered.append(event["path"])
        return handler(event, context)

    monkeypatch.setattr(module, "lambda_handler", held)
    host, port = http.removeprefix("http://").split(":")
    assert wait_until_idle(10)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /things/7 HTTP/1.1\r\nHost: x\r\nX-User-Token: good\r\n\r\n")
    assert started.wait(10)
    assert not wait_until_idle(0.2)
    release.set()
    assert wait_until_idle(10)
    assert answered == ["/things/7"]


def test_an_idle_kept_alive_connection_is_idle_and_a_half_sent_request_is_not(http: str, gateway: LocalGateway) -> None:
    host, port = http.removeprefix("http://").split(":")
    with requests.Session() as session:
        assert session.get(f"{http}/things/1", headers=TOKEN).status_code == 200
        assert wait_until_idle(10)  # the session keeps its connection open, with no request on it
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /things/1 HTTP/1.1\r\nHost: x\r\n")  # its headers never end
        assert not wait_until_idle(0.3)
    assert wait_until_idle(10)
