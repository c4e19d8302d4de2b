"""GET /v1/instruments: the standardized instruments the server scores, with their standard wording.

The catalog is constants and holds no patient data, the same for every caller the authorizer lets through:
the route needs none of the patient routes' request pipeline (caller, access guard, audit, body checks), so
it is a bare resolver like the documentation's, which keeps a warm request within the bench's goal."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from clinic import instruments
from clinic.http import JSON, handler
from clinic.openapi import SECURITY_SCHEMES, TITLE, VERSION, operation

app = APIGatewayRestResolver()
app.configure_openapi(title=TITLE, version=VERSION, security_schemes=SECURITY_SCHEMES)


@app.get("/v1/instruments", **operation("List the instruments", tag="assessments", model="InstrumentList"))
def list_instruments():
    return Response(200, JSON, instruments.catalog_json())


lambda_handler = handler(app)
