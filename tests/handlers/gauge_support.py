"""Helpers shared by the gauge and summary tests: a clinic with its admin's calls through the local gateway,
a meter of what DynamoDB Query calls read, and fast paths for loading big tables into moto and querying them."""

from __future__ import annotations

import contextlib
import inspect
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from clinic import accounts, patients, settings, store
from clinic.access import Caller
from clinic.models.patients import NewPatient
from moto.dynamodb.models.table import Table
from support import Client, dynamodb_hooks

from local import moto_server
from local.gateway import LocalGateway
from local.template import REGION, load_template


@dataclass
class Clinic:
    caller: Caller
    token: str
    gateway: LocalGateway

    def patient(self, time_zone: str = "UTC", first_name: str = "Pat") -> dict[str, Any]:
        new = NewPatient(first_name=first_name, last_name="Gauge", date_of_birth="1990-01-01", time_zone=time_zone)
        return patients.create(self.caller, new)

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
        """(status, parsed body) of the admin's request; `body` is sent as JSON, `raw` as it is."""
        reply = Client(self.gateway).request(
            method,
            path,
            token=self.token,
            json_body=... if body is None else body,
            data=raw,
            headers={"Content-Type": "application/json"},
        )
        return reply.status, reply.body


def new_clinic() -> Clinic:
    """An admin (access to every patient of the clinic) and its token; needs the `aws` fixture."""
    clinic = accounts.create_clinic("Gauge Clinic")
    admin = accounts.create_user(clinic["id"], "admin", "Ada Admin")
    token = accounts.issue_token(admin["id"])["token"]
    caller = Caller(user_id=admin["id"], clinic_id=clinic["id"], role="admin")
    return Clinic(caller, token, LocalGateway(load_template(), authorizer_cache=False))


@dataclass
class QueryMeter:
    """Sums what the domain's DynamoDB client reads through Query ('after-call.dynamodb.Query' hook)."""

    calls: int = 0
    scanned: int = 0
    returned: int = 0
    by_index: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # (index or "table", partition key value, ScannedCount, Count) of every call
    log: list[tuple[str, str, int, int]] = field(default_factory=list)

    def __call__(self, http_response: Any, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
        scanned, count = int(parsed.get("ScannedCount", 0)), int(parsed.get("Count", 0))
        params = (kwargs.get("context") or {}).get("meter_params") or {}
        self.calls += 1
        self.scanned += scanned
        self.returned += count
        self.by_index[params.get("index", "table")] += scanned
        self.log.append((params.get("index", "table"), params.get("pk", ""), scanned, count))

    def reset(self) -> None:
        self.calls = self.scanned = self.returned = 0
        self.by_index.clear()
        self.log.clear()


@contextlib.contextmanager
def metered() -> Iterator[QueryMeter]:
    meter = QueryMeter()

    def remember(params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        values = params.get("ExpressionAttributeValues") or {}
        context["meter_params"] = {
            "index": params.get("IndexName", "table"),
            "pk": (values.get(":pk") or {}).get("S", ""),
        }

    with dynamodb_hooks(("before-parameter-build.dynamodb.Query", remember), ("after-call.dynamodb.Query", meter)):
        yield meter


def fast_moto_queries(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto answers every Query by sorting the whole table (O(N log N) per call, seconds at 50,000 items).

    DynamoDB reads one partition. This narrows moto's candidates to the items whose partition key
    matches (compared as raw strings), then runs moto's own Query over them unchanged: results,
    Limit, LastEvaluatedKey and ScannedCount are moto's, only the time is not.
    """
    original = Table.query
    if getattr(original, "narrowed_to_partition", False):
        return  # already in place (hypothesis runs a test body many times under one monkeypatch)
    signature = inspect.signature(original)

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, hash_key, *args, **kwargs).arguments
        if bound.get("index_name"):
            conditions = bound.get("hash_key_conditions") or []
            if len(conditions) != 1:
                return original(self, hash_key, *args, **kwargs)
            attribute, wanted = conditions[0][0], conditions[0][1].value
            narrowed: dict[Any, Any] = defaultdict(dict)
            for partition, items in self.items.items():
                for sort_key, item in items.items():
                    value = item.attrs.get(attribute)
                    if value is not None and value.value == wanted:
                        narrowed[partition][sort_key] = item
        else:
            narrowed = defaultdict(dict)
            if hash_key in self.items:
                # Insertion order sorted by the raw key: moto's own sort then has nothing to do.
                items = self.items[hash_key]
                narrowed[hash_key] = dict(sorted(items.items(), key=lambda kv: kv[0].value))
        full = self.items
        self.items = narrowed
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            self.items = full

    query.narrowed_to_partition = True  # type: ignore[attr-defined]
    monkeypatch.setattr(Table, "query", query)


def straight_into_moto() -> contextlib.AbstractContextManager[Any]:
    """local.moto_server.straight_into_moto for the `aws` fixture's table: loads the data a test starts from."""
    return moto_server.straight_into_moto(settings.settings().table_name, REGION)


def stored_days(patient_id: int) -> dict[str, int]:
    """A patient's stored day summaries (every type): day -> count."""
    return {s["day"]: int(s["count"]) for s in store.day_summaries(patient_id, "0000-01-01", "9999-12-31")}
