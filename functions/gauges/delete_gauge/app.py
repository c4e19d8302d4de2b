"""DELETE /v1/patients/{patient_id}/gauges/{id}: remove a gauge recorded by mistake."""

from aws_lambda_powertools.event_handler import Response
from clinic import gauges
from clinic.access import Action
from clinic.http import api, handler
from clinic.middleware import caller, guarded_patient
from clinic.openapi import operation

app = api(patient=Action.CHANGE)


@app.delete(
    "/v1/patients/<id>/gauges/<gauge_id>",
    **operation("Delete a gauge", tag="gauges", status=204, errors=(403, 404, 409)),
)
def delete_gauge(id: str, gauge_id: str):
    gauges.delete(guarded_patient(app), gauge_id, by=caller(app))
    return Response(status_code=204)


lambda_handler = handler(app)
