"""GET /v1/instruments: the standardized instruments the server scores, with their standard wording."""

from aws_lambda_powertools.event_handler import Response
from clinic import instruments
from clinic.http import JSON, api, handler
from clinic.openapi import InstrumentList, operation

app = api()


@app.get("/v1/instruments", **operation("List the instruments", tag="assessments", model=InstrumentList))
def list_instruments():
    return Response(200, JSON, instruments.catalog_json())


lambda_handler = handler(app)
