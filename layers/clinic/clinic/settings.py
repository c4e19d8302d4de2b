"""Configuration read once from the environment, and the lazily created, per-container boto3 client.

On Lambda (AWS_LAMBDA_FUNCTION_NAME is set) a missing TABLE_NAME fails the cold start with a message that
names it, rather than every request against a table that does not exist. Elsewhere (`make run`, tests,
patients-admin) it defaults to the template's table name.

With SnapStart (prod), Lambda resumes many containers from one snapshot of an initialised process, so
whatever a process holds that must be unique to it is dropped after a restore: modules that keep such
state register its reset with `after_restore`.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple


class Settings(NamedTuple):
    table_name: str
    id_block_size: int
    idempotency_table_name: str | None
    audit_retention_days: int
    cors_allowed_origins: frozenset[str]  # exact origins (scheme://host[:port]) whose pages may read responses


@cache
def settings() -> Settings:
    return Settings(
        table_name=_table_name(),
        id_block_size=max(1, int(os.environ.get("ID_BLOCK_SIZE", "20"))),
        idempotency_table_name=os.environ.get("IDEMPOTENCY_TABLE_NAME") or None,
        audit_retention_days=max(1, int(os.environ.get("AUDIT_RETENTION_DAYS", "2192"))),
        cors_allowed_origins=frozenset(
            o.strip() for o in os.environ.get("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()
        ),
    )


def _table_name() -> str:
    name = os.environ.get("TABLE_NAME")
    if name:
        return name
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise RuntimeError("TABLE_NAME is not set: template.yaml's Globals give every function the table's name")
    return "PatientsTable"


@cache
def dynamodb() -> Any:
    """The low-level DynamoDB client; botocore honours AWS_ENDPOINT_URL_DYNAMODB by itself.

    botocore's client-side parameter validation is off: DynamoDB validates every request itself, and the
    check cost a cold start 3-13 M instructions (ListPatients' audit batch the most) and every warm call its
    share. The tests run the same validator on every call (tests/dynamodb_rules.py), so a malformed request
    still fails there even where moto would accept it."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        config=Config(
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=2,
            read_timeout=5,
            tcp_keepalive=True,
            parameter_validation=False,
        ),
    )


@cache
def api_gateway() -> Any:
    """The API Gateway management client, for authorizer cache flushes (clinic.authorizer_cache); botocore
    honours AWS_ENDPOINT_URL_API_GATEWAY (`make run`: the local gateway). Its own retries are off: the
    flush retries within a time budget of its own, so the two do not multiply."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "apigateway",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=1, read_timeout=2),
    )


def reset() -> None:
    """Forget cached settings, clients and reserved ids (tests switch tables and endpoints)."""
    from clinic import ids

    settings.cache_clear()
    dynamodb.cache_clear()
    api_gateway.cache_clear()
    ids.reset()


def after_restore(hook: Callable[[], Any]) -> None:
    """Run `hook` in every container Lambda resumes from a SnapStart snapshot (a runtime hook of
    snapshot_restore_py, which Lambda's Python runtimes include; elsewhere nothing is ever restored)."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return
    register_after_restore(hook)


# A restored copy must not reuse the snapshot's client (its connections), and must not draw the same
# retry jitter as its siblings: the random module is seeded once per process.
after_restore(settings.cache_clear)
after_restore(dynamodb.cache_clear)
after_restore(api_gateway.cache_clear)
after_restore(random.seed)

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    settings()  # on Lambda, fail the cold start (and so the snapshot) rather than the first request
