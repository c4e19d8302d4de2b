"""template.yaml as the local runtime sees it, read by SAM CLI's own providers (`samcli.lib.providers`,
in-process, no Docker): functions with Globals merged and intrinsics resolved (`SamFunctionProvider`),
routes with their Lambda authorizers and the stage (`ApiProvider`), every other resource resolved the same
way (`Stack.resources`). This module only turns their objects into the plain specs below.

Hand-written here, because SAM CLI has no local counterpart for them: API Gateway's GatewayResponses, the
authorizer's ReauthorizeEvery (the cache itself and the policy evaluation are in local/gateway.py), DynamoDB
tables and their TTL (created by local/dynamodb.py), and rate() schedules (run by local/gateway.py).
Only REQUEST authorizers on header or query string identities are supported, the kind the template uses.

samcli costs about 2 s of imports (more on a loaded machine): it is imported on first use, and each
template file is read once per process.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"

# SAM CLI's pseudo parameters (IntrinsicsSymbolTable.DEFAULT_PSEUDO_PARAM_VALUES), for the events we build.
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"

_PATH = "__path__"  # where load_template() keeps the template's file

# SAM's yellow "no 100% fidelity between authorizers locally and on AWS" banner addresses `sam local` users;
# its other warnings (an authorizer it cannot read, ...) still show.
logging.getLogger("samcli.lib.providers.api_collector").addFilter(lambda record: "fidelity" not in record.getMessage())


def load_template(path: str | Path | None = None) -> dict[str, Any]:
    """The template as written (short-form tags in their long form, nothing resolved), with its file."""
    template_path = (Path(path) if path else DEFAULT_TEMPLATE).resolve()
    # A copy: callers may change theirs. Parsing costs ~0.2 s, and every test's tables come from here.
    return copy.deepcopy(_parse(str(template_path), template_path.stat().st_mtime_ns))


@cache
def _parse(path: str, _mtime_ns: int) -> dict[str, Any]:
    from samcli.yamlhelper import yaml_parse

    template = yaml_parse(Path(path).read_text(encoding="utf-8")) or {}
    template[_PATH] = path
    return template


# --- SAM CLI's reading of the template ------------------------------------------------------------


class _Stack(NamedTuple):
    directory: Path
    resources: dict[str, Any]  # every resource, Globals merged and intrinsics resolved
    functions: list[Any]  # samcli.lib.providers.provider.Function
    routes: list[Any]  # samcli.local.apigw.route.Route
    stage: str | None


def _stack(template: dict[str, Any], overrides: dict[str, Any] | None) -> _Stack:
    path = Path(template.get(_PATH) or DEFAULT_TEMPLATE)
    return _read(str(path), path.stat().st_mtime_ns, tuple(sorted((overrides or {}).items())))


@cache
def _read(path: str, _mtime_ns: int, overrides: tuple[tuple[str, Any], ...]) -> _Stack:
    from samcli.lib.providers.api_provider import ApiProvider
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # samtranslator's own, about its validator
        stacks, _ = SamLocalStackProvider.get_stacks(
            template_dictionary=_choose_conditionals(path, dict(overrides)), parameter_overrides=dict(overrides)
        )
        functions = SamFunctionProvider(stacks, use_raw_codeuri=True, ignore_code_extraction_warnings=True)
        api = ApiProvider(stacks).api
        resources = stacks[0].resources
    # SAM skips an authorizer it cannot read (a FunctionArn that is an alias, ...) with a warning, and its
    # routes become public: locally that would be an API without authentication.
    declared = {
        name
        for resource in resources.values()
        if resource.get("Type") == "AWS::Serverless::Api"
        for name in (((resource.get("Properties") or {}).get("Auth") or {}).get("Authorizers") or {})
    }
    attached = {route.authorizer_name for route in api.routes if route.authorizer_object is not None}
    if declared - attached:
        raise ValueError(f"{path}: SAM CLI attached no route to the authorizer(s) {sorted(declared - attached)}")
    return _Stack(Path(path).parent, resources, list(functions.get_all()), api.routes, api.stage_name)


_NO_VALUE = {"Ref": "AWS::NoValue"}


def _choose_conditionals(path: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The template with every `Fn::If` replaced by its chosen branch and AWS::NoValue left out, as CloudFormation
    does, before SAM CLI reads it: its resolver leaves an `Fn::If` with an `AWS::NoValue` branch (the template's
    CORS headers) unresolved, and its own readers (the API's Cors) would see it so."""
    from samcli.lib.intrinsic_resolver.intrinsic_property_resolver import IntrinsicResolver
    from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import IntrinsicsSymbolTable
    from samcli.lib.providers.sam_base_provider import SamBaseProvider

    template = {key: value for key, value in load_template(path).items() if key != _PATH}
    parameters = SamBaseProvider._get_parameter_values(template, overrides)
    resolver = IntrinsicResolver(
        template=template, symbol_resolver=IntrinsicsSymbolTable(logical_id_translator=parameters, template=template)
    )
    conditions = template.get("Conditions") or {}

    def choose(value: Any) -> Any:
        if isinstance(value, dict):
            if list(value) == ["Fn::If"] and isinstance(value["Fn::If"], list) and len(value["Fn::If"]) == 3:
                name, when_true, when_false = value["Fn::If"]
                return choose(when_true if resolver.intrinsic_property_resolver(conditions[name], True) else when_false)
            chosen = {key: choose(item) for key, item in value.items()}
            return {key: item for key, item in chosen.items() if item != _NO_VALUE}
        if isinstance(value, list):
            return [item for item in (choose(item) for item in value) if item != _NO_VALUE]
        return value

    return choose(template)  # type: ignore[no-any-return]


def deploy_overrides(config_env: str = "default") -> dict[str, str]:
    """The parameter values `sam deploy --config-env <config_env>` passes (samconfig.toml, read by SAM CLI)."""
    from samcli.lib.config.samconfig import SamConfig

    parameters = SamConfig(str(REPO_ROOT)).get_all(["deploy"], "parameters", env=config_env)
    return dict(pair.split("=", 1) for pair in str(parameters.get("parameter_overrides", "")).split())


def snapstart_functions(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[str]:
    """Functions that publish versions with SnapStart under these parameters."""
    return [
        logical_id
        for logical_id, resource in resources(template, overrides).items()
        if resource.get("Type") == "AWS::Serverless::Function"
        and ((resource.get("Properties") or {}).get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions"
        and (resource.get("Properties") or {}).get("AutoPublishAlias")
    ]


def resources(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every resource of the template as SAM CLI resolves it (Globals merged, intrinsics resolved)."""
    return _stack(template, overrides).resources


def _of_type(stack: _Stack, *types: str) -> dict[str, dict[str, Any]]:
    """Resolved properties of the resources of these types, by logical id."""
    return {
        logical_id: resource.get("Properties") or {}
        for logical_id, resource in stack.resources.items()
        if resource.get("Type") in types
    }


# --- functions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler_module: str  # dotted, relative to code_dir ("app")
    handler_function: str  # "lambda_handler"
    environment: dict[str, str]
    events: dict[str, dict[str, Any]]
    timeout_seconds: int = 3
    memory_mb: int = 128

    @property
    def module_file(self) -> Path:
        base = self.code_dir.joinpath(*self.handler_module.split("."))
        package_init = base / "__init__.py"
        return package_init if package_init.exists() else base.with_suffix(".py")


def _env_value(value: Any) -> str:
    # Lambda's variables are strings; SAM keeps a Number parameter's value as a number.
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def function_specs(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[FunctionSpec]:
    """Every function of the template, as SAM CLI resolves it."""
    stack = _stack(template, overrides)
    specs = []
    for function in stack.functions:
        module, _, handler = str(function.handler or "app.lambda_handler").rpartition(".")
        variables = (function.environment or {}).get("Variables") or {}
        specs.append(
            FunctionSpec(
                logical_id=function.name,
                code_dir=(stack.directory / str(function.codeuri or ".")).resolve(),
                handler_module=module,
                handler_function=handler,
                environment={name: _env_value(value) for name, value in variables.items()},
                events=function.events or {},
                timeout_seconds=int(function.timeout or 3),
                memory_mb=int(function.memory or 128),
            )
        )
    return specs


def layer_dirs(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[Path]:
    """Local directories of the functions' layers, to put on sys.path (Lambda mounts them at /opt/python)."""
    stack = _stack(template, overrides)
    dirs: list[Path] = []
    for function in stack.functions:
        for layer in function.layers:
            path = (stack.directory / str(layer.codeuri)).resolve()
            # A prebuilt layer keeps its packages under python/; a SAM-built one has them at the top.
            path = path / "python" if (path / "python").is_dir() else path
            if path.is_dir() and path not in dirs:
                dirs.append(path)
    return dirs


def environment(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """All functions' resolved environment variables merged (they agree; the local process has one env)."""
    merged: dict[str, str] = {}
    for spec in function_specs(template, overrides):
        merged.update(spec.environment)
    return merged


# --- API ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str  # upper case; "ANY" matches every method
    path: str  # resource path template, e.g. /v1/patients/{id}
    function_id: str
    auth_required: bool
    authorizer: str | None = None  # authorizer name on the API, None for public routes


@dataclass(frozen=True)
class AuthorizerSpec:
    name: str
    function_id: str
    identity_headers: tuple[str, ...]
    identity_query_strings: tuple[str, ...] = ()
    reauthorize_every: int = 300


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def api_routes(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[Route]:
    """Every API route (one per method), with the authorizer that guards it."""
    from samcli.local.apigw.route import Route as SamRoute

    routes = []
    for route in _stack(template, overrides).routes:
        # SAM spells ANY out as every method; API Gateway's ANY also takes the others (TRACE, ...).
        methods = ["ANY"] if set(route.methods) == set(SamRoute.ANY_HTTP_METHODS) else route.methods
        authorizer = route.authorizer_name if route.authorizer_object is not None else None
        # SAM CLI adds OPTIONS to every route of an API with Cors; API Gateway answers the preflight itself
        # (a mock integration), as the local gateway does from cors_spec(). No function declares OPTIONS.
        routes += [
            Route(m, route.path, route.function_name, authorizer is not None, authorizer)
            for m in methods
            if m != "OPTIONS"
        ]
    return routes


def authorizer_specs(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, AuthorizerSpec]:
    """The Lambda authorizers the routes use, by name."""
    from samcli.local.apigw.authorizers.lambda_authorizer import (
        HeaderIdentitySource,
        LambdaAuthorizer,
        QueryIdentitySource,
    )

    stack = _stack(template, overrides)
    # SAM CLI does not cache authorizer results, so it does not read ReauthorizeEvery.
    declared = {
        name: auth
        for api in _of_type(stack, "AWS::Serverless::Api").values()
        for name, auth in ((api.get("Auth") or {}).get("Authorizers") or {}).items()
    }
    specs = {}
    for route in stack.routes:
        auth = route.authorizer_object
        if not isinstance(auth, LambdaAuthorizer) or auth.authorizer_name in specs:
            continue
        sources = auth.identity_sources
        if auth.type != LambdaAuthorizer.REQUEST or not all(
            isinstance(s, HeaderIdentitySource | QueryIdentitySource) for s in sources
        ):
            raise ValueError(
                f"{auth.authorizer_name}: the local gateway runs REQUEST authorizers on headers or query strings"
            )
        identity = (declared.get(auth.authorizer_name) or {}).get("Identity") or {}
        specs[auth.authorizer_name] = AuthorizerSpec(
            name=auth.authorizer_name,
            function_id=auth.lambda_name,
            identity_headers=tuple(s.identity_source for s in sources if isinstance(s, HeaderIdentitySource)),
            identity_query_strings=tuple(s.identity_source for s in sources if isinstance(s, QueryIdentitySource)),
            reauthorize_every=int(identity.get("ReauthorizeEvery", 300)),
        )
    return specs


def authorizer_spec(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> AuthorizerSpec | None:
    """The authorizer of the template's private routes (the API has one)."""
    return next(iter(authorizer_specs(template, overrides).values()), None)


def gateway_responses(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, GatewayResponse]:
    """Customised gateway responses by type (UNAUTHORIZED, ACCESS_DENIED, DEFAULT_4XX, ...)."""
    responses: dict[str, GatewayResponse] = {}
    for api in _of_type(_stack(template, overrides), "AWS::Serverless::Api").values():
        for rtype, spec in (api.get("GatewayResponses") or {}).items():
            templates = spec.get("ResponseTemplates") or {}
            body = templates.get("application/json") or next(iter(templates.values()), "")
            # Header values are static mapping expressions in single quotes: "'*'".
            raw_headers = (spec.get("ResponseParameters") or {}).get("Headers") or {}
            headers = {k: str(v).strip("'") for k, v in raw_headers.items()}
            status = spec.get("StatusCode")
            responses[rtype] = GatewayResponse(
                status=int(status) if status not in (None, "") else 0, body=str(body), headers=headers
            )
    return responses


@dataclass(frozen=True)
class CorsSpec:
    """An API's `Cors` property: SAM adds an OPTIONS method with a mock integration to every path, answering
    with these headers (each a static value; one that resolved to AWS::NoValue is left out)."""

    headers: dict[str, str]
    authorize_preflight: bool  # Auth.AddDefaultAuthorizerToCorsPreflight (SAM's default: true)


_CORS_HEADERS = {
    "AllowOrigin": "Access-Control-Allow-Origin",
    "AllowMethods": "Access-Control-Allow-Methods",
    "AllowHeaders": "Access-Control-Allow-Headers",
    "MaxAge": "Access-Control-Max-Age",
}


def cors_spec(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> CorsSpec | None:
    """The CORS preflight configuration of the (first) API that has one, or None."""
    for api in _of_type(_stack(template, overrides), "AWS::Serverless::Api").values():
        cors = api.get("Cors")
        if not cors:
            continue
        if isinstance(cors, str):  # the short form is the allowed origin
            cors = {"AllowOrigin": cors}
        headers = {header: str(cors[key]).strip("'") for key, header in _CORS_HEADERS.items() if key in cors}
        if cors.get("AllowCredentials") in (True, "true"):
            headers["Access-Control-Allow-Credentials"] = "true"
        authorize = (api.get("Auth") or {}).get("AddDefaultAuthorizerToCorsPreflight", True)
        return CorsSpec(headers, authorize not in (False, "false"))
    return None


def stage_name(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> str:
    return _stack(template, overrides).stage or "Prod"


# --- tables ----------------------------------------------------------------------------------------

_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


def table_specs(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(local table name, boto3 create_table kwargs) for every DynamoDB table in the template.

    Only what shapes data locally is kept (keys, attributes, indexes, billing): encryption, PITR,
    deletion protection and tags mean nothing to an embedded server and some are not accepted by moto.
    """
    specs = []
    for logical_id, props in _of_type(_stack(template, overrides), "AWS::DynamoDB::Table").items():
        provisioned = props.get("BillingMode") == "PROVISIONED" or (
            "BillingMode" not in props and "ProvisionedThroughput" in props
        )
        kwargs: dict[str, Any] = {
            "TableName": logical_id,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": "PROVISIONED" if provisioned else "PAY_PER_REQUEST",
        }
        if provisioned:
            kwargs["ProvisionedThroughput"] = _int_throughput(props["ProvisionedThroughput"])
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            indexes = []
            for index in props.get(key) or []:
                clean = {k: v for k, v in index.items() if k in _INDEX_KEYS}
                if "ProvisionedThroughput" in clean:
                    if provisioned:
                        clean["ProvisionedThroughput"] = _int_throughput(clean["ProvisionedThroughput"])
                    else:
                        del clean["ProvisionedThroughput"]
                indexes.append(clean)
            if indexes:
                kwargs[key] = indexes
        specs.append((logical_id, kwargs))
    return specs


def _int_throughput(throughput: dict[str, Any]) -> dict[str, int]:
    return {k: int(v) for k, v in throughput.items()}


def table_ttls(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """Local table name -> TTL attribute, for tables with TimeToLiveSpecification enabled."""
    ttls = {}
    for logical_id, props in _of_type(_stack(template, overrides), "AWS::DynamoDB::Table").items():
        spec = props.get("TimeToLiveSpecification") or {}
        if spec.get("AttributeName") and spec.get("Enabled", True) not in (False, "false"):
            ttls[logical_id] = str(spec["AttributeName"])
    return ttls


# --- schedules --------------------------------------------------------------------------------------

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int | None:
    """Seconds between runs for `rate(N unit)`; None for cron() and anything else."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def schedule_events(
    template: dict[str, Any], overrides: dict[str, Any] | None = None
) -> list[tuple[str, str, int, dict[str, Any] | None]]:
    """(function logical id, event name, period seconds, Input payload or None) per enabled rate schedule."""
    found = []
    for spec in function_specs(template, overrides):
        for event_name, event in spec.events.items():
            props = event.get("Properties") or {}
            if event.get("Type") == "Schedule":
                expression, enabled = props.get("Schedule", ""), props.get("Enabled", True)
            elif event.get("Type") == "ScheduleV2":
                expression = props.get("ScheduleExpression", "")
                enabled = props.get("State", "ENABLED") != "DISABLED"
            else:
                continue
            period = rate_seconds(str(expression))
            if period is None or enabled in (False, "false", "False"):
                continue
            payload = props.get("Input")
            if isinstance(payload, str):
                payload = json.loads(payload)
            found.append((spec.logical_id, event_name, period, payload))
    return found


def scheduled_functions(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[tuple[str, int]]:
    """(function logical id, period in seconds) for every rate() schedule event."""
    return [(function_id, period) for function_id, _, period, _ in schedule_events(template, overrides)]
