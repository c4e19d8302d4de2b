"""What the browser tests share: signing in through the sign-in screen, the API beside the browser (to set
up data and to compare what the page shows with what the API says), axe-core, screenshots, and the one
reason a test may skip: its API route does not exist yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from local.template import REPO_ROOT

SCREENSHOTS = REPO_ROOT / ".local" / "screenshots"
ROUTE_ABSENT = {"errors": "Not found"}  # the gateway's answer to a route it does not have
_axe = Axe()


def api(site: Any, method: str, path: str, token: str | None, body: Any = None, **headers: str) -> requests.Response:
    sent = {"X-User-Token": token} if token else {}
    sent.update(headers)
    return requests.request(method, site.url + path, json=body, headers=sent, timeout=30)


def require_route(site: Any, method: str, path: str, token: str, issue: int, body: Any = None) -> None:
    """Skip when, and only when, the API has no such route yet (the lead removes these once it lands)."""
    reply = api(site, method, path, token, body)
    if reply.status_code == 404 and reply.json() == ROUTE_ABSENT:
        pytest.skip(f"{method} {path.split('?')[0]} is not in the API yet (issue {issue}); the test runs once it is")


def sign_in(page: Page, token: str) -> None:
    page.goto("/")
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def check_accessibility(page: Page, what: str) -> None:
    """axe-core over the page as it is now: no serious or critical violation."""
    results = _axe.run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    details = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in bad]
    assert not bad, f"accessibility violations on {what}: {details}"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def plotted(page: Page, chart: str) -> list[list[Any]]:
    """The arrays uPlot draws in a chart: [xs, series 1, series 2, ...]."""
    locator = page.locator(f'[data-chart="{chart}"]')
    expect(locator.locator("canvas")).to_have_count(1)
    return locator.evaluate("element => element.uplot.data.map(series => Array.from(series))")


def session_storage(page: Page) -> dict[str, str]:
    return page.evaluate("() => Object.fromEntries(Object.entries(sessionStorage))")


def local_storage(page: Page) -> dict[str, str]:
    return page.evaluate("() => Object.fromEntries(Object.entries(localStorage))")
