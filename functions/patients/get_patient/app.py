"""GET /v1/patients/{id}: one patient the caller may read."""

from clinic import patients
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import guarded_patient
from clinic.openapi import operation

app = api(patient=Action.READ)


@app.get(
    "/v1/patients/<id>",
    **operation("Get a patient", tag="patients", model="Patient", headers=("ETag",), errors=(403, 404)),
)
def get_patient(id: str):
    patient = guarded_patient(app)
    return json_response(200, patients.present(patient), {"ETag": patients.etag(patient)})


lambda_handler = handler(app)
