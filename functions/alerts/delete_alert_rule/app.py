"""DELETE /v1/alert_rules/{id}: an admin removes a clinic rule; its open alerts stay."""

from aws_lambda_powertools.event_handler import Response
from clinic import alert_rules
from clinic.http import api, handler
from clinic.middleware import caller
from clinic.openapi import RULE_NOT_FOUND, operation

app = api(guard=alert_rules.require_admin)


@app.delete(
    "/v1/alert_rules/<id>",
    **operation(
        "Delete a clinic alert rule", tag="alerts", status=204, errors=(403, 404), error_examples={404: RULE_NOT_FOUND}
    ),
)
def delete_alert_rule(id: str):
    alert_rules.delete(caller(app), id)
    return Response(status_code=204)


lambda_handler = handler(app)
