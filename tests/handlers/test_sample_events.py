"""events/: every function of template.yaml has a sample event (`sam local invoke <Function> -e events/...`),
the files are what `make events` generates, and each one, handed to its function under moto with the demo
clinic seeded, gets a real answer about real patients."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from support import moto_tables

from local import snapshot
from local.gateway import LocalGateway
from local.template import REGION, function_specs, load_template
from tools import sample_events

TEMPLATE = load_template()
FILES = sorted(sample_events.EVENTS_DIR.glob("*.json"))


def _function(path: Any) -> str:
    return path.name.split(".")[0]


def _event(name: str) -> dict[str, Any]:
    return json.loads((sample_events.EVENTS_DIR / name).read_text(encoding="utf-8"))


def test_every_function_has_an_event() -> None:
    functions = {spec.logical_id for spec in function_specs(TEMPLATE)}
    assert functions == {_function(path) for path in FILES}


def test_event_files_are_what_make_events_generates() -> None:
    built = sample_events.build(TEMPLATE)
    assert sorted(built) == [path.name for path in FILES], "run `make events` and commit the result"
    for name, event in built.items():
        assert (sample_events.EVENTS_DIR / name).read_text(encoding="utf-8") == sample_events.render(event), name


@pytest.fixture(scope="module")
def gateway() -> LocalGateway:
    return LocalGateway(TEMPLATE, set_environment=False)


@pytest.fixture(scope="module")
def seeded_tables() -> dict[str, Any]:
    """local.seed's demo clinic in an empty table (with gauge 1 of patient 1 and its alert), plus assessment 1 of
    patient 1: the ids the events use. Seeded once per module and kept as `make run` keeps its data between
    starts (local.snapshot): seeding is most of a test's time, and every test gets the same tables."""
    from clinic import assessments, store
    from clinic.access import Caller
    from clinic.models.assessments import NewAssessment

    from local.seed import seed_demo

    with moto_tables():
        seeded = seed_demo(gauge_days=0)  # the events name gauge 1: the one that opened the demo alert
        assert seeded["clinic_id"] == sample_events.ADMIN["clinic_id"]
        assert seeded["users"]["admin"] == sample_events.ADMIN["user_id"]
        assert seeded["patient_ids"][0] == sample_events.PATIENT
        assert seeded["alert_id"] == sample_events.ALERT
        admin = Caller(user_id=1, clinic_id=1, role="admin")
        patient = store.get_patient(sample_events.PATIENT)
        answered = assessments.record(admin, patient, NewAssessment(instrument="gad7", answers=[1] * 7))
        assert answered["id"] == sample_events.ASSESSMENT
        return snapshot.dump(REGION, seeded)


@pytest.fixture
def demo(seeded_tables: dict[str, Any], aws: Any) -> dict[str, Any]:
    """The seeded demo clinic, a copy of its own in each test's fresh tables (most tests change it)."""
    return snapshot.load(copy.deepcopy(seeded_tables), REGION)


# file -> (status, a check of the parsed body)
API_EXPECTATIONS: dict[str, tuple[int, Any]] = {
    "ListPatientsFunction.json": (200, lambda b: len(b["patients"]) == 6 and b["meta"]["page_size"] == 10),
    "CreatePatientFunction.json": (201, lambda b: b["last_name"] == "Hopper" and b["id"] > 6),
    "GetPatientFunction.json": (200, lambda b: b["id"] == 1 and b["last_name"] == "Doe"),
    "UpdatePatientFunction.json": (200, lambda b: b["phone"] == "+1-555-987-6543" and b["address"]["city"]),
    "GetCareTeamFunction.json": (200, lambda b: [m["user_id"] for m in b["care_team"]] == [3]),
    "AddCareTeamMemberFunction.json": (201, lambda b: [m["user_id"] for m in b["care_team"]] == [2, 3]),
    "RemoveCareTeamMemberFunction.json": (204, lambda b: b is None),
    "ListGaugesFunction.json": (200, lambda b: [g["id"] for g in b["gauges"]] == [1]),
    "RecordGaugesFunction.json": (201, lambda b: b["gauge_type"] == "mood" and b["value"] == 7),
    "RecordGaugesFunction.batch.json": (201, lambda b: [g["gauge_type"] for g in b["gauges"]] == ["anxiety", "pain"]),
    "DeleteGaugeFunction.json": (204, lambda b: b is None),
    "GetGaugeSummaryFunction.json": (200, lambda b: "summaries" in b and "complete_through" in b["meta"]),
    "GetLatestGaugesFunction.json": (
        200,
        lambda b: [(e["gauge_type"], e["value"]) for e in b["latest"]] == [("gad7", 7), ("mood", 1)],
    ),
    "ListInstrumentsFunction.json": (200, lambda b: [i["code"] for i in b["instruments"]] == ["phq9", "gad7"]),
    "RecordAssessmentFunction.json": (201, lambda b: (b["total"], b["severity"]) == (4, "minimal")),
    "ListAssessmentsFunction.json": (200, lambda b: b["assessments"] == []),  # the demo's is a GAD-7
    "GetAssessmentFunction.json": (200, lambda b: (b["id"], b["instrument"], b["total"]) == (1, "gad7", 7)),
    "DeleteAssessmentFunction.json": (204, lambda b: b is None),
    "CreateInvitationFunction.json": (
        201,
        lambda b: b["invitation"]["patient_id"] == 1 and len(b["invitation"]["code"]) >= 32,
    ),
    "RedeemInvitationFunction.json": (404, lambda b: b == {"errors": "Invitation not found"}),
    "GetMeFunction.json": (
        200,
        lambda b: b == {"user": {"id": 1, "name": "Ada Admin", "role": "admin", "clinic_id": 1, "patient_id": None}},
    ),
    "ListAlertsFunction.json": (200, lambda b: [(a["id"], a["priority"]) for a in b["alerts"]] == [(1, "urgent")]),
    "ListPatientAlertsFunction.json": (
        200,
        lambda b: [a["trigger"] for a in b["alerts"]] == [{"type": "gauge", "id": 1}],
    ),
    "AcknowledgeAlertFunction.json": (200, lambda b: b["status"] == "acknowledged" and b["acknowledged_by"] == 1),
    "ResolveAlertFunction.json": (
        200,
        lambda b: b["status"] == "resolved" and b["resolution_note"].startswith("Called"),
    ),
    "CreateAlertRuleFunction.json": (201, lambda b: b["alert_rule"]["gauge_type"] == "anxiety"),
    "ListAlertRulesFunction.json": (200, lambda b: [r["id"] for r in b["alert_rules"]] == [1]),
    "DeleteAlertRuleFunction.json": (204, lambda b: b is None),
    "ServeDocsFunction.json": (200, lambda b: "swagger-ui" in b),
    "ServeDocsFunction.openapi.json": (200, lambda b: b["info"]["title"] == "Patients API"),
}


def test_every_api_event_has_an_expectation() -> None:
    api_files = {p.name for p in FILES if "httpMethod" in _event(p.name) and _event(p.name).get("type") != "REQUEST"}
    assert api_files == set(API_EXPECTATIONS)


@pytest.mark.parametrize("name", sorted(API_EXPECTATIONS))
def test_api_event_gets_a_real_answer(name: str, demo: dict[str, Any], gateway: LocalGateway) -> None:
    status, check = API_EXPECTATIONS[name]
    result = gateway.invoke(_function(sample_events.EVENTS_DIR / name), _event(name))
    assert result["statusCode"] == status, result.get("body")
    body = result.get("body") or None
    headers = {**(result.get("headers") or {}), **{k: v[0] for k, v in (result.get("multiValueHeaders") or {}).items()}}
    if body is not None and headers.get("Content-Type", "").startswith("application/json"):
        body = json.loads(body)
    assert check(body), body


def test_authorizer_event(demo: dict[str, Any], gateway: LocalGateway) -> None:
    event = _event("AuthorizerFunction.json")
    # As committed, the token is a placeholder: API Gateway's documented way to answer 401.
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        gateway.invoke("AuthorizerFunction", event)
    token = demo["tokens"]["admin"]
    event["headers"]["X-User-Token"] = token
    event["multiValueHeaders"]["X-User-Token"] = [token]
    policy = gateway.invoke("AuthorizerFunction", event)
    assert policy["principalId"] == "1"
    assert policy["context"] == {"user_id": 1, "clinic_id": 1, "role": "admin"}
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_scheduled_event_summarizes_the_recorded_gauge(demo: dict[str, Any], gateway: LocalGateway) -> None:
    result = gateway.invoke("SummarizeGaugesFunction", _event("SummarizeGaugesFunction.json"))
    assert result["days_recomputed"] == 2  # the mood gauge's day, and the GAD-7 total's
    assert result["gauges_read"] >= 2
    assert result["alert_events_published"] == 0  # the demo alert's request published its event itself
    summary = gateway.invoke("GetGaugeSummaryFunction", _event("GetGaugeSummaryFunction.json"))
    body = json.loads(summary["body"])
    assert [(s["gauge_type"], s["count"], s["last_value"]) for s in body["summaries"]] == [
        ("gad7", 1, 7),
        ("mood", 1, 1),
    ]
