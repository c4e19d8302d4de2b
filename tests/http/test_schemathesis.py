"""Property-based testing of the whole API against its committed OpenAPI document, with schemathesis, over HTTP
against the local API: every operation, every default check (server errors, status codes, content types,
headers and bodies against the document, negative data rejected, valid data accepted, missing or wrong
X-User-Token rejected, ...), as the demo clinic's admin, on real patients.

Every check runs (`--checks all`, positive_data_acceptance included) but the two excluded below, each with its
reason. The document states every rule a schema can state (lengths, patterns, bounds, the 1900 limit of dates, the
one-of `gauge`/`gauges` wrapper, the If-Match grammar, the cursor's shape). The few that depend on the request's
other fields, on today's date or on stored data cannot be: each operation's description lists them and its 422
example shows their messages (clinic.openapi's *_RULES), and `_within_business_rules` repairs only the *positive*
cases that break one of them (each repair says which rule); negative cases are sent as generated."""

from __future__ import annotations

import json
import os
import zlib
from datetime import UTC, date, datetime
from typing import Any

import pytest
import schemathesis
from clinic import instruments
from clinic.models import EARLIEST_TIME
from clinic.models.gauges import DEFAULT_SCALES
from clinic.summaries import MAX_DAYS
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import unsupported_method

from tools import openapi

pytestmark = pytest.mark.http

# Bounded in time: MAX_EXAMPLES per operation (20 operations), a few minutes in all on 2 cores.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "30"))
PAST = "2023-10-27"
_demo: dict[str, Any] = {}


def _document() -> dict[str, Any]:
    document = json.loads(openapi.OUTPUT.read_text(encoding="utf-8"))
    # time_zone's enum holds every IANA zone (~600): the coverage phase would send one request per zone. A few
    # are enough here; tests/handlers/test_openapi.py checks the enum is exactly what the validator accepts.
    for name in ("NewPatient", "PatientChanges"):
        zone = document["components"]["schemas"][name]["properties"]["time_zone"]["anyOf"][0]
        zone["enum"] = ["UTC", "America/Los_Angeles", "Europe/London", "Asia/Kolkata", "Pacific/Chatham"]
    return document


schema = schemathesis.openapi.from_dict(_document())
# allow_extra_parameters=False: no negative case made only of a query parameter the document does not define.
# The API ignores those, as HTTP APIs behind API Gateway commonly do (clients and proxies add cache busters),
# and OpenAPI has no way to say either way; unknown *body* fields are still sent and must be 422.
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, allow_extra_parameters=False)
schema.config.checks.update(included_check_names=["all"])
# A well-formed If-Match that names an older version is 412 (the patient changed since): like 404 and 409, an
# answer about stored state, not a rejection of the request's shape.
schema.config.checks.positive_data_acceptance.expected_statuses = [
    *schema.config.checks.positive_data_acceptance.expected_statuses,
    "412",
]


@schema.hook
def map_path_parameters(context: Any, path_parameters: dict[str, Any]) -> dict[str, Any]:
    # Most requests are about a real patient of the caller's clinic (random ids would only ever be 404).
    # (Four in five, chosen from the generated value itself so that Hypothesis can replay and shrink.)
    if path_parameters and "id" in path_parameters and _demo:
        pick = zlib.crc32(str(path_parameters["id"]).encode())
        if pick % 5:
            path_parameters["id"] = str(_demo["patient_ids"][pick % len(_demo["patient_ids"])])
    return path_parameters


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _gauge(gauge: Any) -> None:
    if not isinstance(gauge, dict) or not isinstance(gauge.get("gauge_type"), str):
        return
    # An instrument's code is reserved for assessments' totals (API.md: the total is recorded with its assessment).
    if gauge["gauge_type"] in instruments.CODES:
        gauge["gauge_type"] = "mood"
    # Stored as 0: a number closer to 0 than 1e-9 (models._storable), which the checks below then compare.
    for field in ("scale_min", "scale_max", "value"):
        if isinstance(gauge.get(field), float) and abs(gauge[field]) < 1e-9:
            gauge[field] = 0
    # Cross-field: a type without default scale must give both ends, scale_min below scale_max, value within.
    default = DEFAULT_SCALES.get(gauge["gauge_type"], (0, 10))
    low = gauge.get("scale_min") if isinstance(gauge.get("scale_min"), int | float) else None
    high = gauge.get("scale_max") if isinstance(gauge.get("scale_max"), int | float) else None
    if gauge["gauge_type"] not in DEFAULT_SCALES or low is not None or high is not None:
        low = default[0] if low is None else low
        high = default[1] if high is None else high
        if low >= high:
            high = low + 1
        gauge["scale_min"], gauge["scale_max"] = low, high
    else:
        low, high = default
    if isinstance(gauge.get("value"), int | float) and not low <= gauge["value"] <= high:
        gauge["value"] = low
    _in_the_past(gauge, "recorded_at")


def _in_the_past(fields: dict[str, Any], name: str) -> None:
    # Today-dependent: a time at most 5 minutes ahead. And from 1900-01-01T00:00Z: the document says from the year
    # 1900, but an offset can put the first hours of 1900-01-01 before it.
    recorded = fields.get(name)
    if isinstance(recorded, str):
        try:
            moment = datetime.fromisoformat(recorded.replace("z", "Z"))
            if moment.tzinfo is None or not EARLIEST_TIME <= moment <= datetime.now(UTC):
                fields[name] = f"{PAST}T10:00:00.000Z"
        except ValueError:
            pass


def _assessment(assessment: Any) -> None:
    instrument = instruments.get(assessment.get("instrument")) if isinstance(assessment, dict) else None
    if instrument is None:
        return
    # Cross-field: one answer per item of the instrument, each one of its options.
    given = assessment.get("answers") if isinstance(assessment.get("answers"), list) else []
    valid = [a if type(a) is int and instrument.answer_min <= a <= instrument.answer_max else 0 for a in given]
    assessment["answers"] = (valid + [0] * len(instrument.items))[: len(instrument.items)]
    _in_the_past(assessment, "completed_at")


def _alert_rule(rule: dict[str, Any]) -> None:
    from clinic import alert_rules
    from clinic.store import alerts as alert_store

    # Instrument codes are reserved for assessments (their built-in rules), as for gauges.
    if rule.get("gauge_type") in instruments.CODES:
        rule["gauge_type"] = "mood"
    # Stored data: a clinic has at most MAX_RULES rules; the demo clinic's are cleared before it fills up.
    clinic_id = _demo["clinic_id"]
    existing = alert_store.clinic_rules(clinic_id)
    if len(existing) >= alert_rules.MAX_RULES - 1:
        for old in existing:
            alert_store.delete_rule(clinic_id, int(old["id"]))


def _within_business_rules(case: Any) -> Any:
    query = case.query if isinstance(case.query, dict) else {}
    # Cursors are opaque server-issued tokens: any other string is rightly 422 (API.md, `cursor` malformed).
    query.pop("cursor", None)
    # Cross-field: end_date on or after start_date, and a summary spans at most MAX_DAYS.
    first, last = _date(query.get("start_date")), _date(query.get("end_date"))
    if first and last and (last < first or (last - first).days > MAX_DAYS - 7):
        query["end_date"] = query["start_date"]
    # Today-dependent: a summary without end_date ends today, so its start_date must be within MAX_DAYS of today.
    if first and not last and case.operation.path.endswith("/summary") and (date.today() - first).days > MAX_DAYS - 7:
        query["end_date"] = query["start_date"]
    body = case.body
    if isinstance(body, dict):
        patient = body.get("patient")
        if isinstance(patient, dict) and "date_of_birth" in patient:
            # Today-dependent: a date of birth not after today (the document says from 1900).
            born = _date(patient["date_of_birth"])
            if born and born > date.today():
                patient["date_of_birth"] = PAST
        if isinstance(patient, dict) and patient.get("active") is False:
            # Stored data: a demo patient deactivated here would make later requests about it refuse stored state
            # (an invitation for an inactive patient is 422 `is inactive`); deactivation has its own tests.
            patient["active"] = True
        if "user_id" in body:
            # Stored data: only a provider or supervisor of the caller's clinic can join a care team.
            body["user_id"] = _demo["users"]["provider"]
        if case.operation.path.endswith("/gauges") and case.method == "POST":
            for gauge in [body.get("gauge"), *(body.get("gauges") or [])]:
                _gauge(gauge)
        if case.operation.path.endswith("/assessments") and case.method == "POST":
            _assessment(body.get("assessment"))
        if case.operation.path == "/v1/alert_rules" and isinstance(body.get("alert_rule"), dict):
            _alert_rule(body["alert_rule"])
    return case


@pytest.fixture(scope="module")
def demo(http_api: Any) -> dict[str, Any]:
    from local.seed import seed_demo

    _demo.update(seed_demo(gauge_days=3), url=http_api.url)  # a few days: small gauge pages
    return _demo


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case: Any, demo: dict[str, Any]) -> None:
    if case.meta is not None and case.meta.generation.mode.is_positive:
        _within_business_rules(case)
    case.call_and_validate(
        base_url=demo["url"],
        headers={"X-User-Token": demo["tokens"]["admin"]},
        # API Gateway (REST) answers a method a resource does not have with its MISSING_AUTHENTICATION_TOKEN
        # response (404 {"errors": "Not found"} here), never 405: the check asks for what the platform
        # cannot do without a mock integration on every resource. The local gateway does the same.
        excluded_checks=[unsupported_method],
    )
