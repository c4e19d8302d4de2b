"""Every curl example in the README's "Try it" section, run as written against the local API."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from local.seed import seed_demo

README = Path(__file__).resolve().parents[2] / "README.md"


def _examples() -> list[tuple[str, int]]:
    """(command, expected status) pairs: each command follows a comment naming its status (`; 201`)."""
    section = README.read_text().split("## Try it", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    examples, expected, command = [], None, ""
    for line in block.splitlines():
        if line.startswith("#"):
            found = re.search(r";\s*(\d{3})\b", line)
            expected = int(found.group(1)) if found else expected
            continue
        command += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if command.strip() and not line.endswith("\\"):
            if command.startswith("curl"):
                assert expected is not None, f"no expected status before: {command}"
                examples.append((command, expected))
            command = ""
    return examples


def test_the_readme_has_examples_of_every_kind() -> None:
    commands = " ".join(c for c, _ in _examples())
    for route in ("/v1/patients?", '-X POST "$API/v1/patients"', "-X PUT", "/gauges?", "/gauges/summary", "/care_team"):
        assert route in commands


@pytest.fixture(scope="module")
def demo(http_api) -> dict:
    return seed_demo()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize(("command", "expected"), _examples(), ids=lambda v: str(v)[:60])
def test_readme_example(http_api, demo: dict, command: str, expected: int) -> None:
    env = {
        **os.environ,
        "API": http_api.url,
        "PATIENT_ID": str(demo["patient_ids"][0]),
        **{f"{role.upper()}_TOKEN": token for role, token in demo["tokens"].items()},
    }
    # The status goes last, on its own line, whatever the example prints before it (-i headers, body).
    out = subprocess.run(
        ["bash", "-c", f"{command} -w '\\n%{{http_code}}'"], env=env, capture_output=True, text=True, timeout=30
    )
    *body, status = out.stdout.rstrip("\n").rsplit("\n", 1)
    assert int(status) == expected, out.stdout
    payload = body[0].split("\n\n")[-1] if body else ""  # after -i headers (newlines are normalized)
    if expected != 204:
        parsed = json.loads(payload)  # every answer is the contract's JSON
        if expected >= 400:
            assert "errors" in parsed
        else:
            assert "errors" not in parsed
