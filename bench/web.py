"""Row 6: the web app's budget. Its JavaScript, gzipped, from a fresh build; and how long the first page takes
to become interactive in headless Chromium against the local server (`make run`'s AppGateway over the
embedded DynamoDB with the demo clinic), with an empty cache each time.

"Interactive" is the app's own `performance.mark("app-interactive")`: set once the sign-in form is on
screen, or once the patient list shows its first page of patients (a tab already signed in), measured
from the start of navigation. Median of BENCH_WEB_REPS (5) loads each.

`python -m bench.web OUT.json`
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from local import chromium, webapp

JS_GOAL_BYTES = 120 * 1024
INTERACTIVE_GOAL_MS = 1000


def _signed_in_tab(browser: Any, url: str, token: str) -> dict[str, str]:
    """What a tab holds after signing in through the sign-in form (the token and who it belongs to)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url + "/")
        page.get_by_label("Access token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Sign out").wait_for()
        return dict(page.evaluate("() => Object.fromEntries(Object.entries(sessionStorage))"))
    finally:
        context.close()


def _interactive_ms(browser: Any, url: str, tab: dict[str, str] | None) -> tuple[float, float, float]:
    """(ms until the app's mark, ms spent waiting for the API on the way, ms until the first API request)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        if tab:
            context.add_init_script(
                f"Object.entries({json.dumps(tab)}).forEach(([k, v]) => sessionStorage.setItem(k, v))"
            )
        page = context.new_page()
        page.goto(url + ("/#/patients" if tab else "/"))
        page.wait_for_function("() => performance.getEntriesByName('app-interactive').length > 0", timeout=10_000)
        mark, api, asked = page.evaluate(
            """() => {
                const calls = performance.getEntriesByType('resource').filter(e => e.name.includes('/v1/'));
                return [performance.getEntriesByName('app-interactive')[0].startTime,
                    calls.reduce((total, e) => total + e.duration, 0),
                    calls.length ? calls[0].startTime : 0];
            }"""
        )
        return float(mark), float(api), float(asked)
    finally:
        context.close()


def measure(reps: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from local.dynamodb import create_tables, start_embedded
    from local.seed import seed_demo
    from local.template import environment, load_template
    from local.webapp import AppGateway

    with tempfile.TemporaryDirectory(prefix="bench-web-") as scratch:
        dist = Path(scratch) / "dist"
        manifest = webapp.build(dist)
        template = load_template()
        os.environ.update(
            {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
        )
        endpoint, stop_db = start_embedded()
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
        os.environ.update(environment(template))
        gateway = None
        try:
            create_tables(template, endpoint_url=endpoint)
            gateway = AppGateway(template, web_root=dist)
            demo = seed_demo(gauge_days=0)
            url = gateway.serve("127.0.0.1", 0).url  # type: ignore[attr-defined]
            with sync_playwright() as playwright:
                path = chromium.executable()
                if path is None:
                    raise SystemExit(f"bench/web.py: {chromium.MISSING}")
                browser = playwright.chromium.launch(executable_path=path, args=chromium.ARGS, headless=True)
                tab = _signed_in_tab(browser, url, demo["tokens"]["provider"])  # also warms the handlers
                sign_in = [_interactive_ms(browser, url, None) for _ in range(reps)]
                listed = [_interactive_ms(browser, url, tab) for _ in range(reps)]
                browser.close()
        finally:
            if gateway is not None:
                gateway.shutdown()
            stop_db()
    files = manifest["files"]
    js = sum(f["gzip_bytes"] for f in files if f["path"].endswith(".js"))
    css = sum(f["gzip_bytes"] for f in files if f["path"].endswith(".css"))
    sign_in_ms = statistics.median(ms for ms, _, _ in sign_in)
    list_ms = statistics.median(ms for ms, _, _ in listed)
    list_api_ms = statistics.median(api for _, api, _ in listed)
    list_asked_ms = statistics.median(asked for _, _, asked in listed)
    return {
        "js_gzip_bytes": js,
        "js_bytes": sum(f["bytes"] for f in files if f["path"].endswith(".js")),
        "css_gzip_bytes": css,
        "all_gzip_bytes": sum(f["gzip_bytes"] for f in files),
        "sign_in_ms": sign_in_ms,
        "patient_list_ms": list_ms,
        "patient_list_api_ms": list_api_ms,
        "patient_list_asked_ms": list_asked_ms,
        "reps": reps,
        "js_ok": js <= JS_GOAL_BYTES,
        "interactive_ok": max(sign_in_ms, list_ms) < INTERACTIVE_GOAL_MS,
    }


if __name__ == "__main__":
    result = measure(int(os.environ.get("BENCH_WEB_REPS", "5")))
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(result, out)
