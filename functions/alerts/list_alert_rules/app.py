"""GET /v1/alert_rules: the clinic's alert rules (staff)."""

from clinic import alert_rules, alerts
from clinic.http import api, handler, json_response
from clinic.middleware import caller
from clinic.openapi import operation

app = api(guard=alerts.require_staff)


@app.get(
    "/v1/alert_rules", **operation("List the clinic's alert rules", tag="alerts", model="AlertRuleList", errors=(403,))
)
def list_alert_rules():
    return json_response(200, alert_rules.list_rules(caller(app)))


lambda_handler = handler(app)
