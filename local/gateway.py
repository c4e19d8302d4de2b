"""A local stand-in for API Gateway (REST API) and Lambda: routes, the REQUEST authorizer, gateway
responses and schedules all come from template.yaml, and the handlers run in this process."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import select
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from local import events
from local.routing import RouteTable
from local.template import (
    AuthorizerSpec,
    CorsSpec,
    FunctionSpec,
    GatewayResponse,
    Route,
    api_routes,
    authorizer_specs,
    cors_spec,
    environment,
    function_specs,
    gateway_responses,
    layer_dirs,
    schedule_events,
    stage_name,
)

# See LocalGateway.__init__: handlers of one process never run concurrently.
_INVOKE_LOCK = threading.RLock()

# API Gateway rejects payloads above 10 MB before anything runs.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# The function id of the OPTIONS methods SAM adds for an API's `Cors` (a mock integration, no function).
CORS_PREFLIGHT = "<CORS preflight>"

# Status codes and default bodies of the gateway responses AWS uses when the template customises none.
_DEFAULT_RESPONSES: dict[str, tuple[int, str]] = {
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "AUTHORIZER_FAILURE": (500, "Authorizer failure"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "Authorizer configuration error"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "THROTTLED": (429, "Too Many Requests"),
}


class HttpResponse(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- authorizer policies ---


def _policy_allows(policy: Mapping[str, Any], method_arn: str) -> bool:
    """IAM evaluation for execute-api: an explicit Deny wins, otherwise an Allow must match."""
    statements = policy.get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = False
    for statement in statements:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(_wildcard_match(a, "execute-api:Invoke") for a in actions):
            continue
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if not any(_wildcard_match(r, method_arn) for r in resources):
            continue
        effect = str(statement.get("Effect", "")).lower()
        if effect == "deny":
            return False
        if effect == "allow":
            allowed = True
    return allowed


def _wildcard_match(pattern: str, value: str) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value) is not None


def _preflight_routes(routes: list[Route], cors: CorsSpec | None) -> list[Route]:
    """The OPTIONS method SAM adds to every path of an API with `Cors` (unless the path has one already)."""
    if cors is None:
        return []
    by_path: dict[str, list[Route]] = {}
    for route in routes:
        by_path.setdefault(route.path, []).append(route)
    preflights = []
    for path, on_path in by_path.items():
        if any(r.method in ("OPTIONS", "ANY") for r in on_path):
            continue
        authorizer = next((r.authorizer for r in on_path if r.authorizer), None) if cors.authorize_preflight else None
        preflights.append(Route("OPTIONS", path, CORS_PREFLIGHT, authorizer is not None, authorizer))
    return preflights


class _AuthResult(NamedTuple):
    principal_id: Any
    policy: Mapping[str, Any]
    context: Mapping[str, Any] | None


class _AuthError(Exception):
    def __init__(self, response_type: str, message: str) -> None:
        super().__init__(message)
        self.response_type = response_type
        self.message = message


def _add_layers_to_path(template: dict[str, Any]) -> None:
    """Make layer packages importable, as Lambda does from /opt/python.

    Only packages not importable already: the venv (or an editable install) wins, so a layer built in
    place for arm64 can never shadow this machine's own wheels.
    """
    for directory in layer_dirs(template):
        packages = [p.name for p in directory.iterdir() if (p / "__init__.py").is_file()]
        if any(importlib.util.find_spec(name) is None for name in packages) and str(directory) not in sys.path:
            sys.path.append(str(directory))


# --- the gateway ----------------------------------------------------------------------------------


class LocalGateway:
    """API Gateway REST API + Lambda, in-process, driven by the SAM template."""

    def __init__(
        self,
        template: dict[str, Any],
        overrides: dict[str, Any] | None = None,
        *,
        authorizer_cache: bool = True,
        set_environment: bool = True,
    ) -> None:
        self.template = template
        self.stage = stage_name(template, overrides)
        self.functions: dict[str, FunctionSpec] = {s.logical_id: s for s in function_specs(template, overrides)}
        self.authorizers: dict[str, AuthorizerSpec] = authorizer_specs(template, overrides)
        self.responses: dict[str, GatewayResponse] = gateway_responses(template, overrides)
        self.schedules = schedule_events(template, overrides)
        self.authorizer_cache = authorizer_cache
        self.cors: CorsSpec | None = cors_spec(template, overrides)
        routes = api_routes(template, overrides)
        self.routes = RouteTable(routes + _preflight_routes(routes, self.cors))
        self._modules: dict[str, ModuleType] = {}
        self._import_lock = threading.Lock()
        # One API invocation at a time in this process, whatever the function: Powertools keeps the current
        # event in a class attribute (BaseRouter.current_event), shared by every resolver of the process,
        # so two API handlers running at once (even of different functions) would read each other's
        # request. Functions without a resolver (the authorizer, scheduled jobs) are one container each,
        # so a long job run does not hold up requests.
        self._function_locks = {
            name: _INVOKE_LOCK if any(e.get("Type") == "Api" for e in spec.events.values()) else threading.RLock()
            for name, spec in self.functions.items()
        }
        self._auth_cache: dict[tuple[str, tuple[str, ...]], tuple[float, _AuthResult]] = {}
        # A flush bumps the generation: an answer computed before a flush (perhaps before the revocation it
        # follows) is not cached after it.
        self._auth_cache_lock = threading.Lock()
        self._auth_cache_generation = 0
        self._servers: list[_Server] = []
        if set_environment:
            # Lambda sees its variables before any import; the functions agree, so one process env works.
            os.environ.update(environment(template, overrides))
        _add_layers_to_path(template)

    # --- Lambda -----------------------------------------------------------------------------------

    def _module(self, function_id: str) -> ModuleType:
        with self._import_lock:
            if function_id in self._modules:
                return self._modules[function_id]
            spec = self.functions[function_id]
            file = spec.module_file
            # Every handler file is called app.py: give each its own module name so they never collide.
            name = "_local_lambda_" + re.sub(r"\W", "_", function_id)
            module_spec = importlib.util.spec_from_file_location(name, file)
            if module_spec is None or module_spec.loader is None:
                raise ImportError(f"cannot load {file}")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            # The code directory is the Lambda task root: sibling modules import as top-level modules.
            sys.path.insert(0, str(spec.code_dir))
            try:
                module_spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
            finally:
                sys.path.remove(str(spec.code_dir))
            self._modules[function_id] = module
            return module

    def invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        """Invoke a function by logical id, as Lambda would (its exceptions propagate)."""
        spec = self.functions[function_id]
        handler: Callable[[Any, Any], Any] = getattr(self._module(function_id), spec.handler_function)
        context = events.LambdaContext(function_id, spec.memory_mb, spec.timeout_seconds)
        with self._function_locks[function_id]:
            result = handler(event, context)
        # Lambda serialises the result to JSON; a non-serialisable return is an invocation error.
        return json.loads(json.dumps(result))

    # --- gateway responses --------------------------------------------------------------------------

    def gateway_response(self, response_type: str, message: str | None = None) -> HttpResponse:
        request_id = str(uuid.uuid4())
        default_status, default_message = _DEFAULT_RESPONSES.get(response_type, (500, "Internal server error"))
        message = message or default_message
        family = "DEFAULT_5XX" if default_status >= 500 else "DEFAULT_4XX"
        custom = self.responses.get(response_type) or self.responses.get(family)
        if custom is not None:
            status = custom.status if response_type in self.responses and custom.status else default_status
            body = (
                custom.body.replace("$context.error.messageString", json.dumps(message))
                .replace("$context.error.message", message)
                .replace("$context.error.responseType", response_type)
                .replace("$context.requestId", request_id)
            )
            headers = dict(custom.headers)
        else:
            status, body, headers = default_status, json.dumps({"message": message}), {}
        headers.setdefault("Content-Type", "application/json")
        headers["x-amzn-RequestId"] = request_id
        headers["x-amzn-ErrorType"] = response_type
        return HttpResponse(status, headers, body.encode("utf-8"))

    def _not_found(self) -> HttpResponse:
        if any(t in self.responses for t in ("MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX")):
            return self.gateway_response("MISSING_AUTHENTICATION_TOKEN")
        body = json.dumps({"errors": "Not found"}).encode()
        return HttpResponse(404, {"Content-Type": "application/json"}, body)

    def _internal_error(self) -> HttpResponse:
        # A crashed or malformed Lambda proxy response is a 502 "Internal server error".
        custom = self.responses.get("DEFAULT_5XX")
        if custom is not None:
            response = self.gateway_response("DEFAULT_5XX", "Internal server error")
            return HttpResponse(502, response.headers, response.body)
        body = json.dumps({"errors": "Internal server error"}).encode()
        return HttpResponse(502, {"Content-Type": "application/json"}, body)

    # --- authorizer -----------------------------------------------------------------------------

    def _authorize(self, route: Route, event: dict[str, Any]) -> dict[str, Any]:
        """Run the route's authorizer; returns requestContext.authorizer or raises _AuthError."""
        spec = self.authorizers.get(route.authorizer or "")
        if spec is None:
            raise _AuthError("AUTHORIZER_CONFIGURATION_ERROR", f"unknown authorizer {route.authorizer}")
        headers = {k.lower(): v for k, v in (event["headers"] or {}).items()}
        query = event["queryStringParameters"] or {}
        identity = tuple(headers.get(h.lower(), "") for h in spec.identity_headers) + tuple(
            query.get(q, "") for q in spec.identity_query_strings
        )
        # Missing identity sources: API Gateway answers 401 without invoking the authorizer.
        if not identity or not all(identity):
            raise _AuthError("UNAUTHORIZED", "Unauthorized")

        arn = events.method_arn(event["httpMethod"], event["path"], self.stage)
        key = (spec.name, identity)
        cached = self._auth_cache.get(key) if self.authorizer_cache else None
        if cached and cached[0] > time.monotonic():
            result = cached[1]
        else:
            generation = self._auth_cache_generation
            result = self._run_authorizer(spec, event)
            if self.authorizer_cache and spec.reauthorize_every > 0:
                with self._auth_cache_lock:
                    if generation == self._auth_cache_generation:
                        self._auth_cache[key] = (time.monotonic() + spec.reauthorize_every, result)
        # A cached policy is re-evaluated against each request's ARN, exactly like API Gateway.
        if not _policy_allows(result.policy, arn):
            raise _AuthError("ACCESS_DENIED", "User is not authorized to access this resource")
        return events.authorizer_context(result.principal_id, result.context)

    def _run_authorizer(self, spec: AuthorizerSpec, event: dict[str, Any]) -> _AuthResult:
        auth_event = events.request_authorizer_event(event)
        try:
            output = self.invoke(spec.function_id, auth_event)
        except Exception as error:
            if str(error) == "Unauthorized":
                raise _AuthError("UNAUTHORIZED", "Unauthorized") from None
            _log(f"authorizer {spec.function_id} failed:\n{traceback.format_exc()}")
            raise _AuthError("AUTHORIZER_FAILURE", "Authorizer failure") from None
        if not isinstance(output, dict) or not isinstance(output.get("policyDocument"), dict):
            _log(f"authorizer {spec.function_id} returned no policyDocument")
            raise _AuthError("AUTHORIZER_CONFIGURATION_ERROR", "Authorizer configuration error")
        context = output.get("context")
        if context is not None and (
            not isinstance(context, dict) or any(isinstance(v, dict | list) for v in context.values())
        ):
            # AWS only accepts string, number and boolean context values.
            _log(f"authorizer {spec.function_id} returned a context with non-primitive values")
            raise _AuthError("AUTHORIZER_CONFIGURATION_ERROR", "Authorizer configuration error")
        return _AuthResult(output.get("principalId"), output["policyDocument"], context)

    # --- the management API: FlushStageAuthorizersCache --------------------------------------------

    def flush_authorizer_cache(self) -> None:
        """Forget every cached authorizer answer, as API Gateway's FlushStageAuthorizersCache does for a stage."""
        with self._auth_cache_lock:
            self._auth_cache.clear()
            self._auth_cache_generation += 1

    def manage(self, method: str, path: str) -> HttpResponse | None:
        """The one management call the domain makes (clinic.authorizer_cache), for boto3 pointed here by
        AWS_ENDPOINT_URL_API_GATEWAY: DELETE /restapis/{api_id}/stages/{stage}/cache/authorizers, answered
        as API Gateway does (202, or 404 NotFoundException for another API or stage). None for any other
        request. Requests are not signature-checked (nor are they by the embedded DynamoDB): local only."""
        found = _FLUSH_PATH.fullmatch(path)
        if method != "DELETE" or found is None:
            return None
        if (unquote(found[1]), unquote(found[2])) != (events.API_ID, self.stage):
            body = json.dumps({"message": "Invalid stage identifier specified"}).encode()
            headers = {"Content-Type": "application/json", "x-amzn-ErrorType": "NotFoundException"}
            return HttpResponse(404, headers, body)
        self.flush_authorizer_cache()
        _log(f"authorizer cache of stage '{self.stage}' flushed")
        return HttpResponse(202, {"Content-Type": "application/json"}, b"")

    # --- requests ---------------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        raw_path: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        """Serve one HTTP request: route, authorize, invoke, translate the Lambda proxy response."""
        split = urlsplit(raw_path)
        path = split.path or "/"
        if len(body) > MAX_PAYLOAD_BYTES:
            return self.gateway_response("REQUEST_TOO_LARGE")
        found = self.routes.match(method, path)
        if found is None:
            return self._not_found()
        route, params = found
        event = events.rest_event(
            method,
            unquote(path),
            resource=route.path,
            path_parameters=params,
            headers=list(headers.items()) if isinstance(headers, Mapping) else list(headers or []),
            query=split.query,
            body=body,
            stage=self.stage,
            source_ip=source_ip,
        )
        if route.auth_required:
            try:
                event["requestContext"]["authorizer"] = self._authorize(route, event)
            except _AuthError as error:
                return self.gateway_response(error.response_type, error.message)
        if route.function_id == CORS_PREFLIGHT:
            return self._preflight(event["requestContext"]["requestId"])
        try:
            result = self.invoke(route.function_id, event)
            return self._proxy_response(result, event["requestContext"]["requestId"])
        except Exception:
            _log(f"{route.function_id} failed:\n{traceback.format_exc()}")
            return self._internal_error()

    def _preflight(self, request_id: str) -> HttpResponse:
        """The mock integration SAM writes for `Cors`: 200, its static headers, an empty JSON body."""
        headers = {**(self.cors.headers if self.cors else {}), "Content-Type": "application/json"}
        headers["x-amzn-RequestId"] = request_id
        return HttpResponse(200, headers, b"{}")

    @staticmethod
    def _proxy_response(result: Any, request_id: str) -> HttpResponse:
        if not isinstance(result, dict):
            raise TypeError(f"malformed Lambda proxy response: {type(result).__name__}")
        status = result.get("statusCode")
        if isinstance(status, str) and status.isdigit():
            status = int(status)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise TypeError("malformed Lambda proxy response: bad statusCode")
        headers: dict[str, str] = {}
        for key, value in (result.get("headers") or {}).items():
            headers[key] = "" if value is None else str(value)
        for key, values in (result.get("multiValueHeaders") or {}).items():
            existing = [headers[key]] if key in headers else []
            headers[key] = ", ".join(existing + [str(v) for v in values])
        body = result.get("body")
        if body is None:
            raw = b""
        elif result.get("isBase64Encoded"):
            raw = base64.b64decode(body)
        else:
            raw = str(body).encode("utf-8")
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        headers["x-amzn-RequestId"] = request_id
        return HttpResponse(status, headers, raw)

    # --- HTTP server ------------------------------------------------------------------------------

    def serve(self, host: str = "127.0.0.1", port: int = 3000) -> ThreadingHTTPServer:
        """Serve HTTP in a daemon thread; the returned server has `.url` and `.shutdown()`."""
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY: headers and body go out in separate writes, and with Nagle's algorithm a kept-alive
            # client then waits for its delayed ACK (about 40 ms) on every response.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                started = time.perf_counter()
                path = urlsplit(self.path).path  # logged without the query string: it may carry patient data
                try:
                    body, response = _read_body(self, gateway)
                except _ClientGone:
                    _log(f"{self.command} {path} client disconnected before sending its body")
                    self.close_connection = True
                    return
                if response is None:
                    response = gateway.manage(self.command, path) or gateway.handle(
                        self.command, self.path, self.headers.items(), body, self.client_address[0]
                    )
                else:
                    self.close_connection = True  # the rest of the body (if any) is still unread
                elapsed = (time.perf_counter() - started) * 1000
                # Logged before replying so a client that has its answer can rely on the line being there.
                _log(f"{self.command} {path} {response.status} {elapsed:.0f}ms")
                try:
                    self.send_response(response.status)
                    for key, value in response.headers.items():
                        self.send_header(key, value)
                    if response.status not in (204, 304):
                        self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    if response.status not in (204, 304) and self.command != "HEAD":
                        self.wfile.write(response.body)
                    self.wfile.flush()
                except (ConnectionError, TimeoutError):
                    _log(f"{self.command} {path} client disconnected before the response was sent")
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

            def handle_one_request(self) -> None:
                self.server.next_request(self)  # type: ignore[attr-defined]
                try:
                    super().handle_one_request()
                finally:
                    self.server.done()  # type: ignore[attr-defined]

            def __getattr__(self, name: str) -> Any:
                # Any other method (TRACE, QUERY, ...) is routed too, so it gets API Gateway's answer to a method
                # the resource lacks, and its body is read (http.server's 501 would leave it on a kept-alive
                # connection, where it would be read as the next request).
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the one-line log above replaces http.server's (which includes the query string)

        server = _Server((host, port), Handler)
        bound_host, bound_port = server.server_address[:2]
        server.url = f"http://{bound_host}:{bound_port}"  # type: ignore[attr-defined]
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="local-gateway", daemon=True
        )
        thread.start()
        self._servers.append(server)
        _LIVE.add(server)
        return server

    def shutdown(self) -> None:
        for server in self._servers:
            _LIVE.discard(server)
            server.shutdown()
            server.server_close()
        self._servers.clear()


class _Server(ThreadingHTTPServer):
    # http.server listens with a backlog of 5: a burst of 40 clients then saw most of its connections reset.
    # The kernel caps this at net.core.somaxconn.
    request_queue_size = max(socket.SOMAXCONN, 1024)
    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What wait_until_idle looks at, under one lock: the requests being served, and the open connections
        # (idle ones wait for their next request without reading it, so one that arrived shows as readable).
        self._changed = threading.Condition()
        self._serving = 0
        self._connections: set[socket.socket] = set()

    def get_request(self) -> tuple[socket.socket, Any]:
        with self._changed:  # accepted and counted at once: never in neither the backlog nor the set
            connection, address = super().get_request()
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._changed:  # called once per accepted connection, on every path (served, refused, failed)
            self._connections.discard(request)
            self._changed.notify_all()
        super().shutdown_request(request)

    def next_request(self, handler: BaseHTTPRequestHandler) -> None:
        """Waits for the connection's next request (or its end) without reading it, then counts it as being
        served until `done`. A request the client sent with the one before it is already in the handler's buffer:
        looked for without waiting, under the lock, as it moves the socket's bytes there."""
        with self._changed:
            timeout = handler.connection.gettimeout()
            handler.connection.settimeout(0)
            try:
                buffered = bool(handler.rfile.peek(1))  # type: ignore[attr-defined]
            finally:
                handler.connection.settimeout(timeout)
            self._serving += buffered
        if not buffered:
            select.select([handler.connection], [], [])  # readable until read: wait_until_idle sees it meanwhile
            with self._changed:
                self._serving += 1

    def done(self) -> None:
        with self._changed:
            self._serving -= 1
            self._changed.notify_all()

    def wait_until_idle(self, deadline: float) -> bool:
        """Whether, by `deadline` (time.monotonic()), no request is being served, none has arrived on an open
        connection and no connection waits to be accepted. Idle kept-alive connections may stay open."""
        with self._changed:
            while self._serving or select.select([self.socket, *self._connections], [], [], 0)[0]:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.02))  # a waiting connection is accepted within poll_interval
        return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up is not a failure of the gateway: one line, not socketserver's traceback.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            _log(f"client {client_address[0]}:{client_address[1]} disconnected")
            return
        super().handle_error(request, client_address)


_LIVE: set[_Server] = set()  # every gateway server this process runs


def wait_until_idle(timeout: float) -> bool:
    """Whether, within `timeout` seconds, every gateway server of this process answered every request it
    received, those still waiting to be read or accepted included. A client that hangs up mid-request (a browser
    tab closed while the app was fetching) leaves its request running on a server thread, with the process's
    environment: the tests wait for it after each test, so it never runs during the next one, against the table
    that test points the process at."""
    deadline = time.monotonic() + timeout
    return all(server.wait_until_idle(deadline) for server in list(_LIVE))


class _ClientGone(Exception):
    """The client closed the connection before its request was complete."""


_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,8}")
_FLUSH_PATH = re.compile(r"/restapis/([^/]+)/stages/([^/]+)/cache/authorizers")


def _bad_request(message: str) -> HttpResponse:
    # What API Gateway's front end answers a request it cannot parse, before any route or authorizer.
    return HttpResponse(400, {"Content-Type": "application/json"}, json.dumps({"errors": message}).encode())


def _read_body(handler: BaseHTTPRequestHandler, gateway: LocalGateway) -> tuple[bytes, HttpResponse | None]:
    """The request body (Content-Length or chunked), or the response to a request whose framing is wrong."""
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        return _read_chunks(handler, gateway)
    lengths = {value.strip() for value in handler.headers.get_all("Content-Length") or []}
    if not lengths:
        return b"", None
    length_text = lengths.pop()
    if lengths or not (length_text.isascii() and length_text.isdigit() and len(length_text) <= 18):
        return b"", _bad_request("Content-Length must be a number of bytes")
    length = int(length_text)
    if length > MAX_PAYLOAD_BYTES:
        return b"", gateway.gateway_response("REQUEST_TOO_LARGE")
    body = handler.rfile.read(length) if length else b""
    if len(body) < length:
        raise _ClientGone
    return body, None


def _read_chunks(handler: BaseHTTPRequestHandler, gateway: LocalGateway) -> tuple[bytes, HttpResponse | None]:
    """A `Transfer-Encoding: chunked` body (RFC 9112 section 7.1): size lines in hex, data, CRLF; trailers ignored."""
    chunks: list[bytes] = []
    total = 0
    while True:
        line = handler.rfile.readline(1024)
        if not line:
            raise _ClientGone
        size_text = line.split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_text):
            return b"", _bad_request("Malformed chunked request body")
        size = int(size_text, 16)
        if size == 0:
            while (trailer := handler.rfile.readline(65536)) not in (b"\r\n", b"\n"):
                if not trailer:
                    raise _ClientGone
            return b"".join(chunks), None
        total += size
        if total > MAX_PAYLOAD_BYTES:
            return b"", gateway.gateway_response("REQUEST_TOO_LARGE")
        data = handler.rfile.read(size)
        if len(data) < size:
            raise _ClientGone
        if handler.rfile.read(2) != b"\r\n":
            return b"", _bad_request("Malformed chunked request body")
        chunks.append(data)


def start_schedules(gateway: LocalGateway, stop: threading.Event) -> None:
    """Run every rate() schedule function now and then every period, until `stop` is set."""

    def run(function_id: str, rule: str, period: int, payload: dict[str, Any] | None) -> None:
        while not stop.is_set():
            try:
                gateway.invoke(function_id, payload if payload is not None else events.scheduled_event(rule))
                _log(f"schedule {function_id} ran")
            except Exception:
                _log(f"schedule {function_id} failed:\n{traceback.format_exc()}")
            stop.wait(period)

    for function_id, event_name, period, payload in gateway.schedules:
        rule = f"{events.API_ID}-{function_id}-{event_name}"
        threading.Thread(
            target=run, args=(function_id, rule, period, payload), name=f"schedule-{function_id}", daemon=True
        ).start()


def default_gateway(template_path: str | Path | None = None, **kwargs: Any) -> LocalGateway:
    from local.template import load_template

    return LocalGateway(load_template(template_path), **kwargs)
