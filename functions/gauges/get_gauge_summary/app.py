"""GET /v1/patients/{patient_id}/gauges/summary: daily or weekly summaries computed by the scheduled job."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from clinic import summaries
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import guarded_patient
from clinic.models import DateQuery, GaugeTypeQuery
from clinic.openapi import SUMMARY_RULES, operation

app = api(patient=Action.READ)


@app.get(
    "/v1/patients/<id>/gauges/summary",
    **operation(
        "Summarize a patient's gauges",
        tag="gauges",
        model="GaugeSummaries",
        errors=(403, 404, 422),
        rules=SUMMARY_RULES,
    ),
)
def get_gauge_summary(
    id: str,
    gauge_type: GaugeTypeQuery = None,
    start_date: DateQuery = None,
    end_date: DateQuery = None,
    period: Annotated[Literal["day", "week"], Query()] = "day",
):
    body = summaries.summary(
        guarded_patient(app), gauge_type=gauge_type, start_date=start_date, end_date=end_date, period=period
    )
    return json_response(200, body)


lambda_handler = handler(app)
