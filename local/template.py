"""Read the SAM template (the single source of truth) into the plain specs the local runtime needs:
functions, API routes, the authorizer, gateway responses, DynamoDB tables and schedules."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "local"

_PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": STACK_NAME,
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}

_TABLE_TYPES = ("AWS::DynamoDB::Table",)
_FUNCTION_TYPES = ("AWS::Serverless::Function",)


class _NoValue:
    """Marker for AWS::NoValue: the key or list item that holds it disappears."""


NO_VALUE = _NoValue()


# --- loading -----------------------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation short-form tags (!Ref, !GetAtt, !Sub, ...)."""


def _construct_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        # !GetAtt A.B.C means resource A, attribute "B.C".
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: str | Path | None = None) -> dict[str, Any]:
    """Parse a SAM template; remembers its directory (key `__dir__`) so CodeUri paths resolve."""
    template_path = Path(path) if path else DEFAULT_TEMPLATE
    with template_path.open(encoding="utf-8") as f:
        template = yaml.load(f, Loader=_CfnLoader) or {}
    template["__dir__"] = str(template_path.resolve().parent)
    return template


def template_dir(template: dict[str, Any]) -> Path:
    return Path(template.get("__dir__", REPO_ROOT))


def _resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return template.get("Resources") or {}


# --- intrinsic functions ------------------------------------------------------------------------------


def parameter_values(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    values = {name: spec.get("Default") for name, spec in (template.get("Parameters") or {}).items()}
    values.update(overrides or {})
    return values


def _ref(name: str, template: dict[str, Any], overrides: dict[str, Any] | None) -> Any:
    if name == "AWS::NoValue":
        return NO_VALUE
    if name in _PSEUDO_PARAMETERS:
        return _PSEUDO_PARAMETERS[name]
    params = parameter_values(template, overrides)
    if name in params:
        value = params[name]
        return "" if value is None else value
    # A Ref to a resource is its physical name; locally that is the logical id (tables, functions, APIs).
    return name


def _get_att(resource: str, attribute: str, template: dict[str, Any]) -> str:
    rtype = _resources(template).get(resource, {}).get("Type", "")
    if rtype in _TABLE_TYPES:
        arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{resource}"
        return {"Arn": arn, "StreamArn": f"{arn}/stream/local"}.get(attribute, f"{resource}.{attribute}")
    if (rtype in _FUNCTION_TYPES or rtype == "AWS::Lambda::Function") and attribute == "Arn":
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{resource}"
    if attribute == "Arn":
        return f"arn:aws:local:{REGION}:{ACCOUNT_ID}:{resource}"
    return f"{resource}.{attribute}"


def _sub(value: Any, template: dict[str, Any], overrides: dict[str, Any] | None) -> str:
    if isinstance(value, list):
        text, variables = value[0], resolve(value[1] if len(value) > 1 else {}, template, overrides)
    else:
        text, variables = value, {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):  # ${!Literal} is an escaped literal "${Literal}"
            return "${" + name[1:] + "}"
        if name in variables:
            return str(variables[name])
        if "." in name:
            resource, _, attribute = name.partition(".")
            return _get_att(resource, attribute, template)
        return _stringify(_ref(name, template, overrides))

    return re.sub(r"\$\{([^}]+)\}", replace, str(text))


def _condition(name: str, template: dict[str, Any], overrides: dict[str, Any] | None) -> bool:
    conditions = template.get("Conditions") or {}
    if name not in conditions:
        return False
    return bool(resolve(conditions[name], template, overrides))


def resolve(value: Any, template: dict[str, Any], overrides: dict[str, Any] | None = None) -> Any:
    """Evaluate CloudFormation intrinsics in `value` the way the local runtime sees the stack.

    Refs to parameters give their Default (or `overrides`), Refs to resources give the logical id, and
    anything unknown is left as a string rather than failing.
    """
    if isinstance(value, list):
        items = [resolve(v, template, overrides) for v in value]
        return [v for v in items if v is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, arg), *_ = value.items()
        if key == "Ref":
            return _ref(str(arg), template, overrides)
        if key == "Condition" and isinstance(arg, str):
            return _condition(arg, template, overrides)
        if key.startswith("Fn::"):
            return _intrinsic(key[4:], arg, template, overrides)
    result = {}
    for k, v in value.items():
        resolved = resolve(v, template, overrides)
        if resolved is not NO_VALUE:
            result[k] = resolved
    return result


def _intrinsic(name: str, arg: Any, template: dict[str, Any], overrides: dict[str, Any] | None) -> Any:
    if name == "GetAtt":
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        resource, attribute = (resolve(a, template, overrides) for a in arg)
        return _get_att(str(resource), str(attribute), template)
    if name == "Sub":
        return _sub(arg, template, overrides)
    if name == "If":
        cond, if_true, if_false = arg
        chosen = if_true if _condition(cond, template, overrides) else if_false
        return resolve(chosen, template, overrides)
    if name == "Equals":
        left, right = (resolve(a, template, overrides) for a in arg)
        return _stringify(left) == _stringify(right)
    if name == "Not":
        return not resolve(arg[0], template, overrides)
    if name == "And":
        return all(resolve(a, template, overrides) for a in arg)
    if name == "Or":
        return any(resolve(a, template, overrides) for a in arg)
    if name == "Join":
        delimiter, items = arg
        return str(delimiter).join(_stringify(i) for i in resolve(items, template, overrides))
    if name == "Select":
        index, items = resolve(arg, template, overrides)
        return items[int(index)]
    if name == "Split":
        delimiter, text = resolve(arg, template, overrides)
        return str(text).split(delimiter)
    if name == "FindInMap":
        mapping, top, second = resolve(arg, template, overrides)
        return (template.get("Mappings") or {}).get(mapping, {}).get(top, {}).get(second, "")
    if name == "GetAZs":
        return [f"{REGION}a", f"{REGION}b", f"{REGION}c"]
    if name == "ToJsonString":
        return json.dumps(resolve(arg, template, overrides))
    # ImportValue, Base64, Cidr, Transform...: keep something printable rather than failing locally.
    return _stringify(resolve(arg, template, overrides))


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or value is NO_VALUE:
        return ""
    return str(value)


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


def _function_properties(template: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    merged = {**globals_, **props}
    env = {
        **((globals_.get("Environment") or {}).get("Variables") or {}),
        **((props.get("Environment") or {}).get("Variables") or {}),
    }
    merged["Environment"] = {"Variables": env}
    return merged


def function_specs(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[FunctionSpec]:
    """Every AWS::Serverless::Function, with Globals merged in and intrinsics resolved."""
    specs = []
    for logical_id, resource in _resources(template).items():
        if resource.get("Type") not in _FUNCTION_TYPES:
            continue
        props = resolve(_function_properties(template, resource.get("Properties") or {}), template, overrides)
        code_uri = props.get("CodeUri") or "."
        handler = str(props.get("Handler") or "app.lambda_handler")
        module, _, function = handler.rpartition(".")
        env = {k: _stringify(v) for k, v in props["Environment"]["Variables"].items()}
        specs.append(
            FunctionSpec(
                logical_id=logical_id,
                code_dir=(template_dir(template) / str(code_uri)).resolve(),
                handler_module=module,
                handler_function=function,
                environment=env,
                events=props.get("Events") or {},
                timeout_seconds=int(props.get("Timeout") or 3),
                memory_mb=int(props.get("MemorySize") or 128),
            )
        )
    return specs


def layer_dirs(template: dict[str, Any]) -> list[Path]:
    """Local directories of the template's layers, to put on sys.path (Lambda mounts them at /opt/python)."""
    dirs = []
    for resource in _resources(template).values():
        if resource.get("Type") not in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            continue
        props = resource.get("Properties") or {}
        content = props.get("ContentUri") or (props.get("Content") or {})
        if isinstance(content, str):
            path = (template_dir(template) / content).resolve()
            # A prebuilt layer keeps its packages under python/; a SAM-built one has them at the top.
            dirs.append(path / "python" if (path / "python").is_dir() else path)
    return [d for d in dirs if d.is_dir()]


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
    api_id: str | None = None


@dataclass(frozen=True)
class AuthorizerSpec:
    name: str
    function_id: str
    identity_headers: tuple[str, ...]
    identity_query_strings: tuple[str, ...] = ()
    reauthorize_every: int = 300
    payload_type: str = "REQUEST"


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def _apis(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    apis = {}
    for logical_id, resource in _resources(template).items():
        if resource.get("Type") == "AWS::Serverless::Api":
            globals_ = (template.get("Globals") or {}).get("Api") or {}
            apis[logical_id] = resolve({**globals_, **(resource.get("Properties") or {})}, template, overrides)
    return apis


def _api_id_of(event_props: dict[str, Any]) -> str | None:
    rest_api = event_props.get("RestApiId")
    if isinstance(rest_api, dict):
        rest_api = rest_api.get("Ref")
    return rest_api


def api_routes(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[Route]:
    """Every `Type: Api` event of every function, with the authorizer that guards it."""
    apis = _apis(template, overrides)
    routes = []
    for logical_id, resource in _resources(template).items():
        if resource.get("Type") not in _FUNCTION_TYPES:
            continue
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            raw_props = event.get("Properties") or {}
            api_id = _api_id_of(raw_props)
            props = resolve(raw_props, template, overrides)
            api = apis.get(api_id or "", {})
            default = (api.get("Auth") or {}).get("DefaultAuthorizer")
            authorizer = (props.get("Auth") or {}).get("Authorizer", default)
            if authorizer in ("NONE", "AWS_IAM"):
                authorizer = None
            routes.append(
                Route(
                    method=str(props["Method"]).upper(),
                    path=str(props["Path"]),
                    function_id=logical_id,
                    auth_required=authorizer is not None,
                    authorizer=authorizer,
                    api_id=api_id,
                )
            )
    return routes


def _function_id_from_arn(arn: Any) -> str:
    # !GetAtt AuthorizerFunction.Arn resolves to arn:...:function:AuthorizerFunction.
    return str(arn).rsplit(":", 1)[-1]


def authorizer_specs(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, AuthorizerSpec]:
    """All Lambda authorizers declared on the template's APIs, by name."""
    specs = {}
    for api in _apis(template, overrides).values():
        for name, auth in ((api.get("Auth") or {}).get("Authorizers") or {}).items():
            if "FunctionArn" not in auth:
                continue  # Cognito/IAM authorizers have nothing to run locally
            identity = auth.get("Identity") or {}
            headers = tuple(identity.get("Headers") or ())
            if auth.get("FunctionPayloadType", "TOKEN") == "TOKEN":
                headers = (identity.get("Header") or "Authorization",)
            specs[name] = AuthorizerSpec(
                name=name,
                function_id=_function_id_from_arn(auth["FunctionArn"]),
                identity_headers=headers,
                identity_query_strings=tuple(identity.get("QueryStrings") or ()),
                reauthorize_every=int(identity.get("ReauthorizeEvery", 300)),
                payload_type=str(auth.get("FunctionPayloadType", "TOKEN")),
            )
    return specs


def authorizer_spec(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> AuthorizerSpec | None:
    """The default authorizer of the (first) API, or the only authorizer declared."""
    specs = authorizer_specs(template, overrides)
    for api in _apis(template, overrides).values():
        default = (api.get("Auth") or {}).get("DefaultAuthorizer")
        if default in specs:
            return specs[default]
    return next(iter(specs.values()), None)


def gateway_responses(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, GatewayResponse]:
    """Customised gateway responses by type (UNAUTHORIZED, ACCESS_DENIED, DEFAULT_4XX, ...)."""
    responses: dict[str, GatewayResponse] = {}
    for api in _apis(template, overrides).values():
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
    for api in _apis(template, overrides).values():
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
    for api in _apis(template, overrides).values():
        if api.get("StageName"):
            return str(api["StageName"])
    return "Prod"


# --- tables ----------------------------------------------------------------------------------------

_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


def table_specs(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(local table name, boto3 create_table kwargs) for every DynamoDB table in the template.

    Only what shapes data locally is kept (keys, attributes, indexes, billing): encryption, PITR,
    deletion protection and tags mean nothing to an embedded server and some are not accepted by moto.
    """
    specs = []
    for logical_id, resource in _resources(template).items():
        if resource.get("Type") not in _TABLE_TYPES:
            continue
        props = resolve(resource.get("Properties") or {}, template, overrides)
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
    for logical_id, resource in _resources(template).items():
        if resource.get("Type") not in _TABLE_TYPES:
            continue
        spec = resolve((resource.get("Properties") or {}).get("TimeToLiveSpecification") or {}, template, overrides)
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
