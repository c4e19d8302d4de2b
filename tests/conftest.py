"""Shared fixtures.

tests/handlers and tests/tooling run in-process on moto and never leave the machine: the AWS credentials are
dummies. tests/http talk HTTP to `http_api`: the local API (template.yaml served by the local gateway over an
embedded DynamoDB), or a deployed stack given by `--stack NAME` (its ApiUrl and PatientsTableName outputs) or
by API_URL and TABLE_NAME, with the shell's credentials; then only tests/http run, and the tests marked
`local_only` are skipped with their reason."""

from __future__ import annotations

import io
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import dynamodb_rules
import pytest
from clinic import settings
from support import mock_dynamodb, served_api

from local.dynamodb import create_tables
from local.events import LambdaContext
from local.gateway import LocalGateway, wait_until_idle
from local.template import REGION, environment, load_template, table_specs

TESTS = Path(__file__).parent
HTTP_TESTS = TESTS / "http"

# Alert events published locally go to a file (clinic.alert_events): the tests' own, never the repository's .local/.
os.environ["LOCAL_EVENTS_FILE"] = os.path.join(tempfile.mkdtemp(prefix="patients-api-events-"), "events.ndjson")
# Powertools reads its settings (service name, metrics namespace, log level) when the handlers' modules are
# imported, as on Lambda: from the template, before any test imports them.
for _name, _value in environment(load_template()).items():
    if _name.startswith("POWERTOOLS_"):
        os.environ.setdefault(_name, _value)


@dataclass(frozen=True)
class Deployed:
    url: str
    table_name: str


_DEPLOYED = pytest.StashKey[Deployed | None]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--stack",
        metavar="NAME",
        help="run tests/http against this deployed stack (its ApiUrl and PatientsTableName outputs); "
        "API_URL and TABLE_NAME do the same without CloudFormation",
    )


def _deployed(config: pytest.Config) -> Deployed | None:
    stack = config.getoption("--stack")
    if stack:
        from local.publish_web import stack_outputs

        outputs = stack_outputs(stack, boto3.client("cloudformation"))
        missing = sorted({"ApiUrl", "PatientsTableName"} - outputs.keys())
        if missing:
            raise pytest.UsageError(f"stack {stack} has no {' or '.join(missing)} output")
        return Deployed(outputs["ApiUrl"].rstrip("/"), outputs["PatientsTableName"])
    url = os.environ.get("API_URL")
    if not url:
        return None
    table_name = os.environ.get("TABLE_NAME")
    if not table_name:
        raise pytest.UsageError("API_URL needs TABLE_NAME too: the HTTP tests make their users and tokens there")
    return Deployed(url.rstrip("/"), table_name)


_RUN_ENV_ENDPOINTS = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_API_GATEWAY",
    "API_ID",
    "API_STAGE",
)


def pytest_configure(config: pytest.Config) -> None:
    deployed = _deployed(config)
    config.stash[_DEPLOYED] = deployed
    if deployed is None:
        # Tests must never reach a real account, whatever the developer's shell exports.
        os.environ.update(
            {
                "AWS_DEFAULT_REGION": REGION,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SECURITY_TOKEN": "testing",
                "AWS_SESSION_TOKEN": "testing",
            }
        )
        # Nor what `source .local/run.env` exports (make run's DynamoDB and API stage): each test sets the
        # endpoints it means to use, and the admin CLI tests expect no API stage unless they give one.
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", *_RUN_ENV_ENDPOINTS):
            os.environ.pop(name, None)


def pytest_report_header(config: pytest.Config) -> str | None:
    deployed = config.stash[_DEPLOYED]
    return f"tests/http against the deployed API {deployed.url} (table {deployed.table_name})" if deployed else None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Against a deployed stack only tests/http run: the rest are about the code in this process."""
    if config.stash[_DEPLOYED] is None or collection_path == HTTP_TESTS or HTTP_TESTS in collection_path.parents:
        return None
    return True if TESTS in collection_path.parents else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.stash[_DEPLOYED] is None:
        return
    for item in items:
        marker = item.get_closest_marker("local_only")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"needs the local API: {marker.args[0]}"))


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


@pytest.fixture(autouse=True)
def no_request_outlives_its_test() -> Iterator[None]:
    """A request a client abandoned (a browser tab closed mid-fetch) is answered before the next test starts:
    served in this process, it would otherwise run then, against the table that test points the process at."""
    yield
    assert wait_until_idle(30), "a local gateway of this process was still answering requests 30 s after the test"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's in-memory AWS with the template's tables and the functions' environment; yields a
    DynamoDB client."""
    template = load_template()
    # An endpoint (set by http_api or the shell) would send the domain's clients past mock_aws.
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment(template).items():
        monkeypatch.setenv(name, value)
    with mock_dynamodb():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(template, client=client)
        settings.reset()
        yield client
    settings.reset()


@dataclass(frozen=True)
class HttpApi:
    """The API the HTTP tests call. `url` is the stage's root (paths start with /v1). `gateway` and
    `endpoint_url` (its DynamoDB) are the local API's; None against a deployed stack."""

    url: str
    gateway: LocalGateway | None = None
    endpoint_url: str | None = None


@pytest.fixture(scope="session")
def http_api(request: pytest.FixtureRequest, dynamodb_rules_check: dynamodb_rules.Checker) -> Iterator[HttpApi]:
    """The local API on a free port of this process (on an embedded DynamoDB of its own), or the deployed stack.
    Either way the domain functions that tests call to make users, tokens and patients write to the same table as
    the API."""
    deployed = request.config.stash[_DEPLOYED]
    if deployed is None:
        with served_api() as (gateway, url, endpoint):
            yield HttpApi(url=url, gateway=gateway, endpoint_url=endpoint)
        return
    template = load_template()
    # The deployed table is the template's (one table): the rules check learns its keys as create_tables
    # teaches it a local one's.
    ((_, table),) = table_specs(template)
    dynamodb_rules_check.rules.learn({**table, "TableName": deployed.table_name})
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment(template).items():
            patch.setenv(name, value)
        patch.setenv("TABLE_NAME", deployed.table_name)
        settings.reset()
        yield HttpApi(url=deployed.url)
    settings.reset()


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext("TestFunction", memory_mb=512, timeout_seconds=10)


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
