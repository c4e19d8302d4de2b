"""Opaque page cursors: a page number, the id of the last row returned and a digest of the query.

They carry no patient data (never a name or a value); the rows they point into are re-read and
re-checked against the caller's access on every use.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from clinic.errors import ValidationFailed

T = TypeVar("T")

# `page` without a cursor reads every page before it, so it stops at MAX_PAGE; a cursor costs the same as
# page 1 however deep, but the page number it carries is bounded alike (a forged one is invalid), so a list
# ends at page MAX_PAGE: its `has_more` stays true and its `next_cursor` is null.
MAX_PAGE = 1000
# The `cursor` query parameter in the OpenAPI document: its shape (what encode() makes: base64url, unpadded) is
# a pattern; that it is one this API issued, for this same query, is a rule the description states.
CURSOR = (
    "The `meta.next_cursor` of the previous page, sent back unchanged with the same other parameters; any other "
    "value, even of the right shape, is 422 `cursor: is invalid`."
)
CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"  # empty is the same as none


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
        if data["q"] != query_digest or not isinstance(page, int) or not 1 <= page < MAX_PAGE:
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise invalid() from None
    return page, anchor


def invalid() -> ValidationFailed:
    return ValidationFailed({"cursor": ["is invalid"]})


def window(page_size: int, skip: int) -> int:
    """How many rows to read for a page: the rows skipped, the page, and one to tell whether more follow."""
    return skip + page_size + 1


def page_of(
    rows: Iterable[T], *, page: int, page_size: int, skip: int, anchor: Callable[[T], Any], query_digest: str
) -> tuple[list[T], dict[str, Any]]:
    """The page's rows and the contract's `meta` (whose `next_cursor` points after the page's last row)."""
    taken = list(itertools.islice(rows, window(page_size, skip)))
    page_rows = taken[skip : skip + page_size]
    has_more = len(taken) > skip + page_size
    last = has_more and page_rows and page < MAX_PAGE
    next_cursor = encode(page, anchor(page_rows[-1]), query_digest) if last else None
    return page_rows, {"page": page, "page_size": page_size, "has_more": has_more, "next_cursor": next_cursor}
