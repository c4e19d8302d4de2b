"""DELETE /v1/patients/{id}/care_team/{user_id}: take a user off a patient's care team."""

from aws_lambda_powertools.event_handler import Response
from clinic import care_teams
from clinic.access import Action
from clinic.http import api, handler
from clinic.middleware import caller, guarded_patient
from clinic.openapi import operation

app = api(patient=Action.MANAGE_CARE_TEAM)


@app.delete(
    "/v1/patients/<id>/care_team/<user_id>",
    **operation("Remove a care team member", tag="care teams", status=204, errors=(403, 404)),
)
def remove_care_team_member(id: str, user_id: str):
    care_teams.remove(caller(app), guarded_patient(app), user_id)
    return Response(status_code=204)


lambda_handler = handler(app)
