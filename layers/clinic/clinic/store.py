"""The only module that knows the table, its key formats and its indexes (see docs/data-model.md).

Every call is a GetItem, BatchGetItem, Query or conditional write; nothing here reads a whole table.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from clinic.settings import dynamodb, settings

_ser = TypeSerializer()
_de = TypeDeserializer()

PREFIX_MAX = 10  # name prefixes indexed for search; longer terms filter inside the 10-character bucket
SEP = "\x01"  # sorts before every printable character, so "doe" < "doe smith"


class ConditionFailed(Exception):
    """A conditional write found the item not in the expected state.

    `failed` holds the positions, in a transaction, of the items whose condition failed (or that another
    transaction was changing); empty for a single-item write. `conflicted` holds those of the latter only
    (TransactionConflict: nothing is known about their condition, so a retry may succeed).
    """

    def __init__(self, failed: Sequence[int] = (), conflicted: Sequence[int] = ()) -> None:
        super().__init__()
        self.failed = frozenset(failed)
        self.conflicted = frozenset(conflicted)


class NewKeyTaken(Exception):
    """A new item's key (from a reserved id) is taken by another item: a bug, never retried (a 500)."""


# ---- encoding ----


def _value(value: Any) -> dict[str, Any]:
    # boto3 refuses floats (they are not exact); a float's shortest repr is what the client sent.
    return dict(_ser.serialize(Decimal(repr(value)) if isinstance(value, float) else value))


def _item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in values.items() if v is not None}


def _number(text: str) -> int | float:
    if text.lstrip("-").isdigit():
        return int(text)
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    """A read item as Python values; top-level numbers as int or float (nested ones stay Decimal).

    Strings, numbers and booleans skip boto3's TypeDeserializer: it dominated the cost of reading a page
    of items (`make bench`, warm requests).
    """
    out: dict[str, Any] = {}
    for k, v in item.items():
        if "S" in v:
            out[k] = v["S"]
        elif "N" in v:
            out[k] = _number(v["N"])
        elif "BOOL" in v:
            out[k] = v["BOOL"]
        else:
            out[k] = _de.deserialize(v)
    return out


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _table() -> str:
    return settings().table_name


def _cancelled_by_condition(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons") or []
        return any(r.get("Code") in ("ConditionalCheckFailed", "TransactionConflict") for r in reasons)
    return False


def _transact(items: Sequence[dict[str, Any]]) -> None:
    try:
        # The token makes the SDK's own retries (after a timeout whose write did happen) idempotent for
        # 10 minutes; without it a retried create fails its attribute_not_exists condition.
        dynamodb().transact_write_items(TransactItems=list(items), ClientRequestToken=str(uuid.uuid4()))
    except ClientError as error:
        if _cancelled_by_condition(error):
            reasons = error.response.get("CancellationReasons") or []  # type: ignore[attr-defined]
            failed = [
                i for i, r in enumerate(reasons) if r.get("Code") in ("ConditionalCheckFailed", "TransactionConflict")
            ]
            conflicted = [i for i, r in enumerate(reasons) if r.get("Code") == "TransactionConflict"]
            raise ConditionFailed(failed, conflicted) from None
        raise


def _get(pk: str, sk: str, consistent: bool = False) -> dict[str, Any] | None:
    resp = dynamodb().get_item(TableName=_table(), Key=_key(pk, sk), ConsistentRead=consistent)
    item = resp.get("Item")
    return _plain(item) if item else None


# ---- id counters ----


def reserve_ids(kind: str, size: int) -> int:
    """Reserves `size` ids for `kind` with one atomic ADD; returns the last id of the block."""
    resp = dynamodb().update_item(
        TableName=_table(),
        Key=_key(f"COUNTER#{kind}", "COUNTER"),
        UpdateExpression="ADD #next :size",
        ExpressionAttributeNames={"#next": "next"},
        ExpressionAttributeValues={":size": {"N": str(size)}},
        ReturnValues="UPDATED_NEW",
    )
    return int(resp["Attributes"]["next"]["N"])


# ---- clinics, users, tokens ----


def put_clinic(clinic: Mapping[str, Any]) -> None:
    item = _item({**clinic, "pk": f"CLINIC#{clinic['id']}", "sk": "CLINIC"})
    dynamodb().put_item(TableName=_table(), Item=item, ConditionExpression="attribute_not_exists(pk)")


def get_clinic(clinic_id: int) -> dict[str, Any] | None:
    return _get(f"CLINIC#{clinic_id}", "CLINIC")


def put_user(user: Mapping[str, Any]) -> None:
    """The user, and for a supervised provider an entry under the supervisor, in one transaction."""
    writes = [user_put(user)]
    if user.get("supervisor_id"):
        entry = {"pk": f"USER#{user['supervisor_id']}", "sk": f"SUPERVISES#{user['id']:012d}", "user_id": user["id"]}
        writes.append({"Put": {"TableName": _table(), "Item": _item(entry)}})
    _transact(writes)


def user_put(user: Mapping[str, Any]) -> dict[str, Any]:
    """The transaction write that creates a user item (a new id: it must not exist)."""
    item = _item({**user, "pk": f"USER#{user['id']}", "sk": "USER"})
    return {"Put": {"TableName": _table(), "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}


def supervised_providers(supervisor_id: int) -> list[int]:
    return [e["user_id"] for e in _query(f"USER#{supervisor_id}", begins_with="SUPERVISES#", projection="user_id")]


def set_user_active(user_id: int, active: bool) -> None:
    try:
        dynamodb().update_item(
            TableName=_table(),
            Key=_key(f"USER#{user_id}", "USER"),
            UpdateExpression="SET active = :active",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":active": {"BOOL": active}},
        )
    except ClientError as error:
        if _cancelled_by_condition(error):
            raise ConditionFailed from None
        raise


def get_users(user_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    return {u["id"]: u for u in batch_get([(f"USER#{uid}", "USER") for uid in dict.fromkeys(user_ids)])}


def get_user(user_id: int) -> dict[str, Any] | None:
    return _get(f"USER#{user_id}", "USER")


def put_token(token_hash: str, user_id: int, created_at: str, expires_at: int | None) -> None:
    """The token item (looked up by the authorizer) and its entry under the user, in one transaction."""
    _transact(token_puts(token_hash, user_id, created_at, expires_at))


def token_puts(token_hash: str, user_id: int, created_at: str, expires_at: int | None) -> list[dict[str, Any]]:
    """The transaction writes of a new token: the item the authorizer reads, and its entry under the user."""
    token = {"token_hash": token_hash, "user_id": user_id, "created_at": created_at, "expires_at": expires_at}
    return [
        {
            "Put": {
                "TableName": _table(),
                "Item": _item({**token, "pk": f"TOKEN#{token_hash}", "sk": "TOKEN"}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {
            "Put": {
                "TableName": _table(),
                "Item": _item({**token, "pk": f"USER#{user_id}", "sk": f"TOKEN#{token_hash}"}),
            }
        },
    ]


def get_token(token_hash: str) -> dict[str, Any] | None:
    return _get(f"TOKEN#{token_hash}", "TOKEN", consistent=True)


def delete_tokens(user_id: int) -> int:
    """Deletes every token of a user (both items of each); returns how many there were."""
    hashes = [
        entry["sk"].removeprefix("TOKEN#")
        for entry in _query(f"USER#{user_id}", begins_with="TOKEN#", projection="sk", consistent=True)
    ]
    for token_hash in hashes:
        _transact(
            [
                {"Delete": {"TableName": _table(), "Key": _key(f"TOKEN#{token_hash}", "TOKEN")}},
                {"Delete": {"TableName": _table(), "Key": _key(f"USER#{user_id}", f"TOKEN#{token_hash}")}},
            ]
        )
    return len(hashes)


# ---- generic query ----


def _query(
    pk: str,
    *,
    begins_with: str | None = None,
    after: str | None = None,
    limit: int | None = None,
    projection: str | None = None,
    filter_expression: str | None = None,
    filter_values: Mapping[str, Any] | None = None,
    consistent: bool = False,
    forward: bool = True,
    index: str | None = None,
    pk_name: str = "pk",
) -> Iterator[dict[str, Any]]:
    """Yields the items of one partition in key order, page by page, only as far as the caller reads."""
    condition = "#pk = :pk"
    names = {"#pk": pk_name}
    values: dict[str, Any] = {":pk": {"S": pk}}
    if begins_with is not None:
        condition += " AND begins_with(#sk, :prefix)"
        names["#sk"] = "sk"
        values[":prefix"] = {"S": begins_with}
    elif after is not None:
        condition += " AND #sk > :after" if forward else " AND #sk < :after"
        names["#sk"] = "sk"
        values[":after"] = {"S": after}
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": forward,
    }
    if index:
        kwargs["IndexName"] = index
    else:
        kwargs["ConsistentRead"] = consistent
    if projection:
        kwargs["ProjectionExpression"] = ", ".join(f"#p{i}" for i, _ in enumerate(projection.split(",")))
        names.update({f"#p{i}": p.strip() for i, p in enumerate(projection.split(","))})
    if filter_expression:
        kwargs["FilterExpression"] = filter_expression
        values.update({k: _value(v) for k, v in (filter_values or {}).items()})
    while True:
        if limit:
            kwargs["Limit"] = limit
        resp = dynamodb().query(**kwargs)
        for item in resp.get("Items", []):
            yield _plain(item)
        if "LastEvaluatedKey" not in resp:
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def batch_get(keys: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """Reads up to any number of items by key, 100 per call, retrying unprocessed keys."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request = {_table(): {"Keys": [_key(pk, sk) for pk, sk in keys[start : start + 100]], "ConsistentRead": True}}
        for attempt in range(8):
            resp = dynamodb().batch_get_item(RequestItems=request)
            found.extend(_plain(i) for i in resp.get("Responses", {}).get(_table(), []))
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            raise_unavailable()
    return found


def raise_unavailable() -> None:
    raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "unprocessed items"}}, "BatchGetItem")


# ---- patients ----


def _namekey(patient: Mapping[str, Any]) -> str:
    return f"{patient['last_name'].casefold()}{SEP}{patient['first_name'].casefold()}{SEP}{patient['id']:012d}"


def _name_prefixes(patient: Mapping[str, Any]) -> set[str]:
    """ "" (the whole list) and every prefix of up to PREFIX_MAX characters of the first and last name."""
    prefixes = {""}
    for name in (patient["first_name"].casefold(), patient["last_name"].casefold()):
        prefixes.update(name[:n] for n in range(1, min(len(name), PREFIX_MAX) + 1))
    return prefixes


def _status(active: bool) -> str:
    return "A" if active else "I"


def _list_entries(patient: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The clinic's list and search entries, and one list entry per care-team member."""
    status = _status(patient["active"])
    entry = {
        "sk": _namekey(patient),
        "patient_id": patient["id"],
        "first_lc": patient["first_name"].casefold(),
        "last_lc": patient["last_name"].casefold(),
    }
    base = f"PLIST#{patient['clinic_id']}#{status}#"
    entries = [{**entry, "pk": base + prefix} for prefix in sorted(_name_prefixes(patient))]
    entries += [{**entry, "pk": f"MLIST#{uid}#{status}"} for uid in sorted(patient.get("care_team") or {})]
    return entries


def _entry_writes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Deletes and puts that turn the list entries of `before` into those of `after`."""
    old = {(e["pk"], e["sk"]) for e in _list_entries(before)} if before else set()
    new = _list_entries(after)
    writes: list[dict[str, Any]] = [
        {"Delete": {"TableName": _table(), "Key": _key(pk, sk)}} for pk, sk in old - {(e["pk"], e["sk"]) for e in new}
    ]
    writes += [{"Put": {"TableName": _table(), "Item": _item(e)}} for e in new if (e["pk"], e["sk"]) not in old]
    return writes


def _email_pk(clinic_id: int, email: str | None) -> str | None:
    return f"EMAIL#{clinic_id}#{email.casefold()}" if email else None


def _patient_item(patient: Mapping[str, Any]) -> dict[str, Any]:
    item = {**patient, "pk": f"PATIENT#{patient['id']}", "sk": "PATIENT"}
    item["email_pk"] = _email_pk(patient["clinic_id"], patient.get("email"))
    return _item(item)


def create_patient(patient: Mapping[str, Any]) -> None:
    """The patient and its list entries in one transaction: a list never shows half a patient."""
    writes = [
        {
            "Put": {
                "TableName": _table(),
                "Item": _patient_item(patient),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    ]
    try:
        _transact(writes + _entry_writes(None, patient))
    except ConditionFailed:
        if not _landed(f"PATIENT#{patient['id']}", "PATIENT", patient["created_at"]):
            raise


def _landed(pk: str, sk: str, created_at: str) -> bool:
    """Whether a create whose condition failed had in fact been written by an earlier attempt.

    Ids are never reused, so an item with this key and creation time is this request's own write: the
    SDK retried after a timeout that hid a success (DynamoDB's ClientRequestToken covers transactions,
    not PutItem, and local emulators ignore it).
    """
    item = _get(pk, sk, consistent=True)
    return item is not None and item.get("created_at") == created_at


def import_patients(patients: Sequence[Mapping[str, Any]], write: Any = None) -> int:
    """Bulk load (benchmarks) in create_patient's item format: BatchWriteItem, not all or nothing.

    Never for requests: a request goes through create_patient. `write` (default batch_write) receives the
    PutRequests. Returns how many items were written.
    """
    writes = []
    for patient in patients:
        writes.append({"PutRequest": {"Item": _patient_item(patient)}})
        writes += [{"PutRequest": {"Item": _item(e)}} for e in _list_entries(patient)]
    (write or batch_write)(writes)
    return len(writes)


_PATIENT_META = ("pk", "sk", "email_pk")  # alert_epoch stays: the care-team write conditions on it


def _patient(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    for attribute in _PATIENT_META:
        item.pop(attribute, None)
    return item


def patient_key(patient_id: Any) -> tuple[str, str]:
    return f"PATIENT#{patient_id}", "PATIENT"


def get_patient(patient_id: int) -> dict[str, Any] | None:
    return _patient(_get(f"PATIENT#{patient_id}", "PATIENT", consistent=True))


def get_patients(patient_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    items = batch_get([(f"PATIENT#{pid}", "PATIENT") for pid in dict.fromkeys(patient_ids)])
    return {p["id"]: p for p in (_patient(i) for i in items) if p}


LISTED_FIELDS = frozenset({"first_name", "last_name", "active"})


def update_patient(
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    updated_at: str,
    expected_version: int | None,
) -> dict[str, Any]:
    """Applies only the changed fields (None removes one) and bumps the version.

    Without an expected version, fields that do not move the patient in lists are written with a
    per-field UpdateExpression, so concurrent updates of different fields all persist. A change of
    name or status also rewrites the list entries, in one transaction conditioned on the version that
    was read; the caller retries on ConditionFailed.
    """
    names: dict[str, str] = {"#version": "version", "#updated_at": "updated_at"}
    values: dict[str, Any] = {":one": {"N": "1"}, ":updated_at": {"S": updated_at}}
    sets = ["#updated_at = :updated_at"]
    removes = []
    for i, (field, value) in enumerate(changes.items()):
        names[f"#f{i}"] = field
        if value is None:
            removes.append(f"#f{i}")
        else:
            values[f":v{i}"] = _value(value)
            sets.append(f"#f{i} = :v{i}")
    if "email" in changes:
        names["#email_pk"] = "email_pk"
        email_pk = _email_pk(current["clinic_id"], changes["email"])
        if email_pk:
            values[":email_pk"] = {"S": email_pk}
            sets.append("#email_pk = :email_pk")
        else:
            removes.append("#email_pk")
    expression = "SET " + ", ".join(sets) + " ADD #version :one"
    if removes:
        expression += " REMOVE " + ", ".join(removes)

    relisted = LISTED_FIELDS & changes.keys()
    condition = "attribute_exists(pk)"
    if expected_version is not None or relisted:
        condition += " AND #version = :expected"
        values[":expected"] = {"N": str(expected_version if expected_version is not None else current["version"])}
    update = {
        "TableName": _table(),
        "Key": _key(f"PATIENT#{current['id']}", "PATIENT"),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    rezoned = "time_zone" in changes and changes["time_zone"] != (current.get("time_zone") or "UTC")
    if not relisted and not rezoned:
        try:
            resp = dynamodb().update_item(**update, ReturnValues="ALL_NEW")
        except ClientError as error:
            if _cancelled_by_condition(error):
                raise ConditionFailed from None
            raise
        return _patient(_plain(resp["Attributes"])) or {}

    writes = [{"Update": update}, *_entry_writes(current, {**current, **changes})]
    if rezoned:
        # The patient's calendar days moved: tell the summary job to recompute all of them.
        marker = {
            "pk": f"REZONED#{current['id']}",
            "sk": "REZONED",
            "patient_id": current["id"],
            "gauge_type": REZONED,
            "recorded_at": updated_at,
            **_change_keys(updated_at, current["id"]),
        }
        writes.append({"Put": {"TableName": _table(), "Item": _item(marker)}})
    _transact(writes)
    return get_patient(current["id"]) or {}


def set_care_team_member(
    current: Mapping[str, Any],
    user_id: int,
    supervisor_id: int | None,
    present: bool,
    extra: Sequence[dict[str, Any]] = (),
) -> None:
    """Adds or removes one member (map key: user id, value: the member's supervisor or 0).

    Conditioned on the version that was read, because the member's list entry is derived from the
    name and status of that version, and on the `alert_epoch` that was read, because `extra` (the member's
    inbox entries of the patient's unresolved alerts, clinic.alert_store) is derived from the alerts open
    then; the caller retries on ConditionFailed.
    """
    team = dict(current.get("care_team") or {})
    if present:
        team[str(user_id)] = supervisor_id or 0
        expression = "SET care_team.#member = :supervisor ADD #version :one"
        values = {":supervisor": {"N": str(supervisor_id or 0)}}
    else:
        team.pop(str(user_id), None)
        expression = "REMOVE care_team.#member ADD #version :one"
        values = {}
    epoch = {":epoch": {"N": str(current["alert_epoch"])}} if current.get("alert_epoch") is not None else {}
    update = {
        "TableName": _table(),
        "Key": _key(f"PATIENT#{current['id']}", "PATIENT"),
        "UpdateExpression": expression,
        "ConditionExpression": "#version = :expected AND "
        + ("#epoch = :epoch" if current.get("alert_epoch") is not None else "attribute_not_exists(#epoch)"),
        "ExpressionAttributeNames": {"#member": str(user_id), "#version": "version", "#epoch": "alert_epoch"},
        "ExpressionAttributeValues": {
            **values,
            ":one": {"N": "1"},
            ":expected": {"N": str(current["version"])},
            **epoch,
        },
    }
    _transact([{"Update": update}, *_entry_writes(current, {**current, "care_team": team}), *extra])


def clinic_partition(clinic_id: int, active: bool, prefix: str) -> str:
    """The clinic's list (prefix "") or the entries whose first or last name starts with `prefix`."""
    return f"PLIST#{clinic_id}#{_status(active)}#{prefix[:PREFIX_MAX]}"


def member_partition(user_id: int, active: bool) -> str:
    """The patients on one user's care team (not bucketed by name: searches filter inside it)."""
    return f"MLIST#{user_id}#{_status(active)}"


def list_entries(
    partition: str, *, after: str | None, limit: int, name_prefix: str | None = None
) -> Iterator[dict[str, Any]]:
    """List entries of one partition in contract order, after a NAMEKEY, filtered by a name prefix if needed."""
    kwargs: dict[str, Any] = {}
    exact = partition.startswith("PLIST#") and len(name_prefix or "") <= PREFIX_MAX
    if name_prefix and not exact:
        kwargs = {
            "filter_expression": "begins_with(first_lc, :term) OR begins_with(last_lc, :term)",
            "filter_values": {":term": name_prefix},
        }
    return _query(partition, after=after, limit=limit, projection="sk, patient_id", **kwargs)


def namekey(patient: Mapping[str, Any]) -> str:
    return _namekey(patient)


def patients_with_email(clinic_id: int, email: str) -> list[int]:
    pk = _email_pk(clinic_id, email)
    return [int(i["pk"].removeprefix("PATIENT#")) for i in _query(pk or "", index="ByEmail", pk_name="email_pk")]


# ---- gauges ----
# A gauge lives in its patient's and type's partition, sorted by time: a date range is one key range and
# a type filter reads no other type. Index `PatientGauges` holds all of a patient's types in one time
# order; `GaugeById` finds a gauge from its id; `Changes` lists gauge writes and deletions by the hour in
# which they happened (8 shards per hour), for the summary job.

CHANGE_SHARDS = 8
REZONED = "*"  # the gauge type of a change that moved all of a patient's days (a time zone change)
KEY_MIN, KEY_MAX = "0", "9~"  # below and above every ISO time key


def gauge_partition(patient_id: int, gauge_type: str) -> str:
    return f"GAUGE#{patient_id}#{gauge_type}"


def _gauge_sk(recorded_at: str, gauge_id: int) -> str:
    return f"{recorded_at}#{gauge_id:012d}"


def _change_keys(changed_at: str, gauge_id: int) -> dict[str, str]:
    return {
        "change_pk": f"CHANGES#{changed_at[:13]}#{gauge_id % CHANGE_SHARDS}",
        "change_sk": f"{changed_at}#{gauge_id:012d}",
    }


_GAUGE_META = ("pk", "sk", "all_pk", "id_pk", "change_pk", "change_sk")


def _gauge(item: dict[str, Any]) -> dict[str, Any]:
    for attribute in _GAUGE_META:
        item.pop(attribute, None)
    return item


def _gauge_item(g: Mapping[str, Any]) -> dict[str, Any]:
    return _item(
        {
            **g,
            "pk": gauge_partition(g["patient_id"], g["gauge_type"]),
            "sk": _gauge_sk(g["recorded_at"], g["id"]),
            "all_pk": f"GAUGES#{g['patient_id']}",
            "id_pk": f"GAUGEID#{g['id']}",
            **_change_keys(g["created_at"], g["id"]),
        }
    )


def put_gauges(gauges: Sequence[Mapping[str, Any]], also: Sequence[dict[str, Any]] = ()) -> None:
    """Stores up to 100 gauges all or nothing (one transaction; a retry cannot duplicate them), with the
    writes `also` (the latest records, clinic.latest) in the same transaction."""
    items = [_gauge_item(g) for g in gauges]
    condition = "attribute_not_exists(pk)"
    try:
        if len(items) == 1 and not also:
            try:
                dynamodb().put_item(TableName=_table(), Item=items[0], ConditionExpression=condition)
            except ClientError as error:
                if _cancelled_by_condition(error):
                    raise ConditionFailed from None
                raise
        else:
            puts = [{"Put": {"TableName": _table(), "Item": i, "ConditionExpression": condition}} for i in items]
            _transact(puts + list(also))
    except ConditionFailed as error:
        if error.failed and min(error.failed) >= len(items):
            raise  # only one of `also` moved: the caller reads again and retries
        first = items[0]
        if not _landed(first["pk"]["S"], first["sk"]["S"], gauges[0]["created_at"]):
            raise NewKeyTaken from None


def import_gauges(gauges: Sequence[Mapping[str, Any]], write: Any = None) -> None:
    """Bulk load (demo data, benchmarks) in the same item format: BatchWriteItem, not all or nothing.

    Never for requests: a request's batch goes through put_gauges. `write` (default batch_write) receives
    the PutRequests.
    """
    (write or batch_write)([{"PutRequest": {"Item": _gauge_item(g)}} for g in gauges])


def query_gauges(
    patient_id: int,
    gauge_type: str | None,
    *,
    start: str | None,
    end: str | None,
    newest_first: bool,
    after: tuple[str, int] | None,
    limit: int,
) -> Iterator[dict[str, Any]]:
    """Gauges recorded in [start, end) (ISO times), in time order, continuing after (recorded_at, id)."""
    low, high = _time_range(start, end, after, newest_first)
    if gauge_type is None:
        partition = _Partition("all_pk", f"GAUGES#{patient_id}", "sk", "PatientGauges")
    else:
        partition = _Partition("pk", gauge_partition(patient_id, gauge_type), "sk")
    return _between(partition, low, high, forward=not newest_first, limit=limit, shape=_gauge)


def _time_range(
    start: str | None, end: str | None, after: tuple[str, int] | None, newest_first: bool
) -> tuple[str, str]:
    """The [low, high] sort keys (`<time>#<id12>`, as gauges and assessments have) of the items timed in
    [start, end) (ISO times) that come after (time, id) in the listing's order."""
    low, high = start or KEY_MIN, end or KEY_MAX  # `end#...` sorts above `end`, so BETWEEN excludes it
    if after is not None:
        at, item_id = after
        if newest_first:
            high = min(high, _gauge_sk(at, item_id - 1))
        else:
            low = max(low, _gauge_sk(at, item_id + 1))
    return low, high


class _Partition(NamedTuple):
    """Where a range query reads: a partition of the table or of an index, and its sort key."""

    key: str
    value: str
    sort_key: str
    index_name: str | None = None


def _between(
    partition: _Partition, low: str, high: str, *, forward: bool = True, limit: int | None = None, shape: Any = None
) -> Iterator[dict[str, Any]]:
    """The items of one partition whose sort key is in [low, high], in key order, page by page.

    The one place range queries are built: DynamoDB rejects a BETWEEN whose low bound is above its high
    bound (ValidationException; moto answers it), so an empty range reads nothing instead. Python compares
    strings by code point, which is the UTF-8 byte order DynamoDB uses.
    """
    if low > high:
        return iter(())
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
        "ExpressionAttributeNames": {"#pk": partition.key, "#sk": partition.sort_key},
        "ExpressionAttributeValues": {":pk": {"S": partition.value}, ":low": {"S": low}, ":high": {"S": high}},
        "ScanIndexForward": forward,
    }
    if partition.index_name:
        kwargs["IndexName"] = partition.index_name
    if limit:
        kwargs["Limit"] = limit
    return _pages(kwargs, shape)


def _pages(kwargs: dict[str, Any], shape: Any = None) -> Iterator[dict[str, Any]]:
    while True:
        resp = dynamodb().query(**kwargs)
        for item in resp.get("Items", []):
            yield shape(_plain(item)) if shape else _plain(item)
        if "LastEvaluatedKey" not in resp:
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def gauge_key_of(gauge: Mapping[str, Any]) -> tuple[str, str]:
    """The table key of a gauge read through query_gauges (which drops it), even of a malformed one."""
    try:
        return gauge_partition(gauge["patient_id"], gauge["gauge_type"]), _gauge_sk(gauge["recorded_at"], gauge["id"])
    except (KeyError, TypeError, ValueError):
        return (
            f"GAUGE#{gauge.get('patient_id')}#{gauge.get('gauge_type')}",
            f"{gauge.get('recorded_at')}#{gauge.get('id')}",
        )


def gauge_key(gauge_id: int) -> tuple[int, str, str] | None:
    """(patient id, type, recorded_at) of a gauge, from the `GaugeById` index."""
    for item in _query(f"GAUGEID#{gauge_id}", index="GaugeById", pk_name="id_pk"):
        _, patient_id, gauge_type = item["pk"].split("#", 2)
        return int(patient_id), gauge_type, item["sk"].rsplit("#", 1)[0]
    return None


def get_gauge(patient_id: int, gauge_type: str, recorded_at: str, gauge_id: int) -> dict[str, Any] | None:
    item = _get(gauge_partition(patient_id, gauge_type), _gauge_sk(recorded_at, gauge_id), consistent=True)
    return _gauge(item) if item else None


def deleted_gauge_key(gauge_id: int) -> tuple[int, str, str] | None:
    """(patient id, type, recorded_at) of a deleted gauge, from its deletion marker (kept 90 days)."""
    marker = _get(f"DELETED#{gauge_id}", "DELETED")
    if marker is None:
        return None
    return int(marker["patient_id"]), marker["gauge_type"], marker["recorded_at"]


def delete_gauge(
    patient_id: int,
    gauge_type: str,
    recorded_at: str,
    gauge_id: int,
    deleted_at: str,
    also: Sequence[dict[str, Any]] = (),
) -> bool:
    """Deletes a gauge and leaves a tombstone in `Changes` so the summary job forgets it too, with the writes
    `also` in the same transaction. False when the gauge is gone; ConditionFailed when one of `also` failed."""
    return _transact_deletion([*gauge_deletion(patient_id, gauge_type, recorded_at, gauge_id, deleted_at), *also])


def _transact_deletion(writes: Sequence[dict[str, Any]]) -> bool:
    """A transaction whose first write deletes an item that must exist: False when that item is gone (its
    condition failed); ConditionFailed when another write's condition failed (a conflict to retry)."""
    try:
        _transact(writes)
    except ConditionFailed as error:
        if 0 in error.failed or not error.failed:
            return False
        raise
    return True


def gauge_deletion(
    patient_id: int, gauge_type: str, recorded_at: str, gauge_id: int, deleted_at: str
) -> list[dict[str, Any]]:
    """The transaction items that delete a gauge (the first; it must exist) and leave its tombstone."""
    tombstone = {
        "pk": f"DELETED#{gauge_id}",
        "sk": "DELETED",
        "patient_id": patient_id,
        "gauge_type": gauge_type,
        "recorded_at": recorded_at,
        "expires_at": int(time.time()) + 90 * 24 * 3600,
        **_change_keys(deleted_at, gauge_id),
    }
    return [
        {
            "Delete": {
                "TableName": _table(),
                "Key": _key(gauge_partition(patient_id, gauge_type), _gauge_sk(recorded_at, gauge_id)),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        {"Put": {"TableName": _table(), "Item": _item(tombstone)}},
    ]


def changes(hour: str, shard: int, after: str, upto: str) -> Iterator[dict[str, Any]]:
    """Gauge writes and deletions of one hour and shard with after < changed_at <= upto (ISO times)."""
    partition = _Partition("change_pk", f"CHANGES#{hour}#{shard}", "change_sk", "Changes")
    return _between(partition, after + "#~", upto + "#~")  # strictly after `after`, whatever the id


# ---- gauge summaries ----


def put_day_summaries(
    patient_id: int,
    summaries: Sequence[Mapping[str, Any]],
    empty: Sequence[tuple[str, str]],
    extra: Sequence[dict[str, Any]] = (),
) -> None:
    """Writes recomputed days and removes days left with no gauge (idempotent: plain puts and deletes), with
    `extra` write requests of the same days (the clinic rules' day means, clinic.alert_store)."""
    writes = [
        {"PutRequest": {"Item": _item({**s, "pk": f"SUMMARY#{patient_id}", "sk": f"DAY#{s['day']}#{s['gauge_type']}"})}}
        for s in summaries
    ]
    writes += [
        {"DeleteRequest": {"Key": _key(f"SUMMARY#{patient_id}", f"DAY#{day}#{gauge_type}")}}
        for day, gauge_type in empty
    ]
    batch_write([*writes, *extra])


def batch_write(writes: Sequence[dict[str, Any]]) -> None:
    """BatchWriteItem in chunks of 25, retrying unprocessed items until all are written."""
    for start in range(0, len(writes), 25):
        request = {_table(): list(writes[start : start + 25])}
        for attempt in range(10):
            resp = dynamodb().batch_write_item(RequestItems=request)
            request = resp.get("UnprocessedItems") or {}
            if not request:
                break
            time.sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise_unavailable()


def day_summaries(patient_id: int, first_day: str, last_day: str) -> Iterator[dict[str, Any]]:
    return _between(_Partition("pk", f"SUMMARY#{patient_id}", "sk"), f"DAY#{first_day}", f"DAY#{last_day}#~")


# ---- items a job set aside ----
# pk `SETASIDE#<job>`, sk the key of the item it could not process (`<pk>|<sk>`): one entry per item however
# often a run meets it, with when it was first and last met and the error's type. Ids and keys only, never
# a value. Few by nature, so one partition; an operator lists them (`patients-admin summaries set-aside`).


def is_storage_failure(error: Exception) -> bool:
    """Whether an error came from DynamoDB or the way to it (throttling, timeouts, refused requests) rather
    than from the data of an item."""
    return isinstance(error, BotoCoreError | ClientError)


def set_aside(job: str, source: tuple[str, str], *, patient_id: Any, error: str, at: str) -> None:
    dynamodb().update_item(
        TableName=_table(),
        Key=_key(f"SETASIDE#{job}", f"{source[0]}|{source[1]}"),
        UpdateExpression="SET source_pk = :pk, source_sk = :sk, patient_id = :patient, error_type = :error, "
        "last_seen = :at, first_seen = if_not_exists(first_seen, :at) ADD times_seen :one",
        ExpressionAttributeValues={
            ":pk": _value(source[0]),
            ":sk": _value(source[1]),
            ":patient": _value(patient_id if isinstance(patient_id, int) else str(patient_id)),
            ":error": _value(error),
            ":at": _value(at),
            ":one": _value(1),
        },
    )


def set_aside_items(job: str) -> Iterator[dict[str, Any]]:
    for item in _query(f"SETASIDE#{job}", consistent=True):
        yield {k: v for k, v in item.items() if k not in ("pk", "sk")}


def get_checkpoint(job: str) -> dict[str, Any] | None:
    return _get(f"JOB#{job}", "CHECKPOINT", consistent=True)


def put_checkpoint(job: str, through: str, previous: str | None) -> None:
    """Advances a job's checkpoint; conditional, so two overlapping runs cannot move it backwards."""
    try:
        dynamodb().put_item(
            TableName=_table(),
            Item=_item({"pk": f"JOB#{job}", "sk": "CHECKPOINT", "through": through}),
            ConditionExpression="attribute_not_exists(pk) OR through = :previous"
            if previous
            else "attribute_not_exists(pk)",
            **({"ExpressionAttributeValues": {":previous": {"S": previous}}} if previous else {}),
        )
    except ClientError as error:
        if _cancelled_by_condition(error):
            raise ConditionFailed from None
        raise


def all_patients() -> Iterator[dict[str, Any]]:
    """Every patient, clinic by clinic (ids come from a counter), through the clinic lists: no Scan.

    Only for the summary job's full rebuild, never a request.
    """
    counter = _get("COUNTER#clinic", "COUNTER", consistent=True)
    for clinic_id in range(1, int(counter["next"]) + 1 if counter else 1):
        for active in (True, False):
            ids = [e["patient_id"] for e in _query(clinic_partition(clinic_id, active, ""), projection="patient_id")]
            for start in range(0, len(ids), 100):
                yield from get_patients(ids[start : start + 100]).values()


# ---- idempotency records ----
# Powertools' idempotency records (clinic.idempotency) each get their own partition, so a busy clinic
# never makes one hot: pk `IDEMPOTENCY#<route>#<hash of user id and Idempotency-Key>`, sk `IDEMPOTENCY`,
# removed by TTL through `expires_at`.


def idempotency_table() -> str:
    return settings().idempotency_table_name or _table()


def idempotency_key(record_key: str) -> dict[str, Any]:
    return _key(f"IDEMPOTENCY#{record_key}", "IDEMPOTENCY")


# ---- audit trail ----
# pk `AUDIT#<patient id>`, sk `<ISO time>#<request id>`: who (user id, role, clinic), what (action, method,
# route), when, status and request id of every access to a patient. Never PHI: no names, bodies or query
# strings. Removed by TTL through `expires_at` after the retention the template sets.

_AUDIT_META = ("pk", "sk", "expires_at")


def put_audit_events(events: Sequence[Mapping[str, Any]], expires_at: int) -> None:
    """One PutItem for one patient; BatchWriteItem (retrying unprocessed items) for a listed page."""
    items = [
        _item({**e, "pk": f"AUDIT#{e['patient_id']}", "sk": f"{e['at']}#{e['request_id']}", "expires_at": expires_at})
        for e in events
    ]
    if len(items) == 1:
        dynamodb().put_item(TableName=_table(), Item=items[0])
    elif items:
        batch_write([{"PutRequest": {"Item": i}} for i in items])


def audit_events(patient_id: int, *, since: str | None = None, newest_first: bool = False) -> Iterator[dict[str, Any]]:
    """A patient's audit events in time order (from `since`, an ISO time, when given)."""
    after = since if not newest_first else None
    for item in _query(f"AUDIT#{patient_id}", after=after, forward=not newest_first, consistent=True):
        for attribute in _AUDIT_META:
            item.pop(attribute, None)
        yield item
