"""GET /v1/patients/{patient_id}/gauges/latest: the newest value of every gauge type, with the one before it."""

from clinic import latest
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import guarded_patient
from clinic.openapi import operation

app = api(patient=Action.READ)


@app.get(
    "/v1/patients/<id>/gauges/latest",
    **operation("A patient's latest values", tag="gauges", model="LatestValues", errors=(403, 404)),
)
def get_latest_gauges(id: str):
    return json_response(200, latest.latest(guarded_patient(app)))


lambda_handler = handler(app)
