"""The table's alert items: their key formats (all of them here, next to the access patterns they serve, and
in docs/data-model.md) and the transaction items the domain adds to a gauge's or an assessment's write.

| item | pk | sk | serves |
|---|---|---|---|
| alert | `ALERT#<id>` | `ALERT` | acknowledge / resolve: one GetItem; a page of the inbox: one BatchGetItem |
| open slot | `OPENALERTS#<patient>` | `<rule>` | at most one unresolved alert per patient and rule |
| inbox entry | `INBOX#<CLINIC or USER or PATIENT>#<id>#<open or resolved>` | `<rank>#<opened_at>#<id12>` | inbox pages |
| clinic rule | `ALERTRULES#<clinic>` | `<id12>` | a clinic's rules: one Query; one rule: one GetItem |
| rule counter | `ALERTRULECOUNT#<clinic>` | `ALERTRULECOUNT` | the rule cap: changed in each rule's put or delete |
| day mean | `DAYMEAN#<patient>#<type>` | `<local day>` | a clinic rule reads at most `consecutive_days` of them |
| outbox | `OUTBOX#<shard 0-7>` | `<time>#<alert id12>#<event>` | events not yet published (the summary job drains) |

The functions named `*_items` return TransactWriteItems actions and write nothing: the caller puts them into
the one transaction that records the trigger, so a request that succeeded never leaves an alert unwritten.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from clinic import store
from clinic.settings import dynamodb

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2}
OPEN, RESOLVED = "open", "resolved"  # inbox partitions: `open` holds open and acknowledged alerts
OUTBOX_SHARDS = 8
ITEMS_PER_NEW_ALERT = 6  # slot, alert, clinic and patient inbox entries, outbox; plus one entry per member
ConditionFailed = store.ConditionFailed


# ---- keys ----


ALERT_SK = "ALERT"


def alert_key(alert_id: int) -> tuple[str, str]:
    return f"ALERT#{alert_id}", ALERT_SK


def slot_partition(patient_id: int) -> str:
    return f"OPENALERTS#{patient_id}"


def clinic_inbox(clinic_id: int, state: str) -> str:
    return f"INBOX#CLINIC#{clinic_id}#{state}"


def user_inbox(user_id: int, state: str) -> str:
    return f"INBOX#USER#{user_id}#{state}"


def patient_inbox(patient_id: int, state: str) -> str:
    return f"INBOX#PATIENT#{patient_id}#{state}"


def inbox_sk(priority: str, opened_at: str, alert_id: int) -> str:
    """Urgent first, then oldest first, then by id: the inbox's order is the sort key's."""
    return f"{PRIORITY_RANK[priority]}#{opened_at}#{alert_id:012d}"


def rule_partition(clinic_id: int) -> str:
    return f"ALERTRULES#{clinic_id}"


RULE_COUNT_SK = "ALERTRULECOUNT"


def rule_count_key(clinic_id: int) -> tuple[str, str]:
    return f"ALERTRULECOUNT#{clinic_id}", RULE_COUNT_SK


def day_mean_partition(patient_id: int, gauge_type: str) -> str:
    return f"DAYMEAN#{patient_id}#{gauge_type}"


def outbox_partition(shard: int) -> str:
    return f"OUTBOX#{shard}"


def _outbox_sk(at: str, alert_id: int, event: str) -> str:
    return f"{at}#{alert_id:012d}#{event}"


def _put(item: Mapping[str, Any], condition: str | None = None) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": store._table(), "Item": store._item(item)}
    if condition:
        put["ConditionExpression"] = condition
    return {"Put": put}


def _delete(pk: str, sk: str) -> dict[str, Any]:
    return {"Delete": {"TableName": store._table(), "Key": store._key(pk, sk)}}


# ---- alerts, slots and inbox entries ----


def inbox_partitions(alert: Mapping[str, Any], members: Sequence[int], state: str) -> list[str]:
    """Every inbox an alert is listed in: its clinic's, its patient's and each care-team member's."""
    return [
        clinic_inbox(alert["clinic_id"], state),
        patient_inbox(alert["patient_id"], state),
        *(user_inbox(uid, state) for uid in sorted(set(members))),
    ]


def _entry(partition: str, alert: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "pk": partition,
        "sk": inbox_sk(alert["priority"], alert["opened_at"], alert["id"]),
        "alert_id": alert["id"],
        "patient_id": alert["patient_id"],
    }


def outbox_item(alert: Mapping[str, Any], event: str, at: str) -> dict[str, Any]:
    """What an event says: ids and priority, never PHI (no names, no values, no notes, not even the rule)."""
    return {
        "pk": outbox_partition(alert["id"] % OUTBOX_SHARDS),
        "sk": _outbox_sk(at, alert["id"], event),
        "event": event,
        "alert_id": alert["id"],
        "patient_id": alert["patient_id"],
        "clinic_id": alert["clinic_id"],
        "priority": alert["priority"],
        "at": at,
    }


def _patient_epoch(patient: Mapping[str, Any]) -> dict[str, Any]:
    """Moves the patient's `alert_epoch` if its care team is still the one read (its version).

    The inbox entries of an alert follow the care team; a care-team change that lands between reading the
    team and writing the entries would leave a member without them. Both writes condition on what the other
    moves (the version here, `alert_epoch` there), so one of two racing writes fails and retries with the other's
    result. `alert_epoch` is not the patient's version: an alert does not change the patient's ETag.
    """
    pk, sk = store.patient_key(patient["id"])
    return {
        "Update": {
            "TableName": store._table(),
            "Key": store._key(pk, sk),
            "UpdateExpression": "ADD #epoch :one",
            "ConditionExpression": "#version = :version",
            "ExpressionAttributeNames": {"#epoch": "alert_epoch", "#version": "version"},
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":version": {"N": str(patient["version"])}},
        }
    }


def open_items(alert: Mapping[str, Any], members: Sequence[int], patient: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A new alert: its slot (which must not exist), the alert, its open inbox entries and its outbox item.
    The caller adds `patient_epoch_item(patient)` once per transaction."""
    slot = {
        "pk": slot_partition(alert["patient_id"]),
        "sk": alert["rule"],
        "alert_id": alert["id"],
        "priority": alert["priority"],
        "opened_at": alert["opened_at"],
    }
    pk, sk = alert_key(alert["id"])
    return [
        _put(slot, "attribute_not_exists(pk)"),
        _put({**alert, "pk": pk, "sk": sk}, "attribute_not_exists(pk)"),
        *(_put(_entry(p, alert)) for p in inbox_partitions(alert, members, OPEN)),
        _put(outbox_item(alert, "alert.opened", alert["opened_at"])),
    ]


def patient_epoch_item(patient: Mapping[str, Any]) -> dict[str, Any]:
    return _patient_epoch(patient)


def occurrence_items(patient_id: int, rule: str, alert_id: int, trigger: Mapping[str, Any], at: str) -> list[dict]:
    """One more trigger of an unresolved alert: counted on the alert, while the slot still names it."""
    pk, sk = alert_key(alert_id)
    return [
        {
            "ConditionCheck": {
                "TableName": store._table(),
                "Key": store._key(slot_partition(patient_id), rule),
                "ConditionExpression": "alert_id = :id",
                "ExpressionAttributeValues": {":id": {"N": str(alert_id)}},
            }
        },
        {
            "Update": {
                "TableName": store._table(),
                "Key": store._key(pk, sk),
                "UpdateExpression": "ADD occurrences :one, #version :one SET last_triggered_at = :at, #trigger = :trigger",
                "ConditionExpression": "attribute_exists(pk) AND #status <> :resolved",
                "ExpressionAttributeNames": {"#version": "version", "#trigger": "trigger", "#status": "status"},
                "ExpressionAttributeValues": {
                    ":one": {"N": "1"},
                    ":at": {"S": at},
                    ":trigger": store._value(dict(trigger)),
                    ":resolved": {"S": "resolved"},
                },
            }
        },
    ]


def slot_key(patient_id: int, rule: str) -> tuple[str, str]:
    return slot_partition(patient_id), rule


def slots_in(patient_id: int, read: Mapping[tuple[str, str], Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The patient's open slots among items read by key (with the latest entries), by rule."""
    partition = slot_partition(patient_id)
    return {sk: dict(item) for (pk, sk), item in read.items() if pk == partition}


def patient_of(item: dict[str, Any]) -> dict[str, Any]:
    """A patient item read by key along with the slots, as store.get_patient gives it."""
    return store._patient(dict(item)) or {}


def open_slots(patient_id: int) -> dict[str, dict[str, Any]]:
    """The patient's unresolved alerts by rule (few: one per rule at most), read consistently."""
    return {s["sk"]: s for s in store._query(slot_partition(patient_id), consistent=True)}


def get_alert(alert_id: int) -> dict[str, Any] | None:
    item = store._get(*alert_key(alert_id), consistent=True)
    return _alert(item) if item else None


def get_alerts_and_patients(
    alert_ids: Sequence[int], patient_ids: Sequence[int]
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """The alerts and the patients an inbox page names, in one BatchGetItem (the entries name both)."""
    alert_keys = [alert_key(a) for a in dict.fromkeys(alert_ids)]
    patient_keys = [store.patient_key(p) for p in dict.fromkeys(patient_ids)]
    alerts: dict[int, dict[str, Any]] = {}
    patients: dict[int, dict[str, Any]] = {}
    for item in store.batch_get([*alert_keys, *patient_keys]):
        if item["sk"] == ALERT_SK:
            alert = _alert(item)
            alerts[alert["id"]] = alert
        else:
            patient = store._patient(item)
            if patient:
                patients[patient["id"]] = patient
    return alerts, patients


def _alert(item: dict[str, Any]) -> dict[str, Any]:
    item.pop("pk", None)
    item.pop("sk", None)
    return item


def acknowledge(alert: Mapping[str, Any], user_id: int, at: str) -> None:
    """Open -> acknowledged, only from the version read (ConditionFailed: it changed meanwhile)."""
    pk, sk = alert_key(alert["id"])
    try:
        dynamodb().update_item(
            TableName=store._table(),
            Key=store._key(pk, sk),
            UpdateExpression="SET #status = :acknowledged, acknowledged_at = :at, acknowledged_by = :user "
            "ADD #version :one",
            ConditionExpression="#version = :version AND #status = :open",
            ExpressionAttributeNames={"#status": "status", "#version": "version"},
            ExpressionAttributeValues={
                ":acknowledged": {"S": "acknowledged"},
                ":open": {"S": "open"},
                ":at": {"S": at},
                ":user": {"N": str(user_id)},
                ":one": {"N": "1"},
                ":version": {"N": str(alert["version"])},
            },
        )
    except ClientError as error:
        if store._cancelled_by_condition(error):
            raise ConditionFailed from None
        raise


def resolve(
    alert: Mapping[str, Any], patient: Mapping[str, Any], members: Sequence[int], user_id: int, note: str, at: str
) -> None:
    """Resolved, in one transaction: the alert (from the version read), its slot freed, its entries moved
    from the open inboxes to the resolved ones, and its outbox item."""
    pk, sk = alert_key(alert["id"])
    update = {
        "Update": {
            "TableName": store._table(),
            "Key": store._key(pk, sk),
            "UpdateExpression": "SET #status = :resolved, resolved_at = :at, resolved_by = :user, "
            "resolution_note = :note ADD #version :one",
            "ConditionExpression": "#version = :version AND #status <> :resolved",
            "ExpressionAttributeNames": {"#status": "status", "#version": "version"},
            "ExpressionAttributeValues": {
                ":resolved": {"S": "resolved"},
                ":at": {"S": at},
                ":user": {"N": str(user_id)},
                ":note": {"S": note},
                ":one": {"N": "1"},
                ":version": {"N": str(alert["version"])},
            },
        }
    }
    slot = {
        "Delete": {
            "TableName": store._table(),
            "Key": store._key(slot_partition(alert["patient_id"]), alert["rule"]),
            "ConditionExpression": "alert_id = :id",
            "ExpressionAttributeValues": {":id": {"N": str(alert["id"])}},
        }
    }
    entry_sk = inbox_sk(alert["priority"], alert["opened_at"], alert["id"])
    moves = [_delete(p, entry_sk) for p in inbox_partitions(alert, members, OPEN)]
    moves += [_put(_entry(p, alert)) for p in inbox_partitions(alert, members, RESOLVED)]
    store._transact([update, slot, *moves, _put(outbox_item(alert, "alert.resolved", at)), _patient_epoch(patient)])


def inbox(partition: str, *, priority: str | None, after: str | None, limit: int) -> Iterator[dict[str, Any]]:
    """Entries of one inbox in its order (priority, then oldest), after a sort key, of one priority if asked."""
    if priority is not None:
        rank = f"{PRIORITY_RANK[priority]}#"
        low = max(rank, after + "!") if after else rank  # every later key sorts at or above after + "!"
        return store._between(store._Partition("pk", partition, "sk"), low, rank + "~", limit=limit)
    return store._query(partition, after=after, limit=limit, projection="sk, alert_id, patient_id")


def member_entry_writes(
    patient_id: int, user_id: int, slots: Mapping[str, Mapping[str, Any]], present: bool, clinic_id: int
) -> list[dict[str, Any]]:
    """A care-team member joins or leaves: their open inbox gains or loses the patient's unresolved alerts."""
    writes = []
    for slot in slots.values():
        alert = {
            "id": int(slot["alert_id"]),
            "patient_id": patient_id,
            "clinic_id": clinic_id,
            "priority": slot["priority"],
            "opened_at": slot["opened_at"],
        }
        partition = user_inbox(user_id, OPEN)
        writes.append(_put(_entry(partition, alert)) if present else _delete(partition, _entry(partition, alert)["sk"]))
    return writes


# ---- clinic rules ----


# A clinic's rules are capped (clinic.alert_rules.MAX_RULES) by a counter item written in the same transaction as
# each rule: a count read before the write (a Query) let two racing creates both pass it.


def _count(clinic_id: int, change: int, below: int | None = None) -> dict[str, Any]:
    """ADD `change` to the clinic's rule counter, only while it is `below` when given. A missing counter is 0:
    the first ADD creates it (a clinic's first rule; rules stored before the counter are not in it, README)."""
    update: dict[str, Any] = {
        "TableName": store._table(),
        "Key": store._key(*rule_count_key(clinic_id)),
        "UpdateExpression": "ADD rule_count :change",
        "ExpressionAttributeValues": {":change": {"N": str(change)}},
    }
    if below is not None:
        update["ConditionExpression"] = "attribute_not_exists(rule_count) OR rule_count < :below"
        update["ExpressionAttributeValues"][":below"] = {"N": str(below)}
    return {"Update": update}


def put_rule(rule: Mapping[str, Any], max_rules: int) -> bool:
    """Stores a new rule and counts it, in one transaction: False (nothing written) when its clinic has
    `max_rules` already. ConditionFailed: another transaction held the counter meanwhile (retry)."""
    item = {**rule, "pk": rule_partition(rule["clinic_id"]), "sk": f"{rule['id']:012d}"}
    try:
        store._transact([_put(item, "attribute_not_exists(pk)"), _count(rule["clinic_id"], 1, below=max_rules)])
    except store.ConditionFailed as error:
        if 0 in error.failed - error.conflicted:
            raise store.NewKeyTaken from None
        if 1 in error.failed - error.conflicted:
            return False
        raise
    return True


def clinic_rules(clinic_id: int) -> list[dict[str, Any]]:
    return [_alert(r) for r in store._query(rule_partition(clinic_id), consistent=True)]


def delete_rule(clinic_id: int, rule_id: int) -> bool:
    """Deletes a rule and uncounts it, in one transaction: False (nothing written, the counter as it was) when the
    clinic has no such rule. ConditionFailed: another transaction held the rule or the counter meanwhile (retry)."""
    key = store._key(rule_partition(clinic_id), f"{rule_id:012d}")
    delete = {"Delete": {"TableName": store._table(), "Key": key, "ConditionExpression": "attribute_exists(pk)"}}
    try:
        store._transact([delete, _count(clinic_id, -1)])
    except store.ConditionFailed as error:
        if 0 in error.failed - error.conflicted:
            return False
        raise
    return True


# ---- day means ----


def day_mean_items(patient_id: int, sums: Mapping[tuple[str, str], tuple[float, int]]) -> list[dict[str, Any]]:
    """ADD each (type, local day)'s sum and count: one action per day item, however many gauges it got."""
    return [
        {
            "Update": {
                "TableName": store._table(),
                "Key": store._key(day_mean_partition(patient_id, gauge_type), day),
                "UpdateExpression": "ADD #sum :sum, #count :count",
                "ExpressionAttributeNames": {"#sum": "sum", "#count": "count"},
                "ExpressionAttributeValues": {":sum": store._value(total), ":count": {"N": str(count)}},
            }
        }
        for (gauge_type, day), (total, count) in sorted(sums.items())
    ]


def day_means(patient_id: int, gauge_type: str, first_day: str, last_day: str) -> dict[str, tuple[float, int]]:
    """(sum, count) of each stored day in [first_day, last_day]: at most the days of the range."""
    partition = store._Partition("pk", day_mean_partition(patient_id, gauge_type), "sk")
    return {
        d["sk"]: (float(d.get("sum", 0)), int(d.get("count", 0)))
        for d in store._between(partition, first_day, last_day)
    }


def day_mean_writes(patient_id: int, days: Sequence[Mapping[str, Any]], empty: Sequence[tuple[str, str]]) -> list:
    """BatchWriteItem requests that set days to what the summary job recomputed from the raw gauges."""
    writes: list[dict[str, Any]] = [
        {
            "PutRequest": {
                "Item": store._item(
                    {
                        "pk": day_mean_partition(patient_id, d["gauge_type"]),
                        "sk": d["day"],
                        "sum": d["sum"],
                        "count": d["count"],
                    }
                )
            }
        }
        for d in days
    ]
    writes += [
        {"DeleteRequest": {"Key": store._key(day_mean_partition(patient_id, gauge_type), day)}}
        for day, gauge_type in empty
    ]
    return writes


# ---- outbox ----


def transact(items: Sequence[dict[str, Any]]) -> None:
    store._transact(items)


def pending_events(shard: int, before: str) -> Iterator[dict[str, Any]]:
    """Events of one outbox shard written before `before` (an ISO time) and not yet published."""
    return store._between(store._Partition("pk", outbox_partition(shard), "sk"), store.KEY_MIN, before)


def event_published(event: Mapping[str, Any]) -> None:
    dynamodb().delete_item(TableName=store._table(), Key=store._key(event["pk"], event["sk"]))
