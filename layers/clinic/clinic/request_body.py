"""The checks a request body passes before anything else reads it: size in bytes, media type, and a strict
JSON parse (depth, numbers, text). One function, `check`, so the HTTP edge calls it in one place; the
parse is the resolver's JSON deserializer, so Powertools' validation reuses the parsed body.

The contract: 413 over 1 MB, 415 for anything that is not JSON, 400 for a body that is not JSON we can
store. Each limit keeps a hostile body away from code that would fail on it with a 500: pydantic and
json recurse per nesting level, int() refuses more than 4,300 digits, DynamoDB refuses text that is not
UTF-8, and Powertools compares the media type case-sensitively.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from clinic.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_BYTES = 1024 * 1024
# The contract's deepest body is three levels ({"gauges": [{...}]}, {"patient": {"address": {...}}});
# 32 leaves room, and stays far below the recursion that fails at about 1,000.
MAX_DEPTH = 32
JSON = "application/json"
# Methods whose routes read the body; a body sent with GET or DELETE is ignored (beyond its size).
READS_BODY = frozenset({"POST", "PUT", "PATCH"})

TOO_DEEP = "Request body is nested too deeply"


def check(event: APIGatewayProxyEvent) -> None:
    """413, 415 or 400 for a body the routes cannot take; afterwards `event.json_body` is the parsed body."""
    body = event.body
    if body is None or body == "":
        return
    if _size(body, bool(event.is_base64_encoded)) > MAX_BYTES:
        raise PayloadTooLarge
    if event.http_method not in READS_BODY:
        return
    if not _is_json(event.headers.get("content-type")):
        raise UnsupportedMediaType
    _canonical_content_type(event.raw_event)
    try:
        event.json_body  # noqa: B018  (parsed by parse_json below, and cached for the validation)
    except TooDeep:
        raise BadRequest(TOO_DEEP) from None
    except ValueError:  # not JSON, NaN, a 5,000-digit number, bad base64 or UTF-8, a lone surrogate
        raise BadRequest from None


def _size(body: str, base64_encoded: bool) -> int:
    """The body's size in bytes as the client sent it (the event holds text: count its UTF-8 bytes)."""
    if base64_encoded:
        return len(body) * 3 // 4 - body[-2:].count("=")
    if len(body) > MAX_BYTES or len(body) * 4 <= MAX_BYTES or body.isascii():
        return len(body)  # over the limit in characters already, or under it whatever they are
    return len(body.encode("utf-8", "surrogatepass"))


def _is_json(content_type: str | None) -> bool:
    """`application/json` in any case (RFC 9110: media types are case-insensitive), with no charset or
    UTF-8 (RFC 8259: JSON between systems is UTF-8). No header, `text/json` or `+json` types are not JSON here."""
    if content_type is None:
        return False
    media_type, *parameters = content_type.split(";")
    if media_type.strip().lower() != JSON:
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def _canonical_content_type(raw_event: MutableMapping[str, Any]) -> None:
    """Writes the accepted media type as `application/json`: Powertools' validation only parses a body whose
    Content-Type starts with that exact, lower-case text."""
    for field in ("headers", "multiValueHeaders"):
        headers = raw_event.get(field) or {}
        for name in list(headers):
            if name.lower() == "content-type":
                headers[name] = JSON if field == "headers" else [JSON]


class TooDeep(ValueError):
    pass


def parse_json(text: str) -> Any:
    """Strict JSON: no NaN or Infinity (Python's json takes them), at most MAX_DEPTH levels, and only text
    that is valid Unicode (a lone surrogate escape such as "\\ud800" parses but cannot be stored)."""
    try:
        value = json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise TooDeep from None
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise TooDeep
            children = list(node.values()) + list(node) if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(node, str) and not node.isascii():
            node.encode("utf-8")  # UnicodeEncodeError (a ValueError) for a lone surrogate
    return value


def _not_json(word: str) -> Any:
    raise ValueError(f"{word} is not JSON")
