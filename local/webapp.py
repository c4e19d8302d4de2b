"""The web app beside the API for `make run`: every path outside /v1 is a file of the built app (web/dist),
sent with the security headers CloudFront adds on AWS, read from the template's response headers policy."""

from __future__ import annotations

import json
import mimetypes
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from local.gateway import HttpResponse, LocalGateway
from local.template import REPO_ROOT

WEB = REPO_ROOT / "web"
WEB_DIST = WEB / "dist"
HEADERS_POLICY = "WebSecurityHeadersPolicy"
# Hashed file names never change content: cache them for a year. index.html names the current ones, so
# it is revalidated on every load (as the deploy step sets on S3).
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def build(out: Path) -> dict[str, Any]:
    """A fresh build of web/ into `out` (esbuild takes well under a second); returns its manifest (every
    file with its size, raw and gzipped). Tests and the bench build their own; `make web` builds web/dist."""
    node = shutil.which("node")
    if node is None or not (WEB / "node_modules" / "esbuild").is_dir():
        raise RuntimeError("building web/ needs Node.js 18+ and its packages: apt-get install -y nodejs npm; make web")
    subprocess.run([node, str(WEB / "build.mjs"), "--outdir", str(out)], check=True, capture_output=True)
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    return manifest


def content_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def cache_control(path: str) -> str:
    return IMMUTABLE if path.startswith("assets/") else REVALIDATE


def security_headers(template: Mapping[str, Any]) -> dict[str, str]:
    """The headers of the template's CloudFront response headers policy, so the local app runs under the
    same Content-Security-Policy as on AWS. HSTS is left out: it means nothing over plain HTTP."""
    policy = template.get("Resources", {}).get(HEADERS_POLICY)
    if policy is None:
        raise KeyError(f"template.yaml has no {HEADERS_POLICY}")
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    security = config.get("SecurityHeadersConfig", {})
    headers: dict[str, str] = {}
    if "ContentSecurityPolicy" in security:
        headers["Content-Security-Policy"] = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    if "FrameOptions" in security:
        headers["X-Frame-Options"] = security["FrameOptions"]["FrameOption"]
    if "ReferrerPolicy" in security:
        headers["Referrer-Policy"] = security["ReferrerPolicy"]["ReferrerPolicy"]
    for item in config.get("CustomHeadersConfig", {}).get("Items", []):
        headers[item["Header"]] = item["Value"]
    return headers


class WebApp:
    """GET and HEAD of the built files; "/" is index.html. Nothing outside the folder is reachable."""

    def __init__(self, root: Path, headers: Mapping[str, str]) -> None:
        self.root = root.resolve()
        self.headers = dict(headers)

    @property
    def built(self) -> bool:
        return (self.root / "index.html").is_file()

    def respond(self, method: str, path: str) -> HttpResponse:
        if method not in ("GET", "HEAD"):
            return self._page(405, "Method not allowed", {"Allow": "GET, HEAD"})
        relative = unquote(path).lstrip("/") or "index.html"
        file = (self.root / relative).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            if not self.built:
                return self._page(404, "The web app is not built: run `make build` (or `make run`, which builds it).")
            return self._page(404, "Not found")
        headers = {**self.headers, "Content-Type": content_type(relative), "Cache-Control": cache_control(relative)}
        return HttpResponse(200, headers, file.read_bytes())

    def _page(self, status: int, message: str, extra: Mapping[str, str] | None = None) -> HttpResponse:
        headers = {
            **self.headers,
            "Content-Type": "text/plain; charset=utf-8",
            "Cache-Control": "no-store",
            **(extra or {}),
        }
        return HttpResponse(status, headers, message.encode())


class AppGateway(LocalGateway):
    """The local API gateway with the web app on the same origin, as CloudFront puts them on AWS: /v1 and
    everything under it goes to the API, any other path to the app."""

    def __init__(self, template: dict[str, Any], *args: Any, web_root: Path = WEB_DIST, **kwargs: Any) -> None:
        super().__init__(template, *args, **kwargs)
        self.web = WebApp(web_root, security_headers(template))

    def handle(
        self,
        method: str,
        raw_path: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        path = urlsplit(raw_path).path or "/"
        if path == "/v1" or path.startswith("/v1/"):
            return super().handle(method, raw_path, headers, body, source_ip)
        return self.web.respond(method, path)
