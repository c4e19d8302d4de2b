"""GET /v1/me: who the token belongs to (any role; a patient user's `patient_id` is their record)."""

from clinic import patient_users
from clinic.http import api, handler, json_response
from clinic.middleware import caller
from clinic.openapi import operation

app = api()


@app.get("/v1/me", **operation("The signed-in user", tag="users", model="MeResponse"))
def get_me():
    return json_response(200, patient_users.me(caller(app)))


lambda_handler = handler(app)
