"""POST /v1/patients/{id}/care_team: add a provider or supervisor to a patient's care team."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from clinic import care_teams
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import caller, guarded_patient
from clinic.models.patients import CareTeamAddition
from clinic.openapi import CARE_TEAM_RULES, operation

app = api(patient=Action.MANAGE_CARE_TEAM, body="user_id", idempotent=True)


@app.post(
    "/v1/patients/<id>/care_team",
    **operation(
        "Add a care team member",
        tag="care teams",
        status=201,
        model="CareTeam",
        errors=(400, 403, 404, 413, 415, 422),
        rules=CARE_TEAM_RULES,
    ),
)
def add_care_team_member(id: str, request: Annotated[CareTeamAddition, Body()]):
    return json_response(201, care_teams.add(caller(app), guarded_patient(app), request.user_id))


lambda_handler = handler(app)
