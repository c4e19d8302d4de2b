"""Pydantic models of the contract's request bodies and query parameters; Powertools validates them and
OpenAPI describes them.

This package holds what several resources share: the query parameters of the list routes and the field types
used by more than one body. Each resource's bodies are in their own module (clinic.models.patients, ...), so a
function builds only the classes of its own route at cold start.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StrictStr, model_validator

from clinic import clock
from clinic.cursors import CURSOR, CURSOR_PATTERN, MAX_PAGE
from clinic.validation import BLANK, GAUGE_TYPE, NOTES_PATTERN, fail, free_text, gauge_type, parse_time

EARLIEST_BIRTH = date(1900, 1, 1)
# Gauges share the bound: no patient-reported measurement predates 1900, and every stored time then stays
# inside datetime's years 1-9999 in every time zone (the summary job turns times into local days).
EARLIEST_TIME = datetime.combine(EARLIEST_BIRTH, time.min, UTC)
TOO_EARLY = "must be on or after 1900-01-01"
# For the OpenAPI document: years 1900 on (the rest of the bound, "not after today", is in the description).
FROM_1900 = r"^(?:19|[2-9][0-9])[0-9]{2}-"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)


class _Envelope(_Strict):
    @model_validator(mode="before")
    @classmethod
    def _wrapper(cls, data: Any) -> Any:
        # A body that is not an object (null, a list, a string) is "the wrapper key is missing".
        return data if isinstance(data, dict) else {}


FUTURE_TOLERANCE = timedelta(minutes=5)

# DynamoDB stores magnitudes from 1e-130 to below 1e126: bound values well inside, and let a
# vanishing fraction be 0 rather than a storage error.
NUMBER_LIMIT = 10**12


def _storable(value: float) -> float:
    if value < -NUMBER_LIMIT:
        raise fail(f"must be greater than or equal to {-NUMBER_LIMIT}")
    if value > NUMBER_LIMIT:
        raise fail(f"must be less than or equal to {NUMBER_LIMIT}")
    return 0.0 if abs(value) < 1e-9 else value


# Every number a client sends that is stored (gauge values and scales, alert rule thresholds) is a Number: a
# threshold of 2e-313 was a DynamoDB ValidationException (500) when it had bounds of its own.
Number = Annotated[
    float,
    Strict(),
    Field(allow_inf_nan=False, json_schema_extra={"minimum": -NUMBER_LIMIT, "maximum": NUMBER_LIMIT}),
    AfterValidator(_storable),
]

GaugeType = Annotated[StrictStr, AfterValidator(gauge_type), Field(json_schema_extra={"pattern": GAUGE_TYPE})]


def _recorded_at(value: str) -> str:
    moment = parse_time(value)  # compared in its own offset: converting 9999-12-31T23:00-01:00 overflows
    if moment < EARLIEST_TIME:
        raise fail(TOO_EARLY)
    if moment > clock.now() + FUTURE_TOLERANCE:
        raise fail("can't be in the future")
    return clock.iso(moment)


Notes = Annotated[
    StrictStr, Field(max_length=2000, json_schema_extra={"pattern": NOTES_PATTERN}), AfterValidator(free_text)
]
Moment = Annotated[
    StrictStr,
    AfterValidator(_recorded_at),
    Field(
        description="From 1900-01-01T00:00:00Z to 5 minutes from now (else 422); default now.",
        json_schema_extra={"format": "date-time", "pattern": FROM_1900},
    ),
]


def _not_blank(value: str) -> str:
    # A blank invitation code is a missing one (any other text is looked up as it is: an unknown code is 404,
    # not 422); a blank resolution note is a missing note.
    if not value.strip():
        raise fail(BLANK)
    return value


# ---- query parameters ----


def parameter_schema(schema: dict[str, Any], **keywords: Any) -> None:
    """json_schema_extra of an optional query or header parameter, bound to its keywords with partial: a string
    with these keywords (`pattern`).

    pydantic writes `str | None` as anyOf string or null, and a keyword beside the anyOf does not constrain
    its null branch: a URL or a header cannot carry null, so generators send the text "null" (schemathesis
    did, as `If-Match: null`). Left out is what the parameter's absence means already.
    """
    for branch in schema.pop("anyOf"):  # every parameter it serves is `... | None`
        if branch.get("type") == "string":
            schema.update(branch)
    schema.update(keywords)


# Lists page 1-100 rows (API.md); a patient's gauges, small rows that charts read in bulk, 1-500.
MAX_PAGE_SIZE = 100
MAX_GAUGE_PAGE_SIZE = 500
# Cursors we issue are short (a page, an id, a digest): the bound refuses a forged long one before decoding it.
MAX_CURSOR_LENGTH = 2048

# Powertools copies each Query() it reads, so one alias serves every route's parameter of that name.
Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
GaugePageSize = Annotated[int, Query(ge=1, le=MAX_GAUGE_PAGE_SIZE)]
# The `cursor` of every list route, so each states the same shape and rule.
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        description=CURSOR,
        json_schema_extra=partial(parameter_schema, pattern=CURSOR_PATTERN),
    ),
]
# A calendar day (YYYY-MM-DD) in the patient's time zone. The domain parses it (clinic.gauges.parse_range), so
# a bad date and an end before the start get the contract's messages; the format is for the document only.
DateQuery = Annotated[str | None, Query(json_schema_extra={"format": "date"})]
GaugeTypeQuery = Annotated[GaugeType | None, Query()]
Order = Annotated[Literal["desc", "asc"], Query()]  # by time: newest first, or oldest first
