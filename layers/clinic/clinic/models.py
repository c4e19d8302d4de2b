"""Pydantic models of the contract's request bodies and query parameters; Powertools validates them and
OpenAPI describes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
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

from clinic import clock, instruments
from clinic.cursors import CURSOR, CURSOR_PATTERN, MAX_PAGE
from clinic.validation import (
    BLANK,
    EMAIL,
    GAUGE_TYPE,
    INVALID_DATE,
    LINE_PATTERN,
    NAME_PATTERN,
    NOTES_PATTERN,
    email,
    fail,
    free_text,
    gauge_type,
    not_blank,
    parse_date,
    parse_time,
    phone,
    single_line,
    time_zone,
    time_zones,
)

EARLIEST_BIRTH = date(1900, 1, 1)
# Gauges share the bound: no patient-reported measurement predates 1900, and every stored time then stays
# inside datetime's years 1-9999 in every time zone (the summary job turns times into local days).
EARLIEST_TIME = datetime.combine(EARLIEST_BIRTH, time.min, UTC)
TOO_EARLY = "must be on or after 1900-01-01"
# For the OpenAPI document: years 1900 on (the rest of the bound, "not after today", is in the description).
FROM_1900 = r"^(?:19|[2-9][0-9])[0-9]{2}-"


def _birth_date(value: str) -> str:
    born = parse_date(value)
    if born > clock.today():
        raise fail("can't be in the future")
    if born < EARLIEST_BIRTH:
        raise fail(TOO_EARLY)
    return value


def _required(messages: tuple[str, ...]) -> Any:
    """Rejects an explicit `null` on a field that may be left out but never cleared (updates)."""

    def check(value: Any) -> Any:
        if value is None:
            raise fail(*messages)
        return value

    return BeforeValidator(check)


# json_schema_extra: what the validators accept, for the OpenAPI document only (pydantic's own `pattern` would
# replace the contract's messages with its own).
Name = Annotated[
    StrictStr,
    Field(max_length=100, json_schema_extra={"minLength": 1, "pattern": NAME_PATTERN}),
    AfterValidator(not_blank),
]
BirthDate = Annotated[
    StrictStr,
    AfterValidator(_birth_date),
    Field(
        description="From 1900-01-01 to today (else 422).",
        json_schema_extra={"format": "date", "pattern": FROM_1900},
    ),
]
AddressPart = Annotated[
    StrictStr, Field(max_length=200, json_schema_extra={"pattern": LINE_PATTERN}), AfterValidator(single_line)
]
Phone = Annotated[
    StrictStr,
    # At least 7 digits, digits first and last, separators ` ().-` between (validation.phone).
    Field(max_length=40, json_schema_extra={"maxLength": 30, "pattern": r"^\+?[0-9](?:[ ().\-]*[0-9]){6,}$"}),
    AfterValidator(phone),
]
Email = Annotated[
    StrictStr,
    Field(max_length=254),
    AfterValidator(email),
    # The validator's own pattern, not `format: email` (whose checkers disagree with each other and with it).
    Field(json_schema_extra={"pattern": f"^{EMAIL.pattern}$"}),
]
TimeZone = Annotated[
    StrictStr,
    AfterValidator(time_zone),
    Field(json_schema_extra=lambda schema: schema.update(enum=sorted(time_zones()))),
]
Gender = Literal["male", "female", "non_binary", "other", "unknown", "prefer_not_to_say"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)


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


def _not_nullable(*fields: str) -> Any:
    """The document's schema for fields that may be left out but not sent as `null` (see `_required`)."""

    def drop_null(schema: dict[str, Any]) -> None:
        for name in fields:
            prop = schema["properties"][name]
            branches = [b for b in prop.pop("anyOf", []) if b.get("type") != "null"]
            prop.update(branches[0] if len(branches) == 1 else {"anyOf": branches})

    return drop_null


class PatientChanges(_Strict):
    """Any subset of the create fields plus `active`; only the keys sent change, `null` clears."""

    model_config = ConfigDict(json_schema_extra=_not_nullable("first_name", "last_name", "date_of_birth", "active"))

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
    user_id: Annotated[
        StrictInt, Field(ge=1, description="A provider or supervisor of the caller's clinic (else 422).")
    ]


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


Number = Annotated[
    float,
    Strict(),
    Field(allow_inf_nan=False, json_schema_extra={"minimum": -NUMBER_LIMIT, "maximum": NUMBER_LIMIT}),
    AfterValidator(_storable),
]
GaugeType = Annotated[StrictStr, AfterValidator(gauge_type), Field(json_schema_extra={"pattern": GAUGE_TYPE.pattern})]
RESERVED = "is reserved for assessments"


def _not_an_instrument(value: str) -> str:
    # An instrument's total is recorded with its assessment only, so the gauge and its answers never disagree.
    if value in instruments.CODES:
        raise fail(RESERVED)
    return value


NewGaugeType = Annotated[GaugeType, AfterValidator(_not_an_instrument)]


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


# ---- assessments ----


def _instrument(value: str) -> str:
    if value not in instruments.CODES:
        raise fail("is not included in the list")
    return value


InstrumentCode = Annotated[
    StrictStr, AfterValidator(_instrument), Field(json_schema_extra={"enum": sorted(instruments.CODES)})
]


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


# ---- invitations (patients reporting for themselves) ----


class InvitationOptions(_Strict):
    expires_in_hours: Annotated[StrictInt, Field(ge=1, le=168)] = 72


class CreateInvitationRequest(_Envelope):
    """The body is optional: no body, `{}` or `{"invitation": {}}` give the default expiry."""

    invitation: InvitationOptions | None = None

    @model_validator(mode="before")
    @classmethod
    def _wrapper(cls, data: Any) -> Any:
        # No body at all is the defaults (the route takes None); a body that is not an object is refused.
        if not isinstance(data, dict):
            raise fail("must be an object")
        return data


def _not_blank(value: str) -> str:
    # A blank invitation code is a missing one (any other text is looked up as it is: an unknown code is 404,
    # not 422); a blank resolution note is a missing note.
    if not value.strip():
        raise fail(BLANK)
    return value


class RedeemInvitationRequest(_Envelope):
    # The document states the blank rule (one non-space character), for the OpenAPI document only.
    code: Annotated[StrictStr, AfterValidator(_not_blank), Field(json_schema_extra={"minLength": 1, "pattern": r"\S"})]


# ---- query parameters ----


def parameter_schema(**keywords: Any) -> Any:
    """json_schema_extra of an optional query or header parameter: a string with these keywords (`pattern`).

    pydantic writes `str | None` as anyOf string or null, and a keyword beside the anyOf does not constrain
    its null branch: a URL or a header cannot carry null, so generators send the text "null" (schemathesis
    did, as `If-Match: null`). Left out is what the parameter's absence means already.
    """

    def rewrite(schema: dict[str, Any]) -> None:
        for branch in schema.pop("anyOf", []):
            if branch.get("type") == "string":
                schema.update(branch)
        schema.update(keywords)

    return rewrite


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
    Query(max_length=MAX_CURSOR_LENGTH, description=CURSOR, json_schema_extra=parameter_schema(pattern=CURSOR_PATTERN)),
]
# A calendar day (YYYY-MM-DD) in the patient's time zone. The domain parses it (clinic.gauges.parse_range), so
# a bad date and an end before the start get the contract's messages; the format is for the document only.
DateQuery = Annotated[str | None, Query(json_schema_extra={"format": "date"})]
GaugeTypeQuery = Annotated[GaugeType | None, Query()]
Order = Annotated[Literal["desc", "asc"], Query()]  # by time: newest first, or oldest first


# ---- alerts ----

AlertPriority = Literal["urgent", "high", "normal"]
Threshold = Annotated[float, Strict(), Field(allow_inf_nan=False, ge=-NUMBER_LIMIT, le=NUMBER_LIMIT)]


def _whole(value: Any) -> Any:
    # JSON (and the OpenAPI document's `integer`) does not tell 6 from 6.0: a whole number is accepted either way.
    return int(value) if isinstance(value, float) and value.is_integer() else value


class NewAlertRule(_Strict):
    # Instrument totals have the built-in rules (evaluated with their assessment, without reading the
    # clinic's rules): a clinic rule watches the gauges recorded directly.
    gauge_type: NewGaugeType
    operator: Literal[">=", "<="]
    threshold: Threshold
    consecutive_days: Annotated[StrictInt, Field(ge=1, le=14), BeforeValidator(_whole)]
    priority: AlertPriority


class AlertRuleRequest(_Envelope):
    alert_rule: NewAlertRule


ResolutionNote = Annotated[
    StrictStr,
    Field(max_length=2000, json_schema_extra={"minLength": 1, "pattern": NOTES_PATTERN}),
    AfterValidator(_not_blank),
    AfterValidator(free_text),
]


class AlertResolution(_Envelope):
    """`POST /v1/alerts/{id}/resolve`: what the clinician did, required."""

    resolution_note: ResolutionNote
