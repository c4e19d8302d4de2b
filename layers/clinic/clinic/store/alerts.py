"""Alerts (clinic.alerts): the alert items, each patient's open slots (one unresolved alert per rule), the
inbox entries, the clinics' alert rules, the day means the rules read, and the outbox of alert events. Their
keys are in `keys` (rows "alert" to "outbox event" of docs/data-model.md).

The functions named `*_items` return transaction actions and write nothing: the caller puts them into the one
transaction that records the trigger, so a request that succeeded never leaves an alert unwritten.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from clinic.store import keys, table
from clinic.store.errors import ConditionFailed, NewKeyTaken
from clinic.store.keys import clinic_inbox as clinic_inbox
from clinic.store.keys import inbox_sk as inbox_sk
from clinic.store.keys import patient_inbox as patient_inbox
from clinic.store.keys import user_inbox as user_inbox
from clinic.store.patients import patient_from

if TYPE_CHECKING:
    from clinic.store.items import AlertItem, AlertRuleItem, InboxEntry, OpenSlot, OutboxEvent, PatientItem

PRIORITY_RANK = keys.PRIORITY_RANK
OPEN, RESOLVED = "open", "resolved"  # inbox partitions: `open` holds open and acknowledged alerts
OUTBOX_SHARDS = 8
ITEMS_PER_NEW_ALERT = 6  # slot, alert, clinic and patient inbox entries, outbox; plus one entry per member
_KEYS = ("pk", "sk")


def _without_keys(item: dict[str, Any]) -> dict[str, Any]:
    for attribute in _KEYS:
        item.pop(attribute, None)
    return item


# ---- inboxes ----


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


def inbox(partition: str, *, priority: str | None, after: str | None, limit: int) -> Iterator[InboxEntry]:
    """Entries of one inbox in its order (priority, then oldest), after a sort key, of one priority if asked."""
    fields = ("sk", "alert_id", "patient_id")
    if priority is None:
        items = table.query(keys.Partition(partition), after=after, limit=limit, projection=fields)
    else:
        rank = keys.inbox_sk(priority)
        low = max(rank, after + "!") if after else rank  # every later key sorts at or above after + "!"
        items = table.query(keys.Partition(partition), between=(low, rank + "~"), limit=limit, projection=fields)
    return cast("Iterator[InboxEntry]", items)


def member_entry_writes(
    patient_id: int, user_id: int, slots: Mapping[str, OpenSlot], present: bool
) -> list[dict[str, Any]]:
    """A care-team member joins or leaves: their open inbox gains or loses the patient's unresolved alerts."""
    writes = []
    partition = user_inbox(user_id, OPEN)
    for slot in slots.values():
        alert = {
            "id": int(slot["alert_id"]),
            "patient_id": patient_id,
            "priority": slot["priority"],
            "opened_at": slot["opened_at"],
        }
        entry = _entry(partition, alert)
        writes.append(table.put_action(entry) if present else table.delete_action(keys.Key(entry["pk"], entry["sk"])))
    return writes


# ---- alerts and their slots ----


def outbox_item(alert: Mapping[str, Any], event: str, at: str) -> OutboxEvent:
    """What an event says: ids and priority, never PHI (no names, no values, no notes, not even the rule)."""
    pk, sk = keys.outbox(alert["id"] % OUTBOX_SHARDS, at, alert["id"], event)
    return {
        "pk": pk,
        "sk": sk,
        "event": event,
        "alert_id": alert["id"],
        "patient_id": alert["patient_id"],
        "clinic_id": alert["clinic_id"],
        "priority": alert["priority"],
        "at": at,
    }


def patient_epoch_item(patient: Mapping[str, Any]) -> dict[str, Any]:
    """Moves the patient's `alert_epoch` if its care team is still the one read (its version).

    The inbox entries of an alert follow the care team; a care-team change that lands between reading the
    team and writing the entries would leave a member without them. Both writes condition on what the other
    moves (the version here, `alert_epoch` there: store.patients.set_care_team_member), so one of two racing
    writes fails and retries with the other's result. `alert_epoch` is not the patient's version: an alert
    does not change the patient's ETag.
    """
    return table.update_action(
        keys.patient(patient["id"]),
        "ADD #epoch :one",
        condition="#version = :version",
        names={"#epoch": "alert_epoch", "#version": "version"},
        values={":one": 1, ":version": patient["version"]},
    )


def open_items(alert: Mapping[str, Any], members: Sequence[int], patient: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A new alert: its slot (which must not exist), the alert, its open inbox entries and its outbox item.
    The caller adds `patient_epoch_item(patient)` once per transaction."""
    slot = {
        **keys.open_alert(alert["patient_id"], alert["rule"])._asdict(),
        "alert_id": alert["id"],
        "priority": alert["priority"],
        "opened_at": alert["opened_at"],
    }
    return [
        table.put_action(slot, condition="attribute_not_exists(pk)"),
        table.put_action({**alert, **keys.alert(alert["id"])._asdict()}, condition="attribute_not_exists(pk)"),
        *(table.put_action(_entry(p, alert)) for p in inbox_partitions(alert, members, OPEN)),
        table.put_action(outbox_item(alert, "alert.opened", alert["opened_at"])),
    ]


def occurrence_items(
    patient_id: int, rule: str, alert_id: int, trigger: Mapping[str, Any], at: str
) -> list[dict[str, Any]]:
    """One more trigger of an unresolved alert: counted on the alert, while the slot still names it."""
    return [
        table.check_action(keys.open_alert(patient_id, rule), "alert_id = :id", {":id": alert_id}),
        table.update_action(
            keys.alert(alert_id),
            "ADD occurrences :one, #version :one SET last_triggered_at = :at, #trigger = :trigger",
            condition="attribute_exists(pk) AND #status <> :resolved",
            names={"#version": "version", "#trigger": "trigger", "#status": "status"},
            values={":one": 1, ":at": at, ":trigger": dict(trigger), ":resolved": RESOLVED},
        ),
    ]


def slot_key(patient_id: int, rule: str) -> tuple[str, str]:
    return keys.open_alert(patient_id, rule)


def slots_in(patient_id: int, read: Mapping[tuple[str, str], Mapping[str, Any]]) -> dict[str, OpenSlot]:
    """The patient's open slots among items read by key (with the latest entries), by rule."""
    partition = keys.open_alert(patient_id).pk
    return {sk: _slot(item) for (pk, sk), item in read.items() if pk == partition}


def patient_of(item: Mapping[str, Any]) -> PatientItem:
    """A patient item read by key along with the slots, as store.get_patient gives it."""
    return patient_from(dict(item))


def items_by_key(item_keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Items of some keys (a write's slots, and the patient), by key: one consistent BatchGetItem."""
    return {(i["pk"], i["sk"]): i for i in table.batch_get(item_keys)}


def open_slots(patient_id: int) -> dict[str, OpenSlot]:
    """The patient's unresolved alerts by rule (few: one per rule at most), read consistently."""
    return {s["sk"]: _slot(s) for s in table.query(keys.open_alert(patient_id).partition, consistent=True)}


def _slot(item: Mapping[str, Any]) -> OpenSlot:
    return {"alert_id": int(item["alert_id"]), "priority": item["priority"], "opened_at": item["opened_at"]}


def get_alert(alert_id: int) -> AlertItem | None:
    item = table.get(keys.alert(alert_id), consistent=True)
    return cast("AlertItem", _without_keys(item)) if item else None


def get_alerts_and_patients(
    alert_ids: Sequence[int], patient_ids: Sequence[int]
) -> tuple[dict[int, AlertItem], dict[int, PatientItem]]:
    """The alerts and the patients an inbox page names, in one BatchGetItem (the entries name both)."""
    alert_keys = [keys.alert(a) for a in dict.fromkeys(alert_ids)]
    patient_keys = [keys.patient(p) for p in dict.fromkeys(patient_ids)]
    alerts: dict[int, AlertItem] = {}
    patients: dict[int, PatientItem] = {}
    for item in table.batch_get([*alert_keys, *patient_keys]):
        if keys.is_alert((item["pk"], item["sk"])):
            alert = cast("AlertItem", _without_keys(item))
            alerts[alert["id"]] = alert
        else:
            patient = patient_from(item)
            patients[patient["id"]] = patient
    return alerts, patients


def acknowledge(alert: Mapping[str, Any], user_id: int, at: str) -> None:
    """Open -> acknowledged, only from the version read (ConditionFailed: it changed meanwhile)."""
    table.update(
        keys.alert(alert["id"]),
        "SET #status = :acknowledged, acknowledged_at = :at, acknowledged_by = :user ADD #version :one",
        condition="#version = :version AND #status = :open",
        names={"#status": "status", "#version": "version"},
        values={
            ":acknowledged": "acknowledged",
            ":open": OPEN,
            ":at": at,
            ":user": user_id,
            ":one": 1,
            ":version": alert["version"],
        },
    )


def resolve(
    alert: Mapping[str, Any], patient: Mapping[str, Any], members: Sequence[int], user_id: int, note: str, at: str
) -> None:
    """Resolved, in one transaction: the alert (from the version read), its slot freed, its entries moved
    from the open inboxes to the resolved ones, and its outbox item."""
    update = table.update_action(
        keys.alert(alert["id"]),
        "SET #status = :resolved, resolved_at = :at, resolved_by = :user, resolution_note = :note ADD #version :one",
        condition="#version = :version AND #status <> :resolved",
        names={"#status": "status", "#version": "version"},
        values={
            ":resolved": RESOLVED,
            ":at": at,
            ":user": user_id,
            ":note": note,
            ":one": 1,
            ":version": alert["version"],
        },
    )
    slot = table.delete_action(
        keys.open_alert(alert["patient_id"], alert["rule"]), condition="alert_id = :id", values={":id": alert["id"]}
    )
    entry_sk = inbox_sk(alert["priority"], alert["opened_at"], alert["id"])
    moves = [table.delete_action(keys.Key(p, entry_sk)) for p in inbox_partitions(alert, members, OPEN)]
    moves += [table.put_action(_entry(p, alert)) for p in inbox_partitions(alert, members, RESOLVED)]
    outbox = table.put_action(outbox_item(alert, "alert.resolved", at))
    table.transact([update, slot, *moves, outbox, patient_epoch_item(patient)])


# ---- clinic rules ----


# A clinic's rules are capped (clinic.alert_rules.MAX_RULES) by a counter item written in the same transaction as
# each rule: a count read before the write (a Query) let two racing creates both pass it.


def _count(clinic_id: int, change: int, below: int | None = None) -> dict[str, Any]:
    """ADD `change` to the clinic's rule counter, only while it is `below` when given. A missing counter is 0:
    the first ADD creates it (a clinic's first rule; rules stored before the counter are not in it, README)."""
    if below is None:
        return table.update_action(
            keys.alert_rule_count(clinic_id), "ADD rule_count :change", values={":change": change}
        )
    return table.update_action(
        keys.alert_rule_count(clinic_id),
        "ADD rule_count :change",
        condition="attribute_not_exists(rule_count) OR rule_count < :below",
        values={":change": change, ":below": below},
    )


def put_rule(rule: AlertRuleItem, max_rules: int) -> bool:
    """Stores a new rule and counts it, in one transaction: False (nothing written) when its clinic has
    `max_rules` already. ConditionFailed: another transaction held the counter meanwhile (retry)."""
    item = {**rule, **keys.alert_rule(rule["clinic_id"], rule["id"])._asdict()}
    try:
        table.transact(
            [
                table.put_action(item, condition="attribute_not_exists(pk)"),
                _count(rule["clinic_id"], 1, below=max_rules),
            ]
        )
    except ConditionFailed as error:
        if 0 in error.failed - error.conflicted:
            raise NewKeyTaken from None
        if 1 in error.failed - error.conflicted:
            return False
        raise
    return True


def clinic_rules(clinic_id: int) -> list[AlertRuleItem]:
    return [
        cast("AlertRuleItem", _without_keys(r))
        for r in table.query(keys.alert_rule(clinic_id).partition, consistent=True)
    ]


def delete_rule(clinic_id: int, rule_id: int) -> bool:
    """Deletes a rule and uncounts it, in one transaction: False (nothing written, the counter as it was) when the
    clinic has no such rule. ConditionFailed: another transaction held the rule or the counter meanwhile (retry)."""
    delete = table.delete_action(keys.alert_rule(clinic_id, rule_id), condition="attribute_exists(pk)")
    try:
        table.transact([delete, _count(clinic_id, -1)])
    except ConditionFailed as error:
        if 0 in error.failed - error.conflicted:
            return False
        raise
    return True


# ---- day means ----


def day_mean_items(patient_id: int, sums: Mapping[tuple[str, str], tuple[float, int]]) -> list[dict[str, Any]]:
    """ADD each (type, local day)'s sum and count: one action per day item, however many gauges it got."""
    return [
        table.update_action(
            keys.day_mean(patient_id, gauge_type, day),
            "ADD #sum :sum, #count :count",
            names={"#sum": "sum", "#count": "count"},
            values={":sum": total, ":count": count},
        )
        for (gauge_type, day), (total, count) in sorted(sums.items())
    ]


def day_means(patient_id: int, gauge_type: str, first_day: str, last_day: str) -> dict[str, tuple[float, int]]:
    """(sum, count) of each stored day in [first_day, last_day]: at most the days of the range."""
    partition = keys.day_mean(patient_id, gauge_type).partition
    return {
        d["sk"]: (float(d.get("sum", 0)), int(d.get("count", 0)))
        for d in table.query(partition, between=(first_day, last_day))
    }


def day_mean_writes(
    patient_id: int, days: Sequence[Mapping[str, Any]], empty: Sequence[tuple[str, str]]
) -> list[dict[str, Any]]:
    """BatchWriteItem requests that set days to what the summary job recomputed from the raw gauges."""
    writes = [
        table.put_request(
            {**keys.day_mean(patient_id, d["gauge_type"], d["day"])._asdict(), "sum": d["sum"], "count": d["count"]}
        )
        for d in days
    ]
    writes += [table.delete_request(keys.day_mean(patient_id, gauge_type, day)) for day, gauge_type in empty]
    return writes


# ---- the outbox ----


def transact(items: Sequence[dict[str, Any]]) -> None:
    table.transact(items)


def pending_events(shard: int, before: str) -> Iterator[OutboxEvent]:
    """Events of one outbox shard written before `before` (an ISO time) and not yet published."""
    return cast("Iterator[OutboxEvent]", table.query(keys.outbox(shard).partition, between=(keys.KEY_MIN, before)))


def event_published(event: Mapping[str, Any]) -> None:
    table.write(table.delete_action(keys.Key(event["pk"], event["sk"])))
