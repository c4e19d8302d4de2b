"""GET /v1/patients/{patient_id}/assessments/{assessment_id}: one assessment."""

from clinic import assessments
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import guarded_patient
from clinic.openapi import operation

app = api(patient=Action.READ_ASSESSMENTS)


@app.get(
    "/v1/patients/<id>/assessments/<assessment_id>",
    **operation("Read an assessment", tag="assessments", model="Assessment", errors=(403, 404)),
)
def get_assessment(id: str, assessment_id: str):
    return json_response(200, assessments.get(guarded_patient(app), assessment_id))


lambda_handler = handler(app)
