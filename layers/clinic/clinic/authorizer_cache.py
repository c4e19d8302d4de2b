"""Ending sessions at once: after a write that ends someone's access (tokens revoked, a user or a patient
deactivated), flush the API stage's authorizer cache (API Gateway FlushStageAuthorizersCache), which would
otherwise keep answering for a token for up to CACHE_TTL_SECONDS.

The write has already happened when the flush runs, so a failed flush never fails it: the flush is retried
with backoff within a time budget, then logged (ids and error codes only), counted in the
AuthorizerCacheFlushFailures metric, and reported to the caller.

A flush empties the cache of every token, not just the ended ones: each active token's next request calls
the authorizer once (two GetItems), as after a cold cache. That is the whole cost.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from clinic import settings
from clinic.logger import logger

# template.yaml: the authorizer's ReauthorizeEvery (tests/handlers/test_authorizer_cache.py keeps them equal).
CACHE_TTL_SECONDS = 300
FLUSHED, FAILED, SKIPPED = "flushed", "failed", "skipped"
METRIC = "AuthorizerCacheFlushFailures"

ATTEMPTS = 3
FIRST_DELAY_SECONDS = 0.1  # doubled after each failed attempt, with jitter
# No attempt starts after this long: a deactivating PUT must answer well within the function's timeout.
BUDGET_SECONDS = 3.0


class Stage(NamedTuple):
    """A REST API stage: its authorizer cache is the one that holds the tokens to forget."""

    api_id: str
    name: str

    @classmethod
    def serving(cls, event: Mapping[str, Any]) -> Stage | None:
        """The stage a Lambda proxy event came through. Off Lambda only when an API Gateway endpoint is set
        (`make run` points it at the local gateway): a handler run in-process by tests has no API Gateway to
        call, and must never reach AWS's."""
        if not (
            os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
            or os.environ.get("AWS_ENDPOINT_URL_API_GATEWAY")
            or os.environ.get("AWS_ENDPOINT_URL")
        ):
            return None
        context = event.get("requestContext") or {}
        api_id, name = context.get("apiId"), context.get("stage")
        return cls(api_id, name) if api_id and name else None


class Flush(NamedTuple):
    status: str  # FLUSHED, FAILED, or SKIPPED (no stage known)
    attempts: int = 0
    error: str | None = None  # the last attempt's error code, never its message

    def report(self) -> dict[str, Any]:
        """The admin CLI's account of it: the status, and what it means when the cache was not flushed."""
        if self.status == FLUSHED:
            return {"authorizer_cache": FLUSHED}
        reason = (
            f"the flush failed ({self.error})"
            if self.status == FAILED
            else "no API stage is known (--stack, or API_ID and API_STAGE)"
        )
        return {
            "authorizer_cache": self.status,
            "warning": f"The authorizer cache was not flushed: {reason}. A token that was used in the last "
            f"{CACHE_TTL_SECONDS} seconds may keep working for up to {CACHE_TTL_SECONDS} seconds.",
        }


def flush(stage: Stage | None) -> Flush:
    """Flush the stage's authorizer cache; never raises."""
    if stage is None:
        return Flush(SKIPPED)
    deadline = time.monotonic() + BUDGET_SECONDS
    delay = FIRST_DELAY_SECONDS
    attempt = 0
    while True:
        attempt += 1
        try:
            settings.api_gateway().flush_stage_authorizers_cache(restApiId=stage.api_id, stageName=stage.name)
            return Flush(FLUSHED, attempt)
        except (ClientError, BotoCoreError) as error:
            code, retryable = _classify(error)
        if not retryable or attempt >= ATTEMPTS or time.monotonic() + delay >= deadline:
            break
        time.sleep(delay * random.uniform(0.5, 1.0))
        delay *= 2
    _report_failure(stage, attempt, code)
    return Flush(FAILED, attempt, code)


def _classify(error: ClientError | BotoCoreError) -> tuple[str, bool]:
    """The error's code, and whether another attempt may succeed: throttling, API Gateway's 5xx, and no
    answer at all (connection refused, timeouts). Access denied or an unknown stage stay as they are."""
    if isinstance(error, BotoCoreError):
        return type(error).__name__, True
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    code = error.response.get("Error", {}).get("Code") or str(status)
    return code, status == 429 or status >= 500


def _report_failure(stage: Stage, attempts: int, code: str) -> None:
    logger.warning(
        "authorizer cache flush failed: ended tokens may work until their cached answers expire",
        extra={
            "api_id": stage.api_id,
            "stage": stage.name,
            "attempts": attempts,
            "error": code,
            "cache_ttl_seconds": CACHE_TTL_SECONDS,
        },
    )
    # Functions have a metrics namespace (template.yaml's Globals); the admin CLI has one under `make run`
    # and otherwise reports the failure in its output only.
    if os.environ.get("POWERTOOLS_METRICS_NAMESPACE"):
        from aws_lambda_powertools.metrics import MetricUnit, single_metric

        with single_metric(name=METRIC, unit=MetricUnit.Count, value=1):
            pass
