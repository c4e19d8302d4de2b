"""The HTTP edge shared by every function: a Powertools resolver whose errors speak the contract.

Request checks run in the contract's order: the authorizer has already answered 401; then the body's
size and type, then the patient's existence and access (404/403), and only then Powertools' pydantic
validation (422), so a caller without access learns nothing from validation messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import jmespath
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from clinic import audit, request_body
from clinic.access import Action, Caller, authorize, patient_for
from clinic.errors import ApiError, BadRequest, NotFound, StorageUnavailable, ValidationFailed
from clinic.logger import logger
from clinic.openapi import SECURITY_SCHEMES, TITLE, VERSION
from clinic.settings import settings
from clinic.validation import rails_errors

if TYPE_CHECKING:
    from clinic import idempotency

JSON = "application/json"
_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",
        "LimitExceededException",
    }
)
# A transaction cancelled for one of these reasons failed for capacity, not for a condition.
_UNAVAILABLE_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        headers=headers,
    )


def error_response(error: ApiError) -> Response:
    return json_response(error.status, error.body(), dict(error.headers) or None)


def caller(app: APIGatewayRestResolver) -> Caller:
    context = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer")
    return Caller.from_authorizer(context)


def guarded_patient(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The patient the request is about, already checked by the access policy before validation."""
    return app.context["patient"]


# A check of the body that depends on who sends it (a patient user may change only some fields): the
# caller and the parsed body -> Rails-style errors, reported together with the body's validation errors.
BodyRule = Callable[[Caller, Any], dict[str, list[str]]]


def guarded(app: APIGatewayRestResolver) -> Any:
    """What the route's `guard` loaded and checked (an alert, with its patient) before validation."""
    return app.context["guarded"]


def _guard(
    action: Action | None,
    path_parameter: str,
    validation: Callable[..., Any],
    idempotent: bool = False,
    audit_ids: str | None = None,
    clinic_action: Action | None = None,
    body_rule: BodyRule | None = None,
    body_root: str = "base",
    resource: Callable[[Caller, str], Any] | None = None,
) -> Callable[..., Any]:
    keepers: dict[str, idempotency.Idempotency] = {}

    def guard(app: APIGatewayRestResolver, next_middleware: Callable[..., Any]) -> Any:
        request_body.check(app.current_event)
        if clinic_action is not None:
            authorize(caller(app), clinic_action)
        patient = None
        if action is not None:
            patient_id = (app.current_event.path_parameters or {}).get(path_parameter)
            patient = patient_for(caller(app), patient_id or "", action)
            app.append_context(patient=patient)
        elif resource is not None:
            path_value = (app.current_event.path_parameters or {}).get(path_parameter)
            app.append_context(guarded=resource(caller(app), path_value or ""))
        event = app.current_event
        route = f"{event.http_method} {event.resource}"
        refused = body_rule(caller(app), event.json_body if event.body else None) if body_rule else {}

        def respond() -> Response:
            if refused:
                _validate_then_refuse(app, validation, refused, body_root)
            result = validation(app, next_middleware)
            return result if isinstance(result, Response) else app._to_response(result)  # type: ignore[return-value]

        key = None
        if idempotent:
            # Powertools' idempotency utility is loaded by the POST routes only: GETs start faster.
            from clinic import idempotency

            key = event.headers.get(idempotency.HEADER)  # case-insensitive
        if key is not None:
            keeper = keepers.setdefault(route, idempotency.Idempotency(route))
            response = keeper.respond(
                user_id=caller(app).user_id,
                key=idempotency.validate_key(key),
                request=idempotency.request_fingerprint(event.path, event.decoded_body),
                lambda_context=app.lambda_context,
                produce=respond,
            )
        else:
            response = respond()
        if 200 <= response.status_code < 300:
            ids = [patient["id"]] if patient is not None else _returned_ids(response, audit_ids)
            if ids:
                _audit(app, action, route, response.status_code, ids)
        return response

    return guard


def _validate_then_refuse(
    app: APIGatewayRestResolver, validation: Callable[..., Any], refused: dict[str, list[str]], root: str
) -> None:
    """Runs the body's validation without the handler, then answers 422 with its errors and `refused` at once."""

    def refuse(_: APIGatewayRestResolver) -> Any:
        raise ValidationFailed(refused)

    try:
        validation(app, refuse)
    except RequestValidationError as error:
        if any(e.get("type") == "json_invalid" for e in error.errors()):
            raise
        found = rails_errors(error.errors(), root=root)
        for field, messages in refused.items():
            found.setdefault(field, []).extend(m for m in messages if m not in found.get(field, []))
        raise ValidationFailed(found) from None


def _returned_ids(response: Response, expression: str | None) -> list[int]:
    """The patient ids a list or a create returned (a JMESPath over the response body)."""
    if expression is None or not response.body:
        return []
    found = jmespath.search(expression, json.loads(response.body))
    return [int(i) for i in (found if isinstance(found, list) else [found]) if i is not None]


def _audit(app: APIGatewayRestResolver, action: Action | None, route: str, status: int, ids: list[int]) -> None:
    """Records who accessed which patients. Reads fail closed: no PHI goes out unrecorded. A change that
    already happened is answered (a failure would make the client retry a done change); the error line
    then carries the audit event itself (ids only), so the function's log group holds it."""
    event = app.current_event
    who = caller(app)
    label = action.value if action is not None else ("create" if event.http_method == "POST" else "list")
    request_id = event.request_context.request_id
    try:
        audit.record(
            who,
            action=label,
            method=event.http_method,
            route=event.resource,
            status=status,
            request_id=request_id,
            patient_ids=ids,
        )
    except Exception as error:
        audit.log_failed_write(error, who, action=label, route=route, patient_ids=ids)
        if event.http_method == "GET":
            raise


def api(
    *,
    patient: Action | None = None,
    path_parameter: str = "id",
    body: str = "base",
    idempotent: bool = False,
    audit_ids: str | None = None,
    clinic: Action | None = None,
    body_rule: BodyRule | None = None,
    guard: Callable[[Caller, str], Any] | None = None,
) -> APIGatewayRestResolver:
    """A resolver with the contract's error bodies.

    `patient`: check access to the path's patient before validation. `body`: the body's wrapper key
    (`patient`, `gauge`), named in the error when the body is missing altogether. `idempotent`: honour
    `Idempotency-Key` (POST routes). `audit_ids`: for routes without a path patient, a JMESPath to the
    patient ids the response returns (`id`, `patients[].id`), recorded in the audit trail. `clinic`: a
    clinic-level action (listing, creating patients) the caller's role must be allowed before validation.
    `body_rule`: errors of the body that depend on the caller, reported with its validation errors. `guard`:
    for routes whose path names something else than a patient (an alert), loads it and checks the caller's
    access from the path parameter before validation, as `patient` does (its result: `guarded(app)`).
    """
    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=request_body.parse_json)
    # Each function's own schema declares X-User-Token; tools/openapi.py merges them into one document.
    app.configure_openapi(title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES)
    # Powertools runs its request validation before any user middleware; the access check must come first.
    app._request_validation_middleware = _guard(  # type: ignore[assignment]
        patient,
        path_parameter,
        app._request_validation_middleware,
        idempotent,
        audit_ids,
        clinic,
        body_rule,
        body,
        guard,
    )

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response:
        errors = error.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(BadRequest())
        return error_response(ValidationFailed(rails_errors(errors, root=body)))

    @app.exception_handler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.exception_handler(ClientError)
    def _storage(error: ClientError) -> Response:
        code = error.response.get("Error", {}).get("Code", "")
        reasons = {r.get("Code") for r in error.response.get("CancellationReasons") or []}  # type: ignore[attr-defined]
        if code in _UNAVAILABLE_CODES or (code == "TransactionCanceledException" and reasons & _UNAVAILABLE_REASONS):
            logger.warning("storage unavailable", extra={"error_code": code})
            return error_response(StorageUnavailable())
        return _bug(error)

    @app.exception_handler(BotoCoreError)
    def _storage_unreachable(error: BotoCoreError) -> Response:
        # Connect and read timeouts, refused or dropped connections: all transient, all worth a retry.
        if isinstance(error, ConnectionError | HTTPClientError):
            logger.warning("storage unreachable", extra={"error_type": type(error).__name__})
            return error_response(StorageUnavailable())
        return _bug(error)

    @app.exception_handler(Exception)
    def _bug(error: Exception) -> Response:
        # Exception messages may quote input: log the type and where it happened, never the message.
        logger.error("unhandled error", extra={"error_type": type(error).__name__, "trace": _frames(error)})
        return json_response(500, {"errors": "Internal server error"})

    @app.not_found
    def _not_found(_: Exception) -> Response:
        return error_response(NotFound())

    return app


def _frames(error: BaseException) -> list[str]:
    tb = error.__traceback__
    frames = []
    while tb is not None:
        frames.append(f"{tb.tb_frame.f_code.co_filename.rsplit('/', 2)[-1]}:{tb.tb_lineno}")
        tb = tb.tb_next
    return frames[-6:]


# Response headers a browser app on another origin may read (besides the CORS-safelisted ones).
EXPOSED_HEADERS = "ETag, Location, Retry-After, Idempotent-Replayed"


def edge_headers(request_headers: Mapping[str, str] | None) -> dict[str, str]:
    """Headers every response of the API carries, errors included.

    `Cache-Control: no-store`: responses carry PHI, which no browser, proxy or CDN may keep. CORS: a request
    from an origin listed in the template's CorsAllowedOrigins may read the response (API Gateway answers the
    preflight); any other origin gets no CORS header, so a browser keeps the response from its page.
    """
    headers = {"Cache-Control": "no-store"}
    origin = next((v for k, v in (request_headers or {}).items() if k.lower() == "origin"), None)
    if origin and origin in settings().cors_allowed_origins:
        headers |= {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSED_HEADERS,
            "Vary": "Origin",
        }
    return headers


def handler(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point for a resolver: request id in every log line, no event bodies logged, and the
    edge headers on every response (the one place every answer passes, whichever handler made it)."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        result = app.resolve(event, context)
        headers = result.setdefault("multiValueHeaders", {})
        for name, value in edge_headers(event.get("headers")).items():
            headers[name] = [value]
        return result

    return lambda_handler
