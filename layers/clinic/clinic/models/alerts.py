"""The request body of an alert's resolution."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictStr

from clinic.models import _Envelope, _not_blank
from clinic.validation import NOTES_PATTERN, free_text

ResolutionNote = Annotated[
    StrictStr,
    Field(max_length=2000, json_schema_extra={"minLength": 1, "pattern": NOTES_PATTERN}),
    AfterValidator(_not_blank),
    AfterValidator(free_text),
]


class AlertResolution(_Envelope):
    """`POST /v1/alerts/{id}/resolve`: what the clinician did, required."""

    resolution_note: ResolutionNote
