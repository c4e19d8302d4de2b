"""Shared fixtures: DynamoDB tables built from template.yaml (moto in-memory, or an embedded server behind
the local HTTP API) and the API Gateway event builder for handler tests."""

from __future__ import annotations

import importlib
import io
import logging
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import dynamodb_rules
import pytest
from moto import mock_aws
from support import served_api

from local import events
from local.dynamodb import create_tables
from local.gateway import LocalGateway
from local.template import DEFAULT_TEMPLATE, REGION, environment, load_template

# Tests must never reach a real account, whatever the developer's shell exports.
_DUMMY_AWS = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
os.environ.update(_DUMMY_AWS)
# Alert events published locally go to a file (clinic.alert_events): the tests' own, never the repository's .local/.
os.environ["LOCAL_EVENTS_FILE"] = os.path.join(tempfile.mkdtemp(prefix="patients-api-events-"), "events.ndjson")
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(_name, None)
# Powertools reads its settings (service name, metrics namespace, log level) when the handlers' modules are
# imported, as on Lambda: from the template, before any test imports them.
for _name, _value in environment(load_template()).items():
    if _name.startswith("POWERTOOLS_"):
        os.environ.setdefault(_name, _value)


class _CurrentStdout:
    """Writes to whatever sys.stdout is at the time, as print() does."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _log_to_the_current_stdout() -> None:
    """The functions' Powertools logger keeps the sys.stdout of the moment it is created. Created under one
    test's capsys (or in an earlier pytest session of the same process, as mutmut runs them), it would write
    every later line into that dead capture: into the wrong test's output, or as a "Logging error" on stderr.
    So its lines follow the current capture, whichever test first imports the functions."""
    import clinic.http  # creates the service logger

    for handler in logging.getLogger(clinic.http.logger.name).handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(_CurrentStdout())  # type: ignore[arg-type]


_log_to_the_current_stdout()


@pytest.fixture(scope="session", autouse=True)
def dynamodb_rules_check() -> Iterator[dynamodb_rules.Checker]:
    """DynamoDB's documented request rules (tests/dynamodb_rules.py) on every call of every client the tests
    create, installed before any fixture creates one."""
    checker = dynamodb_rules.install()
    yield checker
    dynamodb_rules.uninstall(checker)


@pytest.fixture(autouse=True)
def no_broken_dynamodb_rules(dynamodb_rules_check: dynamodb_rules.Checker) -> Iterator[None]:
    """Fails a test whose code sent DynamoDB a request it would reject, even if that code caught the error."""
    before = dynamodb_rules_check.take()
    if before:  # made by a fixture's teardown or a background thread after the previous test ended
        pytest.fail("requests that DynamoDB rejects (before this test):\n" + "\n".join(before), pytrace=False)
    yield
    broken = dynamodb_rules_check.take()
    if broken:
        pytest.fail("requests that DynamoDB rejects:\n" + "\n".join(broken), pytrace=False)


def _template() -> dict[str, Any]:
    if not DEFAULT_TEMPLATE.exists():
        pytest.skip("template.yaml is not there yet")
    return load_template()


def reset_domain_caches() -> None:
    """Call clinic.settings.reset() when it exists: the domain caches boto3 clients per process, and
    each fixture points DynamoDB somewhere else."""
    try:
        settings = importlib.import_module("clinic.settings")
    except ModuleNotFoundError as error:
        if error.name in ("clinic", "clinic.settings"):
            return
        raise
    reset = getattr(settings, "reset", None)
    if callable(reset):
        reset()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's in-memory AWS with the template's tables and the functions' environment; yields a
    DynamoDB client."""
    template = _template()
    for name, value in _DUMMY_AWS.items():
        monkeypatch.setenv(name, value)
    # An endpoint (set by local_api or the shell) would send the domain's clients past mock_aws.
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment(template).items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(template, client=client)
        reset_domain_caches()
        yield client
    reset_domain_caches()


@dataclass
class LocalApi:
    url: str
    endpoint_url: str
    gateway: LocalGateway
    template: dict[str, Any]


@pytest.fixture(scope="session")
def local_api() -> Iterator[LocalApi]:
    """The real template served over HTTP by the local gateway, on its own moto server (support.served_api)."""
    _template()
    with served_api() as (gateway, url, endpoint):
        yield LocalApi(url=url, endpoint_url=endpoint, gateway=gateway, template=gateway.template)


def make_event(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, Any] | str | None = None,
    user: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The API Gateway REST event for `method path` (see local.events.make_event)."""
    return events.make_event(method, path, body=body, headers=headers, query=query, user=user)


@pytest.fixture(name="make_event")
def make_event_fixture() -> Callable[..., dict[str, Any]]:
    return make_event


@pytest.fixture
def lambda_context() -> events.LambdaContext:
    return events.LambdaContext("TestFunction", memory_mb=512, timeout_seconds=10)


@pytest.fixture
def service_log() -> Iterator[io.StringIO]:
    """Every line the functions' Powertools logger writes, formatted as CloudWatch receives them (the
    logger's own handler binds its stream at import, so capture with a second handler)."""
    from clinic.logger import logger

    log = logging.getLogger(logger.name)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(log.handlers[0].formatter)
    log.addHandler(handler)
    yield stream
    log.removeHandler(handler)
