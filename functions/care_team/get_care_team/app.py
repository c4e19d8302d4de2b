"""GET /v1/patients/{id}/care_team: the users who care for a patient the caller may read."""

from clinic import care_teams
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import guarded_patient
from clinic.openapi import operation

app = api(patient=Action.READ_CARE_TEAM)


@app.get(
    "/v1/patients/<id>/care_team",
    **operation("Get a patient's care team", tag="care teams", model="CareTeam", errors=(403, 404)),
)
def get_care_team(id: str):
    return json_response(200, care_teams.present(guarded_patient(app)))


lambda_handler = handler(app)
