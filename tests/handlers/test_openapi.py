"""The OpenAPI document: the committed file is what the code generates, it covers every route of the contract
and of template.yaml, and the public docs routes serve it and Swagger UI (with no third-party URL) without a
token."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from support import Client

from local.gateway import LocalGateway
from local.template import api_routes, load_template
from tools import openapi

# API.md's routes (`{patient_id}` is `{id}` in code: API Gateway wants sibling path parameters to share a name).
CONTRACT_ROUTES = {
    ("POST", "/v1/patients"),
    ("GET", "/v1/patients"),
    ("GET", "/v1/patients/{id}"),
    ("PUT", "/v1/patients/{id}"),
    ("POST", "/v1/patients/{id}/gauges"),
    ("GET", "/v1/patients/{id}/gauges"),
    ("DELETE", "/v1/patients/{id}/gauges/{gauge_id}"),
    ("GET", "/v1/patients/{id}/gauges/summary"),
    ("GET", "/v1/patients/{id}/care_team"),
    ("POST", "/v1/patients/{id}/care_team"),
    ("DELETE", "/v1/patients/{id}/care_team/{user_id}"),
    ("GET", "/v1/instruments"),
    ("POST", "/v1/patients/{id}/assessments"),
    ("GET", "/v1/patients/{id}/assessments"),
    ("GET", "/v1/patients/{id}/assessments/{assessment_id}"),
    ("DELETE", "/v1/patients/{id}/assessments/{assessment_id}"),
    ("GET", "/v1/patients/{id}/gauges/latest"),
    ("POST", "/v1/patients/{id}/invitations"),
    ("POST", "/v1/invitations/redeem"),
    ("GET", "/v1/me"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/docs"),
}
# The docs, and the redemption of an invitation (the code is the credential).
PUBLIC = {
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/docs"),
    ("GET", "/v1/docs/{asset}"),
    ("POST", "/v1/invitations/redeem"),
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(openapi.OUTPUT.read_text(encoding="utf-8"))


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): op for path, item in document["paths"].items() for method, op in item.items()}


def test_committed_document_is_what_the_code_generates() -> None:
    generated = openapi.render(openapi.generate())
    assert openapi.OUTPUT.read_text(encoding="utf-8") == generated, "run `make openapi` and commit the result"
    assert openapi.LINK.resolve() == openapi.OUTPUT.resolve()


def test_every_contract_and_template_route_is_documented(document: dict[str, Any]) -> None:
    documented = set(_operations(document))
    template_routes = {(r.method, r.path) for r in api_routes(load_template())}
    assert documented >= CONTRACT_ROUTES
    assert documented == template_routes
    assert document["openapi"].startswith("3.")


def test_x_user_token_is_an_api_key_on_every_route_but_the_docs(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["UserToken"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "X-User-Token", "description": scheme["description"]}
    for key, operation in _operations(document).items():
        if key in PUBLIC:
            assert "security" not in operation, key
        else:
            assert operation["security"] == [{"UserToken": []}], key
            assert "401" in operation["responses"], key
            assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }


def test_responses_and_bodies_are_the_contracts(document: dict[str, Any]) -> None:
    ops = _operations(document)
    ref = "#/components/schemas/"

    def schema(key: tuple[str, str], status: str) -> Any:
        return ops[key]["responses"][status]["content"]["application/json"]["schema"]

    assert schema(("POST", "/v1/patients"), "201") == {"$ref": ref + "Patient"}
    assert set(ops[("POST", "/v1/patients")]["responses"]["201"]["headers"]) == {"Location", "ETag"}
    assert schema(("GET", "/v1/patients"), "200") == {"$ref": ref + "PatientList"}
    assert schema(("PUT", "/v1/patients/{id}"), "412") == {"$ref": ref + "Error"}
    assert schema(("PUT", "/v1/patients/{id}"), "422") == {"$ref": ref + "ValidationErrors"}
    assert "204" in ops[("DELETE", "/v1/patients/{id}/gauges/{gauge_id}")]["responses"]
    assert schema(("GET", "/v1/patients/{id}/care_team"), "200") == {"$ref": ref + "CareTeam"}
    assert schema(("GET", "/v1/patients/{id}/gauges/summary"), "200") == {"$ref": ref + "GaugeSummaries"}
    assert ops[("POST", "/v1/patients")]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": ref + "CreatePatientRequest"
    }
    for status in ("400", "413", "415", "429", "503"):
        assert schema(("POST", "/v1/patients"), status) == {"$ref": ref + "Error"}
    assert "Retry-After" in ops[("POST", "/v1/patients")]["responses"]["503"]["headers"]
    # Issue 13: invitations, their redemption (no 401: no token), who am I; gauges say who recorded them.
    assert schema(("POST", "/v1/patients/{id}/invitations"), "201") == {"$ref": ref + "InvitationCreated"}
    assert schema(("POST", "/v1/invitations/redeem"), "201") == {"$ref": ref + "Redemption"}
    assert "401" not in ops[("POST", "/v1/invitations/redeem")]["responses"]
    redeem_404 = ops[("POST", "/v1/invitations/redeem")]["responses"]["404"]["content"]["application/json"]
    assert redeem_404["examples"]["error"]["value"] == {"errors": "Invitation not found"}
    assert schema(("GET", "/v1/me"), "200") == {"$ref": ref + "MeResponse"}
    gauge = document["components"]["schemas"]["Gauge"]
    assert gauge["properties"]["source"]["enum"] == ["patient", "staff"]
    assert {"source", "recorded_by"} <= set(gauge["required"])

    schemas = document["components"]["schemas"]
    patient = schemas["Patient"]
    assert set(patient["required"]) == {
        "id", "first_name", "last_name", "date_of_birth", "age", "gender", "phone", "email", "address",
        "time_zone", "active", "created_at", "updated_at",
    }  # fmt: skip
    assert set(schemas["PageMeta"]["properties"]) == {"page", "page_size", "has_more", "next_cursor"}
    assert schemas["ValidationErrors"]["properties"]["errors"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }
    # Powertools' own validation error models are replaced by the contract's, not left dangling.
    assert "HTTPValidationError" not in schemas
    list_params = {p["name"] for p in ops[("GET", "/v1/patients")]["parameters"]}
    assert list_params == {"page", "page_size", "search", "cursor", "status"}
    gauge_params = {p["name"] for p in ops[("GET", "/v1/patients/{id}/gauges")]["parameters"]}
    assert gauge_params == {"id", "gauge_type", "start_date", "end_date", "order", "page", "page_size", "cursor"}
    path_id = next(p for p in ops[("GET", "/v1/patients/{id}/gauges")]["parameters"] if p["name"] == "id")
    assert "{patient_id}" in path_id["description"]


# --- the public docs routes, through the local gateway (no token, no table) --------------------------


@pytest.fixture(scope="module")
def client() -> Client:
    return Client(LocalGateway(load_template(), set_environment=False))


def test_openapi_json_is_public_and_is_the_committed_file(client: Client) -> None:
    response = client.get("/v1/openapi.json")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.text == openapi.OUTPUT.read_text(encoding="utf-8")


def test_swagger_ui_is_public_and_loads_only_from_the_api(client: Client) -> None:
    page = client.get("/v1/docs")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.text
    urls = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert set(urls) == {"data:,", "docs/swagger-ui.css", "docs/swagger-ui-bundle.js", "docs/swagger-initializer.js"}
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    for url, content_type, marker in [
        ("docs/swagger-ui.css", "text/css", ".swagger-ui"),
        ("docs/swagger-ui-bundle.js", "text/javascript", "SwaggerUIBundle"),
        ("docs/swagger-initializer.js", "text/javascript", 'url: "openapi.json"'),
    ]:
        asset = client.get("/v1/" + url)
        assert asset.status == 200, url
        assert asset.headers["Content-Type"].startswith(content_type)
        assert marker in asset.text
    initializer = client.get("/v1/docs/swagger-initializer.js").text
    assert "validatorUrl: null" in initializer and "http" not in initializer


def test_unknown_docs_asset_is_404(client: Client) -> None:
    response = client.get("/v1/docs/..%2Fapp.py")
    assert response.status == 404
    assert response.body == {"errors": "Not found"}


def test_documented_formats_are_what_the_validators_accept(document: dict[str, Any]) -> None:
    from clinic.validation import EMAIL, time_zones

    patient = document["components"]["schemas"]["NewPatient"]["properties"]
    assert patient["time_zone"]["anyOf"][0]["enum"] == sorted(time_zones())
    assert patient["email"]["anyOf"][0]["pattern"] == f"^{EMAIL}$"
    phone = re.compile(patient["phone"]["anyOf"][0]["pattern"])
    assert phone.fullmatch("+1-555-123-4567") and not phone.fullmatch("0((((((0")
    name = re.compile(patient["first_name"]["pattern"])
    assert patient["first_name"]["minLength"] == 1
    for accepted in ("Jane", " Zoë ", "\u0645\u062d\u0645\u062f", "a\u200b"):
        assert name.search(accepted), accepted
    for refused in ("", " ", "\u200b\ufeff", "\u3164", "Ja\x00ne", "Jane\nDoe"):
        assert not name.search(refused), refused
    address = document["components"]["schemas"]["Address"]["properties"]
    street = re.compile(address["street"]["anyOf"][0]["pattern"])
    assert street.search("1 Main St") and not street.search("1 Main St\r\nX: y")


# --- the schema hooks, where the document states what pydantic alone would not -----------------------


def test_an_update_documents_the_fields_it_cannot_clear_as_not_nullable() -> None:
    """`null` clears an optional field (422 on these: test_update_cannot_clear_required_fields), so the schema
    offers no null branch for them, and keeps it for the others."""
    from clinic.models import FROM_1900
    from clinic.models.patients import PatientChanges
    from clinic.validation import NAME_PATTERN

    properties = PatientChanges.model_json_schema()["properties"]  # with the default the document leaves out
    name = {"type": "string", "maxLength": 100, "minLength": 1, "pattern": NAME_PATTERN, "default": None}
    assert properties["first_name"] == {**name, "title": "First Name"}
    assert properties["last_name"] == {**name, "title": "Last Name"}
    assert properties["date_of_birth"] == {
        "type": "string",
        "pattern": FROM_1900,
        "format": "date",
        "title": "Date Of Birth",
        "description": "From 1900-01-01 to today (else 422).",
        "default": None,
    }
    assert properties["active"] == {"type": "boolean", "title": "Active", "default": None}
    for clearable in ("gender", "phone", "email", "address", "time_zone"):
        assert properties[clearable]["anyOf"][-1] == {"type": "null"}, clearable
        assert len(properties[clearable]["anyOf"]) == 2, clearable


def test_optional_parameters_are_documented_as_strings_of_their_pattern(document: dict[str, Any]) -> None:
    """Not anyOf string or null (a URL or a header cannot carry null: generators sent the text "null")."""
    from clinic.cursors import CURSOR, CURSOR_PATTERN
    from clinic.models import Cursor
    from clinic.patients import IF_MATCH_PATTERN
    from pydantic import TypeAdapter

    assert TypeAdapter(Cursor).json_schema() == {
        "type": "string",
        "maxLength": 2048,
        "pattern": CURSOR_PATTERN,
        "description": CURSOR,
    }
    (if_match,) = [p for p in _operations(document)[("PUT", "/v1/patients/{id}")]["parameters"] if p["in"] == "header"]
    assert if_match["schema"] == {
        "type": "string",
        "pattern": IF_MATCH_PATTERN,
        "title": "If-Match",
        "description": if_match["description"],
    }
