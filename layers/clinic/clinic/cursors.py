"""Opaque page cursors: a page number, the id of the last row returned and a digest of the query.

They carry no patient data (never a name or a value); the rows they point into are re-read and
re-checked against the caller's access on every use.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from clinic.errors import ValidationFailed


def digest(*query: Any) -> str:
    return hashlib.sha256(json.dumps(query, default=str).encode()).hexdigest()[:16]


def encode(page: int, anchor: Any, query_digest: str) -> str:
    raw = json.dumps({"p": page, "a": anchor, "q": query_digest}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, query_digest: str) -> tuple[int, Any]:
    """(page of the previous page, its anchor), or 422 `cursor: is invalid` for anything else."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        page, anchor = data["p"], data["a"]
        if data["q"] != query_digest or not isinstance(page, int) or page < 1:
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ValidationFailed({"cursor": ["is invalid"]}) from None
    return page, anchor


def invalid() -> ValidationFailed:
    return ValidationFailed({"cursor": ["is invalid"]})
