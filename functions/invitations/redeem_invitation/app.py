"""POST /v1/invitations/redeem: an invitation code becomes a patient user and its token. Public (no token)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from clinic import patient_users
from clinic.http import api, handler, json_response
from clinic.models.invitations import RedeemInvitationRequest
from clinic.openapi import operation

app = api(body="code", public=True)


@app.post(
    "/v1/invitations/redeem",
    **operation(
        "Redeem an invitation",
        tag="patient users",
        status=201,
        model="Redemption",
        errors=(400, 404, 413, 415, 422),
        public=True,
        error_examples={
            404: ("The code is unknown, already used or expired (the same answer).", patient_users.InvitationNotFound)
        },
    ),
)
def redeem_invitation(request: Annotated[RedeemInvitationRequest, Body()]):
    request_id = app.current_event.request_context.request_id
    return json_response(201, patient_users.redeem(request.code, request_id=request_id))


lambda_handler = handler(app)
