"""The DynamoDB rules check (tests/dynamodb_rules.py): each rule catches a request that breaks it and lets a
valid one through, and the hook sees the calls of every kind of client the tests and the local API create."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from clinic import settings
from dynamodb_rules import Checker, RuleBroken, Rules, item_size

from local.dynamodb import dynamodb_client
from local.template import REGION

TABLE = {
    "TableName": "T",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "GlobalSecondaryIndexes": [
        {"IndexName": "ById", "KeySchema": [{"AttributeName": "id_pk", "KeyType": "HASH"}]},
    ],
}


@pytest.fixture
def rules() -> Rules:
    rules = Rules()
    rules.learn(TABLE)
    return rules


def S(text: str) -> dict[str, str]:
    return {"S": text}


def query(condition: str, values: dict[str, Any], names: dict[str, str] | None = None, **more: Any) -> dict:
    params = {"TableName": "T", "KeyConditionExpression": condition, "ExpressionAttributeValues": values, **more}
    if names:
        params["ExpressionAttributeNames"] = names
    return params


def item(pk: str = "a", sk: str = "b", **attributes: Any) -> dict[str, Any]:
    return {"pk": S(pk), "sk": S(sk), **attributes}


def put(table: str = "T", **attributes: Any) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item(**attributes)}}


# ---- one breaking and one valid request per rule ----


def test_between_bounds_must_be_in_order(rules: Rules) -> None:
    condition = "#pk = :pk AND #sk BETWEEN :low AND :high"
    names = {"#pk": "pk", "#sk": "sk"}
    ordered = {":pk": S("p"), ":low": S("2024-01-01"), ":high": S("2024-01-31")}
    swapped = {**ordered, ":low": S("2024-02-01")}
    assert rules.check("Query", query(condition, ordered, names)) == []
    assert "BETWEEN bounds are out of order" in rules.check("Query", query(condition, swapped, names))[0]
    # Strings compare as UTF-8 bytes (DynamoDB's order), not as Python's code points: "\uffff" < "😀" in both.
    assert rules.check("Query", query(condition, {**ordered, ":low": S("\uffff"), ":high": S("😀")}, names)) == []
    numbers = {":pk": S("p"), ":low": {"N": "10"}, ":high": {"N": "9"}}
    assert rules.check("Query", query("pk = :pk AND sk BETWEEN :low AND :high", numbers)) != []


def test_key_conditions_only_on_keys(rules: Rules) -> None:
    assert rules.check("Query", query("pk = :pk AND begins_with(sk, :p)", {":pk": S("a"), ":p": S("x")})) == []
    on_other = rules.check("Query", query("pk = :pk AND notes = :n", {":pk": S("a"), ":n": S("x")}))
    assert "non-key attributes: ['notes']" in on_other[0]
    without_partition = rules.check("Query", query("sk = :s", {":s": S("a")}))
    assert "exactly one equality on the partition key" in without_partition[0]
    partition_range = rules.check("Query", query("pk > :pk", {":pk": S("a")}))
    assert "exactly one equality on the partition key" in partition_range[0]
    # An index's keys are its own: the table's sort key is not one of them.
    on_index = query("id_pk = :id", {":id": S("GAUGEID#1")}, IndexName="ById")
    assert rules.check("Query", on_index) == []
    assert rules.check("Query", {**on_index, "KeyConditionExpression": "pk = :id"}) != []


def test_limit_is_at_least_one(rules: Rules) -> None:
    valid = query("pk = :pk", {":pk": S("a")}, Limit=1)
    assert rules.check("Query", valid) == []
    assert "Limit must be at least 1" in rules.check("Query", {**valid, "Limit": 0})[0]


def test_transactions_hold_at_most_100_actions_on_distinct_items(rules: Rules) -> None:
    hundred = [put(sk=str(i)) for i in range(100)]
    assert rules.check("TransactWriteItems", {"TransactItems": hundred}) == []
    assert "at most 100 actions" in rules.check("TransactWriteItems", {"TransactItems": [*hundred, put(sk="x")]})[0]
    same_item = [put(sk="1"), {"ConditionCheck": {"TableName": "T", "Key": item(sk="1"), "ConditionExpression": "x"}}]
    assert any("same item" in p for p in rules.check("TransactWriteItems", {"TransactItems": same_item}))
    gets = [{"Get": {"TableName": "T", "Key": item(sk=str(i))}} for i in range(101)]
    assert "at most 100 actions" in rules.check("TransactGetItems", {"TransactItems": gets})[0]


def test_batch_sizes(rules: Rules) -> None:
    keys = [item(sk=str(i)) for i in range(101)]
    assert rules.check("BatchGetItem", {"RequestItems": {"T": {"Keys": keys[:100]}}}) == []
    assert "at most 100 keys" in rules.check("BatchGetItem", {"RequestItems": {"T": {"Keys": keys}}})[0]
    writes = [{"PutRequest": {"Item": k}} for k in keys[:26]]
    assert rules.check("BatchWriteItem", {"RequestItems": {"T": writes[:25]}}) == []
    assert "at most 25 items" in rules.check("BatchWriteItem", {"RequestItems": {"T": writes}})[0]
    twice = [{"PutRequest": {"Item": keys[0]}}, {"DeleteRequest": {"Key": keys[0]}}]
    assert rules.check("BatchWriteItem", {"RequestItems": {"T": twice}}) == [
        "BatchWriteItem requests contain duplicate keys"
    ]


def test_items_are_at_most_400_kb(rules: Rules) -> None:
    # Sizes as the developer guide counts them: names and values in UTF-8 bytes, numbers by significant digits.
    assert item_size({"n": {"N": "123.4500"}}) == 1 + (3 + 1)  # 5 significant digits: 3 bytes, plus 1
    assert item_size({"é": S("😀")}) == 2 + 4
    assert item_size({"l": {"L": [S("ab"), {"BOOL": True}]}}) == 1 + 3 + (1 + 2) + (1 + 1)
    fits = item(notes=S("x" * (400 * 1024 - 20)))
    assert rules.check("PutItem", {"TableName": "T", "Item": fits}) == []
    too_big = item(notes=S("😀" * (100 * 1024)))
    assert "exceeds the 400 KB limit" in rules.check("PutItem", {"TableName": "T", "Item": too_big})[0]


def test_expression_placeholders_defined_and_used(rules: Rules) -> None:
    valid = {
        "TableName": "T",
        "Key": item(),
        "UpdateExpression": "SET #a = :a",
        "ExpressionAttributeNames": {"#a": "a"},
    }
    valid["ExpressionAttributeValues"] = {":a": S("x")}
    assert rules.check("UpdateItem", valid) == []
    unused_name = {**valid, "ExpressionAttributeNames": {"#a": "a", "#b": "b"}}
    assert rules.check("UpdateItem", unused_name) == [
        "ExpressionAttributeNames defined but unused in expressions: ['#b']"
    ]
    unused_value = {**valid, "ExpressionAttributeValues": {":a": S("x"), ":b": S("y")}}
    assert rules.check("UpdateItem", unused_value) == [
        "ExpressionAttributeValues defined but unused in expressions: [':b']"
    ]
    undefined = {**valid, "UpdateExpression": "SET #a = :a, #c = :c"}
    assert len(rules.check("UpdateItem", undefined)) == 2
    empty = {**valid, "ExpressionAttributeValues": {}, "UpdateExpression": "SET #a = a"}
    assert rules.check("UpdateItem", empty) == ["ExpressionAttributeValues must not be empty"]
    # In a transaction, each action has its own expressions and placeholders.
    action = {"Update": {k: v for k, v in unused_value.items()}}
    assert rules.check("TransactWriteItems", {"TransactItems": [action]}) != []


def test_key_values_are_never_empty(rules: Rules) -> None:
    assert rules.check("GetItem", {"TableName": "T", "Key": item(sk="")}) == ["key attributes cannot be empty: ['sk']"]
    assert rules.check("PutItem", {"TableName": "T", "Item": item(notes=S(""))}) == []  # not a key: allowed
    index_key = rules.check("PutItem", {"TableName": "T", "Item": item(id_pk=S(""))})
    assert index_key == ["table or index key attributes cannot be empty: ['id_pk']"]
    assert rules.check("Query", query("pk = :pk", {":pk": S("")})) == [
        "a key condition value cannot be an empty string"
    ]


def test_key_values_are_at_most_2048_bytes_for_a_partition_and_1024_for_a_sort_key(rules: Rules) -> None:
    longest = {"pk": "p" * 2048, "sk": "é" * 512}  # bytes, not characters: é is two in UTF-8
    for operation, params in (
        ("PutItem", {"TableName": "T", "Item": item(**longest)}),
        ("GetItem", {"TableName": "T", "Key": item(**longest)}),
        (
            "Query",
            query(
                "pk = :pk AND sk BETWEEN :low AND :high", {":pk": S("p" * 2048), ":low": S("a"), ":high": S("é" * 512)}
            ),
        ),
        ("TransactWriteItems", {"TransactItems": [put(**longest)]}),
    ):
        assert rules.check(operation, params) == [], operation
    assert rules.check("GetItem", {"TableName": "T", "Key": item(pk="p" * 2049)}) == [
        "key attribute pk is 2049 bytes, over the 2048 a key may have"
    ]
    assert rules.check("PutItem", {"TableName": "T", "Item": item(sk="é" * 512 + "x")}) == [
        "key attribute sk is 1025 bytes, over the 1024 a key may have"
    ]
    assert rules.check("PutItem", {"TableName": "T", "Item": item(id_pk=S("i" * 2049))}) == [
        "key attribute id_pk is 2049 bytes, over the 2048 a key may have"
    ]
    assert rules.check("Query", query("id_pk = :id", {":id": S("i" * 2049)}, IndexName="ById")) == [
        "key attribute id_pk is 2049 bytes, over the 2048 a key may have"
    ]
    assert rules.check("Query", query("pk = :pk AND begins_with(sk, :p)", {":pk": S("a"), ":p": S("s" * 1025)})) == [
        "key attribute sk is 1025 bytes, over the 1024 a key may have"
    ]
    assert rules.check(
        "BatchWriteItem", {"RequestItems": {"T": [{"DeleteRequest": {"Key": item(pk="p" * 2049)}}]}}
    ) == ["key attribute pk is 2049 bytes, over the 2048 a key may have"]


# ---- the hook ----


def _breaks_a_rule(client: Any, checker: Checker, table: str) -> None:
    with pytest.raises(RuleBroken) as caught:
        client.query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={":pk": S("x"), ":low": S("b"), ":high": S("a")},
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert [v.split(":")[0] for v in checker.take()] == ["Query"]


def test_every_client_is_checked(aws: Any, dynamodb_rules_check: Checker) -> None:
    table = settings.settings().table_name
    _breaks_a_rule(aws, dynamodb_rules_check, table)  # the fixture's client (moto in-process)
    _breaks_a_rule(boto3.client("dynamodb", region_name=REGION), dynamodb_rules_check, table)
    _breaks_a_rule(settings.dynamodb(), dynamodb_rules_check, table)  # the domain's own client
    _breaks_a_rule(boto3.session.Session().client("dynamodb", region_name=REGION), dynamodb_rules_check, table)


def test_clients_of_the_local_api_are_checked(http_api: Any, dynamodb_rules_check: Checker) -> None:
    table = settings.settings().table_name
    _breaks_a_rule(dynamodb_client(http_api.endpoint_url), dynamodb_rules_check, table)
    # The handlers behind the local gateway use clinic.settings' client, pointed at the embedded server.
    assert settings.dynamodb().meta.endpoint_url == http_api.endpoint_url
    _breaks_a_rule(settings.dynamodb(), dynamodb_rules_check, table)


def test_a_malformed_request_fails_although_the_domain_client_does_not_validate(
    aws: Any, dynamodb_rules_check: Checker
) -> None:
    """clinic.settings turns botocore's client-side validation off (DynamoDB validates on AWS); the check
    runs botocore's validator itself, so a request moto might take (a number where a string goes, a missing
    required member) fails in the tests as it would on AWS (RuleBroken: botocore's own check would have
    raised ParamValidationError before the hook's error could)."""
    client = settings.dynamodb()
    table = settings.settings().table_name
    with pytest.raises(RuleBroken) as caught:
        client.get_item(TableName=table, Key={"pk": {"S": 7}, "sk": {"S": "x"}})
    assert "Invalid type for parameter Key.pk.S" in caught.value.response["Error"]["Message"]
    with pytest.raises(RuleBroken):
        client.put_item(TableName=table)
    assert [v.split(":")[0] for v in dynamodb_rules_check.take()] == ["GetItem", "PutItem"]
    client.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"S": "b"}})
    assert dynamodb_rules_check.take() == []
