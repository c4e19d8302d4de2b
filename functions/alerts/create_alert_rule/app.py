"""POST /v1/alert_rules: an admin adds a clinic rule on a gauge type's day means."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from clinic import alert_rules
from clinic.http import api, handler, json_response
from clinic.middleware import caller
from clinic.models.alert_rules import AlertRuleRequest
from clinic.openapi import operation

app = api(body="alert_rule", guard=alert_rules.require_admin)


@app.post(
    "/v1/alert_rules",
    **operation(
        "Create a clinic alert rule", tag="alerts", status=201, model="AlertRuleOut", errors=(400, 403, 413, 415, 422)
    ),
)
def create_alert_rule(request: Annotated[AlertRuleRequest, Body()]):
    rule = alert_rules.create(caller(app), request.alert_rule)
    return json_response(201, {"alert_rule": alert_rules.present(rule)})


lambda_handler = handler(app)
