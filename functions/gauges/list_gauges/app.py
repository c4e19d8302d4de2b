"""GET /v1/patients/{patient_id}/gauges: a patient's gauges by time, filtered by type and local days."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from clinic import gauges
from clinic.access import Action
from clinic.cursors import MAX_PAGE
from clinic.http import api, handler, json_response
from clinic.middleware import guarded_patient
from clinic.models import GaugeType
from clinic.openapi import GAUGE_LIST_RULES, Cursor, GaugeList, operation

app = api(patient=Action.READ)


@app.get(
    "/v1/patients/<id>/gauges",
    **operation(
        "List a patient's gauges", tag="gauges", model=GaugeList, errors=(403, 404, 422), rules=GAUGE_LIST_RULES
    ),
)
def list_gauges(
    id: str,
    gauge_type: Annotated[GaugeType | None, Query()] = None,
    start_date: Annotated[str | None, Query(json_schema_extra={"format": "date"})] = None,
    end_date: Annotated[str | None, Query(json_schema_extra={"format": "date"})] = None,
    order: Annotated[Literal["desc", "asc"], Query()] = "desc",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Cursor = None,
):
    body = gauges.list_gauges(
        guarded_patient(app),
        gauge_type=gauge_type,
        start_date=start_date,
        end_date=end_date,
        order=order,
        page=page,
        page_size=page_size,
        cursor=cursor,
    )
    return json_response(200, body)


lambda_handler = handler(app)
