"""The first ten minutes (issue 17): each mistake a newcomer makes with `make run`, `make` or patients-admin ends
in one line that says what happened and what to do, a non-zero exit and no traceback; and `make run` keeps its
data across restarts. Each runs as the user would, in a subprocess."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import Client

from local.dynamodb import free_port, start_embedded

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    """The test process's environment without any endpoint or region a developer's shell may export, nor the
    Powertools settings the test session sets (a developer's shell has none: make run takes them from the template)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "DEBUG", "FRESH", "POWERTOOLS_"))
    }
    env.update(LOCAL_DIR=str(tmp_path / ".local"), PYTHONUNBUFFERED="1", **values)
    return env


def _fails_with(result: subprocess.CompletedProcess[str], line: str, status: int = 1) -> None:
    assert result.returncode == status, result
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines() == [line], result.stderr


def _make_run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "local.server", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


class Server:
    """`make run` in a subprocess, up once it printed "Ctrl-C to stop."."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "local.server"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            self.printed = self._wait_until_up()
        except BaseException:
            self.process.kill()
            self.process.communicate()
            raise
        self.url = f"http://127.0.0.1:{env['PORT']}"
        self.client = Client(self.url)
        tokens = (line.split() for line in self.printed.splitlines() if "X-User-Token:" in line)
        self.tokens = {words[0]: words[-1] for words in tokens}

    def _wait_until_up(self) -> str:
        assert self.process.stdout is not None and self.process.stderr is not None
        printed = ""
        for line in self.process.stdout:
            printed += line
            if line.startswith("Ctrl-C to stop."):
                return printed
        raise AssertionError(f"make run did not start:\n{printed}{self.process.stderr.read()}")

    def call(self, method: str, path: str, body: Any = None, role: str = "provider") -> tuple[int, Any]:
        reply = self.client.request(method, path, token=self.tokens[role], json_body=... if body is None else body)
        return reply.status, reply.body

    def stop(self, sig: int = signal.SIGINT) -> None:
        self.process.send_signal(sig)
        _, stderr = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, stderr
        assert "Traceback" not in stderr


@pytest.fixture
def ports() -> Iterator[tuple[int, int]]:
    yield free_port(), free_port()


# --- make run -------------------------------------------------------------------------------------------------


def test_a_malformed_port(tmp_path: Path) -> None:
    _fails_with(
        _make_run(_env(tmp_path, PORT="30OO")),
        "make run: PORT='30OO' is not a port number: use one from 1024 to 65535, e.g. PORT=3001 make run",
    )


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = _make_run(_env(tmp_path, PORT="30OO", DEBUG="1"))
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "Stop: PORT='30OO' is not a port number: use one from 1024 to 65535, e.g. PORT=3001 make run"
    )


def test_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _fails_with(
            _make_run(_env(tmp_path, PORT=str(port))),
            f"make run: port {port} is already in use (another make run, or another program): "
            f"choose another, e.g. PORT={port + 10} make run",
        )


def test_an_endpoint_where_nothing_answers(tmp_path: Path, ports: tuple[int, int]) -> None:
    endpoint = f"http://127.0.0.1:{ports[1]}"
    _fails_with(
        _make_run(_env(tmp_path, PORT=str(ports[0]), AWS_ENDPOINT_URL_DYNAMODB=endpoint)),
        f"make run: nothing answers at AWS_ENDPOINT_URL_DYNAMODB={endpoint}: start that DynamoDB, "
        "or `unset AWS_ENDPOINT_URL_DYNAMODB` to use the embedded one",
    )


def test_a_second_make_run_in_the_same_folder(tmp_path: Path, ports: tuple[int, int]) -> None:
    # The first one holds the folder's lock (an flock, as a running make run does) and says where it serves.
    (tmp_path / ".local").mkdir()
    with (tmp_path / ".local" / "run.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("4242 http://127.0.0.1:3000\n")
        lock.flush()
        _fails_with(
            _make_run(_env(tmp_path, PORT=str(ports[0]))),
            "make run: already running in this folder (pid 4242, http://127.0.0.1:3000): "
            "use that one, or stop it (Ctrl-C in its terminal) first",
        )
        _fails_with(
            _make_run(_env(tmp_path), "reset"),
            "make reset: already running in this folder (pid 4242, http://127.0.0.1:3000): "
            "use that one, or stop it (Ctrl-C in its terminal) first",
        )


def test_a_python_without_the_projects_packages(tmp_path: Path) -> None:
    # No make, so no .venv: `python3 -m local.server` with a bare interpreter (-S: no site-packages).
    result = subprocess.run(
        [PYTHON, "-S", "-m", "local.server"], cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True
    )
    _fails_with(
        result,
        f"make run: {PYTHON} does not have the project's packages (boto3): run `make run`, which creates .venv "
        "first (no make? apt-get install make, or xcode-select --install on macOS)",
    )


def test_unreadable_kept_data(tmp_path: Path, ports: tuple[int, int]) -> None:
    (tmp_path / ".local").mkdir()
    data = tmp_path / ".local" / "dynamodb.json"
    data.write_text('{"format": 1, "tables": {"PatientsTable": [')  # as a copy cut short would be (not ours)
    _fails_with(
        _make_run(_env(tmp_path, PORT=str(ports[0]))),
        f"make run: {data} cannot be read (JSONDecodeError): `make run FRESH=1` starts again from the demo seed "
        "(and replaces it)",
    )


# --- make -----------------------------------------------------------------------------------------------------


def _make(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # VENV elsewhere: the checks that run before a venv exists.
    return subprocess.run(
        ["make", "--no-print-directory", f"VENV={tmp_path / 'venv'}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_python_older_than_3_11(tmp_path: Path) -> None:
    old = tmp_path / "python3"
    old.write_text("#!/bin/sh\necho 3.9 False\n")  # what the Makefile's check prints on Python 3.9
    old.chmod(0o755)
    result = _make(tmp_path, f"PYTHON={old}", "venv")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert re.fullmatch(r"Makefile:\d+: \*\*\* (.*)  Stop\.", result.stderr.strip()).group(1) == (  # type: ignore[union-attr]
        f"{old} is Python 3.9, and 3.11 or newer is needed: install one (apt-get install python3.12) and name it "
        "with make PYTHON=python3.12."
    )


def test_no_python_at_all(tmp_path: Path) -> None:
    result = _make(tmp_path, "PYTHON=python3.0-nowhere", "venv")
    assert result.returncode == 2
    assert re.fullmatch(r"Makefile:\d+: \*\*\* (.*)  Stop\.", result.stderr.strip()).group(1) == (  # type: ignore[union-attr]
        "python3.0-nowhere not found: install Python 3.11 or newer (apt-get install python3), or name one with "
        "make PYTHON=/path/to/python3.12."
    )


def test_make_help_names_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:")).split()[1:]
    result = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True)
    described = [line.split()[1] for line in result.stdout.splitlines()]
    assert sorted(described) == sorted(phony)
    assert all(len(line.split(maxsplit=2)) == 3 for line in result.stdout.splitlines())  # a description each


# --- data kept across restarts --------------------------------------------------------------------------------


def _readme_first_run() -> str:
    """The output README.md's "Two commands" section shows for a first `make run`."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Two commands", 1)[1]
    return section.split("```text\n", 1)[1].split("```", 1)[0]


def _shape(printed: str) -> list[str]:
    """Printed lines without what differs between runs: tokens, ports, the data folder, the clinic id, the web
    app's build."""
    start = printed.index("Patients API (local):")
    lines = []
    for line in printed[start:].splitlines():
        line = re.sub(r"X-User-Token: \S+", "X-User-Token: <token>", line)
        line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", line)
        line = re.sub(r"\S*/\.local/", ".local/", line)  # the tests' LOCAL_DIR
        line = re.sub(r"^(Demo clinic: +)\d+$", r"\1<id>", line)
        lines.append(re.sub(r"^(Web app: +).*", r"\1<url or how to build it>", line).rstrip())
    return lines


def test_data_is_kept_across_restarts_and_fresh_starts_from_the_seed(tmp_path: Path, ports: tuple[int, int]) -> None:
    env = _env(tmp_path, PORT=str(ports[0]), DYNAMODB_PORT=str(ports[1]))
    first = Server(env)
    try:
        assert "(a new demo seed, kept across restarts; make run FRESH=1 starts over)" in first.printed
        # The seed's log lines name the service as on Lambda (template Globals), not Powertools' placeholder.
        assert '"service":"patients-api"' in first.printed and "service_undefined" not in first.printed
        assert _shape(first.printed) == _shape(_readme_first_run()), "README's first-run output is out of date"
        status, created = first.call(
            "POST",
            "/v1/patients",
            {"patient": {"first_name": "Mary", "last_name": "Major", "date_of_birth": "1990-04-01"}},
        )
        assert status == 201, created
        patient_id = created["patient"]["id"] if "patient" in created else created["id"]
        status, gauge = first.call(
            "POST", f"/v1/patients/{patient_id}/gauges", {"gauge": {"gauge_type": "mood", "value": 7}}
        )
        assert status == 201, gauge
        # While it runs, a second one in the same folder is refused, and so is make reset.
        second = _make_run(_env(tmp_path, PORT=str(free_port())))
        assert second.returncode == 1 and "already running in this folder" in second.stderr
    finally:
        first.stop()

    # A shell that sourced the first run's run.env keeps its stale endpoint: the embedded DynamoDB starts there again.
    stale = {**env, "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{ports[1]}"}
    del stale["DYNAMODB_PORT"]
    again = Server(stale)
    try:
        assert "(kept from the last run; make run FRESH=1 or make reset for the demo seed)" in again.printed
        assert again.tokens == first.tokens  # the same demo clinic, so the same tokens
        status, read = again.call("GET", f"/v1/patients/{patient_id}")
        assert status == 200 and json.dumps(read).count('"Mary"') == 1
        status, gauges = again.call("GET", f"/v1/patients/{patient_id}/gauges")
        assert status == 200
        assert [(g["gauge_type"], g["value"]) for g in gauges["gauges"]] == [("mood", 7)]
    finally:
        again.stop(signal.SIGTERM)  # `kill` saves and exits as Ctrl-C does

    fresh = Server({**env, "FRESH": "1"})
    try:
        assert "(a new demo seed, kept across restarts; make run FRESH=1 starts over)" in fresh.printed
        status, _ = fresh.call("GET", f"/v1/patients/{patient_id}", role="admin")
        assert status == 404
        status, listed = fresh.call("GET", "/v1/patients?page_size=100", role="admin")
        assert status == 200 and len(listed["patients"]) == 6  # the demo seed's patients
    finally:
        fresh.stop()

    reset = _make_run(_env(tmp_path), "reset")
    assert reset.returncode == 0
    assert (
        reset.stdout.strip()
        == f"removed {tmp_path / '.local' / 'dynamodb.json'}: the next make run starts from the demo seed"
    )
    assert not (tmp_path / ".local" / "dynamodb.json").exists()


# make run as a background job of a script (SIGINT ignored), sent Ctrl-C the moment it says "Ctrl-C to stop." (from
# inside, so it cannot come after the handler is in place), or later but taken by one of its other threads (as the
# kernel may choose): Python runs the handler in the main thread only, when that thread next runs.
_INTERRUPTED = """
import os, signal, sys, threading, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
from local import server
announce = server._announce
def to_another_thread():
    time.sleep(1)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)
def interrupted(*args):
    announce(*args)
    if sys.argv[1] == "at once":
        os.kill(os.getpid(), signal.SIGINT)
    else:
        threading.Thread(target=to_another_thread, daemon=True).start()
server._announce = interrupted
sys.exit(server.main([]))
"""


@pytest.mark.parametrize("when", ["at once", "to another thread"])
def test_ctrl_c_stops_it_even_where_sigint_was_ignored(tmp_path: Path, ports: tuple[int, int], when: str) -> None:
    env = _env(tmp_path, PORT=str(ports[0]), DYNAMODB_PORT=str(ports[1]))
    stopped = subprocess.run(
        [PYTHON, "-c", _INTERRUPTED, when], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert stopped.returncode == 0, stopped.stderr
    assert "Ctrl-C to stop." in stopped.stdout
    assert stopped.stderr.strip().splitlines()[-1] == "stopping"
    assert "Traceback" not in stopped.stderr
    assert (tmp_path / ".local" / "dynamodb.json").exists()  # the demo seed, saved on the way out


# --- patients-admin -------------------------------------------------------------------------------------------

ADMIN = str(Path(PYTHON).parent / "patients-admin")


def _admin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ADMIN, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    """A moto server standing in for AWS (CloudFormation and DynamoDB), with no stack and no table."""
    endpoint, stop = start_embedded(in_process=False)
    yield endpoint
    stop()


def test_admin_without_a_region(tmp_path: Path) -> None:
    env = _env(tmp_path, AWS_CONFIG_FILE=str(tmp_path / "none"))
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        env.pop(name, None)
    _fails_with(
        _admin(env, "clinics", "create", "--name", "X"),
        "patients-admin: no AWS region: export AWS_DEFAULT_REGION=<your stack's region> (e.g. us-east-1), "
        "or `source .local/run.env` (written by make run) to use the local API's DynamoDB",
    )
    result = _admin({**env, "DEBUG": "1"}, "clinics", "create", "--name", "X")
    assert result.returncode == 1 and "Traceback" in result.stderr and "NoRegionError" in result.stderr


def test_admin_with_a_stale_endpoint(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # a make run that stopped
    _fails_with(
        _admin(_env(tmp_path, AWS_ENDPOINT_URL_DYNAMODB=endpoint), "clinics", "create", "--name", "X"),
        f"patients-admin: nothing answers at AWS_ENDPOINT_URL_DYNAMODB={endpoint}: start make run (it may use "
        "another port: `source .local/run.env` again), or `unset AWS_ENDPOINT_URL_DYNAMODB` to use AWS",
    )


def test_admin_with_a_stack_that_does_not_exist(tmp_path: Path, aws_endpoint: str) -> None:
    env = _env(tmp_path, AWS_ENDPOINT_URL_CLOUDFORMATION=aws_endpoint, AWS_DEFAULT_REGION="eu-west-1")
    _fails_with(
        _admin(env, "--stack", "patients-dve", "clinics", "create"),
        "patients-admin: stack patients-dve does not exist in eu-west-1: check --stack (samconfig.toml's "
        "stack_name) and AWS_DEFAULT_REGION (the region it was deployed to)",
    )


def test_admin_with_a_table_that_does_not_exist(tmp_path: Path, aws_endpoint: str) -> None:
    env = _env(tmp_path, AWS_ENDPOINT_URL_DYNAMODB=aws_endpoint, TABLE_NAME="patients-dev-Table")
    _fails_with(
        _admin(env, "clinics", "create"),
        f"patients-admin: table patients-dev-Table does not exist at {aws_endpoint}: name a deployed stack with "
        "--stack, or the table with --table, or `source .local/run.env` (written by make run) to use the local "
        "API's DynamoDB",
    )
