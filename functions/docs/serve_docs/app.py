"""GET /v1/openapi.json, GET /v1/docs and GET /v1/docs/{asset}: the committed OpenAPI document and Swagger UI,
public (no token) and served by the API itself. Swagger UI's files come from the pinned Powertools wheel in the
dependencies layer (it vendors them), so no page ever loads anything from a third-party CDN."""

from functools import cache
from importlib import resources
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from clinic.errors import NotFound
from clinic.http import error_response, handler
from clinic.openapi import docs_operation

HERE = Path(__file__).parent
# Found from its parent package (imported with the resolver): importing swagger_ui itself would load Powertools'
# OpenAPI models, half a second of every cold start here.
_SWAGGER_UI = resources.files("aws_lambda_powertools.event_handler.openapi") / "swagger_ui"
# Asset name -> (file, content type). Text only: a REST API without binary media types serves text as is.
ASSETS = {
    "swagger-ui-bundle.js": (_SWAGGER_UI / "swagger-ui-bundle.min.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": (_SWAGGER_UI / "swagger-ui.min.css", "text/css; charset=utf-8"),
    "swagger-initializer.js": (HERE / "swagger-initializer.js", "text/javascript; charset=utf-8"),
}
# The page may only load from this API (and show its own inline SVG/data images).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
CACHE = {"Cache-Control": "public, max-age=300"}

app = APIGatewayRestResolver()


@cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@app.get("/v1/openapi.json", **docs_operation("The OpenAPI document", "application/json"))
def openapi_document():
    return Response(200, "application/json", _text(HERE / "openapi.json"), {**CACHE, **SECURITY_HEADERS})


@app.get("/v1/docs", **docs_operation("Swagger UI", "text/html"))
def swagger_ui():
    return Response(200, "text/html; charset=utf-8", _text(HERE / "index.html"), {**CACHE, **SECURITY_HEADERS})


@app.get("/v1/docs/<asset>", **docs_operation("A Swagger UI asset", "text/javascript", "text/css"))
def swagger_ui_asset(asset: str):
    if asset not in ASSETS:
        return error_response(NotFound())
    file, content_type = ASSETS[asset]
    return Response(200, content_type, _text(file), {**CACHE, **SECURITY_HEADERS})


@app.not_found
def _not_found(_: Exception) -> Response:
    return error_response(NotFound())


lambda_handler = handler(app)
