"""The table itself: encoding items, and the only module that calls DynamoDB for the store.

`call` makes every call and classifies its errors (errors.py); `query` is the one query builder; `put`,
`update` and `transact` are the conditional writes (a failed condition is `ConditionFailed`, whichever
call found it). Every call is a GetItem, BatchGetItem, Query or (conditional) write: nothing here reads a
whole table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from clinic import retries
from clinic.settings import dynamodb, settings
from clinic.store.errors import Unavailable, classify
from clinic.store.keys import Partition

_ser = TypeSerializer()
_de = TypeDeserializer()
_EXACT = 10**38  # DynamoDB numbers hold 38 digits: boto3 refuses a longer integer, and so does encode


# ---- encoding ----


def encode(value: Any) -> dict[str, Any]:
    """A value in DynamoDB's JSON. Strings and integers (most attributes) skip boto3's TypeSerializer, whose
    type dispatch dominated writing a page's audit events (`make bench`, warm requests); it gives the same."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int and -_EXACT < value < _EXACT:
        return {"N": str(value)}
    if kind is float:
        # boto3 refuses floats (they are not exact); a float's shortest repr is what the client sent. A whole
        # one loses its ".0", as DynamoDB trims trailing zeros: what is read back is then an integer's text.
        text = repr(value)
        value = Decimal(text[:-2] if text.endswith(".0") else text)
    return dict(_ser.serialize(value))


def encode_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """An item to write; attributes whose value is None are left out."""
    return {k: encode(v) for k, v in values.items() if v is not None}


def _number(text: str) -> int | float:
    if text.isdigit() or (text[:1] == "-" and text[1:].isdigit()):
        return int(text)
    value = float(text)  # the float nearest the decimal, as float(Decimal(text)) is
    if not value.is_integer():
        return value
    number = Decimal(text)  # a whole number written with a point or an exponent, or one too small for a float
    return int(number) if number == number.to_integral_value() else value


def decode(item: Mapping[str, Any]) -> dict[str, Any]:
    """A read item as Python values; top-level numbers as int or float (nested ones stay Decimal).

    Strings, numbers and booleans skip boto3's TypeDeserializer: it dominated the cost of reading a page
    of items (`make bench`, warm requests).
    """
    out: dict[str, Any] = {}
    for k, v in item.items():
        if "S" in v:
            out[k] = v["S"]
        elif "N" in v:
            text = v["N"]
            out[k] = int(text) if text.isdigit() else _number(text)
        elif "BOOL" in v:
            out[k] = v["BOOL"]
        else:
            out[k] = _nested(v)
    return out


def _nested(v: Any) -> Any:
    """A map's or list's values as TypeDeserializer gives them (numbers as Decimal), without its per-value
    dispatch: latest-value entries hold two maps each, and boto3 took a third of GET .../gauges/latest's
    warm time decoding them. Sets and binary, which the domain does not store nested, go to boto3."""
    if "S" in v:
        return v["S"]
    if "N" in v:
        return Decimal(v["N"])
    if "M" in v:
        return {k: _nested(x) for k, x in v["M"].items()}
    if "L" in v:
        return [_nested(x) for x in v["L"]]
    if "BOOL" in v:
        return v["BOOL"]
    if "NULL" in v:
        return None
    return _de.deserialize(v)


def encode_key(key: tuple[str, str]) -> dict[str, Any]:
    pk, sk = key
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def name() -> str:
    return settings().table_name


def call(operation: str, **params: Any) -> dict[str, Any]:
    """One DynamoDB call (`operation` is the client's method name), its failures classified: ConditionFailed,
    Unavailable, or the error itself for a request DynamoDB rejects (a bug)."""
    try:
        response: dict[str, Any] = getattr(dynamodb(), operation)(**params)
    except (ClientError, BotoCoreError) as error:
        classified = classify(error)
        if classified is error:
            raise
        raise classified from error  # the cause stays readable (patients-admin explains an unreachable endpoint)
    return response


# ---- reads ----


def get(key: tuple[str, str], consistent: bool = False) -> dict[str, Any] | None:
    item = call("get_item", TableName=name(), Key=encode_key(key), ConsistentRead=consistent).get("Item")
    return decode(item) if item else None


def batch_get(keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Reads up to any number of items by key, 100 per call, retrying unprocessed keys."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request = {name(): {"Keys": [encode_key(k) for k in keys[start : start + 100]], "ConsistentRead": True}}
        for _ in retries.attempts(8, first_wait=0.05, longest_wait=1.0):
            resp = call("batch_get_item", RequestItems=request)
            found.extend(decode(i) for i in resp.get("Responses", {}).get(name(), []))
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise Unavailable("UnprocessedKeys")
    return found


def query(
    partition: Partition,
    *,
    begins_with: str | None = None,
    after: str | None = None,
    between: tuple[str, str] | None = None,
    forward: bool = True,
    limit: int | None = None,
    projection: Sequence[str] = (),
    filter_expression: str | None = None,
    filter_values: Mapping[str, Any] | None = None,
    consistent: bool = False,
) -> Iterator[dict[str, Any]]:
    """The items of one partition in sort-key order, page by page, only as far as the caller reads.

    At most one condition on the sort key: `begins_with` a prefix, `after` a key (before it when reading
    backwards), or `between` two keys, both included. The one place queries are built: DynamoDB rejects a
    BETWEEN whose low bound is above its high bound (ValidationException; moto answers it), so such a range
    reads nothing instead. Python compares strings by code point, which is the UTF-8 byte order DynamoDB
    uses. `limit` is the page size of each call.
    """
    names = {"#pk": partition.key}
    values: dict[str, Any] = {":pk": partition.value}
    on_sort_key = None
    if begins_with is not None:
        on_sort_key, values[":prefix"] = "begins_with(#sk, :prefix)", begins_with
    elif after is not None:
        on_sort_key, values[":after"] = ("#sk > :after" if forward else "#sk < :after"), after
    elif between is not None:
        if between[0] > between[1]:
            return
        on_sort_key = "#sk BETWEEN :low AND :high"
        values[":low"], values[":high"] = between
    condition = "#pk = :pk"
    if on_sort_key:
        condition += " AND " + on_sort_key
        names["#sk"] = partition.sort_key
    if filter_expression:
        values.update(filter_values or {})
    params: dict[str, Any] = {
        "TableName": name(),
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {k: encode(v) for k, v in values.items()},
        "ScanIndexForward": forward,
    }
    if partition.index_name:
        params["IndexName"] = partition.index_name
    elif consistent:
        params["ConsistentRead"] = True
    if projection:
        params["ProjectionExpression"] = ", ".join(f"#p{i}" for i in range(len(projection)))
        names.update({f"#p{i}": attribute for i, attribute in enumerate(projection)})
    if filter_expression:
        params["FilterExpression"] = filter_expression
    if limit:
        params["Limit"] = limit
    while True:
        resp = call("query", **params)
        for item in resp.get("Items", []):
            yield decode(item)
        if "LastEvaluatedKey" not in resp:
            return
        params["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


# ---- writes ----


def put(item: Mapping[str, Any], *, condition: str | None = None, values: Mapping[str, Any] | None = None) -> None:
    """PutItem of an item (with its keys); ConditionFailed when `condition` does not hold."""
    write(put_action(item, condition=condition, values=values))


def update(
    key: tuple[str, str],
    expression: str,
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    returning: str | None = None,
) -> dict[str, Any]:
    """UpdateItem; the attributes `returning` asks for (ALL_NEW, UPDATED_NEW), decoded."""
    params = _update(key, expression, condition=condition, names=names, values=values)
    if returning:
        params["ReturnValues"] = returning
    return decode(call("update_item", **params).get("Attributes") or {})


def _update(
    key: tuple[str, str],
    expression: str,
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"TableName": name(), "Key": encode_key(key), "UpdateExpression": expression}
    if condition:
        params["ConditionExpression"] = condition
    if names:
        params["ExpressionAttributeNames"] = dict(names)
    if values:
        params["ExpressionAttributeValues"] = {k: encode(v) for k, v in values.items()}
    return params


def _conditioned(action: dict[str, Any], condition: str | None, values: Mapping[str, Any] | None) -> dict[str, Any]:
    if condition:
        action["ConditionExpression"] = condition
    if values:
        action["ExpressionAttributeValues"] = {k: encode(v) for k, v in values.items()}
    return action


def put_action(
    item: Mapping[str, Any], *, condition: str | None = None, values: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A Put of a transaction (or of `write`)."""
    return {"Put": _conditioned({"TableName": name(), "Item": encode_item(item)}, condition, values)}


def delete_action(
    key: tuple[str, str], *, condition: str | None = None, values: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A Delete of a transaction (or of `write`)."""
    return {"Delete": _conditioned({"TableName": name(), "Key": encode_key(key)}, condition, values)}


def check_action(key: tuple[str, str], condition: str, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A ConditionCheck of a transaction: the transaction commits only if `condition` holds for the item."""
    return {"ConditionCheck": _conditioned({"TableName": name(), "Key": encode_key(key)}, condition, values)}


def update_action(key: tuple[str, str], expression: str, **options: Any) -> dict[str, Any]:
    """An Update of a transaction (the options of `update`, but nothing returned)."""
    return {"Update": _update(key, expression, **options)}


def write(action: Mapping[str, Any]) -> None:
    """One Put or Delete action on its own: a single PutItem or DeleteItem (half the cost of a one-item
    transaction); ConditionFailed when its condition does not hold."""
    (kind, request), *_ = action.items()
    call({"Put": "put_item", "Delete": "delete_item"}[kind], **request)


def transact(actions: Sequence[dict[str, Any]]) -> None:
    """All the actions or none (at most 100); ConditionFailed (with the positions of the actions whose
    condition failed) when any condition does not hold."""
    # The token makes the SDK's own retries (after a timeout whose write did happen) idempotent for
    # 10 minutes; without it a retried create fails its attribute_not_exists condition.
    call("transact_write_items", TransactItems=list(actions), ClientRequestToken=str(uuid.uuid4()))


def landed(key: tuple[str, str], created_at: str) -> bool:
    """Whether a create whose condition failed had in fact been written by an earlier attempt.

    Ids are never reused, so an item with this key and creation time is this request's own write: the
    SDK retried after a timeout that hid a success (DynamoDB's ClientRequestToken covers transactions,
    not PutItem, and local emulators ignore it).
    """
    item = get(key, consistent=True)
    return item is not None and item.get("created_at") == created_at


def put_request(item: Mapping[str, Any]) -> dict[str, Any]:
    """A PutRequest of `batch_write`."""
    return {"PutRequest": {"Item": encode_item(item)}}


def delete_request(key: tuple[str, str]) -> dict[str, Any]:
    """A DeleteRequest of `batch_write`."""
    return {"DeleteRequest": {"Key": encode_key(key)}}


def batch_write(writes: Sequence[dict[str, Any]]) -> None:
    """BatchWriteItem (PutRequests, DeleteRequests) in chunks of 25, retrying unprocessed items; not all or
    nothing, so only for idempotent writes."""
    for start in range(0, len(writes), 25):
        request = {name(): list(writes[start : start + 25])}
        for _ in retries.attempts(10, first_wait=0.05, longest_wait=2.0):
            resp = call("batch_write_item", RequestItems=request)
            request = resp.get("UnprocessedItems") or {}
            if not request:
                break
        else:
            raise Unavailable("UnprocessedItems")
