"""Request bodies of the assessment routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, StrictInt, ValidationInfo, field_validator

from clinic import instruments
from clinic.models import Moment, Notes, _Envelope, _Strict
from clinic.models.instrument_codes import InstrumentCode
from clinic.validation import fail


def _answer(value: int, info: ValidationInfo) -> int:
    instrument = instruments.get(info.data.get("instrument") or "")
    if instrument is not None and not instrument.answer_min <= value <= instrument.answer_max:
        raise fail(f"must be between {instrument.answer_min} and {instrument.answer_max}")
    return value


MAX_ANSWERS = 100


class NewAssessment(_Strict):
    # Field order matters: the answers are checked against the instrument validated before them.
    instrument: InstrumentCode
    answers: list[Annotated[StrictInt, AfterValidator(_answer)]]
    completed_at: Moment | None = None
    notes: Notes | None = None

    @field_validator("answers", mode="before")
    @classmethod
    def _one_per_item(cls, value: Any, info: ValidationInfo) -> Any:
        # Before the answers themselves: a list of the wrong length is one problem, not one per answer.
        instrument = instruments.get(info.data.get("instrument") or "")
        if instrument is not None and isinstance(value, list) and len(value) != len(instrument.items):
            raise fail(f"must have exactly {len(instrument.items)} answers")
        if isinstance(value, list) and len(value) > MAX_ANSWERS:  # whatever the instrument: no list is that long
            raise fail(f"must have at most {MAX_ANSWERS} answers")
        return value


class RecordAssessmentRequest(_Envelope):
    assessment: NewAssessment
