"""Pydantic models of the contract's request bodies; Powertools validates them and OpenAPI describes them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.types import Strict

from clinic import clock
from clinic.validation import (
    BLANK,
    GAUGE_TYPE,
    INVALID_DATE,
    email,
    fail,
    gauge_type,
    not_blank,
    parse_date,
    parse_time,
    phone,
    time_zone,
)

EARLIEST_BIRTH = date(1900, 1, 1)
GENDERS = ("male", "female", "non_binary", "other", "unknown", "prefer_not_to_say")


def _birth_date(value: str) -> str:
    born = parse_date(value)
    if born > clock.today():
        raise fail("can't be in the future")
    if born < EARLIEST_BIRTH:
        raise fail("must be on or after 1900-01-01")
    return value


def _required(messages: tuple[str, ...]) -> Any:
    """Rejects an explicit `null` on a field that may be left out but never cleared (updates)."""

    def check(value: Any) -> Any:
        if value is None:
            raise fail(*messages)
        return value

    return BeforeValidator(check)


Name = Annotated[StrictStr, Field(max_length=100), AfterValidator(not_blank)]
BirthDate = Annotated[StrictStr, AfterValidator(_birth_date), Field(json_schema_extra={"format": "date"})]
AddressPart = Annotated[StrictStr, Field(max_length=200)]
Phone = Annotated[StrictStr, Field(max_length=40), AfterValidator(phone)]
Email = Annotated[StrictStr, Field(max_length=254), AfterValidator(email), Field(json_schema_extra={"format": "email"})]
TimeZone = Annotated[StrictStr, AfterValidator(time_zone)]
Gender = Literal["male", "female", "non_binary", "other", "unknown", "prefer_not_to_say"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Address(_Strict):
    street: AddressPart | None = None
    city: AddressPart | None = None
    state: AddressPart | None = None
    zip_code: AddressPart | None = None


class NewPatient(_Strict):
    first_name: Name
    last_name: Name
    date_of_birth: BirthDate
    gender: Gender | None = None
    phone: Phone | None = None
    email: Email | None = None
    address: Address | None = None
    time_zone: TimeZone | None = None


class PatientChanges(_Strict):
    """Any subset of the create fields plus `active`; only the keys sent change, `null` clears."""

    first_name: Annotated[Name | None, _required((BLANK,))] = None
    last_name: Annotated[Name | None, _required((BLANK,))] = None
    date_of_birth: Annotated[BirthDate | None, _required((BLANK, INVALID_DATE))] = None
    gender: Gender | None = None
    phone: Phone | None = None
    email: Email | None = None
    address: Address | None = None
    time_zone: TimeZone | None = None
    active: Annotated[StrictBool | None, _required((BLANK,))] = None


class _Envelope(_Strict):
    @model_validator(mode="before")
    @classmethod
    def _wrapper(cls, data: Any) -> Any:
        # A body that is not an object (null, a list, a string) is "the wrapper key is missing".
        return data if isinstance(data, dict) else {}


class CreatePatientRequest(_Envelope):
    patient: NewPatient


class UpdatePatientRequest(_Envelope):
    patient: PatientChanges


class CareTeamAddition(_Envelope):
    user_id: Annotated[StrictInt, Field(ge=1)]


# ---- gauges ----

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


Number = Annotated[float, Strict(), Field(allow_inf_nan=False), AfterValidator(_storable)]
GaugeType = Annotated[StrictStr, AfterValidator(gauge_type), Field(json_schema_extra={"pattern": GAUGE_TYPE.pattern})]


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


def _recorded_at(value: str) -> str:
    moment = parse_time(value)
    if moment > clock.now() + FUTURE_TOLERANCE:
        raise fail("can't be in the future")
    return clock.iso(moment)


class NewGauge(_Strict):
    # Field order matters: validators below read the fields validated before them.
    gauge_type: GaugeType
    scale_max: Number | None = Field(default=None, validate_default=True)
    scale_min: Number | None = Field(default=None, validate_default=True)
    value: Number
    recorded_at: Annotated[StrictStr, AfterValidator(_recorded_at)] | None = None
    notes: Annotated[StrictStr, Field(max_length=2000)] | None = None

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
