"""POST /v1/patients/{patient_id}/gauges: one gauge, or a batch of up to 100 stored all or nothing."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from clinic import gauges
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import caller, guarded_patient
from clinic.models.gauges import RecordGaugesRequest
from clinic.openapi import GAUGE_RULES, operation

app = api(patient=Action.CHANGE, body="gauge", idempotent=True)


@app.post(
    "/v1/patients/<id>/gauges",
    **operation(
        "Record gauges",
        tag="gauges",
        status=201,
        model=("Gauge", "GaugeBatch"),
        errors=(400, 403, 404, 413, 415, 422),
        rules=GAUGE_RULES,
    ),
)
def record_gauges(id: str, request: Annotated[RecordGaugesRequest, Body()]):
    new = [request.gauge] if request.gauge is not None else request.gauges or []
    stored = [gauges.present(g) for g in gauges.record(caller(app), guarded_patient(app), new)]
    return json_response(201, stored[0] if request.gauge is not None else {"gauges": stored})


lambda_handler = handler(app)
