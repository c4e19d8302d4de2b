"""The real template.yaml as the local runtime reads it (SAM CLI's providers behind local.template): code,
routes, authorizer, tables, schedules, and the intrinsics SAM resolves for it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from local.dynamodb import create_tables
from local.gateway import LocalGateway
from local.routing import RouteTable
from local.template import (
    DEFAULT_TEMPLATE,
    api_routes,
    authorizer_spec,
    environment,
    function_specs,
    gateway_responses,
    load_template,
    rate_seconds,
    scheduled_functions,
    stage_name,
    table_specs,
)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    if not DEFAULT_TEMPLATE.exists():
        pytest.skip("template.yaml is not there yet")
    return load_template()


def test_every_function_has_its_handler_file(template: dict[str, Any]) -> None:
    specs = function_specs(template)
    assert specs
    for spec in specs:
        assert spec.module_file.is_file(), f"{spec.logical_id}: {spec.module_file} missing"
        # Defined or assigned at module level (handlers may be `lambda_handler = handler(app)`).
        name = re.escape(spec.handler_function)
        assert re.search(rf"^(def {name}\(|{name}\s*=)", spec.module_file.read_text(), re.M), spec.logical_id
        assert all(isinstance(v, str) for v in spec.environment.values())
        assert "!" not in "".join(spec.environment.values()), "unresolved intrinsic in environment"


def test_every_route_is_matched_to_its_function(template: dict[str, Any]) -> None:
    routes = api_routes(template)
    assert routes
    functions = {spec.logical_id for spec in function_specs(template)}
    table = RouteTable(routes)
    for route in routes:
        assert route.function_id in functions
        concrete = route.path.replace("{proxy+}", "a/b").replace("{", "").replace("}", "")
        method = "GET" if route.method == "ANY" else route.method
        found = table.match(method, concrete)
        assert found is not None and found[0] == route, route
    assert table.match("GET", "/v1/definitely-not-a-route") is None


def test_authorizer_guards_private_routes(template: dict[str, Any]) -> None:
    spec = authorizer_spec(template)
    assert spec is not None
    assert spec.function_id in {s.logical_id for s in function_specs(template)}
    assert [h.lower() for h in spec.identity_headers] == ["x-user-token"]
    assert spec.reauthorize_every >= 0
    for route in api_routes(template):
        if route.path.startswith("/v1/patients"):
            assert route.auth_required, route


def test_gateway_responses_carry_the_contract_bodies(template: dict[str, Any]) -> None:
    responses = gateway_responses(template)
    unauthorized = responses["UNAUTHORIZED"]
    assert unauthorized.status == 401
    assert unauthorized.body == '{"errors": "You are not authorized to perform this action."}'
    gateway = LocalGateway(template, set_environment=False)
    missing = gateway.handle("GET", "/v1/patients/1", {}, b"")
    assert (missing.status, missing.body) == (401, unauthorized.body.encode())


def test_tables_are_created_from_the_template(template: dict[str, Any], aws: Any) -> None:
    specs = dict(table_specs(template))
    assert "PatientsTable" in specs
    assert "SSESpecification" not in specs["PatientsTable"]
    described = aws.describe_table(TableName="PatientsTable")["Table"]
    assert {k["AttributeName"] for k in described["KeySchema"]} == {"pk", "sk"}
    indexes = {i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])}
    assert indexes == {i["IndexName"] for i in specs["PatientsTable"].get("GlobalSecondaryIndexes", [])}
    # Idempotent: a second run skips what exists.
    assert create_tables(template, client=aws) == [name for name, _ in table_specs(template)]


def test_schedules_parse(template: dict[str, Any]) -> None:
    for function_id, period in scheduled_functions(template):
        assert function_id in {s.logical_id for s in function_specs(template)}
        assert period >= 60


def test_rate_expressions() -> None:
    assert rate_seconds("rate(1 minute)") == 60
    assert rate_seconds("rate(15 minutes)") == 900
    assert rate_seconds("rate(2 hours)") == 7200
    assert rate_seconds("cron(0 12 * * ? *)") is None


def test_intrinsics_resolved_by_sam(tmp_path: Path) -> None:
    """What the template's functions and tables use: parameters (defaults and overrides), a Ref to a table
    (its logical id, which is the local table's name), !Sub with parameters and pseudo parameters, !If on a
    condition; variables come out as strings, as Lambda sees them."""
    (tmp_path / "template.yaml").write_text(
        """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
  Minutes: {Type: Number, Default: 15}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Handler: app.lambda_handler
    Runtime: python3.13
    Environment:
      Variables:
        TABLE: !Ref Table
        NAME: !Sub "things-${Stage}-${AWS::Region}"
        SIZE: !If [IsProd, big, small]
        MINUTES: !Ref Minutes
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: !Ref Stage}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      DeletionProtectionEnabled: !If [IsProd, true, false]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Events:
        Every: {Type: Schedule, Properties: {Schedule: !Sub "rate(${Minutes} minutes)"}}
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /things, Method: get}}
"""
    )
    template = load_template(tmp_path / "template.yaml")
    assert environment(template) == {"TABLE": "Table", "NAME": "things-dev-us-east-1", "SIZE": "small", "MINUTES": "15"}
    prod = {"Stage": "prod", "Minutes": "2"}
    assert environment(template, prod) == {
        "TABLE": "Table",
        "NAME": "things-prod-us-east-1",
        "SIZE": "big",
        "MINUTES": "2",
    }
    assert (stage_name(template), stage_name(template, prod)) == ("dev", "prod")
    assert (scheduled_functions(template), scheduled_functions(template, prod)) == ([("Fn", 900)], [("Fn", 120)])
    assert [name for name, _ in table_specs(template)] == ["Table"]
    [spec] = function_specs(template)
    assert spec.code_dir == (tmp_path / "fn").resolve()
    assert (spec.handler_module, spec.handler_function) == ("app", "lambda_handler")


def test_an_authorizer_sam_cannot_read_fails_instead_of_leaving_routes_public(tmp_path: Path) -> None:
    """SAM CLI skips an authorizer whose FunctionArn is an alias (only a warning) and its routes come out
    without one; the adapter refuses such a template rather than serve them unauthenticated."""
    (tmp_path / "template.yaml").write_text(
        """
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: test
      Auth:
        DefaultAuthorizer: Tok
        Authorizers:
          Tok:
            FunctionPayloadType: REQUEST
            FunctionArn: !Ref AuthFunction.Alias
            Identity: {Headers: [X-User-Token]}
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: auth/, Handler: app.lambda_handler, Runtime: python3.13, AutoPublishAlias: live}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.lambda_handler
      Runtime: python3.13
      Events:
        Get: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /things, Method: get}}
"""
    )
    with pytest.raises(ValueError, match=r"attached no route to the authorizer\(s\) \['Tok'\]"):
        api_routes(load_template(tmp_path / "template.yaml"))
