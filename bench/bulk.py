"""Bulk loading for the scaling benchmark: other clinics' patients and gauges that make the table 100x
bigger without touching the measured clinic. Items come from the store's own builders
(store.import_patients / store.import_gauges), so key formats stay in the store (clinic/store/keys.py).

Under moto in-process (`mock_aws`) the PutRequests go straight to moto's backend: the botocore request
and response serialization around each BatchWriteItem is pure overhead for an in-process mock, and moto
re-sums an item's size on every attribute it sets (quadratic), which `fast_moto()` turns off while loading
(our items are a few hundred bytes; DynamoDB's limit is 400 KB).

moto also costs O(table) per call where DynamoDB does not: it deep-copies the whole table for every item
of a TransactWriteItems (to roll back on failure), and every Query starts from the whole table sorted by
key (Table.all_items), then keeps one partition. `lean_moto()` skips the copy (benchmarks only run
transactions that succeed: every answer is checked) and the sort (Query sorts what it keeps itself), and a
Query of the table itself starts from its partition. What moto reports (Count, ScannedCount, items) is
unchanged; a Query of an index still walks the whole table (moto keeps no index structure).
"""

from __future__ import annotations

import contextlib
import inspect
import os
import random
from collections.abc import Iterator
from typing import Any

from clinic.settings import settings

FIRST = ["Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Isabella", "Mateo", "Ava"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez"]
TYPES = ["mood", "anxiety", "pain", "energy", "sleep_quality"]


def fast_moto() -> contextlib.AbstractContextManager[Any]:
    """A writer that hands PutRequests to moto's DynamoDB backend, with its per-attribute size check off."""
    from local.moto_server import straight_into_moto

    return straight_into_moto(settings().table_name, "us-east-1")


@contextlib.contextmanager
def lean_moto() -> Iterator[None]:
    import copy
    import types

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def all_items(table: Table) -> list[Any]:
        partition = getattr(table, "_lean_partition", None)
        if partition is not None:  # a Query of the table itself: only its partition can match
            found = table.items.get(partition)
            if not found:
                return []
            return list(found.values()) if table.range_key_attr else [found]
        if not table.range_key_attr:
            return list(table.items.values())
        return [item for items in table.items.values() for item in items.values()]

    def query(table: Table, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(table, *args, **kwargs)
        if not bound.arguments.get("index_name") and bound.arguments.get("hash_key") is not None:
            table._lean_partition = bound.arguments["hash_key"]  # type: ignore[attr-defined]
        try:
            return table_query(table, *args, **kwargs)
        finally:
            table._lean_partition = None  # type: ignore[attr-defined]

    sorted_all_items, table_query = Table.all_items, Table.query
    signature = inspect.signature(table_query)
    models.copy = types.SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[attr-defined]
    Table.all_items = all_items  # type: ignore[method-assign,assignment]
    Table.query = query  # type: ignore[method-assign]
    try:
        yield
    finally:
        models.copy = copy  # type: ignore[attr-defined]
        Table.all_items, Table.query = sorted_all_items, table_query  # type: ignore[method-assign]


@contextlib.contextmanager
def in_memory_tables(template: dict[str, Any]) -> Iterator[Any]:
    """moto in-process (lean) with the template's tables and the functions' environment; yields a client."""
    import boto3
    from clinic import settings
    from moto import mock_aws

    from local.dynamodb import create_tables
    from local.template import environment

    os.environ.update(
        {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(name, None)
    os.environ.update(environment(template))
    with mock_aws(), lean_moto():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(template, client=client)
        settings.reset()
        yield client


def other_clinics(first_clinic: int, first_patient: int, patients: int, per_clinic: int = 100) -> list[dict[str, Any]]:
    rng = random.Random(first_patient)
    return [
        {
            "id": first_patient + i,
            "clinic_id": first_clinic + i // per_clinic,
            "first_name": rng.choice(FIRST),
            "last_name": rng.choice(LAST),
            "date_of_birth": f"{1940 + i % 70}-0{1 + i % 9}-1{i % 10}",
            "gender": "female" if i % 2 else "male",
            "email": f"other{first_patient + i}@example.com",
            "time_zone": "UTC",
            "active": i % 10 != 0,
            "care_team": {},
            "created_by": 0,
            "created_at": "2024-01-01T00:00:00.000Z",
            "updated_at": "2024-01-01T00:00:00.000Z",
            "version": 1,
        }
        for i in range(patients)
    ]


def old_gauges(patient_ids: list[int], first_gauge: int, count: int) -> Iterator[list[dict[str, Any]]]:
    """`count` gauges of the given patients, recorded and created in 2024 (long before any checkpoint)."""
    chunk: list[dict[str, Any]] = []
    for i in range(count):
        recorded = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00.000Z"
        chunk.append(
            {
                "id": first_gauge + i,
                "patient_id": patient_ids[i % len(patient_ids)],
                "gauge_type": TYPES[i % len(TYPES)],
                "value": 1 + i % 9,
                "scale_min": 1,
                "scale_max": 10,
                "recorded_at": recorded,
                "notes": None,
                "created_at": recorded,
                "created_by": 0,
            }
        )
        if len(chunk) == 10_000:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
