"""DynamoDB's documented request rules that moto does not enforce, checked on every call the tests make.

moto (in-process, and as the embedded server behind the local API) accepts requests that DynamoDB
rejects with a ValidationException, so code could pass every test and fail on AWS. `install()` adds a
botocore `before-parameter-build` handler to every botocore session created afterwards (the way moto
installs its own stub), so it sees the requests of every client: the tests', moto's in-process ones, the
domain's (clinic.settings) and Powertools' ones used by the local gateway's handlers. A request that
breaks a rule fails like DynamoDB would (ClientError ValidationException) and is recorded, so the test
fails even if the code under test swallowed the error (tests/conftest.py asserts none were recorded).

The rules, from the DynamoDB API reference and developer guide:
- Query `KeyConditionExpression`: one equality on the partition key, at most one condition on the sort
  key, no other attribute ("Key condition expressions for the Query operation"); `BETWEEN a AND b`
  needs a <= b (strings compare as UTF-8 bytes); key values are never empty strings.
- `Limit` is at least 1 (Query, Scan).
- TransactWriteItems and TransactGetItems: at most 100 actions, no two on the same item.
- BatchGetItem: at most 100 keys; BatchWriteItem: at most 25 put or delete requests; no duplicate keys.
- An item is at most 400 KB ("DynamoDB item sizes and formats" gives the size of each type).
- ExpressionAttributeNames / ExpressionAttributeValues: every one defined is used by the request's
  expressions and every one used is defined; neither may be an empty map.
- Key attributes of the table and of its indexes are never empty strings or binaries (PutItem: "Attribute
  values of type String and Binary must have a length greater than zero if the attribute is used as a key
  attribute for a table or index"), and are at most 2048 bytes for a partition key, 1024 for a sort key
  ("Service, account, and table quotas": partition and sort key length), in an item, a key, or a Query's
  key condition.
- The request's shape (required members, types, enums, lengths) as botocore's own validator checks it: the
  domain's client turns that client-side check off (clinic.settings), so the tests run it here instead.

Table and index key schemas are learnt from the CreateTable calls the tests make (tables come from
template.yaml), so the rules know which attributes are keys.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from botocore import handlers, validate
from botocore.exceptions import ClientError

MAX_ITEM_BYTES = 400 * 1024
MAX_TRANSACTION_ACTIONS = 100
MAX_BATCH_GET_KEYS = 100
MAX_BATCH_WRITE_REQUESTS = 25
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024

_EXPRESSIONS = (
    "KeyConditionExpression",
    "FilterExpression",
    "ProjectionExpression",
    "ConditionExpression",
    "UpdateExpression",
)
_NAME = re.compile(r"#[A-Za-z0-9_]+")
_VALUE = re.compile(r":[A-Za-z0-9_]+")
_OPERAND = r"(#[A-Za-z0-9_]+|[A-Za-z][A-Za-z0-9_]*)"
_BETWEEN = re.compile(rf"\(?\s*{_OPERAND}\s+BETWEEN\s+(:[A-Za-z0-9_]+)\s+AND\s+(:[A-Za-z0-9_]+)\s*\)?", re.I)
_BEGINS = re.compile(rf"\(?\s*begins_with\s*\(\s*{_OPERAND}\s*,\s*(:[A-Za-z0-9_]+)\s*\)\s*\)?")
_COMPARE = re.compile(rf"\(?\s*{_OPERAND}\s*(=|<=|>=|<|>)\s*(:[A-Za-z0-9_]+)\s*\)?")
_AND = re.compile(r"(?<![#:\w])AND(?!\w)|\x00", re.I)  # \x00 marks a condition taken out


@dataclass(frozen=True)
class KeySchema:
    partition: str
    sort: str | None = None


@dataclass
class Table:
    key: KeySchema
    indexes: dict[str, KeySchema] = field(default_factory=dict)
    key_attributes: frozenset[str] = frozenset()  # of the table and of every index
    key_bytes: dict[str, int] = field(default_factory=dict)  # each key attribute's longest value

    def __post_init__(self) -> None:
        schemas = [self.key, *self.indexes.values()]
        self.key_attributes = frozenset(n for k in schemas for n in (k.partition, k.sort) if n)
        for schema in schemas:
            for name, limit in ((schema.partition, MAX_PARTITION_KEY_BYTES), (schema.sort, MAX_SORT_KEY_BYTES)):
                if name:
                    self.key_bytes[name] = min(limit, self.key_bytes.get(name, limit))


def _schema(elements: Iterable[Mapping[str, str]]) -> KeySchema:
    keys = {e["KeyType"]: e["AttributeName"] for e in elements}
    return KeySchema(keys["HASH"], keys.get("RANGE"))


# ---- sizes and comparisons of attribute values ----


def _utf8(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _number_size(text: str) -> int:
    digits = text.lstrip("+-").lower().split("e")[0].replace(".", "").strip("0")
    return (len(digits) + 1) // 2 + 1


def value_size(value: Mapping[str, Any]) -> int:
    """The size DynamoDB counts for one attribute value (without its name)."""
    (kind, data), *_ = value.items()
    if kind == "S":
        return _utf8(data)
    if kind == "N":
        return _number_size(data)
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(s) for s in data)
    if kind == "NS":
        return sum(_number_size(n) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + _utf8(k) + value_size(v) for k, v in data.items())
    return 0


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(_utf8(name) + value_size(value) for name, value in item.items())


def may_exceed(item: Mapping[str, Any], limit: int) -> bool:
    """Whether an item can be over `limit` bytes, cheaply (this check runs on every write of the test suite): no
    character takes more than 4 bytes in UTF-8, and repr() of a nested value spells out all of its contents."""
    characters = 0
    for name, value in item.items():
        text = value.get("S", value.get("N"))
        characters += len(name) + (len(text) if isinstance(text, str) else len(repr(value)))
    return 4 * characters > limit


def _ordered(value: Mapping[str, Any]) -> Any:
    (kind, data), *_ = value.items()
    if kind == "S":
        return data.encode("utf-8", "surrogatepass")
    if kind == "N":
        return Decimal(data)
    return bytes(data)


def _empty_key_value(value: Any) -> bool:
    return isinstance(value, dict) and (value.get("S") == "" or value.get("B") in (b"", ""))


def _too_long(name: str, value: Any, limit: int) -> list[str]:
    if not isinstance(value, Mapping) or not value or next(iter(value)) not in ("S", "B"):
        return []
    if not isinstance(next(iter(value.values())), str | bytes):
        return []  # of the wrong type: botocore's validator reports it
    size = value_size(value)
    return [f"key attribute {name} is {size} bytes, over the {limit} a key may have"] if size > limit else []


# ---- the rules ----


@dataclass
class Rules:
    tables: dict[str, Table] = field(default_factory=dict)

    def learn(self, create_table: Mapping[str, Any]) -> None:
        indexes = {
            index["IndexName"]: _schema(index["KeySchema"])
            for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
            for index in create_table.get(kind) or []
        }
        self.tables[create_table["TableName"]] = Table(_schema(create_table["KeySchema"]), indexes)

    def check(self, operation: str, params: Mapping[str, Any]) -> list[str]:
        """The rules one request breaks (empty when it is valid)."""
        problems: list[str] = []
        table_name = params.get("TableName")
        if operation in ("Query", "Scan"):
            limit = params.get("Limit")
            if limit is not None and limit < 1:
                problems.append(f"Limit must be at least 1 (got {limit})")
            problems += self._placeholders(params)
            if operation == "Query":
                problems += self._key_condition(params)
        elif operation in ("GetItem", "DeleteItem", "UpdateItem", "PutItem"):
            problems += self._placeholders(params)
            if operation == "PutItem":
                problems += self._item(table_name, params.get("Item") or {})
            else:
                problems += self._key(table_name, params.get("Key") or {})
        elif operation in ("TransactWriteItems", "TransactGetItems"):
            problems += self._transaction(params.get("TransactItems") or [])
        elif operation == "BatchGetItem":
            problems += self._batch_get(params.get("RequestItems") or {})
        elif operation == "BatchWriteItem":
            problems += self._batch_write(params.get("RequestItems") or {})
        return problems

    # -- expressions --

    @staticmethod
    def _placeholders(params: Mapping[str, Any]) -> list[str]:
        problems = []
        text = " ".join(params[name] for name in _EXPRESSIONS if isinstance(params.get(name), str))
        for kind, pattern in (("ExpressionAttributeNames", _NAME), ("ExpressionAttributeValues", _VALUE)):
            defined = params.get(kind)
            if defined is None:
                defined_keys: set[str] = set()
            elif not defined:
                problems.append(f"{kind} must not be empty")
                defined_keys = set()
            else:
                defined_keys = set(defined)
            used = set(pattern.findall(text))
            if defined_keys - used:
                problems.append(f"{kind} defined but unused in expressions: {sorted(defined_keys - used)}")
            if used - defined_keys:
                problems.append(f"{kind} used in expressions but not defined: {sorted(used - defined_keys)}")
        return problems

    def _key_condition(self, params: Mapping[str, Any]) -> list[str]:
        expression = params.get("KeyConditionExpression")
        if not isinstance(expression, str):
            return []  # legacy KeyConditions: not used here
        names = params.get("ExpressionAttributeNames") or {}
        values = params.get("ExpressionAttributeValues") or {}
        problems: list[str] = []
        conditions: list[tuple[str, str, list[str]]] = []  # (attribute, operator, value placeholders)

        def attribute(operand: str) -> str:
            return names.get(operand, operand) if operand.startswith("#") else operand

        rest = expression
        for pattern, operator in ((_BETWEEN, "BETWEEN"), (_BEGINS, "begins_with")):
            for match in pattern.finditer(rest):
                conditions.append((attribute(match.group(1)), operator, list(match.groups()[1:])))
            rest = pattern.sub("\x00", rest)
        for part in _AND.split(rest):
            if not part.strip():
                continue
            match = _COMPARE.fullmatch(part.strip())
            if match is None:
                problems.append(f"KeyConditionExpression has an unsupported condition: {part.strip()!r}")
                continue
            conditions.append((attribute(match.group(1)), match.group(2), [match.group(3)]))

        table = self.tables.get(params.get("TableName", ""))
        if table is not None:
            index = params.get("IndexName")
            schema = table.indexes.get(index) if index else table.key
            if schema is None:
                return [*problems, f"table {params.get('TableName')} has no index {index}"]
            on_partition = [c for c in conditions if c[0] == schema.partition]
            on_sort = [c for c in conditions if schema.sort and c[0] == schema.sort]
            for name, limit in ((schema.partition, MAX_PARTITION_KEY_BYTES), (schema.sort, MAX_SORT_KEY_BYTES)):
                for placeholder in (p for c in conditions if c[0] == name for p in c[2]):
                    problems += _too_long(name or "", values.get(placeholder), limit)
            if len(on_partition) != 1 or on_partition[0][1] != "=":
                problems.append("KeyConditionExpression needs exactly one equality on the partition key")
            if len(on_sort) > 1:
                problems.append("KeyConditionExpression allows at most one condition on the sort key")
            others = {c[0] for c in conditions} - {schema.partition, schema.sort}
            if others:
                problems.append(f"KeyConditionExpression uses non-key attributes: {sorted(others)}")
        for _, operator, placeholders in conditions:
            bound = [values.get(p) for p in placeholders]
            if any(_empty_key_value(v) for v in bound):
                problems.append("a key condition value cannot be an empty string")
            if operator == "BETWEEN" and all(isinstance(v, Mapping) and v for v in bound):
                low, high = bound
                if next(iter(low)) == next(iter(high)) and _ordered(low) > _ordered(high):
                    problems.append(f"BETWEEN bounds are out of order: {low} > {high}")
        return problems

    # -- keys and items --

    def _key_lengths(self, table_name: str | None, values: Mapping[str, Any]) -> list[str]:
        table = self.tables.get(table_name or "")
        limits = table.key_bytes if table is not None else {}
        return [problem for name in sorted(limits) for problem in _too_long(name, values.get(name), limits[name])]

    def _key(self, table_name: str | None, key: Mapping[str, Any]) -> list[str]:
        empty = sorted(name for name, value in key.items() if _empty_key_value(value))
        return ([f"key attributes cannot be empty: {empty}"] if empty else []) + self._key_lengths(table_name, key)

    def _item(self, table_name: str | None, item: Mapping[str, Any]) -> list[str]:
        problems = self._key_lengths(table_name, item)
        table = self.tables.get(table_name or "")
        if table is not None:
            empty = sorted(n for n in table.key_attributes if _empty_key_value(item.get(n)))
            if empty:
                problems.append(f"table or index key attributes cannot be empty: {empty}")
        if may_exceed(item, MAX_ITEM_BYTES) and (size := item_size(item)) > MAX_ITEM_BYTES:
            problems.append(f"item size {size} bytes exceeds the 400 KB limit")
        return problems

    def _item_key(self, table_name: str, item: Mapping[str, Any]) -> tuple[Any, ...]:
        table = self.tables.get(table_name)
        names = [table.key.partition, table.key.sort] if table else sorted(item)
        return (table_name, *(tuple((item.get(n) or {}).items()) for n in names if n))

    def _transaction(self, actions: list[Mapping[str, Any]]) -> list[str]:
        problems = []
        if len(actions) > MAX_TRANSACTION_ACTIONS:
            problems.append(f"a transaction holds at most {MAX_TRANSACTION_ACTIONS} actions (got {len(actions)})")
        targets: set[tuple[Any, ...]] = set()
        for action in actions:
            (kind, op), *_ = action.items()
            problems += self._placeholders(op)
            if kind == "Put":
                problems += self._item(op["TableName"], op.get("Item") or {})
                target = self._item_key(op["TableName"], op.get("Item") or {})
            else:
                problems += self._key(op["TableName"], op.get("Key") or {})
                target = self._item_key(op["TableName"], op.get("Key") or {})
            if target in targets:
                problems.append(f"two actions of one transaction target the same item: {target}")
            targets.add(target)
        return problems

    def _batch_get(self, request: Mapping[str, Mapping[str, Any]]) -> list[str]:
        problems = []
        total = sum(len(spec.get("Keys") or []) for spec in request.values())
        if total > MAX_BATCH_GET_KEYS:
            problems.append(f"BatchGetItem reads at most {MAX_BATCH_GET_KEYS} keys (got {total})")
        for table_name, spec in request.items():
            problems += self._placeholders(spec)
            keys = [self._item_key(table_name, k) for k in spec.get("Keys") or []]
            if len(set(keys)) != len(keys):
                problems.append("BatchGetItem keys contain duplicates")
            for key in spec.get("Keys") or []:
                problems += self._key(table_name, key)
        return problems

    def _batch_write(self, request: Mapping[str, list[Mapping[str, Any]]]) -> list[str]:
        problems = []
        total = sum(len(writes) for writes in request.values())
        if total > MAX_BATCH_WRITE_REQUESTS:
            problems.append(f"BatchWriteItem writes at most {MAX_BATCH_WRITE_REQUESTS} items (got {total})")
        for table_name, writes in request.items():
            targets = []
            for write in writes:
                if "PutRequest" in write:
                    item = write["PutRequest"].get("Item") or {}
                    problems += self._item(table_name, item)
                    targets.append(self._item_key(table_name, item))
                else:
                    key = write["DeleteRequest"].get("Key") or {}
                    problems += self._key(table_name, key)
                    targets.append(self._item_key(table_name, key))
            if len(set(targets)) != len(targets):
                problems.append("BatchWriteItem requests contain duplicate keys")
        return problems


# ---- the botocore hook ----


class RuleBroken(ClientError):
    """What DynamoDB answers a request that breaks one of its rules."""


class Checker:
    """The rules plus what they caught; one per test session, shared by every thread of the process."""

    def __init__(self) -> None:
        self.rules = Rules()
        self.violations: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation == "CreateTable":
            self.rules.learn(params)
            return
        report = validate.ParamValidator().validate(params, model.input_shape)
        problems = [report.generate_report()] if report.has_errors() else []
        problems += self.rules.check(operation, params)
        if problems:
            message = f"{operation}: " + "; ".join(problems)
            with self._lock:
                self.violations.append(message)
            raise RuleBroken({"Error": {"Code": "ValidationException", "Message": message}}, operation)

    def take(self) -> list[str]:
        """The violations recorded since the last call (and forgets them)."""
        with self._lock:
            found, self.violations = self.violations, []
        return found


EVENT = "before-parameter-build.dynamodb"


def install() -> Checker:
    """Adds the check to every botocore session created from now on (boto3's default one is recreated)."""
    import boto3

    checker = Checker()
    handlers.BUILTIN_HANDLERS.append((EVENT, checker))
    boto3.DEFAULT_SESSION = None
    return checker


def uninstall(checker: Checker) -> None:
    handlers.BUILTIN_HANDLERS.remove((EVENT, checker))
