"""GET /v1/instruments: the standardized instruments the server scores, with their standard wording."""

from clinic import instruments
from clinic.http import api, handler, json_response
from clinic.openapi import InstrumentList, operation

app = api()


@app.get("/v1/instruments", **operation("List the instruments", tag="assessments", model=InstrumentList))
def list_instruments():
    return json_response(200, instruments.catalog())


lambda_handler = handler(app)
