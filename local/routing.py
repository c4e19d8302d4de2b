"""API Gateway REST resource matching: a request path to the template route that serves it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from local.template import Route


@dataclass(frozen=True)
class _Resource:
    path: str
    segments: tuple[str, ...]
    methods: dict[str, Route]

    def match(self, parts: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for i, segment in enumerate(self.segments):
            if segment.startswith("{") and segment.endswith("+}"):
                rest = parts[i:]
                if not rest or not rest[0]:
                    return None
                params[segment[1:-2]] = "/".join(rest)
                return params
            if i >= len(parts):
                return None
            if segment.startswith("{") and segment.endswith("}"):
                if not parts[i]:
                    return None
                params[segment[1:-1]] = parts[i]
            elif segment != parts[i]:
                return None
        return params if len(parts) == len(self.segments) else None

    @property
    def specificity(self) -> tuple[int, ...]:
        # API Gateway prefers a literal segment to {param}, and {param} to {proxy+}, left to right.
        ranks = tuple(0 if s.endswith("+}") else 1 if s.startswith("{") else 2 for s in self.segments)
        return (*ranks, len(self.segments))


def _split(path: str) -> list[str]:
    return path.strip("/").split("/") if path.strip("/") else []


class RouteTable:
    """The API's resources, most specific first."""

    def __init__(self, routes: Iterable[Route]) -> None:
        by_path: dict[str, dict[str, Route]] = {}
        for route in routes:
            by_path.setdefault(route.path, {})[route.method] = route
        resources = [_Resource(path, tuple(_split(path)), methods) for path, methods in by_path.items()]
        self._resources = sorted(resources, key=lambda r: r.specificity, reverse=True)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and URL-decoded path parameters for a raw request path, or None (API Gateway's
        MISSING_AUTHENTICATION_TOKEN). Segments are decoded one by one so %2F stays inside a parameter."""
        parts = [unquote(p) for p in _split(path)]
        for resource in self._resources:
            params = resource.match(parts)
            if params is None:
                continue
            # The most specific resource wins even when it lacks the method: no fallback to {param}.
            route = resource.methods.get(method.upper()) or resource.methods.get("ANY")
            return (route, params) if route else None
        return None
