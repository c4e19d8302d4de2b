"""DELETE /v1/patients/{patient_id}/assessments/{assessment_id}: remove an assessment and its total gauge."""

from aws_lambda_powertools.event_handler import Response
from clinic import assessments
from clinic.access import Action
from clinic.http import api, handler
from clinic.middleware import caller, guarded_patient
from clinic.openapi import operation

app = api(patient=Action.DELETE_ASSESSMENT)


@app.delete(
    "/v1/patients/<id>/assessments/<assessment_id>",
    **operation("Delete an assessment", tag="assessments", status=204, errors=(403, 404)),
)
def delete_assessment(id: str, assessment_id: str):
    assessments.delete(caller(app), guarded_patient(app), assessment_id)
    return Response(status_code=204)


lambda_handler = handler(app)
