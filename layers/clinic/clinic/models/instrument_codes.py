"""The fields that depend on the instrument catalogue: an instrument's code, and a gauge type that must not be
one. Apart from the bodies, so that a route imports clinic.instruments only when it needs them."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictStr

from clinic import instruments
from clinic.models import GaugeType
from clinic.validation import fail


def _instrument(value: str) -> str:
    if value not in instruments.CODES:
        raise fail("is not included in the list")
    return value


InstrumentCode = Annotated[
    StrictStr, AfterValidator(_instrument), Field(json_schema_extra={"enum": sorted(instruments.CODES)})
]
RESERVED = "is reserved for assessments"


def _not_an_instrument(value: str) -> str:
    # An instrument's total is recorded with its assessment only, so the gauge and its answers never disagree.
    if value in instruments.CODES:
        raise fail(RESERVED)
    return value


NewGaugeType = Annotated[GaugeType, AfterValidator(_not_an_instrument)]
