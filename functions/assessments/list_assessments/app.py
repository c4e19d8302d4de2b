"""GET /v1/patients/{patient_id}/assessments: a patient's assessments by time, filtered by instrument and days."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from clinic import assessments
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import guarded_patient
from clinic.models import Cursor, DateQuery, Order, PageSize
from clinic.models.instrument_codes import InstrumentCode
from clinic.openapi import ASSESSMENT_LIST_RULES, operation

app = api(patient=Action.READ_ASSESSMENTS)


@app.get(
    "/v1/patients/<id>/assessments",
    **operation(
        "List a patient's assessments",
        tag="assessments",
        model="AssessmentList",
        errors=(403, 404, 422),
        rules=ASSESSMENT_LIST_RULES,
    ),
)
def list_assessments(
    id: str,
    instrument: Annotated[InstrumentCode | None, Query()] = None,
    start_date: DateQuery = None,
    end_date: DateQuery = None,
    order: Order = "desc",
    page_size: PageSize = 25,
    cursor: Cursor = None,
):
    body = assessments.list_assessments(
        guarded_patient(app),
        instrument=instrument,
        start_date=start_date,
        end_date=end_date,
        order=order,
        page_size=page_size,
        cursor=cursor,
    )
    return json_response(200, body)


lambda_handler = handler(app)
