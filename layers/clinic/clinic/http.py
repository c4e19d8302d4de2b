"""The HTTP edge shared by every function: a Powertools resolver whose errors speak the contract.

Every request passes clinic.middleware's checks in the contract's order (401, then the body's 413/415/400,
then the caller's access, 404/403, and only then Powertools' pydantic validation, 422), so a caller without
access learns nothing from validation messages; what they raise becomes the contract's body here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths

from clinic import request_body, store
from clinic.access import Action, Caller
from clinic.errors import ApiError, BadRequest, InternalError, NotFound, StorageUnavailable, ValidationFailed
from clinic.logger import logger
from clinic.middleware import (
    AccessGuard,
    AuditTrail,
    Authenticated,
    BodyChecks,
    BodyRule,
    CallerBodyRule,
    ClinicGuard,
    IdempotencyKey,
    ResourceGuard,
)
from clinic.openapi import SECURITY_SCHEMES, TITLE, VERSION
from clinic.settings import settings
from clinic.validation import rails_errors

JSON = "application/json"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        headers=headers,
    )


def error_response(error: ApiError) -> Response:
    return json_response(error.status, error.body(), dict(error.headers) or None)


def api(
    *,
    patient: Action | None = None,
    path_parameter: str = "id",
    body: str = "base",
    idempotent: bool = False,
    audit_ids: str | None = None,
    clinic: Action | None = None,
    body_rule: BodyRule | None = None,
    public: bool = False,
    guard: Callable[[Caller, str], Any] | None = None,
) -> APIGatewayRestResolver:
    """A resolver with the contract's request pipeline (clinic.middleware) and error bodies.

    `patient`: check access to the path's patient before validation. `body`: the body's wrapper key
    (`patient`, `gauge`), named in the error when the body is missing altogether. `idempotent`: honour
    `Idempotency-Key` (POST routes). `audit_ids`: for routes without a path patient, a JMESPath to the
    patient ids the response returns (`id`, `patients[].id`), recorded in the audit trail. `clinic`: a
    clinic-level action (listing, creating patients) the caller's role must be allowed before validation.
    `body_rule`: errors of the body that depend on the caller, reported with its validation errors.
    `public`: the route has no authorizer (the template's `Authorizer: NONE`), so no caller. `guard`: for
    routes whose path names something else than a patient (an alert), loads it and checks the caller's access
    from the path parameter before validation, as `patient` does (its result: `clinic.middleware.guarded`).
    """
    # Validation is Powertools' own middleware, placed by us: Powertools would run it before every other one.
    app = APIGatewayRestResolver(enable_validation=False, json_body_deserializer=request_body.parse_json)
    # Each function's own schema declares X-User-Token; tools/openapi.py merges them into one document.
    app.configure_openapi(title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES)
    validation: BaseMiddlewareHandler = OpenAPIRequestValidationMiddleware()
    if body_rule is not None:
        validation = CallerBodyRule(body_rule, validation, root=body)
    audited = patient is not None or audit_ids is not None
    app.use(
        [
            *([] if public else [Authenticated()]),
            BodyChecks(),
            *([ClinicGuard(clinic)] if clinic is not None else []),
            *([AccessGuard(patient, path_parameter)] if patient is not None else []),
            *([ResourceGuard(guard, path_parameter)] if guard is not None else []),
            *([AuditTrail(patient, audit_ids)] if audited else []),
            *([IdempotencyKey()] if idempotent else []),
            validation,
        ]
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

    @app.exception_handler(store.Unavailable)
    def _storage(error: store.Unavailable) -> Response:
        # Throttling, timeouts, an unreachable endpoint (the store tells them from bugs, which stay 500s).
        logger.warning("storage unavailable", extra={"error_code": error.reason})
        return error_response(StorageUnavailable())

    @app.exception_handler(Exception)
    def _bug(error: Exception) -> Response:
        # Exception messages may quote input: log the type and where it happened, never the message.
        logger.error("unhandled error", extra={"error_type": type(error).__name__, "trace": _frames(error)})
        return error_response(InternalError())

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
