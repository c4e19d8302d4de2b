"""Row 6: the web app's budget. Its JavaScript, gzipped, from a fresh build; and how long the first page takes
to become interactive in headless Chromium against the local server (`make run`'s AppGateway over the
embedded DynamoDB with the demo clinic), with an empty cache each time.

"Interactive" is the app's own `performance.mark("app-interactive")`: set once the sign-in form is on
screen, or once the patient list shows its first page of patients (a token already in the tab), measured
from the start of navigation. Median of BENCH_WEB_REPS (5) loads each.

`python -m bench.web OUT.json`
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from local.template import REPO_ROOT

JS_GOAL_BYTES = 120 * 1024
INTERACTIVE_GOAL_MS = 1000
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def build(out: Path) -> dict[str, Any]:
    subprocess.run(
        ["node", str(REPO_ROOT / "web" / "build.mjs"), "--outdir", str(out)], check=True, capture_output=True
    )
    return json.loads((out / "manifest.json").read_text())


def _chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/lib/chromium/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("bench/web.py needs Chromium: apt-get install -y chromium")


def _interactive_ms(browser: Any, url: str, token: str | None) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        if token:
            context.add_init_script(f"sessionStorage.setItem('patients.token', {json.dumps(token)})")
        page = context.new_page()
        page.goto(url + ("/#/patients" if token else "/"))
        page.wait_for_function("() => performance.getEntriesByName('app-interactive').length > 0", timeout=10_000)
        return float(page.evaluate("() => performance.getEntriesByName('app-interactive')[0].startTime"))
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
        manifest = build(dist)
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
                browser = playwright.chromium.launch(executable_path=_chromium(), args=ARGS, headless=True)
                _interactive_ms(browser, url, None)  # the server's first request imports its handlers
                _interactive_ms(browser, url, demo["tokens"]["provider"])
                sign_in = [_interactive_ms(browser, url, None) for _ in range(reps)]
                listed = [_interactive_ms(browser, url, demo["tokens"]["provider"]) for _ in range(reps)]
                browser.close()
        finally:
            if gateway is not None:
                gateway.shutdown()
            stop_db()
    files = manifest["files"]
    js = sum(f["gzip_bytes"] for f in files if f["path"].endswith(".js"))
    css = sum(f["gzip_bytes"] for f in files if f["path"].endswith(".css"))
    sign_in_ms, list_ms = statistics.median(sign_in), statistics.median(listed)
    return {
        "js_gzip_bytes": js,
        "js_bytes": sum(f["bytes"] for f in files if f["path"].endswith(".js")),
        "css_gzip_bytes": css,
        "all_gzip_bytes": sum(f["gzip_bytes"] for f in files),
        "sign_in_ms": sign_in_ms,
        "patient_list_ms": list_ms,
        "reps": reps,
        "js_ok": js <= JS_GOAL_BYTES,
        "interactive_ok": max(sign_in_ms, list_ms) < INTERACTIVE_GOAL_MS,
    }


if __name__ == "__main__":
    result = measure(int(os.environ.get("BENCH_WEB_REPS", "5")))
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(result, out)
