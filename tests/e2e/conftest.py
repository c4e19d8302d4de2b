"""Browser tests: the built web app and the real API on one local origin (as CloudFront serves them on AWS),
seeded with the demo clinic, driven in Debian's Chromium by Playwright. One server and one browser for the
whole session; every test gets a fresh browser context (its own sessionStorage)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clinic import patients, settings
from clinic.access import Caller
from clinic.models import NewPatient
from playwright.sync_api import Browser, Page, sync_playwright

from local import events
from local.dynamodb import create_tables, start_embedded
from local.seed import DEMO_PATIENTS, seed_demo, seed_gauges
from local.template import REPO_ROOT, environment, load_template
from local.webapp import AppGateway

WEB = REPO_ROOT / "web"
# Playwright's own browser download is not used: Debian's chromium, headless, quiet on the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Patients added to the demo clinic so the list has a second page (25 a page).
PAGING_PATIENTS = 24
# The browser's own zone differs from every demo patient's: times on screen must follow the patient's.
BROWSER_TIME_ZONE = "Pacific/Auckland"


def chromium_path() -> str | None:
    """CHROMIUM, else Debian's binary (the /usr/bin/chromium wrapper script adds nothing headless needs)."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def build_web(out: Path) -> Path:
    """A fresh build of web/ for this session (esbuild takes well under a second)."""
    if not (WEB / "node_modules" / "esbuild").is_dir():
        pytest.fail("web/node_modules is missing: run `make web` (npm ci) first", pytrace=False)
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed to build web/: apt-get install -y nodejs npm", pytrace=False)
    subprocess.run([node, str(WEB / "build.mjs"), "--outdir", str(out)], check=True, capture_output=True)
    return out


@dataclass
class Site:
    url: str
    tokens: dict[str, str]
    users: dict[str, int]
    clinic_id: int
    patient_ids: list[int]
    gateway: AppGateway


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`make run` in miniature: the app and the API served together over an embedded DynamoDB holding the
    demo clinic (four weeks of gauges, summarised once by the real summary job)."""
    dist = build_web(tmp_path_factory.mktemp("web") / "dist")
    template = load_template()
    endpoint, stop_db = start_embedded(in_process=False)
    patch = pytest.MonkeyPatch()
    patch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
    for name, value in environment(template).items():
        patch.setenv(name, value)
    gateway = None
    try:
        create_tables(template, endpoint_url=endpoint)
        settings.reset()
        gateway = AppGateway(template, authorizer_cache=False, web_root=dist)
        # Four weeks of gauges for John Doe only: the summary job's first run over all six demo patients
        # takes most of a minute on the embedded DynamoDB, over one it takes seconds.
        demo = seed_demo(gauge_days=0)
        seed_gauges([{**DEMO_PATIENTS[0], "id": demo["patient_ids"][0]}], demo["users"]["provider"])
        admin = Caller(user_id=demo["users"]["admin"], clinic_id=demo["clinic_id"], role="admin")
        for n in range(PAGING_PATIENTS):
            patients.create(admin, NewPatient(first_name=f"Pat{n:02d}", last_name="Paging", date_of_birth="1990-01-01"))
        gateway.invoke("SummarizeGaugesFunction", events.scheduled_event("e2e-summaries"))
        server = gateway.serve("127.0.0.1", 0)
        yield Site(
            url=server.url,  # type: ignore[attr-defined]
            tokens=demo["tokens"],
            users=demo["users"],
            clinic_id=demo["clinic_id"],
            patient_ids=demo["patient_ids"],
            gateway=gateway,
        )
    finally:
        if gateway is not None:
            gateway.shutdown()
        stop_db()
        patch.undo()
        settings.reset()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        pytest.fail(
            "tests/e2e need Chromium: `apt-get install -y chromium` (Debian/Ubuntu), or CHROMIUM=/path/to/chrome",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    """A new tab in a new context; fails the test on any script error or CSP violation it logged.

    "Failed to load resource" lines are the browser noting 4xx answers the app handles (a 404 for a
    route this API does not have yet, a 422 the form shows).
    """
    context = browser.new_context(
        base_url=site.url, viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id=BROWSER_TIME_ZONE
    )
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    problems: list[str] = []
    tab.on("console", lambda m: _console(m, problems))
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    yield tab
    context.close()
    assert not problems, f"the browser logged errors: {problems}"


def _console(message: Any, problems: list[str]) -> None:
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(message.text)
