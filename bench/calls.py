"""What a piece of code asks of DynamoDB, seen through botocore's event hooks on one client: every call
with its parameters (to replay it), the time spent inside it, and the items it read and wrote.

Times are the CPU time of the calling thread (`time.thread_time`): on a shared machine, wall time mostly
measures the neighbours."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


@dataclass
class Call:
    operation: str
    params: dict[str, Any]
    seconds: float = 0.0
    read: int = 0
    written: int = 0


def items_read(operation: str, parsed: dict[str, Any]) -> int:
    """Items DynamoDB read to answer: ScannedCount for Query/Scan (what is billed, filters or not)."""
    if operation in ("Query", "Scan"):
        return int(parsed.get("ScannedCount", parsed.get("Count", 0)))
    if operation == "GetItem":
        return 1 if "Item" in parsed else 0
    if operation == "BatchGetItem":
        return sum(len(items) for items in (parsed.get("Responses") or {}).values())
    if operation == "TransactGetItems":
        return len(parsed.get("Responses") or [])
    return 0


def items_written(operation: str, params: dict[str, Any]) -> int:
    if operation in WRITES:
        return 1
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in (params.get("RequestItems") or {}).values())
    if operation == "TransactWriteItems":
        return len(params.get("TransactItems") or [])
    return 0


@dataclass
class CallLog:
    """`with CallLog(client) as log:` records the calls made through `client` inside the block."""

    client: Any
    calls: list[Call] = field(default_factory=list)
    _started: float = 0.0

    def __enter__(self) -> CallLog:
        events = self.client.meta.events
        events.register("provide-client-params.dynamodb.*", self._params, unique_id="bench-params")
        events.register("before-call.dynamodb.*", self._before, unique_id="bench-before")
        events.register("after-call.dynamodb.*", self._after, unique_id="bench-after")
        return self

    def __exit__(self, *_: Any) -> None:
        events = self.client.meta.events
        events.unregister("provide-client-params.dynamodb.*", unique_id="bench-params")
        events.unregister("before-call.dynamodb.*", unique_id="bench-before")
        events.unregister("after-call.dynamodb.*", unique_id="bench-after")

    def _params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append(Call(model.name, copy.deepcopy(params)))

    def _before(self, **_: Any) -> None:
        self._started = time.thread_time()

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        call = self.calls[-1]
        call.seconds += time.thread_time() - self._started
        call.read += items_read(model.name, parsed)
        call.written = items_written(model.name, call.params)

    def clear(self) -> None:
        self.calls.clear()

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.calls)

    @property
    def read(self) -> int:
        return sum(c.read for c in self.calls)

    @property
    def written(self) -> int:
        return sum(c.written for c in self.calls)
