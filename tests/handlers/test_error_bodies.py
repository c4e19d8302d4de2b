"""The contract's error bodies are written once, in clinic.errors: API Gateway's own answers (template.yaml's
GatewayResponses) and the OpenAPI document's examples say exactly what those classes say."""

from __future__ import annotations

import json
from typing import Any

from clinic import errors
from clinic.openapi import ERRORS

from local.template import gateway_responses, load_template
from tools import openapi

# Every gateway response type the template customises, and the error whose status and body it answers.
GATEWAY_ERRORS: dict[str, type[errors.ApiError]] = {
    "UNAUTHORIZED": errors.NotAuthorized,
    "ACCESS_DENIED": errors.Forbidden,
    # A REST API answers an unknown route or method with MISSING_AUTHENTICATION_TOKEN.
    "MISSING_AUTHENTICATION_TOKEN": errors.NotFound,
    "RESOURCE_NOT_FOUND": errors.NotFound,
    "THROTTLED": errors.Throttled,
    "QUOTA_EXCEEDED": errors.Throttled,
    "REQUEST_TOO_LARGE": errors.PayloadTooLarge,
    "UNSUPPORTED_MEDIA_TYPE": errors.UnsupportedMediaType,
    "AUTHORIZER_FAILURE": errors.InternalError,
    "AUTHORIZER_CONFIGURATION_ERROR": errors.InternalError,
    "DEFAULT_4XX": errors.RequestRejected,
    "DEFAULT_5XX": errors.InternalError,
}
# The two families keep the status of whatever failed; every other type sets the error's.
FAMILIES = {"DEFAULT_4XX", "DEFAULT_5XX"}


def test_every_gateway_response_is_the_body_of_its_error_class() -> None:
    responses = gateway_responses(load_template())
    assert set(responses) == set(GATEWAY_ERRORS)
    for response_type, response in responses.items():
        error = GATEWAY_ERRORS[response_type]
        assert json.loads(response.body) == error().body(), response_type
        assert response.status == (0 if response_type in FAMILIES else error.status), response_type


def test_the_documents_error_examples_are_the_error_classes_bodies() -> None:
    document = json.loads(openapi.OUTPUT.read_text(encoding="utf-8"))
    seen: set[int] = set()
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                # An error's example is named "error"; a 422's "rules" (tests/handlers/test_openapi_rules.py checks those).
                example: Any = response.get("content", {}).get("application/json", {}).get("examples", {}).get("error")
                if example is None:
                    continue
                body = example["value"]
                code = int(status)
                matching = [e for e in _error_classes() if e.status == code and e().body() == body]
                assert matching, (status, body)
                seen.add(code)
    assert seen == set(ERRORS)


def _error_classes() -> list[type[errors.ApiError]]:
    found, stack = [], [errors.ApiError]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found
