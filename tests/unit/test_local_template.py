"""The real template.yaml as the local runtime reads it: code, routes, authorizer, tables, intrinsics."""

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
    function_specs,
    gateway_responses,
    load_template,
    rate_seconds,
    resolve,
    scheduled_functions,
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


def test_intrinsics(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        """
Parameters:
  Stage: {Type: String, Default: dev}
  Minutes: {Type: Number, Default: 15}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Table: {Type: AWS::DynamoDB::Table, Properties: {}}
  Fn: {Type: AWS::Serverless::Function, Properties: {}}
Outputs:
  Sub: {Value: !Sub "rate(${Minutes} minutes) ${!Literal} ${AWS::Region}"}
  SubVars: {Value: !Sub ["${A}-${Stage}", {A: !Ref Table}]}
  Att: {Value: !GetAtt Fn.Arn}
  TableArn: {Value: !GetAtt Table.Arn}
  If: {Value: !If [IsProd, big, small]}
  Join: {Value: !Join ["/", [a, !Ref Stage]]}
  Unknown: {Value: !ImportValue shared-thing}
"""
    )
    template = load_template(tmp_path / "template.yaml")
    outputs = {k: v["Value"] for k, v in template["Outputs"].items()}
    assert resolve(outputs, template) == {
        "Sub": "rate(15 minutes) ${Literal} us-east-1",
        "SubVars": "Table-dev",
        "Att": "arn:aws:lambda:us-east-1:123456789012:function:Fn",
        "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/Table",
        "If": "small",
        "Join": "a/dev",
        "Unknown": "shared-thing",
    }
    assert resolve(outputs, template, {"Stage": "prod"})["If"] == "big"
