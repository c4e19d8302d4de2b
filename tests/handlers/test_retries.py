"""Retries: jittered, doubling waits between attempts, none after the last (a caller out of attempts answers at
once), for the races of conditional writes and DynamoDB's unprocessed batch requests."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber
from clinic import retries, settings
from clinic.store import keys, table
from clinic.store.errors import Unavailable
from support import moto_tables


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits asked for, with the jitter pinned to its top (the longest wait each attempt may draw)."""
    slept: list[float] = []
    monkeypatch.setattr(retries.time, "sleep", slept.append)
    monkeypatch.setattr(retries.random, "uniform", lambda low, high: high)
    return slept


def test_waits_double_between_attempts_up_to_the_longest_and_never_after_the_last(waits: list[float]) -> None:
    seen: list[tuple[int, int]] = []
    for attempt in retries.attempts(8, first_wait=0.05, longest_wait=1.0):
        seen.append((attempt, len(waits)))  # how many waits came before this attempt
    assert seen == [(n, n) for n in range(8)]
    assert waits == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0])


def test_the_default_waits_are_those_of_a_lost_race(waits: list[float]) -> None:
    assert list(retries.attempts(3)) == [0, 1, 2]
    assert waits == pytest.approx([0.01, 0.02])


def test_an_attempt_that_succeeds_waits_no_more(waits: list[float]) -> None:
    for attempt in retries.attempts(30):
        if attempt == 2:
            break
    assert waits == pytest.approx([0.01, 0.02])


def test_the_wait_is_drawn_between_zero_and_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[float, float]] = []
    monkeypatch.setattr(retries.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(retries.random, "uniform", lambda low, high: drawn.append((low, high)) or low)
    list(retries.attempts(3, first_wait=0.02, longest_wait=2.0))
    assert drawn == [(0, 0.02), (0, 0.04)]


@pytest.mark.parametrize(("operation", "calls", "longest"), [("batch_get_item", 8, 1.0), ("batch_write_item", 10, 2.0)])
def test_a_batch_left_unprocessed_every_time_is_unavailable_without_a_last_wait(
    waits: list[float], operation: str, calls: int, longest: float
) -> None:
    """DynamoDB may leave part of a batch unprocessed (throttling); each retry sends what is left, after a wait,
    and a batch never completed is Unavailable (503) after the last call, not after one more wait."""
    with moto_tables():
        name = settings.settings().table_name
        key = table.encode_key(keys.patient(1))
        with Stubber(settings.dynamodb()) as stub:
            for _ in range(calls):
                if operation == "batch_get_item":
                    request = {name: {"Keys": [key], "ConsistentRead": True}}
                    stub.add_response(operation, {"Responses": {name: []}, "UnprocessedKeys": request})
                else:
                    request: Any = {name: [table.delete_request(keys.patient(1))]}
                    stub.add_response(operation, {"UnprocessedItems": request})
            with pytest.raises(Unavailable):
                if operation == "batch_get_item":
                    table.batch_get([keys.patient(1)])
                else:
                    table.batch_write([table.delete_request(keys.patient(1))])
            stub.assert_no_pending_responses()
    assert waits == pytest.approx([min(0.05 * 2**n, longest) for n in range(calls - 1)])
