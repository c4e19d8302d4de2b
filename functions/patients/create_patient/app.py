"""POST /v1/patients: a new patient in the caller's clinic."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from clinic import patients
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import caller
from clinic.models.patients import CreatePatientRequest
from clinic.openapi import PATIENT_RULES, operation

app = api(clinic=Action.CREATE_PATIENT, body="patient", idempotent=True, audit_ids="id")


@app.post(
    "/v1/patients",
    **operation(
        "Create a patient",
        tag="patients",
        status=201,
        model="Patient",
        headers=("Location", "ETag"),
        errors=(400, 403, 413, 415, 422),
        rules=PATIENT_RULES,
    ),
)
def create_patient(request: Annotated[CreatePatientRequest, Body()]):
    patient = patients.create(caller(app), request.patient)
    headers = {"Location": f"/v1/patients/{patient['id']}", "ETag": patients.etag(patient)}
    return json_response(201, patients.present(patient), headers)


lambda_handler = handler(app)
