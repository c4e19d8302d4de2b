"""Request bodies of the patient routes and the care team's."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from clinic import clock
from clinic.models import EARLIEST_BIRTH, FROM_1900, TOO_EARLY, _Envelope, _Strict
from clinic.validation import (
    BLANK,
    EMAIL,
    INVALID_DATE,
    LINE_PATTERN,
    NAME_PATTERN,
    email,
    fail,
    not_blank,
    parse_date,
    phone,
    single_line,
    time_zone,
    time_zones,
)


def _birth_date(value: str) -> str:
    born = parse_date(value)
    if born > clock.today():
        raise fail("can't be in the future")
    if born < EARLIEST_BIRTH:
        raise fail(TOO_EARLY)
    return value


def _refuse_null(value: Any, messages: tuple[str, ...]) -> Any:
    """Rejects an explicit `null` on a field that may be left out but never cleared (updates)."""
    if value is None:
        raise fail(*messages)
    return value


# Module-level functions bound with partial, not closures built at import: the work happens when a body is
# validated (and, for `_not_nullable`, when the schema is generated), where mutation testing can reach it.
_REQUIRED = BeforeValidator(partial(_refuse_null, messages=(BLANK,)))
_REQUIRED_DATE = BeforeValidator(partial(_refuse_null, messages=(BLANK, INVALID_DATE)))


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
    Field(json_schema_extra={"pattern": f"^{EMAIL}$"}),
]
TimeZone = Annotated[
    StrictStr,
    AfterValidator(time_zone),
    Field(json_schema_extra=lambda schema: schema.update(enum=sorted(time_zones()))),
]
Gender = Literal["male", "female", "non_binary", "other", "unknown", "prefer_not_to_say"]


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


# The fields of PatientChanges that `_refuse_null` guards.
_NEVER_CLEARED = ("first_name", "last_name", "date_of_birth", "active")


def _not_nullable(schema: dict[str, Any]) -> None:
    """The document's schema for the fields that may be left out but not sent as `null` (_NEVER_CLEARED)."""
    for name in _NEVER_CLEARED:
        prop = schema["properties"][name]
        (branch,) = [b for b in prop.pop("anyOf") if b.get("type") != "null"]  # each is of one type or null
        prop.update(branch)


class PatientChanges(_Strict):
    """Any subset of the create fields plus `active`; only the keys sent change, `null` clears."""

    model_config = ConfigDict(json_schema_extra=_not_nullable)

    first_name: Annotated[Name | None, _REQUIRED] = None
    last_name: Annotated[Name | None, _REQUIRED] = None
    date_of_birth: Annotated[BirthDate | None, _REQUIRED_DATE] = None
    gender: Gender | None = None
    phone: Phone | None = None
    email: Email | None = None
    address: Address | None = None
    time_zone: TimeZone | None = None
    active: Annotated[StrictBool | None, _REQUIRED] = None


class CreatePatientRequest(_Envelope):
    patient: NewPatient


class UpdatePatientRequest(_Envelope):
    patient: PatientChanges


class CareTeamAddition(_Envelope):
    user_id: Annotated[
        StrictInt, Field(ge=1, description="A provider or supervisor of the caller's clinic (else 422).")
    ]
