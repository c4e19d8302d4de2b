"""Events `alert.opened` and `alert.resolved` for notifications: ids and priority only, never PHI.

A transactional outbox: the transaction that opens or resolves an alert also writes its event's outbox item
(`OUTBOX#<shard>`). After the write the request publishes the event and deletes the item; if publishing
fails, the item stays and the scheduled summary job publishes it within one schedule (`drain`). The inbox is
the source of truth: a lost notification never loses an alert. Delivery is at least once (a crash between
publishing and deleting the item publishes it again): consumers deduplicate on `event_id`.

On Lambda the events go to the EventBridge bus named by EVENT_BUS_NAME (template.yaml: a rule sends them to an
SNS topic, with retries and an SQS dead-letter queue); elsewhere (`make run`, tests) each is a log line and a
line of LOCAL_EVENTS_FILE (default `.local/events.ndjson`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from clinic import clock
from clinic.logger import logger
from clinic.settings import after_restore
from clinic.store import alerts as alert_store

SOURCE = "patients-api"
SETTLE = timedelta(seconds=60)  # an outbox item younger than this may still be published by its request
EVENT_FIELDS = ("alert_id", "patient_id", "clinic_id", "priority", "at")


def detail(item: Mapping[str, Any]) -> dict[str, Any]:
    """The event's body: its id (stable across republishing) and the alert's ids and priority."""
    body = {name: item[name] for name in EVENT_FIELDS}
    body["event_id"] = f"{item['event']}:{item['alert_id']}:{item['at']}"
    return body


def _on_aws() -> bool:
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not os.environ.get("AWS_SAM_LOCAL")


@cache
def _client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("events", config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2))


after_restore(_client.cache_clear)


def _send(items: Sequence[Mapping[str, Any]]) -> None:
    if _on_aws():
        bus = os.environ["EVENT_BUS_NAME"]
        entries = [
            {"Source": SOURCE, "DetailType": i["event"], "Detail": json.dumps(detail(i)), "EventBusName": bus}
            for i in items
        ]
        for start in range(0, len(entries), 10):  # PutEvents takes up to 10 entries
            response = _client().put_events(Entries=entries[start : start + 10])
            if response.get("FailedEntryCount"):
                raise RuntimeError("EventBridge refused an event")
        return
    path = Path(os.environ.get("LOCAL_EVENTS_FILE") or ".local/events.ndjson")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for item in items:
            event = {"source": SOURCE, "detail-type": item["event"], "detail": detail(item)}
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
            logger.info("event published", extra={"event": event})


def publish(items: Sequence[Mapping[str, Any]]) -> int:
    """Publishes written events and removes them from the outbox; returns how many went out. A failure is
    logged (ids only) and left to the outbox: the request that wrote the alert still succeeds."""
    if not items:
        return 0
    try:
        _send(items)
    except Exception as error:  # any failure to publish: the outbox keeps the event
        logger.warning("event not published; the outbox keeps it", extra={"error_type": type(error).__name__})
        return 0
    for item in items:
        alert_store.event_published(item)
    return len(items)


def drain() -> int:
    """Publishes the outbox's events older than a minute (their request did not publish them): the summary
    job's retry path. Reads only the outbox's 8 small partitions."""
    before = clock.iso(clock.now() - SETTLE)
    published = 0
    for shard in range(alert_store.OUTBOX_SHARDS):
        pending = list(alert_store.pending_events(shard, before))
        if pending:
            published += publish(pending)
    return published
