"""Turns pydantic errors into the contract's Rails-style messages, and the shared field validators."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from pydantic_core import PydanticCustomError

from clinic import clock

# Fields whose "missing" also says the value is not a date (API.md: exactly those two messages).
DATE_FIELDS = frozenset({"date_of_birth"})
# Body wrappers that do not appear in field names: `{"patient": {"first_name": ...}}` -> `first_name`.
WRAPPERS = frozenset({"patient", "gauge", "assessment"})

BLANK = "can't be blank"
INVALID_DATE = "must be a valid date"

_BY_TYPE = {
    "string_type": "must be a string",
    "int_type": "must be a number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "model_type": "must be an object",
    "dict_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be an array",
    "extra_forbidden": "is not permitted",
    "literal_error": "is not included in the list",
    "enum": "is not included in the list",
}


def fail(*messages: str) -> PydanticCustomError:
    """A validation error carrying the contract's exact messages (raise it from a validator)."""
    return PydanticCustomError("contract", "; ".join(messages), {"messages": list(messages)})


def field_name(loc: Sequence[str | int], root: str = "base") -> str:
    """`("body", "patient", "address", "zip_code")` -> `address.zip_code`; `gauges`, 3 -> `gauges[3]`."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in WRAPPERS:
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or root


def messages_for(error: Mapping[str, Any]) -> list[str]:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    loc = error.get("loc") or ()
    if kind == "contract":
        return list(ctx.get("messages", []))
    # `null` is as blank as a missing key: a date field then also says it is not a date.
    if kind == "missing" or (error.get("input", ...) is None and kind != "extra_forbidden"):
        last = loc[-1] if loc else ""
        return [BLANK, INVALID_DATE] if last in DATE_FIELDS else [BLANK]
    # Only `page` and `page_size` are lax integers (every path parameter is a string, every body number strict):
    # text that is no integer, or the parameter repeated (`?page=1&page=2`, a list).
    if loc and loc[0] == "query" and kind in ("int_parsing", "int_type"):
        return ["is not a number"]
    if kind in ("string_too_long", "too_long"):
        limit = ctx.get("max_length")
        unit = "characters" if kind == "string_too_long" else "items"
        return [f"is too long (maximum is {limit} {unit})"]
    if kind == "too_short":  # `gauges: []` (no string has a pydantic min_length)
        return [BLANK]
    # Bounds are inclusive (`ge`, `le`) everywhere: no field or parameter has `gt` or `lt`.
    if kind == "greater_than_equal":
        return [f"must be greater than or equal to {ctx['ge']}"]
    if kind == "less_than_equal":
        return [f"must be less than or equal to {ctx['le']}"]
    # Anything else: e.g. a number beyond float's range (`1e400`, finite_number), `page` of 4,301 digits.
    return [_BY_TYPE.get(kind, "is invalid")]


def rails_errors(errors: Iterable[Mapping[str, Any]], root: str) -> dict[str, list[str]]:
    """All problems at once, one list of messages per field, in the order they were found.

    `root` names errors about the body as a whole (no body at all is "the wrapper key is missing").
    """
    out: dict[str, list[str]] = {}
    for error in errors:
        messages = out.setdefault(field_name(error.get("loc") or (), root), [])
        for message in messages_for(error):
            if message not in messages:
                messages.append(message)
    return out


# ---- shared field validators (used through Annotated[..., AfterValidator(...)]) ----

# Patterns in this package are strings that re compiles on first use (and caches): compiling them at import
# would cost every cold start, including the many that never check an email or a phone.
# No whitespace and no control characters (C0, DEL, C1) anywhere; models.Email documents the same pattern.
EMAIL = r"[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\.[^@\s.\x00-\x1f\x7f-\x9f]+"
_PHONE = r"\+?[0-9][0-9 ().\-]{5,28}[0-9]"


def parse_date(value: str) -> date:
    """A real `YYYY-MM-DD` calendar date, or the contract's error."""
    if not value.strip():
        raise fail(BLANK, INVALID_DATE)
    day = clock.calendar_date(value)
    if day is None:
        raise fail(INVALID_DATE)
    return day


# Control characters (C0, DEL, C1) and Unicode's line and paragraph separators are never part of a name or an
# address; notes may hold tabs and line breaks.
CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
CONTROL_IN_NOTES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
# Characters that draw nothing: white space, soft hyphen, joiners and other format characters (zero-width
# space, bidi marks, word joiner, BOM), variation selectors, and letters that render blank (Hangul fillers,
# the blank braille pattern). A name needs one character outside these.
INVISIBLE = (
    r"\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    r"\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0"
)
# The same rules as JSON Schema patterns, for the OpenAPI document (and the clients generated from it).
NAME_PATTERN = rf"^\s*[^{CONTROL}]*[^{INVISIBLE}{CONTROL}][^{CONTROL}]*\s*$"
LINE_PATTERN = rf"^[^{CONTROL}]*$"
NOTES_PATTERN = rf"^[^{CONTROL_IN_NOTES}]*$"
_CONTROL = f"[{CONTROL}]"
_CONTROL_IN_NOTES = f"[{CONTROL_IN_NOTES}]"
_VISIBLE = f"[^{INVISIBLE}{CONTROL}]"


def single_line(value: str) -> str:
    if re.search(_CONTROL, value):
        raise fail("is invalid")
    return value


def free_text(value: str) -> str:
    if re.search(_CONTROL_IN_NOTES, value):
        raise fail("is invalid")
    return value


def not_blank(value: str) -> str:
    """A name: at least one visible character (`"\u200b"` is as blank as `" "`), and no control character
    between the spaces stripped from its ends (a tab inside a name is invalid, a tab alone is blank)."""
    stripped = value.strip()
    if not re.search(_VISIBLE, stripped):
        raise fail(BLANK)
    return single_line(stripped)


def email(value: str) -> str:
    """The model's max_length (254, RFC 5321's longest path) has checked the length already."""
    value = value.strip()
    if not re.fullmatch(EMAIL, value):
        raise fail("is invalid")
    return value


def phone(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(_PHONE, value) or sum(c.isdigit() for c in value) < 7:
        raise fail("is invalid")
    return value


@cache
def time_zones() -> frozenset[str]:
    """IANA zone names from the tzdata package shipped with the functions (not the host's files)."""
    from importlib.resources import files

    return frozenset(files("tzdata").joinpath("zones").read_text().split())


def time_zone(value: str) -> str:
    if value not in time_zones():
        raise fail("is not a valid time zone")
    return value


GAUGE_TYPE = r"^[a-z][a-z0-9_]{0,49}$"


def gauge_type(value: str) -> str:
    if not value.strip():
        raise fail(BLANK)
    if not re.fullmatch(GAUGE_TYPE, value):
        raise fail("is invalid")
    return value


def parse_time(value: str) -> datetime:
    """An ISO 8601 date-time with its offset (one without an offset is taken as UTC), not yet converted to UTC:
    near the ends of the calendar the conversion overflows, so check its range first."""
    if not value.strip():
        raise fail(BLANK)
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise fail("must be a valid date-time") from None
    if "T" not in value.upper():
        raise fail("must be a valid date-time")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
