"""Request bodies of the gauge routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from clinic.models import Moment, Notes, Number, _Envelope, _Strict
from clinic.models.instrument_codes import NewGaugeType
from clinic.validation import BLANK, fail

# Default scales of the common gauge types (API.md); other types must give their own.
DEFAULT_SCALES: dict[str, tuple[float, float]] = {
    "mood": (1, 10),
    "anxiety": (1, 10),
    "energy": (1, 10),
    "sleep_quality": (1, 10),
    "pain": (0, 10),
    "medication_adherence": (0, 100),
    "social_interaction": (1, 10),
}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _scale(info: ValidationInfo, field: str, value: float | None) -> float | None:
    if value is not None:
        return value
    kind = info.data.get("gauge_type")
    if kind is None:  # the type itself is invalid: that error is enough
        return None
    if kind not in DEFAULT_SCALES:
        raise fail(BLANK)
    return DEFAULT_SCALES[kind][0 if field == "scale_min" else 1]


class NewGauge(_Strict):
    # Field order matters: validators below read the fields validated before them.
    gauge_type: NewGaugeType
    scale_max: Number | None = Field(default=None, validate_default=True)
    scale_min: Number | None = Field(default=None, validate_default=True)
    value: Number
    recorded_at: Moment | None = None
    notes: Notes | None = None

    @field_validator("scale_max")
    @classmethod
    def _default_max(cls, value: float | None, info: ValidationInfo) -> float | None:
        return _scale(info, "scale_max", value)

    @field_validator("scale_min")
    @classmethod
    def _default_min(cls, value: float | None, info: ValidationInfo) -> float | None:
        value = _scale(info, "scale_min", value)
        top = info.data.get("scale_max")
        if value is not None and top is not None and value >= top:
            raise fail("must be less than scale_max")
        return value

    @field_validator("value")
    @classmethod
    def _within_scale(cls, value: float, info: ValidationInfo) -> float:
        low, high = info.data.get("scale_min"), info.data.get("scale_max")
        if low is not None and high is not None and not low <= value <= high:
            raise fail(f"must be between {_number(low)} and {_number(high)}")
        return value


class RecordGaugesRequest(_Envelope):
    """Either one gauge or a batch of up to 100, stored all or nothing."""

    # Exactly one of the two, not null (what _wrapper_key and _one_of enforce), for the OpenAPI document.
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["gauge"], "properties": {"gauge": {"type": "object"}, "gauges": {"type": "null"}}},
                {"required": ["gauges"], "properties": {"gauges": {"type": "array"}, "gauge": {"type": "null"}}},
            ]
        }
    )

    gauge: NewGauge | None = None
    gauges: Annotated[list[NewGauge], Field(min_length=1, max_length=100)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _wrapper_key(cls, data: Any) -> Any:
        # Without `gauge` or `gauges` the body is "missing its wrapper", whatever else it holds.
        if not isinstance(data, dict) or (data.get("gauge") is None and data.get("gauges") is None):
            raise fail(BLANK)
        return data

    @model_validator(mode="after")
    def _one_of(self) -> RecordGaugesRequest:
        if self.gauge is not None and self.gauges is not None:
            raise fail("can't be sent together with gauges")
        return self
