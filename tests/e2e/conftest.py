"""Browser tests: the built web app and the real API on one local origin (as CloudFront serves them on AWS),
seeded with the demo clinic, driven in Debian's Chromium by Playwright. One server and one browser for the
whole session; every test gets a fresh browser context (its own sessionStorage)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from clinic import patients
from clinic.access import Caller
from clinic.models.patients import NewPatient
from playwright.sync_api import Browser, Page, sync_playwright
from support import served_api

from local import chromium, events, webapp
from local.seed import DEMO_PATIENTS, seed_demo, seed_gauges
from local.webapp import AppGateway

# Patients added to the demo clinic so the list has a second page (25 a page).
PAGING_PATIENTS = 24
# The browser's own zone differs from every demo patient's: times on screen must follow the patient's.
BROWSER_TIME_ZONE = "Pacific/Auckland"


@dataclass
class Site:
    url: str
    tokens: dict[str, str]
    users: dict[str, int]
    clinic_id: int
    patient_ids: list[int]
    gateway: Any


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`make run` in miniature: the app and the API served together over an embedded DynamoDB holding the
    demo clinic (four weeks of gauges, summarised once by the real summary job)."""
    dist = tmp_path_factory.mktemp("web") / "dist"
    try:
        webapp.build(dist)
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    with served_api(AppGateway, web_root=dist) as (gateway, url, _):
        # Four weeks of gauges for John Doe only: the summary job's first run over all six demo patients
        # takes most of a minute on the embedded DynamoDB, over one it takes seconds.
        demo = seed_demo(gauge_days=0)
        seed_gauges([{**DEMO_PATIENTS[0], "id": demo["patient_ids"][0]}], demo["users"]["provider"])
        admin = Caller(user_id=demo["users"]["admin"], clinic_id=demo["clinic_id"], role="admin")
        for n in range(PAGING_PATIENTS):
            patients.create(admin, NewPatient(first_name=f"Pat{n:02d}", last_name="Paging", date_of_birth="1990-01-01"))
        gateway.invoke("SummarizeGaugesFunction", events.scheduled_event("e2e-summaries"))
        yield Site(
            url=url,
            tokens=demo["tokens"],
            users=demo["users"],
            clinic_id=demo["clinic_id"],
            patient_ids=demo["patient_ids"],
            gateway=gateway,
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    path = chromium.executable()
    if path is None:
        pytest.fail(f"tests/e2e: {chromium.MISSING}", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=chromium.ARGS, headless=True)
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
    context.close()  # a fetch the tab had in flight is answered before the next test (tests/conftest.py)
    assert not problems, f"the browser logged errors: {problems}"


def _console(message: Any, problems: list[str]) -> None:
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(message.text)
