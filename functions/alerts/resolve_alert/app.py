"""POST /v1/alerts/{id}/resolve: the care team has handled the alert; the note says how."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from clinic import alerts
from clinic.http import api, handler, json_response
from clinic.middleware import caller, guarded
from clinic.models.alerts import AlertResolution
from clinic.openapi import ALERT_NOT_FOUND, ALERT_RESOLVED, operation

app = api(guard=alerts.alert_for, body="resolution_note", audit_ids="patient_id")


@app.post(
    "/v1/alerts/<id>/resolve",
    **operation(
        "Resolve an alert",
        tag="alerts",
        model="Alert",
        errors=(400, 403, 404, 409, 413, 415, 422),
        error_examples={404: ALERT_NOT_FOUND, 409: ALERT_RESOLVED},
    ),
)
def resolve_alert(id: str, request: Annotated[AlertResolution, Body()]):
    alert, patient = guarded(app)
    return json_response(200, alerts.resolve(caller(app), alert, patient, request.resolution_note))


lambda_handler = handler(app)
