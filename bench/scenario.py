"""The data and the requests every benchmark uses: one clinic seeded through the domain code, and one
real-shaped event per function of template.yaml (built with local/events.py), valid again on every repetition.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from clinic import (
    accounts,
    alert_rules,
    assessments,
    care_teams,
    clock,
    gauges,
    patient_users,
    patients,
    summaries,
)
from clinic.access import Caller
from clinic.models.alert_rules import NewAlertRule
from clinic.models.assessments import NewAssessment
from clinic.models.gauges import NewGauge
from clinic.models.patients import NewPatient
from clinic.store import alerts as alert_store

from local import events
from local.template import api_routes

FIRST = ["John", "Jane", "Amara", "Luis", "Kai", "Dora", "Noah", "Mia", "Omar", "Lena"]
LAST = ["Doe", "Roe", "Okafor", "Dominguez", "Nakamura", "Dorsey", "Smith", "Garcia", "Khan", "Weber"]
GAUGE_TYPES = ["mood", "anxiety", "pain", "energy"]
LISTED = 30  # patients in the measured clinic's list (the page is 25: has_more is true)
GAUGES = 60  # gauges of the measured patient, over the last 10 days
# Clinic rules watch a gauge type no bench request records, so they never change what a gauge write does.
RULE_GAUGE_TYPE = "sleep"
LISTED_RULES = 3  # rules of the measured clinic, besides those the create route adds
# A PHQ-9 answered 3 throughout (item 9 > 0, total 27) opens two alerts: self_harm_risk and severe_score.
ALARMING_PHQ9 = [3] * 9


@dataclass
class World:
    clinic_id: int
    users: dict[str, dict[str, Any]]
    tokens: dict[str, str]
    patient_id: int  # the measured patient: has gauges and summaries
    listed: list[int] = field(default_factory=list)  # the clinic's first LISTED patients
    add_pool: list[int] = field(default_factory=list)  # patients the supervisor is not on yet
    remove_pool: list[int] = field(default_factory=list)  # patients the supervisor is on
    gauge_pool: list[int] = field(default_factory=list)  # gauges of the measured patient to delete
    assessment_id: int = 0  # an assessment of the measured patient
    assessment_pool: list[int] = field(default_factory=list)  # assessments of the measured patient to delete
    invitation_pool: list[str] = field(default_factory=list)  # codes of the measured patient to redeem
    acknowledge_pool: list[int] = field(default_factory=list)  # open alerts (self_harm_risk) to acknowledge
    resolve_pool: list[int] = field(default_factory=list)  # open alerts (severe_score) to resolve
    rule_pool: list[int] = field(default_factory=list)  # rules of the rules clinic to delete
    rules_admin: dict[str, Any] = field(default_factory=dict)  # the rules clinic's admin (authorizer context)

    @property
    def admin(self) -> dict[str, Any]:
        user = self.users["admin"]
        return {"user_id": user["id"], "clinic_id": self.clinic_id, "role": "admin"}


def new_rule(i: int) -> NewAlertRule:
    return NewAlertRule(
        gauge_type=RULE_GAUGE_TYPE,
        operator="<=",
        threshold=float(2 + i % 3),
        consecutive_days=1 + i % 14,
        priority="normal",
    )


def new_patient(i: int) -> NewPatient:
    return NewPatient(
        first_name=FIRST[i % len(FIRST)],
        last_name=LAST[(i // len(FIRST)) % len(LAST)],
        date_of_birth=f"{1940 + i % 70}-0{1 + i % 9}-1{i % 10}",
        gender="female" if i % 2 else "male",
        email=f"patient{i}@example.com",
        time_zone="America/New_York",
        address={"street": f"{i} Main St", "city": "Anytown", "state": "CA", "zip_code": "12345"},
    )


def seed(repetitions: int) -> World:
    """The measured clinic; pools hold one fresh target per repetition of the mutating requests."""
    clinic = accounts.create_clinic("Bench Clinic")
    admin = accounts.create_user(clinic["id"], "admin", "Ada Admin")
    supervisor = accounts.create_user(clinic["id"], "supervisor", "Sam Supervisor")
    provider = accounts.create_user(clinic["id"], "provider", "Pat Provider", supervisor_id=supervisor["id"])
    users = {"admin": admin, "supervisor": supervisor, "provider": provider}
    tokens = {role: accounts.issue_token(user["id"])["token"] for role, user in users.items()}
    creator = Caller(user_id=provider["id"], clinic_id=clinic["id"], role="provider")
    boss = Caller(user_id=admin["id"], clinic_id=clinic["id"], role="admin")
    listed = [patients.create(creator, new_patient(i)) for i in range(LISTED)]
    world = World(clinic["id"], users, tokens, listed[0]["id"], [p["id"] for p in listed])
    for i in range(repetitions):
        world.add_pool.append(patients.create(creator, new_patient(LISTED + 2 * i))["id"])
        target = patients.create(creator, new_patient(LISTED + 2 * i + 1))
        care_teams.add(boss, target, supervisor["id"])
        world.remove_pool.append(target["id"])
    main = listed[0]
    now = clock.now()
    history = [
        NewGauge(
            gauge_type=GAUGE_TYPES[i % len(GAUGE_TYPES)],
            value=1 + i % 9,
            recorded_at=clock.iso(now - timedelta(hours=4 * i + 1)),
        )
        for i in range(GAUGES)
    ]
    gauges.record(creator, main, history)
    doomed = [NewGauge(gauge_type="mood", value=5) for _ in range(repetitions)]
    world.gauge_pool = [g["id"] for g in gauges.record(creator, main, doomed)]
    weekly = [
        assessments.record(
            creator,
            main,
            NewAssessment(instrument="phq9", answers=[i % 4] * 9, completed_at=clock.iso(now - timedelta(days=7 * i))),
        )
        for i in range(1, 5)
    ]
    world.assessment_id = weekly[0]["id"]
    world.assessment_pool = [
        assessments.record(creator, main, NewAssessment(instrument="gad7", answers=[1] * 7))["id"]
        for _ in range(repetitions)
    ]
    world.invitation_pool = [patient_users.invite(creator, main)["code"] for _ in range(repetitions)]
    _seed_alerts(world, creator, repetitions)
    summaries.run_job(full=True)  # the checkpoint exists, so the scheduled job is incremental from here
    return world


def _seed_alerts(world: World, creator: Caller, repetitions: int) -> None:
    """Open alerts to acknowledge and to resolve (two per new patient, one of each pool), rules to list, and
    rules to delete in a clinic of their own: the create route adds `repetitions` rules to the measured clinic,
    and a clinic has at most alert_rules.MAX_RULES."""
    if LISTED_RULES + repetitions > alert_rules.MAX_RULES:
        raise ValueError(f"at most {alert_rules.MAX_RULES - LISTED_RULES} repetitions: a clinic's rules are capped")
    for i in range(repetitions):
        patient = patients.create(creator, new_patient(LISTED + 2 * repetitions + i))
        assessments.record(creator, patient, NewAssessment(instrument="phq9", answers=ALARMING_PHQ9))
        slots = alert_store.open_slots(patient["id"])
        world.acknowledge_pool.append(int(slots["self_harm_risk"]["alert_id"]))
        world.resolve_pool.append(int(slots["severe_score"]["alert_id"]))
    boss = Caller(user_id=world.users["admin"]["id"], clinic_id=world.clinic_id, role="admin")
    for i in range(LISTED_RULES):
        alert_rules.create(boss, new_rule(i))
    rules_clinic = accounts.create_clinic("Bench Rules Clinic")
    rules_admin = accounts.create_user(rules_clinic["id"], "admin", "Rae Rules")
    world.rules_admin = {"user_id": rules_admin["id"], "clinic_id": rules_clinic["id"], "role": "admin"}
    owner = Caller(user_id=rules_admin["id"], clinic_id=rules_clinic["id"], role="admin")
    world.rule_pool = [int(alert_rules.create(owner, new_rule(i))["id"]) for i in range(repetitions)]


def _api(method: str, path: str, world: World, **kwargs: Any) -> dict[str, Any]:
    return events.make_event(method, path, user=world.admin, **kwargs)


def _post(path: str, world: World, body: dict[str, Any]) -> dict[str, Any]:
    # Clients send an Idempotency-Key on POSTs (retries are safe); a fresh one each time.
    return _api("POST", path, world, body=body, headers={"Idempotency-Key": str(uuid.uuid4())})


def request(function_id: str, world: World, rep: int) -> dict[str, Any]:
    """The event that function `function_id` answers in repetition `rep` (each mutating one a fresh target)."""
    pid = world.patient_id
    supervisor = world.users["supervisor"]["id"]
    if function_id == "AuthorizerFunction":
        proxy = events.make_event("GET", f"/v1/patients/{pid}", headers={"X-User-Token": world.tokens["admin"]})
        return events.request_authorizer_event(proxy)
    if function_id == "SummarizeGaugesFunction":
        return events.scheduled_event("bench-gauge-summaries")
    builders = {
        "ListPatientsFunction": lambda: _api("GET", "/v1/patients", world, query={"page_size": 25}),
        "CreatePatientFunction": lambda: _post(
            "/v1/patients", world, {"patient": new_patient(rep).model_dump(exclude_none=True)}
        ),
        "GetPatientFunction": lambda: _api("GET", f"/v1/patients/{pid}", world),
        "UpdatePatientFunction": lambda: _api(
            "PUT", f"/v1/patients/{pid}", world, body={"patient": {"phone": f"+1-555-000-{rep % 10000:04d}"}}
        ),
        "GetCareTeamFunction": lambda: _api("GET", f"/v1/patients/{pid}/care_team", world),
        "AddCareTeamMemberFunction": lambda: _post(
            f"/v1/patients/{world.add_pool[rep]}/care_team", world, {"user_id": supervisor}
        ),
        "RemoveCareTeamMemberFunction": lambda: _api(
            "DELETE", f"/v1/patients/{world.remove_pool[rep]}/care_team/{supervisor}", world
        ),
        "ListGaugesFunction": lambda: _api("GET", f"/v1/patients/{pid}/gauges", world, query={"page_size": 25}),
        "RecordGaugesFunction": lambda: _post(
            f"/v1/patients/{pid}/gauges", world, {"gauge": {"gauge_type": "mood", "value": 6, "notes": "ok"}}
        ),
        "DeleteGaugeFunction": lambda: _api("DELETE", f"/v1/patients/{pid}/gauges/{world.gauge_pool[rep]}", world),
        "GetGaugeSummaryFunction": lambda: _api("GET", f"/v1/patients/{pid}/gauges/summary", world),
        "RecordAssessmentFunction": lambda: _post(
            f"/v1/patients/{pid}/assessments", world, {"assessment": {"instrument": "gad7", "answers": [1] * 7}}
        ),
        "GetAssessmentFunction": lambda: _api("GET", f"/v1/patients/{pid}/assessments/{world.assessment_id}", world),
        "DeleteAssessmentFunction": lambda: _api(
            "DELETE", f"/v1/patients/{pid}/assessments/{world.assessment_pool[rep]}", world
        ),
        "ServeDocsFunction": lambda: events.make_event("GET", "/v1/docs"),
        # Invitations: not idempotent (a replay would keep the code), so no Idempotency-Key.
        "CreateInvitationFunction": lambda: _api("POST", f"/v1/patients/{pid}/invitations", world, body={}),
        "RedeemInvitationFunction": lambda: events.make_event(
            "POST", "/v1/invitations/redeem", body={"code": world.invitation_pool[rep]}
        ),
        # Alert routes take no Idempotency-Key: acknowledging is idempotent by itself, resolving twice is a 409.
        "AcknowledgeAlertFunction": lambda: _api(
            "POST", f"/v1/alerts/{world.acknowledge_pool[rep]}/acknowledge", world
        ),
        "ResolveAlertFunction": lambda: _api(
            "POST",
            f"/v1/alerts/{world.resolve_pool[rep]}/resolve",
            world,
            body={"resolution_note": "Called the patient; safety plan reviewed, follow-up booked."},
        ),
        "CreateAlertRuleFunction": lambda: _api(
            "POST", "/v1/alert_rules", world, body={"alert_rule": new_rule(rep).model_dump()}
        ),
        "DeleteAlertRuleFunction": lambda: events.make_event(
            "DELETE", f"/v1/alert_rules/{world.rule_pool[rep]}", user=world.rules_admin
        ),
    }
    if function_id in builders:
        return builders[function_id]()
    # A function added later: its first GET route, path parameters filled with the measured patient.
    for route in api_routes(events.load_template()):
        if route.function_id == function_id and route.method == "GET":
            path = route.path
            for name in ("id", "patient_id"):
                path = path.replace("{" + name + "}", str(pid))
            return _api("GET", path, world)
    raise LookupError(f"bench/scenario.py has no request for {function_id}")


def expect_ok(function_id: str, result: Any) -> None:
    """A benchmark of an error answer measures nothing: every request must succeed."""
    if function_id.startswith("Floor"):
        ok = isinstance(result, dict) and result.get("statusCode") == 200 and json.loads(result["body"])["found"]
    elif function_id == "AuthorizerFunction":
        ok = (
            isinstance(result, dict)
            and result.get("policyDocument", {}).get("Statement", [{}])[0].get("Effect") == "Allow"
        )
    elif function_id == "SummarizeGaugesFunction":
        ok = isinstance(result, dict) and "changes_read" in result
    else:
        ok = isinstance(result, dict) and 200 <= int(result.get("statusCode", 0)) < 300
    if not ok:
        raise RuntimeError(f"{function_id} did not succeed: {str(result)[:300]}")
