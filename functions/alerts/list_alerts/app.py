"""GET /v1/alerts: the alerts of the patients the caller may access, urgent first, then oldest first."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from clinic import alerts
from clinic.http import api, handler, json_response
from clinic.middleware import caller
from clinic.models import Cursor, PageSize
from clinic.openapi import operation

app = api(guard=alerts.require_staff, audit_ids="alerts[].patient_id")


@app.get("/v1/alerts", **operation("List alerts", tag="alerts", model="AlertList", errors=(403, 422)))
def list_alerts(
    status: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
    priority: Annotated[Literal["urgent", "high", "normal"] | None, Query()] = None,
    page_size: PageSize = 25,
    cursor: Cursor = None,
):
    body = alerts.list_alerts(caller(app), status=status, priority=priority, page_size=page_size, cursor=cursor)
    return json_response(200, body)


lambda_handler = handler(app)
