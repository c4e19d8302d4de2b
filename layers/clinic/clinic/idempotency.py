"""`Idempotency-Key` on POST routes, with Powertools' idempotency utility over the service's table.

The key is the caller's user id and the header's value, per route, for 24 hours: a retry returns the
first (2xx) response, with its status, body and headers, and changes nothing. The same key with another
request (path or body) is 422. A duplicate that arrives while the first is still running gets 409 with
`Retry-After` (the IETF Idempotency-Key draft's answer), so the client retries and then gets the replay.
Error responses are not stored: a request that failed can be retried with the same key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from clinic import store
from clinic.errors import IdempotencyInProgress, StorageUnavailable, ValidationFailed
from clinic.settings import dynamodb

HEADER = "Idempotency-Key"
EXPIRES_AFTER_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"


class _Records(DynamoDBPersistenceLayer):
    """Powertools' DynamoDB records, keyed the store's way: one partition per key, never a hot one."""

    def __init__(self) -> None:
        super().__init__(
            table_name=store.idempotency_table(),
            key_attr="pk",
            expiry_attr="expires_at",
            in_progress_expiry_attr="in_progress_expires_at",
            status_attr="idempotency_status",
            data_attr="response",
            validation_key_attr="request_hash",
            boto3_client=dynamodb(),
        )

    def _get_key(self, idempotency_key: str) -> dict[str, Any]:
        return store.idempotency_key(idempotency_key)


class _NotStored(Exception):
    """A non-2xx response: Powertools deletes the in-progress record, and the response goes out as is."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def validate_key(value: str) -> str:
    key = value.strip()
    if not key:
        raise ValidationFailed({"idempotency_key": ["can't be blank"]})
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationFailed({"idempotency_key": [f"is too long (maximum is {MAX_KEY_LENGTH} characters)"]})
    return key


class Idempotency:
    """The idempotency of one route (one per resolver: Powertools configures its store per function)."""

    def __init__(self, route: str) -> None:
        self.route = route
        self.config = IdempotencyConfig(
            event_key_jmespath="[user_id, key]",
            payload_validation_jmespath="request",
            expires_after_seconds=EXPIRES_AFTER_SECONDS,
        )
        self._records: _Records | None = None

    def _store(self) -> _Records:
        # Rebuilt only when settings.reset() switched client or table (tests); once per container otherwise.
        records = self._records
        if records is None or records.client is not dynamodb() or records.table_name != store.idempotency_table():
            records = self._records = _Records()
        return records

    def respond(
        self, *, user_id: int, key: str, request: dict[str, Any], lambda_context: Any, produce: Callable[[], Response]
    ) -> Response:
        """The stored response for (user, key), or `produce()`'s, stored when it is a 2xx."""
        if hasattr(lambda_context, "get_remaining_time_in_millis"):
            # An in-progress record expires with the invocation, so a crashed one does not block retries.
            self.config.register_lambda_context(lambda_context)
        ran = False

        def first_response(request: dict[str, Any]) -> dict[str, Any]:
            nonlocal ran
            ran = True
            response = produce()
            if not 200 <= response.status_code < 300:
                raise _NotStored(response)
            body = response.body
            if isinstance(body, bytes):
                body = body.decode()
            return {"status": response.status_code, "headers": dict(response.headers), "body": body}

        run = idempotent_function(
            first_response,
            data_keyword_argument="request",
            persistence_store=self._store(),
            config=self.config,
            key_prefix=self.route,
        )
        try:
            stored = run(request={"user_id": str(user_id), "key": key, "request": request})
        except _NotStored as not_stored:
            return not_stored.response
        except IdempotencyValidationError:
            raise ValidationFailed({"idempotency_key": ["is already used for a different request"]}) from None
        except IdempotencyAlreadyInProgressError:
            raise IdempotencyInProgress from None
        except IdempotencyInconsistentStateError:
            raise StorageUnavailable from None
        except IdempotencyPersistenceLayerError as error:
            # Powertools calls DynamoDB itself: the store says whether its error means "retry later" (503).
            cause = store.classify(error.__cause__ or error)
            if isinstance(cause, store.Unavailable):
                raise cause from None
            raise
        headers = dict(stored["headers"])
        if not ran:
            headers[REPLAYED_HEADER] = "true"
        # The stored headers hold the Content-Type: Response(content_type=) would only set it again.
        return Response(status_code=stored["status"], body=stored["body"], headers=headers)


def request_fingerprint(path: str, body: str | None) -> dict[str, Any]:
    """What must match for a retry: the path and the body (parsed, so key order and spacing do not count)."""
    try:
        parsed: Any = json.loads(body) if body else None
    except ValueError:
        parsed = body
    return {"path": path, "body": parsed}
