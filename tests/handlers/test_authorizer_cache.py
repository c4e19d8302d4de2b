"""The authorizer cache flush after a revocation (clinic.authorizer_cache): retried with backoff, and a flush
that fails never fails the revocation or the deactivation; the failure is logged without PHI, counted in a
metric and reported. Failures are injected with botocore's Stubber, or with an endpoint nobody listens on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from clinic import accounts, authorizer_cache, settings
from clinic.authorizer_cache import FAILED, FLUSHED, METRIC, SKIPPED, Flush, Stage
from support import UNAUTHORIZED, Client, clinic, gateway, moto_tables, patient, user

from local.dynamodb import free_port
from local.template import authorizer_spec, load_template
from patients_admin import cli as admin_cli

STAGE = Stage("a1b2c3d4e5", "dev")


@pytest.fixture(scope="module")
def table() -> Iterator[Any]:
    with moto_tables() as client:
        yield client


@pytest.fixture
def stubbed() -> Iterator[Stubber]:
    settings.reset()
    with Stubber(settings.api_gateway()) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    settings.reset()


@pytest.fixture
def unreachable(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """API Gateway's endpoint refuses connections (nothing listens on the port)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_API_GATEWAY", f"http://127.0.0.1:{free_port()}")
    settings.reset()
    yield
    settings.reset()


def expect_flush(stubber: Stubber, *errors: tuple[str, int]) -> None:
    params = {"restApiId": STAGE.api_id, "stageName": STAGE.name}
    for code, http_status in errors:
        stubber.add_client_error("flush_stage_authorizers_cache", code, "detail", http_status, expected_params=params)


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def metric_records(text: str) -> list[dict[str, Any]]:
    return [record for record in lines(text) if record.get(METRIC) == [1.0] and "_aws" in record]


def failure_logs(text: str) -> list[dict[str, Any]]:
    return [record for record in lines(text) if record.get("message", "").startswith("authorizer cache flush failed")]


def test_the_ttl_it_reports_is_the_templates() -> None:
    spec = authorizer_spec(load_template())
    assert spec is not None
    assert spec.reauthorize_every == authorizer_cache.CACHE_TTL_SECONDS


# ---- retries ----


def test_throttling_and_5xx_are_retried_until_the_flush_succeeds(stubbed: Stubber) -> None:
    expect_flush(stubbed, ("TooManyRequestsException", 429), ("ServiceUnavailableException", 503))
    stubbed.add_response("flush_stage_authorizers_cache", {}, {"restApiId": STAGE.api_id, "stageName": STAGE.name})
    assert authorizer_cache.flush(STAGE) == Flush(FLUSHED, 3)


def test_a_lasting_failure_stops_after_the_last_attempt(
    stubbed: Stubber, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(authorizer_cache.time, "sleep", slept.append)
    expect_flush(stubbed, *[("TooManyRequestsException", 429)] * authorizer_cache.ATTEMPTS)
    capsys.readouterr()
    assert authorizer_cache.flush(STAGE) == Flush(FAILED, authorizer_cache.ATTEMPTS, "TooManyRequestsException")
    # Exponential backoff with jitter: each wait in [d/2, d] for d = 0.1 s, then 0.2 s.
    assert len(slept) == authorizer_cache.ATTEMPTS - 1
    for wait, ceiling in zip(slept, (0.1, 0.2), strict=True):
        assert ceiling / 2 <= wait <= ceiling
    out = capsys.readouterr().out
    assert len(failure_logs(out)) == len(metric_records(out)) == 1


def test_access_denied_is_not_retried_and_is_logged_and_counted(
    stubbed: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    expect_flush(stubbed, ("AccessDeniedException", 403))
    capsys.readouterr()
    assert authorizer_cache.flush(STAGE) == Flush(FAILED, 1, "AccessDeniedException")
    out = capsys.readouterr().out
    [logged] = failure_logs(out)
    assert logged["level"] == "WARNING"
    assert {k: logged[k] for k in ("api_id", "stage", "attempts", "error", "cache_ttl_seconds")} == {
        "api_id": STAGE.api_id,
        "stage": STAGE.name,
        "attempts": 1,
        "error": "AccessDeniedException",
        "cache_ttl_seconds": 300,
    }
    assert "detail" not in out  # the error's message is never logged, only its code
    [metric] = metric_records(out)
    directive = metric["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "PatientsApi"  # from template.yaml's Globals
    assert directive["Metrics"] == [{"Name": METRIC, "Unit": "Count"}]


def test_no_stage_no_call() -> None:
    assert authorizer_cache.flush(None) == Flush(SKIPPED)


def test_the_stage_comes_from_the_request_and_never_means_aws_off_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    event = {"requestContext": {"apiId": "a1b2c3d4e5", "stage": "dev"}}
    for name in ("AWS_LAMBDA_FUNCTION_NAME", "AWS_ENDPOINT_URL_API_GATEWAY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    assert Stage.serving(event) is None  # a handler run in-process by a test: no API Gateway to call
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "UpdatePatientFunction")
    assert Stage.serving(event) == STAGE
    assert Stage.serving({"requestContext": {"apiId": "a1b2c3d4e5"}}) is None


# ---- a failed flush never fails what it follows ----


@pytest.mark.usefixtures("unreachable")
@pytest.mark.parametrize("command", [["tokens", "revoke"], ["users", "deactivate"]])
def test_cli_reports_a_failed_flush_and_the_revocation_stands(
    table: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("API_ID", STAGE.api_id)
    monkeypatch.setenv("API_STAGE", STAGE.name)
    someone = user(clinic(), "provider")
    capsys.readouterr()
    code = admin_cli.main([*command, "--user", str(someone.id)])
    out, err = capsys.readouterr()
    assert code == 0
    printed = json.loads(out)  # stdout is the JSON alone; the log line and the metric went to stderr
    assert printed["revoked"] == 1
    assert printed["authorizer_cache"] == "failed"
    assert printed["warning"] == (
        "The authorizer cache was not flushed: the flush failed (EndpointConnectionError). A token that was used "
        "in the last 300 seconds may keep working for up to 300 seconds."
    )
    assert len(failure_logs(err)) == len(metric_records(err)) == 1
    # The revocation is written: the token is refused at the next authorizer call.
    assert accounts.authenticate(someone.token) is None
    reply = Client(gateway()).get("/v1/patients", token=someone.token)
    assert (reply.status, reply.body) == (401, UNAUTHORIZED)


@pytest.mark.usefixtures("unreachable")
def test_deactivating_a_patient_stands_when_the_flush_fails(table: Any, capsys: pytest.CaptureFixture[str]) -> None:
    admin = user(clinic(), "admin")
    record = patient(admin, "Zebediah", "Quarrington")
    client = Client(gateway())
    capsys.readouterr()
    reply = client.put(f"/v1/patients/{record['id']}", {"patient": {"active": False}}, token=admin.token)
    assert (reply.status, reply.body["active"]) == (200, False)
    out = capsys.readouterr().out
    [logged] = failure_logs(out)
    assert (logged["api_id"], logged["error"]) == ("local", "EndpointConnectionError")
    assert len(metric_records(out)) == 1
    assert "Zebediah" not in out and "Quarrington" not in out
    assert client.get(f"/v1/patients/{record['id']}", token=admin.token).body["active"] is False
