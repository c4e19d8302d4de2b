"""The request pipeline of every API function, as Powertools middlewares (`app.use`), one small class per check.

clinic.http.api() runs them in the contract's order: the caller (401), the body (413, 415, 400), the caller's
access to the clinic's action or to the path's patient (404, 403), then the audit trail and `Idempotency-Key`
around Powertools' own request validation (422) and the route. A caller without access never reaches validation,
so learns nothing from its messages. What a middleware learns goes into the resolver's context, cleared after
every request: routes read it with `caller(app)` and `guarded_patient(app)`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jmespath
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from clinic import audit, request_body
from clinic.access import Action, Caller, authorize, patient_for
from clinic.errors import ValidationFailed
from clinic.validation import rails_errors

if TYPE_CHECKING:
    from clinic import idempotency

# Keys of the resolver's context (Powertools' own keys start with "_").
CALLER = "caller"
PATIENT = "patient"
GUARDED = "guarded"

# A check of the body that depends on who sends it (a patient user may change only some fields): the
# caller and the parsed body -> Rails-style errors, reported together with the body's validation errors.
BodyRule = Callable[[Caller, Any], dict[str, list[str]]]


def caller(app: APIGatewayRestResolver) -> Caller:
    """Who is asking, as the authorizer identified them (parsed once per request, by `Authenticated`)."""
    who: Caller = app.context[CALLER]
    return who


def guarded_patient(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The patient the request is about, already checked by the access policy (by `AccessGuard`)."""
    patient: dict[str, Any] = app.context[PATIENT]
    return patient


def guarded(app: APIGatewayRestResolver) -> Any:
    """What the route's guard loaded and checked from its path (an alert with its patient), by `ResourceGuard`."""
    return app.context[GUARDED]


def route_of(app: APIGatewayRestResolver) -> str:
    """The route as API Gateway names it (`POST /v1/patients/{id}/gauges`): never the path's ids or a query."""
    event = app.current_event
    return f"{event.http_method} {event.resource}"


class Authenticated(BaseMiddlewareHandler[APIGatewayRestResolver]):
    """401 unless the request context holds the identity the authorizer gave (API Gateway passes strings)."""

    def handler(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
        identity = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer")
        app.append_context(**{CALLER: Caller.from_authorizer(identity)})
        return next_middleware(app)


class BodyChecks(BaseMiddlewareHandler[APIGatewayRestResolver]):
    """413, 415 or 400 for a body the routes cannot take, before anything else reads it (clinic.request_body)."""

    def handler(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
        request_body.check(app.current_event)
        return next_middleware(app)


class ClinicGuard(BaseMiddlewareHandler[APIGatewayRestResolver]):
    """403 unless the caller's role may perform a clinic-level `action` (listing, creating patients)."""

    def __init__(self, action: Action) -> None:
        super().__init__()
        self.action = action

    def handler(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
        authorize(caller(app), self.action)
        return next_middleware(app)


class AccessGuard(BaseMiddlewareHandler[APIGatewayRestResolver]):
    """404 or 403 unless the caller may perform `action` on the path's patient (clinic.access decides)."""

    def __init__(self, action: Action, path_parameter: str = "id") -> None:
        super().__init__()
        self.action = action
        self.path_parameter = path_parameter

    def handler(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
        patient_id = (app.current_event.path_parameters or {}).get(self.path_parameter) or ""
        app.append_context(**{PATIENT: patient_for(caller(app), patient_id, self.action)})
        return next_middleware(app)


class ResourceGuard(BaseMiddlewareHandler[APIGatewayRestResolver]):
    """For routes whose path names something else than a patient (an alert): `load` finds it and checks the
    caller's access from the path parameter, raising the contract's 404/403, before validation as
    `AccessGuard` does for a patient. What it returns is `guarded(app)`."""

    def __init__(self, load: Callable[[Caller, str], Any], path_parameter: str = "id") -> None:
        super().__init__()
        self.load = load
        self.path_parameter = path_parameter

    def handler(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
        value = (app.current_event.path_parameters or {}).get(self.path_parameter) or ""
        app.append_context(**{GUARDED: self.load(caller(app), value)})
        return next_middleware(app)


class AuditTrail(BaseMiddlewareHandler[APIGatewayRestResolver]):
    """Records who accessed which patients after every 2xx answer, a replayed one included (clinic.audit).

    The patients are the guarded one, or for routes without one (a list, a create) those the response returned:
    `returned_ids` is a JMESPath over its body (`id`, `patients[].id`). Reads fail closed: no PHI goes out
    unrecorded. A change that already happened is answered (a failure would make the client retry a done
    change); the error line then carries the audit event itself (ids only), so the function's log group holds it.
    """

    def __init__(self, action: Action | None, returned_ids: str | None = None) -> None:
        super().__init__()
        self.action = action
        self.returned_ids = returned_ids

    def handler(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
        response = next_middleware(app)
        if 200 <= response.status_code < 300:
            patient = app.context.get(PATIENT)
            ids = [patient["id"]] if patient is not None else self._returned(response)
            if ids:
                self._record(app, response.status_code, ids)
        return response

    def _returned(self, response: Response) -> list[int]:
        if self.returned_ids is None or not response.body:
            return []
        found = jmespath.search(self.returned_ids, json.loads(response.body))
        return [int(i) for i in (found if isinstance(found, list) else [found]) if i is not None]

    def _record(self, app: APIGatewayRestResolver, status: int, ids: list[int]) -> None:
        event = app.current_event
        who = caller(app)
        label = self.action.value if self.action is not None else ("create" if event.http_method == "POST" else "list")
        try:
            audit.record(
                who,
                action=label,
                method=event.http_method,
                route=event.resource,
                status=status,
                request_id=event.request_context.request_id,
                patient_ids=ids,
            )
        except Exception as error:
            audit.log_failed_write(error, who, action=label, route=route_of(app), patient_ids=ids)
            if event.http_method == "GET":
                raise


class IdempotencyKey(BaseMiddlewareHandler[APIGatewayRestResolver]):
    """`Idempotency-Key` (POST routes): a retry gets the first 2xx response and changes nothing (clinic.idempotency).

    It wraps validation and the route, so a retry is answered without validating its body again; the key itself
    is checked first (422 when blank or too long).
    """

    def __init__(self) -> None:
        super().__init__()
        # One per route: Powertools configures its idempotency store per function.
        self._keepers: dict[str, idempotency.Idempotency] = {}

    def handler(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
        # Powertools' idempotency utility is loaded by the POST routes only, when first used: GETs start faster.
        from clinic import idempotency

        event = app.current_event
        key = event.headers.get(idempotency.HEADER)  # case-insensitive
        if key is None:
            return next_middleware(app)
        route = route_of(app)
        keeper = self._keepers.get(route) or self._keepers.setdefault(route, idempotency.Idempotency(route))
        return keeper.respond(
            user_id=caller(app).user_id,
            key=idempotency.validate_key(key),
            request=idempotency.request_fingerprint(event.path, event.decoded_body),
            lambda_context=app.lambda_context,
            produce=lambda: next_middleware(app),
        )


class CallerBodyRule(BaseMiddlewareHandler[APIGatewayRestResolver]):
    """Request validation (422) that also reports `rule`'s errors of the body, which depend on the caller.

    It stands in the place of `validation` (Powertools' OpenAPIRequestValidationMiddleware) and runs it: when the
    rule refuses something, the route never runs and one 422 lists the rule's errors with the schema's, so a
    client fixes everything at once. A body that is not JSON stays the 400 of the validation.
    """

    def __init__(self, rule: BodyRule, validation: BaseMiddlewareHandler, root: str = "base") -> None:
        super().__init__()
        self.rule = rule
        self.validation = validation
        self.root = root

    def handler(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
        event = app.current_event
        refused = self.rule(caller(app), event.json_body if event.body else None)
        if not refused:
            return self.validation.handler(app, next_middleware)
        try:
            return self.validation.handler(app, _Refusal(refused))
        except RequestValidationError as error:
            if any(e.get("type") == "json_invalid" for e in error.errors()):
                raise
            found = rails_errors(error.errors(), root=self.root)
            for field, messages in refused.items():
                found.setdefault(field, []).extend(m for m in messages if m not in found.get(field, []))
            raise ValidationFailed(found) from None


class _Refusal:
    """What validation calls next when the caller's rule refused the body: the rule's 422, never the route."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors

    def __call__(self, app: ApiGatewayResolver) -> Response:
        raise ValidationFailed(self.errors)

    def __name__(self) -> str:  # Powertools' NextMiddleware protocol: the name its debug log prints
        return "refusal"
