"""The business rules the OpenAPI document states in words (clinic.openapi's *_RULES: each operation's description
and 422 example) are what the API answers, message for message: a request breaking each one, through the local
gateway, gets exactly that 422."""

from __future__ import annotations

import json
from typing import Any

from clinic import accounts, openapi
from gauge_support import new_clinic

from tools import openapi as document_tool


def _document() -> dict[str, Any]:
    return json.loads(document_tool.OUTPUT.read_text(encoding="utf-8"))


def test_each_rule_is_answered_with_its_message(aws: Any) -> None:
    clinic = new_clinic()
    patient = clinic.patient()
    base = f"/v1/patients/{patient['id']}"
    nurse = accounts.create_user(clinic.caller.clinic_id, "admin", "Not A Provider")
    broken: list[tuple[dict[str, list[str]], tuple[int, Any]]] = [
        (
            openapi.PATIENT_RULES,
            clinic.call(
                "POST",
                "/v1/patients",
                {"patient": {"first_name": "A", "last_name": "B", "date_of_birth": "2999-01-01"}},
            ),
        ),
        (openapi.PATIENT_RULES, clinic.call("PUT", base, {"patient": {"date_of_birth": "2999-01-01"}})),
        (
            {"recorded_at": openapi.GAUGE_RULES["recorded_at"]},
            clinic.call(
                "POST",
                f"{base}/gauges",
                {"gauge": {"gauge_type": "mood", "value": 5, "recorded_at": "2999-01-01T00:00:00Z"}},
            ),
        ),
        (
            {"scale_min": openapi.GAUGE_RULES["scale_min"]},
            clinic.call(
                "POST", f"{base}/gauges", {"gauge": {"gauge_type": "x", "value": 5, "scale_min": 9, "scale_max": 9}}
            ),
        ),
        (
            {"scale_max": openapi.GAUGE_RULES["scale_max"]},
            clinic.call("POST", f"{base}/gauges", {"gauge": {"gauge_type": "x", "value": 5, "scale_min": 0}}),
        ),
        (
            {"value": openapi.GAUGE_RULES["value"]},
            clinic.call("POST", f"{base}/gauges", {"gauge": {"gauge_type": "mood", "value": 11}}),
        ),
        (openapi.CURSOR_RULES, clinic.call("GET", "/v1/patients?cursor=AAAA")),
        (openapi.CURSOR_RULES, clinic.call("GET", f"{base}/gauges?cursor=AAAA")),
        (openapi.CURSOR_RULES, clinic.call("GET", f"{base}/assessments?cursor=AAAA")),
        (
            {"end_date": openapi.ASSESSMENT_LIST_RULES["end_date"]},
            clinic.call("GET", f"{base}/assessments?start_date=2024-02-02&end_date=2024-02-01"),
        ),
        (
            {"end_date": openapi.GAUGE_LIST_RULES["end_date"]},
            clinic.call("GET", f"{base}/gauges?start_date=2024-02-02&end_date=2024-02-01"),
        ),
        (
            {"end_date": openapi.SUMMARY_RULES["end_date"][:1]},
            clinic.call("GET", f"{base}/gauges/summary?start_date=2024-02-02&end_date=2024-02-01"),
        ),
        (
            {"end_date": openapi.SUMMARY_RULES["end_date"][1:]},
            clinic.call("GET", f"{base}/gauges/summary?start_date=2020-01-01&end_date=2024-01-01"),
        ),
        (
            {"user_id": openapi.CARE_TEAM_RULES["user_id"][:1]},
            clinic.call("POST", f"{base}/care_team", {"user_id": nurse["id"]}),
        ),
    ]
    for rules, answer in broken:
        assert answer == (422, {"errors": rules})


def test_the_document_lists_each_rule_and_shows_it_as_the_422_example() -> None:
    paths = _document()["paths"]
    expected = {
        ("/v1/patients", "post"): openapi.PATIENT_RULES,
        ("/v1/patients/{id}", "put"): openapi.PATIENT_RULES,
        ("/v1/patients", "get"): openapi.CURSOR_RULES,
        ("/v1/patients/{id}/gauges", "get"): openapi.GAUGE_LIST_RULES,
        ("/v1/patients/{id}/assessments", "get"): openapi.ASSESSMENT_LIST_RULES,
        ("/v1/patients/{id}/gauges", "post"): openapi.GAUGE_RULES,
        ("/v1/patients/{id}/gauges/summary", "get"): openapi.SUMMARY_RULES,
        ("/v1/patients/{id}/care_team", "post"): openapi.CARE_TEAM_RULES,
    }
    for (path, method), rules in expected.items():
        operation = paths[path][method]
        example = operation["responses"]["422"]["content"]["application/json"]["examples"]["rules"]["value"]
        assert example == {"errors": rules}
        for field, messages in rules.items():
            for message in messages:
                assert f"- `{field}` {message}" in operation["description"]
