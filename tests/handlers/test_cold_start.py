"""What a cold start does, as Lambda (and SnapStart, in prod) runs it: the settings fail fast on Lambda, the
service name comes from the template, SnapStart is on for every API function in prod only, nothing unique
per container happens while the handlers are imported, and copies restored from one snapshot do not share
ids. Lambda's init is simulated in fresh interpreters; a snapshot restore is a fork."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from local import events
from local.dynamodb import create_tables, start_embedded
from local.template import (
    REPO_ROOT,
    deploy_overrides,
    environment,
    function_specs,
    load_template,
    resources,
    snapstart_functions,
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


# --- SnapStart -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("config_env", "apply_on"), [("prod", "PublishedVersions"), ("default", "None")])
def test_snapstart_on_every_api_function_in_prod_only(config_env: str, apply_on: str) -> None:
    resolved = resources(TEMPLATE, deploy_overrides(config_env))
    api = {s.logical_id for s in function_specs(TEMPLATE) if any(e["Type"] == "Api" for e in s.events.values())}
    assert len(api) >= 12
    for logical_id, resource in resolved.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        if logical_id in api:
            # API Gateway invokes the alias, whose version (published on every change, layers included)
            # carries the snapshot.
            assert props["AutoPublishAlias"] == "live", logical_id
            assert props["AutoPublishAliasAllProperties"] is True, logical_id
            assert props["SnapStart"] == {"ApplyOn": apply_on}, logical_id
        else:
            assert "AutoPublishAlias" not in props and "SnapStart" not in props, logical_id
    for layer in ("DomainLayer", "DependenciesLayer"):
        assert resolved[layer]["Properties"]["PublishLambdaVersion"] is True
    on = set(snapstart_functions(TEMPLATE, deploy_overrides(config_env)))
    assert on == (api if apply_on == "PublishedVersions" else set())


IMPORT_ALL_HANDLERS = """
    import importlib.util, json, os, random, secrets, sys, traceback, uuid
    import botocore.client

    drawn, calls = [], []

    def spy(module, name):
        original = getattr(module, name)
        def wrapper(*args, **kwargs):
            drawn.append(f"{module.__name__}.{name} from " + traceback.extract_stack(limit=2)[0].filename)
            return original(*args, **kwargs)
        setattr(module, name, wrapper)

    for module, names in ((os, ["urandom"]), (uuid, ["uuid1", "uuid4"]),
                          (secrets, ["token_bytes", "token_hex", "token_urlsafe", "choice", "randbelow", "randbits"])):
        for name in names:
            spy(module, name)

    # What our code builds at import that a request may never use: compiled regular expressions, dataclasses.
    import dataclasses, re
    built = []
    def caller():
        # The file that asked for it (re.match(pattern, ...) compiles on behalf of its caller).
        frames = [f.filename for f in traceback.extract_stack()[:-2]]
        while frames and frames[-1].endswith(("re/__init__.py", "dataclasses.py")):
            frames.pop()
        return frames[-1] if frames else ""
    def watch(module, name, what):
        original = getattr(module, name)
        def wrapper(*args, **kwargs):
            if os.getcwd() in caller() and "/.venv/" not in caller():
                built.append(f"{what} in {caller()}")
            return original(*args, **kwargs)
        setattr(module, name, wrapper)
    watch(re, "_compile", "a regular expression compiled")
    watch(dataclasses, "dataclass", "a dataclass built")
    botocore.client.BaseClient._make_api_call = lambda self, operation, params: calls.append(operation)
    state = random.getstate()

    for number, (name, code_dir, module_file) in enumerate(json.loads(sys.argv[1])):
        sys.path.insert(0, code_dir)
        spec = importlib.util.spec_from_file_location(f"handler_{number}", module_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        sys.path.remove(code_dir)

    from clinic import ids, settings
    print(json.dumps({
        "drawn": drawn, "dynamodb_calls": calls, "id_blocks": dict(ids._blocks),
        "random_state_changed": random.getstate() != state, "client_created": settings.dynamodb.cache_info().currsize,
        "built": built, "modules": sorted(m for m in sys.modules if m.startswith("clinic")),
    }))
"""


@pytest.fixture(scope="module")
def imported() -> dict[str, Any]:
    """Every handler imported, in one fresh interpreter, as Lambda's init would."""
    handlers = [(s.logical_id, str(s.code_dir), str(s.module_file)) for s in function_specs(TEMPLATE)]
    # Any AWS call would go nowhere (the spy answers it): no endpoint is needed, none is reachable.
    env = _lambda_env(AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:9")
    found: dict[str, Any] = _result(_python(IMPORT_ALL_HANDLERS, env, json.dumps(handlers)))
    return found


def test_nothing_unique_per_container_happens_while_the_handlers_are_imported(imported: dict[str, Any]) -> None:
    """Everything imported before the snapshot is shared by every restored copy: the handlers' imports
    reserve no id block, draw no random value, token or uuid, derive no key, call no AWS API and create
    no client (a client's connections and credentials belong to one container). Cursors and tokens derive
    nothing from a process secret: cursors carry a digest of their query, tokens are drawn per request."""
    found = {k: v for k, v in imported.items() if k not in ("built", "modules")}
    # Libraries may draw for themselves (importing boto3 imports multiprocessing, which draws its unused
    # connection authkey); what our code draws is what would be shared.
    found["drawn"] = [d for d in found["drawn"] if str(REPO_ROOT) in d and "/.venv/" not in d]
    assert found == {
        "drawn": [],
        "dynamodb_calls": [],
        "id_blocks": {},
        "random_state_changed": False,
        "client_created": 0,
    }


def test_the_handlers_import_builds_nothing_a_request_may_not_need(imported: dict[str, Any]) -> None:
    """Every handler's cold start pays for what its module builds at import (bench row 1 counts it): our
    regular expressions compile on first use, no dataclass is built (a frozen one costs about 2 ms), and the
    store's item types and the OpenAPI response models exist for mypy and the document only."""
    assert imported["built"] == []
    assert "clinic.store.items" not in imported["modules"]
    assert "clinic.openapi_models" not in imported["modules"]
    assert "clinic.openapi" in imported["modules"]  # the check above sees the package's modules


RESTORE_TWO_COPIES = """
    import importlib.util, json, os, random, sys
    from snapshot_restore_py import get_after_restore

    code_dir, module_file, primer, event, hooks = sys.argv[1:6]
    sys.path.insert(0, code_dir)
    spec = importlib.util.spec_from_file_location("create_patient", module_file)
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)

    from clinic import ids
    from local.events import LambdaContext

    def create(body):
        answer = handler.lambda_handler(json.loads(body), LambdaContext("CreatePatientFunction", 512, 10))
        assert answer["statusCode"] == 201, answer
        return json.loads(answer["body"])["id"]

    # Init code that creates a patient before the snapshot: the container now holds a reserved block.
    create(primer)
    assert ids._blocks["patient"], "no block reserved before the snapshot"

    snapshot_random = random.getstate()
    copies = []
    for _ in range(2):  # two containers resumed from the same snapshot, one after the other
        read, write = os.pipe()
        if os.fork() == 0:
            os.close(read)
            random.setstate(snapshot_random)  # fork reseeds random by itself; a memory snapshot does not
            if hooks == "run":
                for hook, args, kwargs in get_after_restore():
                    hook(*args, **kwargs)
                patient_id = create(event)
            else:
                patient_id = ids.next_id("patient")  # what a copy without the hooks would use
            os.write(write, json.dumps([patient_id, random.random()]).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            copies.append(json.loads(pipe.read()))
        os.wait()
    print(json.dumps(copies))
"""


@pytest.fixture(scope="module")
def dynamodb_endpoint() -> Iterator[str]:
    endpoint, stop = start_embedded(in_process=False)
    try:
        create_tables(TEMPLATE, endpoint_url=endpoint)  # with conftest's dummy credentials
        yield endpoint
    finally:
        stop()


def test_copies_restored_from_one_snapshot_do_not_share_an_id_block(dynamodb_endpoint: str) -> None:
    """SnapStart resumes many containers from one snapshot. A block of ids reserved before it would be
    handed out by every copy; the runtime hooks (snapshot_restore_py) drop it, the client and the random
    module's seed, so each copy reserves its own block and draws its own jitter."""
    spec = next(s for s in function_specs(TEMPLATE) if s.logical_id == "CreatePatientFunction")
    admin = {"user_id": 1, "clinic_id": 1, "role": "admin"}

    def new_patient(name: str) -> str:
        body = {"patient": {"first_name": name, "last_name": "Restore", "date_of_birth": "1990-01-01"}}
        return json.dumps(events.make_event("POST", "/v1/patients", body=body, user=admin))

    env = _lambda_env(AWS_ENDPOINT_URL_DYNAMODB=dynamodb_endpoint)
    args = (str(spec.code_dir), str(spec.module_file), new_patient("Primer"), new_patient("Copy"))
    (first_id, first_draw), (second_id, second_draw) = _result(_python(RESTORE_TWO_COPIES, env, *args, "run"))
    assert first_id != second_id
    assert first_draw != second_draw

    # The same two copies without the hooks hand out the same id and draw the same number: what the
    # hooks prevent, and what this test would miss if its snapshot were not a faithful one.
    (first_id, first_draw), (second_id, second_draw) = _result(_python(RESTORE_TWO_COPIES, env, *args, "skip"))
    assert first_id == second_id
    assert first_draw == second_draw
