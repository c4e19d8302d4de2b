"""The warm-request baseline: for each route, a bare Powertools APIGatewayRestResolver with validation and
an equivalent pydantic model, whose handler replays the DynamoDB calls the real handler made and returns
the real handler's answer. What the real handler costs beyond this is the price of the service's own code
(access checks, audit, idempotency, logging, domain logic)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from botocore import xform_name
from pydantic import BaseModel, ConfigDict, Field

from bench.calls import Call

Gender = Literal["male", "female", "non_binary", "other", "unknown", "prefer_not_to_say"]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Text = Annotated[str, Field(max_length=255)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressIn(_In):
    street: Text | None = None
    city: Text | None = None
    state: Text | None = None
    zip_code: Text | None = None


class PatientIn(_In):
    first_name: Name
    last_name: Name
    date_of_birth: date
    gender: Gender | None = None
    phone: Annotated[str, Field(pattern=r"^[0-9+()\-. ]{7,20}$")] | None = None
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    address: AddressIn | None = None
    time_zone: Text | None = None


class PatientChangesIn(_In):
    first_name: Name | None = None
    last_name: Name | None = None
    date_of_birth: date | None = None
    gender: Gender | None = None
    phone: Annotated[str, Field(pattern=r"^[0-9+()\-. ]{7,20}$")] | None = None
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    address: AddressIn | None = None
    time_zone: Text | None = None
    active: bool | None = None


class GaugeIn(_In):
    gauge_type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
    value: float
    scale_min: float | None = None
    scale_max: float | None = None
    recorded_at: datetime | None = None
    notes: Annotated[str, Field(max_length=2000)] | None = None


class CreateBody(_In):
    patient: PatientIn


class UpdateBody(_In):
    patient: PatientChangesIn


class MemberBody(_In):
    user_id: Annotated[int, Field(ge=1)]


class GaugesBody(_In):
    gauge: GaugeIn | None = None
    gauges: Annotated[list[GaugeIn], Field(min_length=1, max_length=100)] | None = None


class AssessmentIn(_In):
    instrument: Literal["phq9", "gad7"]
    answers: Annotated[list[Annotated[int, Field(ge=0, le=3)]], Field(min_length=7, max_length=9)]
    completed_at: datetime | None = None
    notes: Annotated[str, Field(max_length=2000)] | None = None


class AssessmentBody(_In):
    assessment: AssessmentIn


class InvitationIn(_In):
    expires_in_hours: Annotated[int, Field(ge=1, le=168)] = 72


class InvitationBody(_In):
    invitation: InvitationIn | None = None


class RedeemBody(_In):
    code: Annotated[str, Field(min_length=1, max_length=200)]


class AlertRuleIn(_In):
    gauge_type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
    operator: Literal[">=", "<="]
    threshold: Annotated[float, Field(allow_inf_nan=False, ge=-(10**12), le=10**12)]
    consecutive_days: Annotated[int, Field(ge=1, le=14)]
    priority: Literal["urgent", "high", "normal"]


class AlertRuleBody(_In):
    alert_rule: AlertRuleIn


class ResolutionBody(_In):
    resolution_note: Annotated[str, Field(min_length=1, max_length=2000)]


Page = Annotated[int, Query(ge=1)]
Day = Annotated[str | None, Query()]


def renamed(value: Any, table: str, replica: str) -> Any:
    if isinstance(value, dict):
        return {renamed(k, table, replica): renamed(v, table, replica) for k, v in value.items()}
    if isinstance(value, list):
        return [renamed(v, table, replica) for v in value]
    return replica if value == table else value


def copy_table(client: Any, table: str, *copies: str) -> None:
    """Tables named `copies`, each holding what `table` holds now (its keys and indexes, every item)."""
    spec = client.describe_table(TableName=table)["Table"]
    indexes = [
        {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
        for index in spec.get("GlobalSecondaryIndexes", [])
    ]
    for copy in copies:
        client.create_table(
            TableName=copy,
            AttributeDefinitions=spec["AttributeDefinitions"],
            KeySchema=spec["KeySchema"],
            BillingMode="PAY_PER_REQUEST",
            **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
        )
    for page in client.get_paginator("scan").paginate(TableName=table):
        items = page["Items"]
        for start in range(0, len(items), 25):
            for copy in copies:
                client.batch_write_item(
                    RequestItems={copy: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
                )


class Replay:
    """Replays the calls of the real handler's latest request against a replica table kept in lockstep with
    the real one (seeded as a copy), so every replayed write succeeds exactly as the real one did."""

    def __init__(self, client: Any, table: str, replica: str) -> None:
        self.client, self.table, self.replica = client, table, replica
        self.steps: list[tuple[Callable[..., Any], dict[str, Any]]] = []

    def load(self, calls: list[Call]) -> None:
        self.steps = [
            (getattr(self.client, xform_name(c.operation)), renamed(c.params, self.table, self.replica)) for c in calls
        ]

    def __call__(self) -> None:
        for method, params in self.steps:
            method(**params)


def resolver(function_id: str, replay: Callable[[], None], answer: dict[str, Any]) -> APIGatewayRestResolver:
    """The bare resolver for one function's route, answering what the real handler answered."""
    app = APIGatewayRestResolver(enable_validation=True)
    status = int(answer["statusCode"])
    given = answer.get("headers") or {}
    headers = {k: v for k, v in given.items() if k.lower() != "content-type"}
    content_type = next((v for k, v in given.items() if k.lower() == "content-type"), "application/json")
    raw = answer.get("body") or ""
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = raw

    def respond() -> Response:
        replay()
        text = json.dumps(body) if not isinstance(body, str) else body
        return Response(status, content_type, text if status != 204 else None, headers)

    routes = {
        "ListPatientsFunction": lambda: app.get("/v1/patients")(_list_patients),
        "CreatePatientFunction": lambda: app.post("/v1/patients")(_create_patient),
        "GetPatientFunction": lambda: app.get("/v1/patients/<id>")(_by_id),
        "UpdatePatientFunction": lambda: app.put("/v1/patients/<id>")(_update_patient),
        "GetCareTeamFunction": lambda: app.get("/v1/patients/<id>/care_team")(_by_id),
        "AddCareTeamMemberFunction": lambda: app.post("/v1/patients/<id>/care_team")(_add_member),
        "RemoveCareTeamMemberFunction": lambda: app.delete("/v1/patients/<id>/care_team/<user_id>")(_two_ids),
        "ListGaugesFunction": lambda: app.get("/v1/patients/<id>/gauges")(_list_gauges),
        "RecordGaugesFunction": lambda: app.post("/v1/patients/<id>/gauges")(_record_gauges),
        "DeleteGaugeFunction": lambda: app.delete("/v1/patients/<id>/gauges/<gauge_id>")(_delete_gauge),
        "GetGaugeSummaryFunction": lambda: app.get("/v1/patients/<id>/gauges/summary")(_summary),
        "ServeDocsFunction": lambda: app.get("/v1/docs")(_docs),
        "ListInstrumentsFunction": lambda: app.get("/v1/instruments")(_docs),
        "GetLatestGaugesFunction": lambda: app.get("/v1/patients/<id>/gauges/latest")(_by_id),
        "ListAssessmentsFunction": lambda: app.get("/v1/patients/<id>/assessments")(_list_assessments),
        "GetAssessmentFunction": lambda: app.get("/v1/patients/<id>/assessments/<assessment_id>")(_assessment),
        "RecordAssessmentFunction": lambda: app.post("/v1/patients/<id>/assessments")(_record_assessment),
        "DeleteAssessmentFunction": lambda: app.delete("/v1/patients/<id>/assessments/<assessment_id>")(_assessment),
        "CreateInvitationFunction": lambda: app.post("/v1/patients/<id>/invitations")(_invite),
        "RedeemInvitationFunction": lambda: app.post("/v1/invitations/redeem")(_redeem),
        "GetMeFunction": lambda: app.get("/v1/me")(_docs),
        "ListAlertsFunction": lambda: app.get("/v1/alerts")(_list_alerts),
        "ListPatientAlertsFunction": lambda: app.get("/v1/patients/<id>/alerts")(_list_patient_alerts),
        "AcknowledgeAlertFunction": lambda: app.post("/v1/alerts/<id>/acknowledge")(_by_id),
        "ResolveAlertFunction": lambda: app.post("/v1/alerts/<id>/resolve")(_resolve_alert),
        "ListAlertRulesFunction": lambda: app.get("/v1/alert_rules")(_docs),
        "CreateAlertRuleFunction": lambda: app.post("/v1/alert_rules")(_create_alert_rule),
        "DeleteAlertRuleFunction": lambda: app.delete("/v1/alert_rules/<id>")(_by_id),
    }

    def _list_patients(
        page: Page = 1,
        page_size: Annotated[int, Query(ge=1, le=100)] = 25,
        search: Annotated[str | None, Query(max_length=100)] = None,
        cursor: Annotated[str | None, Query(max_length=2048)] = None,
        status: Annotated[Literal["active", "inactive", "all"], Query()] = "active",
    ):
        return respond()

    def _create_patient(request: Annotated[CreateBody, Body()]):
        return respond()

    def _by_id(id: str):
        return respond()

    def _update_patient(
        id: str,
        request: Annotated[UpdateBody, Body()],
        if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    ):
        return respond()

    def _add_member(id: str, request: Annotated[MemberBody, Body()]):
        return respond()

    def _two_ids(id: str, user_id: str):
        return respond()

    def _list_gauges(
        id: str,
        gauge_type: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,49}$")] = None,
        start_date: Day = None,
        end_date: Day = None,
        order: Annotated[Literal["desc", "asc"], Query()] = "desc",
        page: Page = 1,
        page_size: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, Query(max_length=2048)] = None,
    ):
        return respond()

    def _record_gauges(id: str, request: Annotated[GaugesBody, Body()]):
        return respond()

    def _delete_gauge(id: str, gauge_id: str):
        return respond()

    def _summary(
        id: str,
        gauge_type: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,49}$")] = None,
        start_date: Day = None,
        end_date: Day = None,
        period: Annotated[Literal["day", "week"], Query()] = "day",
    ):
        return respond()

    def _docs():
        return respond()

    def _list_assessments(
        id: str,
        instrument: Annotated[Literal["phq9", "gad7"] | None, Query()] = None,
        start_date: Day = None,
        end_date: Day = None,
        order: Annotated[Literal["desc", "asc"], Query()] = "desc",
        page_size: Annotated[int, Query(ge=1, le=100)] = 25,
        cursor: Annotated[str | None, Query(max_length=2048)] = None,
    ):
        return respond()

    def _assessment(id: str, assessment_id: str):
        return respond()

    def _record_assessment(id: str, request: Annotated[AssessmentBody, Body()]):
        return respond()

    def _invite(id: str, request: Annotated[InvitationBody | None, Body()] = None):
        return respond()

    def _redeem(request: Annotated[RedeemBody, Body()]):
        return respond()

    def _list_alerts(
        status: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
        priority: Annotated[Literal["urgent", "high", "normal"] | None, Query()] = None,
        page_size: Annotated[int, Query(ge=1, le=100)] = 25,
        cursor: Annotated[str | None, Query(max_length=2048)] = None,
    ):
        return respond()

    def _list_patient_alerts(
        id: str,
        status: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
        priority: Annotated[Literal["urgent", "high", "normal"] | None, Query()] = None,
        page_size: Annotated[int, Query(ge=1, le=100)] = 25,
        cursor: Annotated[str | None, Query(max_length=2048)] = None,
    ):
        return respond()

    def _resolve_alert(id: str, request: Annotated[ResolutionBody, Body()]):
        return respond()

    def _create_alert_rule(request: Annotated[AlertRuleBody, Body()]):
        return respond()

    if function_id not in routes:
        raise LookupError(f"bench/baseline.py has no baseline route for {function_id}")
    routes[function_id]()
    return app
