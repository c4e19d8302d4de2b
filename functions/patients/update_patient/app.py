"""PUT /v1/patients/{id}: change the fields sent, optionally only if unchanged since an ETag."""

from functools import partial
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from clinic import patients
from clinic.access import Action
from clinic.authorizer_cache import Stage
from clinic.http import api, handler, json_response
from clinic.middleware import caller, guarded_patient
from clinic.models import parameter_schema
from clinic.models.patients import UpdatePatientRequest
from clinic.openapi import PATIENT_RULES, operation

app = api(patient=Action.CHANGE, body="patient", body_rule=patients.fields_a_patient_may_not_change)


@app.put(
    "/v1/patients/<id>",
    **operation(
        "Update a patient",
        tag="patients",
        model="Patient",
        headers=("ETag",),
        errors=(400, 403, 404, 412, 413, 415, 422),
        rules=PATIENT_RULES,
    ),
)
def update_patient(
    id: str,
    request: Annotated[UpdatePatientRequest, Body()],
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='An ETag this API sent (`"v3"`), a list of them, or `*`; anything else is 400. 412 unless the '
            "patient is still at a version it names.",
            json_schema_extra=partial(parameter_schema, pattern=patients.IF_MATCH_PATTERN),
        ),
    ] = None,
):
    stage = Stage.serving(app.current_event.raw_event)
    patient = patients.update(caller(app), guarded_patient(app), request.patient, if_match, stage)
    return json_response(200, patients.present(patient), {"ETag": patients.etag(patient)})


lambda_handler = handler(app)
