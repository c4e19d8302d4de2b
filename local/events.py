"""Builders for the events AWS hands to Lambda (API Gateway REST proxy v1, REQUEST authorizer, EventBridge
schedule), shared by the local gateway and by tests that call handlers directly."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.routing import RouteTable
from local.template import ACCOUNT_ID, DEFAULT_TEMPLATE, REGION, api_routes, load_template, stage_name

API_ID = "local"
DEFAULT_STAGE = "Prod"

Pairs = Iterable[tuple[str, str]]
MultiMapping = Mapping[str, str | list[str]] | Pairs


def _pairs(values: MultiMapping | str | None) -> list[tuple[str, str]]:
    """Normalise a query string, a mapping (list values = repeated keys) or (key, value) pairs."""
    if values is None:
        return []
    if isinstance(values, str):
        # API Gateway hands the handler URL-decoded values; keep empty ones (`?flag=`).
        return parse_qsl(values.lstrip("?"), keep_blank_values=True)
    if isinstance(values, Mapping):
        pairs = []
        for key, value in values.items():
            for item in value if isinstance(value, list | tuple) else [value]:
                pairs.append((str(key), _str(item)))
        return pairs
    return [(str(k), _str(v)) for k, v in values]


def _str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value  # REST APIs keep the last value in the single-value map
        multi.setdefault(key, []).append(value)
    return single, multi


def method_arn(method: str, path: str, stage: str = DEFAULT_STAGE) -> str:
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{stage}/{method.upper()}{path}"


def authorizer_context(principal_id: str | None, context: Mapping[str, Any] | None) -> dict[str, Any]:
    """`requestContext.authorizer` as API Gateway builds it: context values stringified, nulls kept."""
    result: dict[str, Any] = {}
    for key, value in (context or {}).items():
        result[key] = None if value is None else _str(value)
    result["principalId"] = principal_id
    result["integrationLatency"] = 0
    return result


def request_context(
    method: str, path: str, resource: str, *, stage: str, source_ip: str, user_agent: str | None
) -> dict[str, Any]:
    now = time.time()
    return {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "resourceId": "local",
        "resourcePath": resource,
        "httpMethod": method,
        "path": f"/{stage}{path}",
        "stage": stage,
        "protocol": "HTTP/1.1",
        "requestId": str(uuid.uuid4()),
        "extendedRequestId": str(uuid.uuid4()),
        "requestTimeEpoch": int(now * 1000),
        "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "domainName": "localhost",
        "identity": {
            "sourceIp": source_ip,
            "userAgent": user_agent,
            "accountId": None,
            "apiKey": None,
            "caller": None,
            "cognitoIdentityId": None,
            "user": None,
            "userArn": None,
        },
    }


def rest_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    headers: MultiMapping | None = None,
    query: MultiMapping | str | None = None,
    body: bytes | str | Mapping[str, Any] | list[Any] | None = None,
    authorizer: Mapping[str, Any] | None = None,
    stage: str = DEFAULT_STAGE,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway REST (payload v1) Lambda proxy event, as AWS builds it.

    `path` is the request path without query string; `query` a raw query string, a mapping or pairs;
    a dict/list `body` is JSON-encoded; `authorizer` is the finished `requestContext.authorizer`.
    """
    method = method.upper()
    header_pairs = _pairs(headers)
    if isinstance(body, Mapping | list):
        body = json.dumps(body)
        if not any(k.lower() == "content-type" for k, _ in header_pairs):
            header_pairs.append(("Content-Type", "application/json"))
    single_headers, multi_headers = _single_and_multi(header_pairs)
    single_query, multi_query = _single_and_multi(_pairs(query))

    encoded = False
    text: str | None
    if body is None or body == b"":
        text = None
    elif isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode("ascii"), True
    else:
        text = str(body)

    user_agent = next((v for k, v in header_pairs if k.lower() == "user-agent"), None)
    context = request_context(method, path, resource or path, stage=stage, source_ip=source_ip, user_agent=user_agent)
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": encoded,
    }


def request_authorizer_event(proxy_event: dict[str, Any]) -> dict[str, Any]:
    """The REQUEST authorizer event API Gateway sends for a given request (no body, plus methodArn)."""
    context = {k: v for k, v in proxy_event["requestContext"].items() if k != "authorizer"}
    return {
        "type": "REQUEST",
        "methodArn": method_arn(proxy_event["httpMethod"], proxy_event["path"], context["stage"]),
        "resource": proxy_event["resource"],
        "path": proxy_event["path"],
        "httpMethod": proxy_event["httpMethod"],
        "headers": proxy_event["headers"] or {},
        "multiValueHeaders": proxy_event["multiValueHeaders"] or {},
        "queryStringParameters": proxy_event["queryStringParameters"] or {},
        "multiValueQueryStringParameters": proxy_event["multiValueQueryStringParameters"] or {},
        "pathParameters": proxy_event["pathParameters"] or {},
        "stageVariables": proxy_event["stageVariables"] or {},
        "requestContext": context,
    }


def scheduled_event(rule_name: str) -> dict[str, Any]:
    """The EventBridge "Scheduled Event" a rate() rule delivers."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


class LambdaContext:
    """Enough of the Lambda context object for Powertools and handlers."""

    def __init__(self, function_name: str, memory_mb: int = 128, timeout_seconds: int = 3) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def make_event(
    method: str,
    path: str,
    body: bytes | str | Mapping[str, Any] | list[Any] | None = None,
    headers: MultiMapping | None = None,
    query: MultiMapping | str | None = None,
    user: Mapping[str, Any] | None = None,
    template: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The event the local gateway (and API Gateway) would hand the handler of `method path`.

    `resource` and `pathParameters` come from the template's matching route; `path` may carry a
    `?query`. `user` is the authorizer's context (e.g. user_id, clinic_id, role): it lands in
    requestContext.authorizer stringified, with principalId taken from `principalId` or `user_id`.
    """
    template = template if template is not None else _default_template() or load_template()
    split = urlsplit(path)
    found = RouteTable(api_routes(template)).match(method, split.path)
    resource, params = (found[0].path, found[1]) if found else (None, None)
    query_pairs = _pairs(split.query) + _pairs(query)
    authorizer = None
    if user is not None:
        principal = user.get("principalId", user.get("user_id"))
        context = {k: v for k, v in user.items() if k != "principalId"}
        authorizer = authorizer_context(None if principal is None else str(principal), context)
    return rest_event(
        method,
        unquote(split.path),
        resource=resource,
        path_parameters=params,
        headers=headers,
        query=query_pairs,
        body=body,
        authorizer=authorizer,
        stage=stage_name(template),
    )


_TEMPLATE_CACHE: dict[str, Any] = {}


def _default_template() -> dict[str, Any] | None:
    # Unit tests build many events; parse the repository template once per process.
    if "template" not in _TEMPLATE_CACHE and DEFAULT_TEMPLATE.exists():
        _TEMPLATE_CACHE["template"] = load_template()
    return _TEMPLATE_CACHE.get("template")
