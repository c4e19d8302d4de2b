"""POST /v1/alerts/{id}/acknowledge: a clinician has seen the alert (again: 200, nothing changes)."""

from clinic import alerts
from clinic.http import api, handler, json_response
from clinic.middleware import caller, guarded
from clinic.openapi import ALERT_NOT_FOUND, ALERT_RESOLVED, operation

app = api(guard=alerts.alert_for, audit_ids="patient_id")


@app.post(
    "/v1/alerts/<id>/acknowledge",
    **operation(
        "Acknowledge an alert",
        tag="alerts",
        model="Alert",
        errors=(403, 404, 409, 413, 415),
        error_examples={404: ALERT_NOT_FOUND, 409: ALERT_RESOLVED},
    ),
)
def acknowledge_alert(id: str):
    alert, _ = guarded(app)
    return json_response(200, alerts.acknowledge(caller(app), alert))


lambda_handler = handler(app)
