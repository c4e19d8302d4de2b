"""Debian's Chromium for the web app's browser tests and bench: where it is, and the flags that keep it
headless and quiet on the network. Playwright launches it by `executable_path`; its own browser download is
never used."""

from __future__ import annotations

import os
import shutil

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING = "Chromium is needed: apt-get install -y chromium (Debian/Ubuntu), or CHROMIUM=/path/to/chrome"


def executable() -> str | None:
    """CHROMIUM, else Debian's binary (its /usr/bin/chromium wrapper script adds nothing headless needs)."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None
