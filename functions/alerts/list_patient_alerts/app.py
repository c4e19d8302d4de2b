"""GET /v1/patients/{id}/alerts: one patient's alerts, urgent first, then oldest first."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from clinic import alerts
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import caller, guarded_patient
from clinic.models import Cursor, PageSize
from clinic.openapi import operation

app = api(patient=Action.READ_ALERTS)


@app.get(
    "/v1/patients/<id>/alerts",
    **operation("List a patient's alerts", tag="alerts", model="AlertList", errors=(403, 404, 422)),
)
def list_patient_alerts(
    id: str,
    status: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
    priority: Annotated[Literal["urgent", "high", "normal"] | None, Query()] = None,
    page_size: PageSize = 25,
    cursor: Cursor = None,
):
    body = alerts.list_alerts(
        caller(app),
        patient=guarded_patient(app),
        status=status,
        priority=priority,
        page_size=page_size,
        cursor=cursor,
    )
    return json_response(200, body)


lambda_handler = handler(app)
