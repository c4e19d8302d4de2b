"""The embedded DynamoDB (moto) with one change for speed: transactions without a whole-table copy.

moto implements TransactWriteItems by copying the whole table once per item so it can roll back; every
create then costs the size of the table, and `make run` or the HTTP tests slow down as data grows. The
items of one transaction have distinct keys, so checking every condition first and writing only when all
hold gives the same all-or-nothing outcome. `python -m local.moto_server` is moto's server with it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import sys
import threading
import unittest.mock
from collections.abc import Callable, Iterator
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend, dynamo_type, dynamodb_backends


def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems without its rollback copy of the whole table for every item (which makes each
    write cost the size of the table): the items of a transaction have distinct keys, so checking every
    condition first and then writing is the same all-or-nothing outcome."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    outcomes: list[tuple[str | None, str | None, None]] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        table = backend.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        marker = (op["TableName"], str(sorted(key.items())))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        condition = op.get("ConditionExpression")
        if condition is not None:
            check = get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not check.expr(backend.get_item(op["TableName"], key)):
                outcomes.append(("ConditionalCheckFailed", "The conditional request failed", None))
                continue
        outcomes.append((None, None, None))
    if any(code is not None for code, _, _ in outcomes):
        raise TransactionCanceledException(outcomes)
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        if op_type == "Put":
            backend.put_item(op["TableName"], op["Item"])
        elif op_type == "Delete":
            backend.delete_item(op["TableName"], op["Key"])
        elif op_type == "Update":
            backend.update_item(op["TableName"], op["Key"], op["UpdateExpression"], names, values)


def faster_transactions() -> Any:
    """A patch (context manager or start()/stop()) replacing moto's TransactWriteItems."""
    return unittest.mock.patch.object(DynamoDBBackend, "transact_write_items", transact_write_items)


@contextlib.contextmanager
def straight_into_moto(table_name: str, region: str) -> Iterator[Callable[[list[dict[str, Any]]], None]]:
    """A `write` for store.import_gauges (and the other bulk loads) that fills a big table of moto in-process
    (`mock_aws`) in seconds: each PutRequest goes to moto's backend as moto's BatchWriteItem puts it, without
    botocore serializing and moto parsing a request per 25 items, and with moto's item-size check off meanwhile
    (it re-sums the item on every attribute it sets: quadratic; these items are a few hundred bytes, DynamoDB's
    limit 400 KB). For loading the data a test or benchmark starts from, never for the writes it is about."""
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
    checked = dynamo_type.LimitedSizeDict.__setitem__

    def write(writes: list[dict[str, Any]]) -> None:
        for request in writes:
            backend.put_item(table_name, request["PutRequest"]["Item"])

    dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign,assignment]
    try:
        yield write
    finally:
        dynamo_type.LimitedSizeDict.__setitem__ = checked  # type: ignore[method-assign]


# Held by every write (atomic_writes) and by local.snapshot while it copies the tables, so a copy on disk is
# never half of a transaction.
WRITE_LOCK = threading.RLock()
_writes = [0]


def writes() -> int:
    """How many writes the embedded server has made (local.snapshot saves only when this changed)."""
    return _writes[0]


def atomic_writes() -> None:
    """DynamoDB's guarantee, made explicit for moto's threaded server: each write, and each transaction as a
    whole, is atomic with respect to the others (the condition checks above must not interleave)."""

    def atomic(fn: Callable[..., Any], copy_result: bool) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            with WRITE_LOCK:
                _writes[0] += 1
                result = fn(*args, **kwargs)
                # A copy, taken under the lock: moto answers PutItem and UpdateItem with the stored item itself and
                # reads it after returning, when the next writer may have changed it (two ADDs then both see the
                # second's result: two containers sharing one id block).
                return copy.deepcopy(result) if copy_result else result

        return run

    # DeleteItem answers the item it took out of the table (no writer reaches it again); our
    # TransactWriteItems answers nothing.
    for name, copy_result in (
        ("transact_write_items", False),
        ("put_item", True),
        ("update_item", True),
        ("delete_item", False),
    ):
        setattr(DynamoDBBackend, name, atomic(getattr(DynamoDBBackend, name), copy_result))


def serve(argv: list[str]) -> None:
    from moto.server import main

    faster_transactions().start()
    atomic_writes()
    main(argv)


if __name__ == "__main__":
    serve(sys.argv[1:])
