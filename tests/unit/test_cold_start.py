"""What a cold start does, as Lambda runs it: the settings fail fast on Lambda and the service name comes
from the template. Lambda's init is simulated in fresh interpreters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import Any

from local.template import (
    REPO_ROOT,
    environment,
    load_template,
)

TEMPLATE = load_template()
DUMMY_AWS = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}


def _lambda_env(**extra: str) -> dict[str, str]:
    """The functions' variables and what Lambda adds, for a fresh interpreter."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return {**keep, **DUMMY_AWS, **environment(TEMPLATE), "AWS_LAMBDA_FUNCTION_NAME": "ColdStart", **extra}


def _python(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _result(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- settings and names ------------------------------------------------------------------------------


def test_a_missing_table_name_fails_the_cold_start_on_lambda_only() -> None:
    env = _lambda_env()
    del env["TABLE_NAME"]
    on_lambda = _python("import clinic.settings", env)
    assert on_lambda.returncode != 0
    assert "TABLE_NAME is not set" in on_lambda.stderr
    del env["AWS_LAMBDA_FUNCTION_NAME"]
    local = _python("from clinic.settings import settings; print(settings().table_name)", env)
    assert (local.returncode, local.stdout.strip()) == (0, "PatientsTable")
    configured = _python("import clinic.settings", _lambda_env())
    assert configured.returncode == 0, configured.stderr


def test_functions_log_and_count_under_the_template_service_name() -> None:
    """POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE are set once, in the template; no code
    names the service."""
    script = """
        import json
        from aws_lambda_powertools import Metrics
        from clinic.logger import logger
        print(json.dumps([logger.service, Metrics().namespace]))
    """
    variables = environment(TEMPLATE)
    expected = [variables["POWERTOOLS_SERVICE_NAME"], variables["POWERTOOLS_METRICS_NAMESPACE"]]
    assert _result(_python(script, _lambda_env())) == expected
