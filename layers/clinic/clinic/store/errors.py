"""What the store's callers may catch: the store's own outcomes, never botocore's error codes.

Every DynamoDB call of the store goes through `table.call`, which turns botocore's errors into these (or lets
a bug's error through unchanged). Powertools' idempotency utility calls DynamoDB itself; clinic.idempotency
hands the errors it wraps to `classify`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

# DynamoDB's answers that mean "not now": throttling, capacity, a transient fault. Worth a retry.
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
# A transaction is cancelled with one reason per action; these mean another write won a race.
_CONDITION_REASONS = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
# ... and these that it failed for capacity, not for a condition.
_UNAVAILABLE_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"})


class ConditionFailed(Exception):
    """A conditional write found the item not in the expected state.

    `failed` holds the positions, in a transaction, of the items whose condition failed (or that another
    transaction was changing); empty for a single-item write. `conflicted` holds those of the latter only
    (TransactionConflict: nothing is known about their condition, so a retry may succeed).
    """

    def __init__(self, failed: Iterable[int] = (), conflicted: Iterable[int] = ()) -> None:
        super().__init__()
        self.failed = frozenset(failed)
        self.conflicted = frozenset(conflicted)


class NewKeyTaken(Exception):
    """A new item's key (from a reserved id) is taken by another item: a bug, never retried (a 500)."""


class Unavailable(Exception):
    """DynamoDB could not serve the request now (throttled, timed out, unreachable): worth a retry.

    `reason` is DynamoDB's error code or botocore's error type (for logs; never a value)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def classify(error: BaseException) -> BaseException:
    """The store's exception for a botocore error: ConditionFailed or Unavailable, or `error` itself when it is
    neither (a request DynamoDB rejects is a bug, not a condition)."""
    if isinstance(error, ClientError):
        response: Mapping[str, Any] = error.response
        code = response.get("Error", {}).get("Code", "")
        cancelled = [r.get("Code") for r in response.get("CancellationReasons") or []]
        reasons = set(cancelled)
        if code == "ConditionalCheckFailedException":
            return ConditionFailed()
        if code == "TransactionCanceledException" and reasons & _CONDITION_REASONS:
            return ConditionFailed(
                (i for i, reason in enumerate(cancelled) if reason in _CONDITION_REASONS),
                (i for i, reason in enumerate(cancelled) if reason == "TransactionConflict"),
            )
        if code in _UNAVAILABLE_CODES or (code == "TransactionCanceledException" and reasons & _UNAVAILABLE_REASONS):
            return Unavailable(code)
    elif isinstance(error, ConnectionError | HTTPClientError):
        # Connect and read timeouts, refused or dropped connections: all transient, all worth a retry.
        return Unavailable(type(error).__name__)
    return error


def is_storage_failure(error: BaseException) -> bool:
    """Whether an error came from DynamoDB or the way to it rather than from the data of an item."""
    return isinstance(error, ConditionFailed | Unavailable | BotoCoreError | ClientError)
