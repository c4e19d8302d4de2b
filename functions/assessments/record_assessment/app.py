"""POST /v1/patients/{patient_id}/assessments: answers to an instrument, scored and stored with their total gauge."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from clinic import assessments
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import caller, guarded_patient
from clinic.models.assessments import RecordAssessmentRequest
from clinic.openapi import operation

app = api(patient=Action.RECORD_ASSESSMENT, body="assessment", idempotent=True)


@app.post(
    "/v1/patients/<id>/assessments",
    **operation(
        "Record an assessment", tag="assessments", status=201, model="Assessment", errors=(400, 403, 404, 413, 415, 422)
    ),
)
def record_assessment(id: str, request: Annotated[RecordAssessmentRequest, Body()]):
    stored = assessments.record(caller(app), guarded_patient(app), request.assessment)
    return json_response(201, assessments.present(stored))


lambda_handler = handler(app)
