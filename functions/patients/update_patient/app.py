"""PUT /v1/patients/{id}: change the fields sent, optionally only if unchanged since an ETag."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from clinic import patients
from clinic.access import Action
from clinic.http import api, caller, guarded_patient, handler, json_response
from clinic.models import UpdatePatientRequest
from clinic.openapi import Patient, operation

app = api(patient=Action.CHANGE, body="patient", body_rule=patients.fields_a_patient_may_not_change)


@app.put(
    "/v1/patients/<id>",
    **operation(
        "Update a patient", tag="patients", model=Patient, headers=("ETag",), errors=(400, 403, 404, 412, 413, 415, 422)
    ),
)
def update_patient(
    id: str,
    request: Annotated[UpdatePatientRequest, Body()],
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
):
    patient = patients.update(caller(app), guarded_patient(app), request.patient, if_match)
    return json_response(200, patients.present(patient), {"ETag": patients.etag(patient)})


lambda_handler = handler(app)
