"""GET /v1/patients/{patient_id}/gauges: a patient's gauges by time, filtered by type and local days."""

from clinic import gauges
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import guarded_patient
from clinic.models import Cursor, DateQuery, GaugePageSize, GaugeTypeQuery, Order, Page
from clinic.openapi import GAUGE_LIST_RULES, operation

app = api(patient=Action.READ)


@app.get(
    "/v1/patients/<id>/gauges",
    **operation(
        "List a patient's gauges", tag="gauges", model="GaugeList", errors=(403, 404, 422), rules=GAUGE_LIST_RULES
    ),
)
def list_gauges(
    id: str,
    gauge_type: GaugeTypeQuery = None,
    start_date: DateQuery = None,
    end_date: DateQuery = None,
    order: Order = "desc",
    page: Page = 1,
    page_size: GaugePageSize = 100,
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
