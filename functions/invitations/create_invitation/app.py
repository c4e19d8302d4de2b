"""POST /v1/patients/{id}/invitations: a single-use code with which the patient's app becomes a patient user.

No Idempotency-Key: a replay would have to keep the code itself, which is stored only as a hash. A retry
makes a second code; both expire, and each works once."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from clinic import patient_users
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import caller, guarded_patient
from clinic.models.invitations import CreateInvitationRequest
from clinic.openapi import operation

app = api(patient=Action.INVITE, body="invitation")


@app.post(
    "/v1/patients/<id>/invitations",
    **operation(
        "Invite a patient to report for themselves",
        tag="patient users",
        status=201,
        model="InvitationCreated",
        errors=(400, 403, 404, 413, 415, 422),
        description="Staff with access to the patient. The code is shown once, stored only as a hash, redeemable "
        "once, until `expires_at`. An inactive patient cannot be invited (422 on `patient`).",
    ),
)
def create_invitation(id: str, request: Annotated[CreateInvitationRequest | None, Body()] = None):
    options = request.invitation if request is not None else None
    hours = options.expires_in_hours if options is not None else patient_users.DEFAULT_EXPIRY_HOURS
    invitation = patient_users.invite(caller(app), guarded_patient(app), hours)
    return json_response(201, {"invitation": invitation})


lambda_handler = handler(app)
