"""GET /v1/patients: the patients the caller may access, in name order, with search and cursors."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from clinic import patients
from clinic.access import Action
from clinic.http import api, handler, json_response
from clinic.middleware import caller
from clinic.models import Cursor, Page, PageSize
from clinic.openapi import CURSOR_RULES, operation

app = api(clinic=Action.LIST_PATIENTS, audit_ids="patients[].id")


@app.get(
    "/v1/patients",
    **operation("List patients", tag="patients", model="PatientList", errors=(403, 422), rules=CURSOR_RULES),
)
def list_patients(
    page: Page = 1,
    page_size: PageSize = 25,
    search: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Cursor = None,
    status: Annotated[Literal["active", "inactive", "all"], Query()] = "active",
):
    body = patients.list_patients(
        caller(app), page=page, page_size=page_size, search=search, cursor=cursor, status=status
    )
    return json_response(200, body)


lambda_handler = handler(app)
