"""Writes events/: a sample event for every function of template.yaml, for `sam local invoke <Function> -e
events/<Function>.json` (`make events`). API events are REST proxy (v1) events of the admin of local.seed's
demo clinic (ids as a fresh `make run` or tests/handlers/test_sample_events.py seed them), the authorizer gets
its REQUEST event and the summary job its EventBridge scheduled event. Request ids and times are fixed so
the files only change when the events do."""

from __future__ import annotations

import json
import sys
from typing import Any

from local import events
from local.template import REPO_ROOT, api_routes, authorizer_specs, load_template, schedule_events

EVENTS_DIR = REPO_ROOT / "events"
# local.seed.seed_demo() in an empty table: clinic 1; users 1 admin, 2 supervisor, 3 provider (supervised
# by 2); patients 1-6 created by the provider; alert rule 1 (mood <= 2), and gauge 1 (patient 1's mood of 1)
# that opened alert 1. The event test also records assessment 1 for patient 1.
ADMIN = {"user_id": 1, "clinic_id": 1, "role": "admin"}
PATIENT = 1
GAUGE = 1
ASSESSMENT = 1
ALERT = 1
ALERT_RULE = 1
# Not a real token: issue one with `patients-admin tokens issue --user 1` and paste it here to authorize.
TOKEN_PLACEHOLDER = "paste-a-token-from-patients-admin-tokens-issue"
# Not a real code either: `patients-admin invitations create --patient 1` prints one.
INVITATION_PLACEHOLDER = "paste-a-code-from-patients-admin-invitations-create"

_FIXED_TIME = 1698400800  # 2023-10-27T10:00:00Z
_FIXED_CONTEXT = {
    "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "extendedRequestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "requestTimeEpoch": _FIXED_TIME * 1000,
    "requestTime": "27/Oct/2023:10:00:00 +0000",
}

# (function logical id, variant or "", method, path, body, headers)
API_EVENTS: list[tuple[str, str, str, str, Any, dict[str, str]]] = [
    ("ListPatientsFunction", "", "GET", "/v1/patients?page_size=10&status=active", None, {}),
    (
        "CreatePatientFunction",
        "",
        "POST",
        "/v1/patients",
        {
            "patient": {
                "first_name": "Grace",
                "last_name": "Hopper",
                "date_of_birth": "1990-12-09",
                "gender": "female",
                "email": "grace@example.com",
                "time_zone": "America/New_York",
            }
        },
        {"Idempotency-Key": "sample-create-patient-1"},
    ),
    ("GetPatientFunction", "", "GET", f"/v1/patients/{PATIENT}", None, {}),
    (
        "UpdatePatientFunction",
        "",
        "PUT",
        f"/v1/patients/{PATIENT}",
        {"patient": {"phone": "+1-555-987-6543", "address": {"street": "1 Elm St", "city": "Springfield"}}},
        {},
    ),
    ("GetCareTeamFunction", "", "GET", f"/v1/patients/{PATIENT}/care_team", None, {}),
    ("AddCareTeamMemberFunction", "", "POST", f"/v1/patients/{PATIENT}/care_team", {"user_id": 2}, {}),
    ("RemoveCareTeamMemberFunction", "", "DELETE", f"/v1/patients/{PATIENT}/care_team/3", None, {}),
    ("ListGaugesFunction", "", "GET", f"/v1/patients/{PATIENT}/gauges?gauge_type=mood&order=asc", None, {}),
    (
        "RecordGaugesFunction",
        "",
        "POST",
        f"/v1/patients/{PATIENT}/gauges",
        {"gauge": {"gauge_type": "mood", "value": 7, "notes": "Feeling better today"}},
        {},
    ),
    (
        "RecordGaugesFunction",
        "batch",
        "POST",
        f"/v1/patients/{PATIENT}/gauges",
        {"gauges": [{"gauge_type": "anxiety", "value": 3}, {"gauge_type": "pain", "value": 0}]},
        {},
    ),
    ("DeleteGaugeFunction", "", "DELETE", f"/v1/patients/{PATIENT}/gauges/{GAUGE}", None, {}),
    ("GetGaugeSummaryFunction", "", "GET", f"/v1/patients/{PATIENT}/gauges/summary?period=week", None, {}),
    ("GetLatestGaugesFunction", "", "GET", f"/v1/patients/{PATIENT}/gauges/latest", None, {}),
    ("ListInstrumentsFunction", "", "GET", "/v1/instruments", None, {}),
    (
        "RecordAssessmentFunction",
        "",
        "POST",
        f"/v1/patients/{PATIENT}/assessments",
        {"assessment": {"instrument": "phq9", "answers": [0, 1, 2, 0, 0, 1, 0, 0, 0], "notes": "Seen in clinic"}},
        {"Idempotency-Key": "sample-record-assessment-1"},
    ),
    ("ListAssessmentsFunction", "", "GET", f"/v1/patients/{PATIENT}/assessments?instrument=phq9", None, {}),
    ("GetAssessmentFunction", "", "GET", f"/v1/patients/{PATIENT}/assessments/{ASSESSMENT}", None, {}),
    ("DeleteAssessmentFunction", "", "DELETE", f"/v1/patients/{PATIENT}/assessments/{ASSESSMENT}", None, {}),
    (
        "CreateInvitationFunction",
        "",
        "POST",
        f"/v1/patients/{PATIENT}/invitations",
        {"invitation": {"expires_in_hours": 48}},
        {},
    ),
    # A made-up code (a real one works once): the answer is the contract's 404.
    ("RedeemInvitationFunction", "", "POST", "/v1/invitations/redeem", {"code": INVITATION_PLACEHOLDER}, {}),
    ("GetMeFunction", "", "GET", "/v1/me", None, {}),
    ("ListAlertsFunction", "", "GET", "/v1/alerts?status=open&page_size=10", None, {}),
    ("ListPatientAlertsFunction", "", "GET", f"/v1/patients/{PATIENT}/alerts?status=all", None, {}),
    ("AcknowledgeAlertFunction", "", "POST", f"/v1/alerts/{ALERT}/acknowledge", None, {}),
    (
        "ResolveAlertFunction",
        "",
        "POST",
        f"/v1/alerts/{ALERT}/resolve",
        {"resolution_note": "Called the patient; safety plan reviewed."},
        {},
    ),
    (
        "CreateAlertRuleFunction",
        "",
        "POST",
        "/v1/alert_rules",
        {
            "alert_rule": {
                "gauge_type": "anxiety",
                "operator": ">=",
                "threshold": 8,
                "consecutive_days": 3,
                "priority": "high",
            }
        },
        {},
    ),
    ("ListAlertRulesFunction", "", "GET", "/v1/alert_rules", None, {}),
    ("DeleteAlertRuleFunction", "", "DELETE", f"/v1/alert_rules/{ALERT_RULE}", None, {}),
    ("ServeDocsFunction", "", "GET", "/v1/docs", None, {}),
    ("ServeDocsFunction", "openapi", "GET", "/v1/openapi.json", None, {}),
]


def _fixed(event: dict[str, Any]) -> dict[str, Any]:
    event["requestContext"].update(_FIXED_CONTEXT)
    return event


def _api_event(template: dict[str, Any], method: str, path: str, body: Any, headers: dict[str, str]) -> dict[str, Any]:
    public = {(r.method, r.path) for r in api_routes(template) if not r.auth_required}
    event = events.make_event(
        method,
        path,
        body=body,
        headers={"Accept": "application/json", "User-Agent": "sam-local-invoke", **headers},
        user=ADMIN,
        template=template,
    )
    if (method, event["resource"]) in public:
        event["requestContext"].pop("authorizer", None)  # API Gateway runs no authorizer on public routes
    return _fixed(event)


def build(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """File name -> event, for every function of the template."""
    template = template if template is not None else load_template()
    files: dict[str, dict[str, Any]] = {}
    for function_id, variant, method, path, body, headers in API_EVENTS:
        name = f"{function_id}.{variant}.json" if variant else f"{function_id}.json"
        files[name] = _api_event(template, method, path, body, headers)

    authorized = events.make_event(
        "GET", f"/v1/patients/{PATIENT}", headers={"X-User-Token": TOKEN_PLACEHOLDER}, template=template
    )
    authorizer_ids = {spec.function_id for spec in authorizer_specs(template).values()}
    for function_id in sorted(authorizer_ids):
        files[f"{function_id}.json"] = events.request_authorizer_event(_fixed(authorized))

    for function_id, event_name, _period, payload in schedule_events(template):
        event = payload if payload is not None else events.scheduled_event(f"{function_id}-{event_name}")
        if payload is None:
            event.update(id="cdc73f9d-aea9-11e3-9d5a-835b769c0d9c", time="2023-10-27T10:00:00Z")
        files[f"{function_id}.json"] = event
    return dict(sorted(files.items()))


def render(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    EVENTS_DIR.mkdir(exist_ok=True)
    built = build()
    for name, event in built.items():
        (EVENTS_DIR / name).write_text(render(event), encoding="utf-8")
    stale = [p for p in EVENTS_DIR.glob("*.json") if p.name not in built]
    for path in stale:
        path.unlink()
    print(f"wrote {len(built)} events to {EVENTS_DIR.relative_to(REPO_ROOT)}/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
