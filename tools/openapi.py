"""The API's OpenAPI document, generated from the code: every API function of template.yaml contributes its
resolver's schema, and Powertools' OpenAPIMerge joins them. `make openapi` writes docs/openapi.json (committed,
served by the docs function at GET /v1/openapi.json); a test fails when it differs from the code."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import Server

from local.template import REPO_ROOT, api_routes, function_specs, load_template

# The file lives with the docs function (Lambda only sees files under a function's CodeUri); docs/openapi.json
# is a symbolic link to it, for client developers.
OUTPUT = REPO_ROOT / "functions" / "docs" / "serve_docs" / "openapi.json"
LINK = REPO_ROOT / "docs" / "openapi.json"


def _api_function_files(template: dict[str, Any]) -> list[Path]:
    with_routes = {route.function_id for route in api_routes(template)}
    return sorted(spec.module_file for spec in function_specs(template) if spec.logical_id in with_routes)


def _prune(schema: dict[str, Any]) -> dict[str, Any]:
    """Drops component schemas nothing refers to (Powertools adds its own validation error models, which
    the contract's Rails-style 422 body replaces)."""
    schemas = schema.get("components", {}).get("schemas", {})
    while True:
        text = json.dumps({k: v for k, v in schema.items() if k != "components"}) + json.dumps(schemas)
        unused = [name for name in schemas if f'"#/components/schemas/{name}"' not in text]
        if not unused:
            return schema
        for name in unused:
            del schemas[name]


def generate(template: dict[str, Any] | None = None) -> dict[str, Any]:
    from clinic import openapi

    template = template if template is not None else load_template()
    merge = OpenAPIMerge(
        title=openapi.TITLE,
        version=openapi.VERSION,
        description=openapi.DESCRIPTION,
        # Relative to the document (…/{stage}/v1/openapi.json): the stage root in AWS, the server root locally.
        servers=[Server(url="..", description="This API (the stage that serves this document)")],
        tags=["patients", "gauges", "care teams", "alerts", "patient users", "users", "documentation"],
        on_conflict="error",
    )
    # Routes attach their response models only while the document is built (a request never reads them).
    with warnings.catch_warnings(), openapi.documenting():
        # A handler that fails to import must fail the build, not vanish from the document.
        warnings.simplefilter("error")
        for file in _api_function_files(template):
            merge.add_file(file)
        schema = json.loads(merge.get_openapi_json_schema())
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            # Powertools names operations after the function and path; the function name alone is unique.
            operation["operationId"] = operation["operationId"].split("_v1_")[0]
            responses = operation["responses"]
            # Powertools documents its own 422 body on every validated route; routes whose 422 is the
            # contract's declare it themselves, the others (nothing to validate) never answer 422.
            if "HTTPValidationError" in json.dumps(responses.get("422", {})):
                del responses["422"]
            operation["responses"] = dict(sorted(responses.items()))
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    parameter["description"] = openapi.PATH_PARAMETERS[_parameter_key(path, parameter["name"])]
    schema["paths"] = dict(sorted(schema["paths"].items()))
    return _prune(schema)


def _parameter_key(path: str, name: str) -> str:
    """`{id}` names a patient, except under /v1/alerts and /v1/alert_rules (API Gateway: siblings share names)."""
    if name == "id" and path.startswith("/v1/alerts/"):
        return "alert_id"
    if name == "id" and path.startswith("/v1/alert_rules/"):
        return "rule_id"
    return name


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main() -> int:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render(generate()), encoding="utf-8")
    if not LINK.is_symlink():
        LINK.unlink(missing_ok=True)
        LINK.symlink_to(Path("..") / OUTPUT.relative_to(REPO_ROOT))
    print(f"wrote {OUTPUT.relative_to(REPO_ROOT)} (linked from {LINK.relative_to(REPO_ROOT)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
