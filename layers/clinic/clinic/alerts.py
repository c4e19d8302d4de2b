"""Alerts: what tells the care team that something needs a clinician's attention.

An alert is written in the same transaction as the gauge or assessment that triggers it (a 201 means the alert
exists). At most one unresolved alert per patient and rule: its slot item (`OPENALERTS#<patient>` / rule) is
created with the alert under `attribute_not_exists`; a later trigger finds the slot and adds to the alert's
`occurrences`. Racing triggers lose a condition, read the slots again and retry, so 20 concurrent triggers make
one alert with 20 occurrences. Each alert is listed (fan-out on write) in its clinic's, its patient's and each
care-team member's inbox, in priority-then-age order, so a caller's inbox reads grow with their own alerts.

The built-in rules on assessments are pure functions here; `AlertWrite` is what a gauge's or an assessment's
write joins to its transaction (clinic.latest.record, the one retry loop of that write).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from clinic import alert_events, clock, cursors, ids, latest, retries, store
from clinic.access import STAFF_ROLES, Action, Caller, list_scopes, may_access
from clinic.errors import AlertNotFound, AlertResolved, Forbidden, StorageUnavailable
from clinic.store import alerts as alert_store

if TYPE_CHECKING:
    from clinic.store.items import AlertItem, InboxEntry, OutboxEvent, PatientItem

PRIORITIES = tuple(alert_store.PRIORITY_RANK)
STATUSES = {
    "open": (alert_store.OPEN,),
    "resolved": (alert_store.RESOLVED,),
    "all": (alert_store.OPEN, alert_store.RESOLVED),
}
ATTEMPTS = latest.MAX_ATTEMPTS  # racing triggers of one rule: each round at least one of them lands
MAX_TRANSACTION = 100


# ---- the built-in rules (API.md "Alerts"), pure ----

SELF_HARM_ITEM = 9  # PHQ-9 item 9: thoughts that you would be better off dead, or of hurting yourself
SEVERE_TOTAL = {"phq9": 20, "gad7": 15}
WORSENING_POINTS = {"phq9": 5, "gad7": 4}
BUILT_IN_PRIORITY = {"self_harm_risk": "urgent", "severe_score": "high", "worsening": "high"}


def self_harm_risk(instrument: str, answers: Sequence[int]) -> bool:
    """A PHQ-9 whose item 9 is answered 1 or more."""
    return instrument == "phq9" and len(answers) >= SELF_HARM_ITEM and answers[SELF_HARM_ITEM - 1] >= 1


def severe_score(instrument: str, total: int) -> bool:
    """A PHQ-9 total of 20+ or a GAD-7 total of 15+."""
    return instrument in SEVERE_TOTAL and total >= SEVERE_TOTAL[instrument]


def worsening(instrument: str, total: int, previous_total: int | None) -> bool:
    """A PHQ-9 total 5+ points, or a GAD-7 total 4+ points, above the patient's previous one of that instrument."""
    if previous_total is None or instrument not in WORSENING_POINTS:
        return False
    return total - previous_total >= WORSENING_POINTS[instrument]


def built_in_rules(instrument: str, answers: Sequence[int], total: int, previous_total: int | None) -> list[str]:
    """The built-in rules an assessment fires, most urgent first."""
    fired = []
    if self_harm_risk(instrument, answers):
        fired.append("self_harm_risk")
    if severe_score(instrument, total):
        fired.append("severe_score")
    if worsening(instrument, total, previous_total):
        fired.append("worsening")
    return fired


# ---- writing alerts with their trigger ----


class Trigger(NamedTuple):
    rule: str  # a built-in rule's name, or `alert_rule:<id>`
    priority: str
    kind: str  # "assessment" or "gauge"
    id: int


class Plan:
    """The transaction items that write a trigger's alerts, and the events to publish once they are written."""

    __slots__ = ("events", "items", "opened")

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.events: list[OutboxEvent] = []
        self.opened: list[int] = []  # ids of the alerts this plan opens


def plan(
    patient: Mapping[str, Any],
    triggers: Sequence[Trigger],
    at: str,
    slots: Mapping[str, Mapping[str, Any]] | None = None,
) -> Plan:
    """Items that open an alert per trigger, or add an occurrence to the rule's unresolved one.

    `slots`: the patient's open slots if the caller has read them already (else one Query). At most one trigger
    per rule (the first), since a transaction may not touch one item twice.
    """
    result = Plan()
    if not triggers:
        return result
    slots = alert_store.open_slots(patient["id"]) if slots is None else slots
    members = [int(uid) for uid in patient.get("care_team") or {}]
    seen: set[str] = set()
    for trigger in triggers:
        if trigger.rule in seen:
            continue
        seen.add(trigger.rule)
        cause = {"type": trigger.kind, "id": trigger.id}
        slot = slots.get(trigger.rule)
        if slot is not None:
            result.items += alert_store.occurrence_items(patient["id"], trigger.rule, int(slot["alert_id"]), cause, at)
            continue
        alert = {
            "id": ids.next_id("alert"),
            "clinic_id": patient["clinic_id"],
            "patient_id": patient["id"],
            "rule": trigger.rule,
            "priority": trigger.priority,
            "status": "open",
            "trigger": cause,
            "occurrences": 1,
            "opened_at": at,
            "last_triggered_at": at,
            "version": 1,
        }
        result.items += alert_store.open_items(alert, members, patient)
        result.events.append(alert_store.outbox_item(alert, "alert.opened", at))
        result.opened.append(alert["id"])
    if result.opened:
        result.items.append(alert_store.patient_epoch_item(patient))
    return result


def assessment_triggers(assessment: Mapping[str, Any], previous_total: int | None) -> list[Trigger]:
    """The built-in rules an assessment (`id`, `instrument`, `answers`, `total`) fires, given the total of the
    patient's previous assessment of that instrument (None for the first)."""
    fired = built_in_rules(assessment["instrument"], assessment["answers"], int(assessment["total"]), previous_total)
    return [Trigger(rule, BUILT_IN_PRIORITY[rule], "assessment", int(assessment["id"])) for rule in fired]


def assessment_watches(assessment: Mapping[str, Any]) -> list[str]:
    """The built-in rules an assessment may fire, whatever the previous total: the slots to read before its write."""
    rules = built_in_rules(assessment["instrument"], assessment["answers"], int(assessment["total"]), None)
    return [*rules, "worsening"] if assessment["instrument"] in WORSENING_POINTS else rules


# What decides a write's triggers once its attempt has read the latest entries (an assessment's previous total).
TriggersOf = Callable[[Mapping[str, Mapping[str, Any]]], Sequence[Trigger]]


class AlertWrite:
    """The alert items of one trigger's write, planned afresh on every attempt of its transaction (a
    clinic.latest.Joined): from the open slots of the rules it watches, read in the same BatchGetItem as the
    latest entries, and, after a lost race (a care-team change moves the patient's version), the patient.
    A 201 then means the alert exists; `published()` sends the plan's events once the write landed."""

    def __init__(self, patient: Mapping[str, Any], at: str, watched: Sequence[str], triggers_of: TriggersOf) -> None:
        self.patient = patient
        self.at = at
        self.watched = list(dict.fromkeys(watched))
        self.triggers_of = triggers_of
        self.plan = Plan()
        self.attempts = 0

    def keys(self) -> list[tuple[str, str]]:
        if not self.watched:
            return []
        keys = [alert_store.slot_key(self.patient["id"], rule) for rule in self.watched]
        return [*keys, store.patient_key(self.patient["id"])] if self.attempts else keys

    def items(
        self, entries: Mapping[str, Mapping[str, Any]], read: Mapping[tuple[str, str], dict[str, Any]]
    ) -> list[dict[str, Any]]:
        self.attempts += 1
        fresh = read.get(store.patient_key(self.patient["id"]))
        if fresh is not None:
            self.patient = alert_store.patient_of(fresh)
        slots = alert_store.slots_in(self.patient["id"], read)
        self.plan = plan(self.patient, self.triggers_of(entries), self.at, slots)
        return self.plan.items

    def published(self) -> None:
        """Publishes the written plan's events now; one that fails stays in the outbox for the summary job."""
        alert_events.publish(self.plan.events)


def write_alone(alerting: AlertWrite) -> None:
    """Writes the alerts of a trigger already stored (a gauge batch too large to share its transaction), in a
    transaction of their own, retried (bounded) while another trigger or a care-team change wins a race."""
    for _ in retries.attempts(ATTEMPTS):
        read = alert_store.items_by_key(alerting.keys())
        items = alerting.items({}, read)
        if not items:
            return
        try:
            alert_store.transact(items)
        except store.ConditionFailed:
            continue
        alerting.published()
        return
    raise StorageUnavailable


# ---- clinic rules' day means ----


def meets(operator: str, threshold: float, total: float, count: int) -> bool:
    """Whether a day's mean (total / count) meets the rule, compared without division (exact in Decimal)."""
    if count <= 0:
        return False
    scaled = Decimal(repr(float(threshold))) * count
    exact = Decimal(repr(float(total)))
    return exact >= scaled if operator == ">=" else exact <= scaled


# ---- reading ----


def present(alert: Mapping[str, Any]) -> dict[str, Any]:
    trigger = alert.get("trigger") or {}
    return {
        "id": int(alert["id"]),
        "patient_id": int(alert["patient_id"]),
        "rule": alert["rule"],
        "priority": alert["priority"],
        "status": alert["status"],
        "trigger": {"type": trigger.get("type"), "id": int(trigger["id"]) if trigger.get("id") is not None else None},
        "occurrences": int(alert["occurrences"]),
        "opened_at": alert["opened_at"],
        "last_triggered_at": alert["last_triggered_at"],
        "acknowledged_at": alert.get("acknowledged_at"),
        "acknowledged_by": int(alert["acknowledged_by"]) if alert.get("acknowledged_by") is not None else None,
        "resolved_at": alert.get("resolved_at"),
        "resolved_by": int(alert["resolved_by"]) if alert.get("resolved_by") is not None else None,
        "resolution_note": alert.get("resolution_note"),
    }


def require_staff(caller: Caller, _path_value: str = "") -> None:
    """Alerts are for the care team: a patient user never sees them (403 action; also a route guard)."""
    if caller.role not in STAFF_ROLES:
        raise Forbidden


def _partitions(caller: Caller, patient: Mapping[str, Any] | None, states: Sequence[str]) -> list[str]:
    if patient is not None:
        return [alert_store.patient_inbox(patient["id"], s) for s in states]
    scopes = list_scopes(caller)
    if scopes is None:
        return [alert_store.clinic_inbox(caller.clinic_id, s) for s in states]
    return [alert_store.user_inbox(uid, s) for uid in scopes for s in states]


def _merged(streams: list[Iterator[InboxEntry]]) -> Iterator[InboxEntry]:
    """One order across inboxes; an alert in two merged inboxes (a supervisor's and a provider's) once."""
    last = None
    for entry in heapq.merge(*streams, key=lambda e: e["sk"]) if len(streams) > 1 else streams[0]:
        if entry["sk"] != last:
            last = entry["sk"]
            yield entry


def list_alerts(
    caller: Caller,
    *,
    patient: Mapping[str, Any] | None = None,
    status: str,
    priority: str | None,
    page_size: int,
    cursor: str | None,
) -> dict[str, Any]:
    """A page of the caller's alerts (or one patient's): priority (urgent first), then oldest first."""
    require_staff(caller)
    states = STATUSES[status]
    query = cursors.digest("alerts", patient["id"] if patient else None, status, priority)
    after, page = None, 1
    if cursor:
        previous_page, anchor_id = cursors.decode(cursor, query)
        anchor = alert_store.get_alert(anchor_id) if isinstance(anchor_id, int) else None
        if anchor is None or anchor["clinic_id"] != caller.clinic_id:
            raise cursors.invalid()
        after, page = alert_store.inbox_sk(anchor["priority"], anchor["opened_at"], anchor["id"]), previous_page + 1
    streams = [
        alert_store.inbox(p, priority=priority, after=after, limit=page_size + 1)
        for p in _partitions(caller, patient, states)
    ]
    entries = _merged(streams)
    rows: list[AlertItem] = []
    patients: dict[int, Mapping[str, Any]] = {patient["id"]: patient} if patient else {}
    exhausted = False
    # Entries are re-checked against the alerts and patients they name (a change between the two writes, or
    # an access that moved): read a page at a time until the page is full or the inboxes end.
    for _ in range(8):
        want = page_size + 1 - len(rows)
        batch = list(itertools.islice(entries, want))
        missing = {int(e["patient_id"]) for e in batch} - patients.keys()
        found, owners = alert_store.get_alerts_and_patients([int(e["alert_id"]) for e in batch], list(missing))
        patients |= owners
        for entry in batch:
            alert = found.get(int(entry["alert_id"]))
            owner = patients.get(int(entry["patient_id"]))
            if alert is None or owner is None or owner["clinic_id"] != caller.clinic_id:
                continue
            state = alert_store.RESOLVED if alert["status"] == "resolved" else alert_store.OPEN
            if state not in states:
                continue
            if patient is None and not may_access(caller, owner, Action.READ_ALERTS):
                continue
            rows.append(alert)
        if len(batch) < want:
            exhausted = True
            break
        if len(rows) > page_size:
            break
    has_more = len(rows) > page_size or not exhausted
    page_rows = rows[:page_size]
    last = has_more and page_rows and page < cursors.MAX_PAGE
    next_cursor = cursors.encode(page, int(page_rows[-1]["id"]), query) if last else None
    return {
        "alerts": [present(a) for a in page_rows],
        "meta": {"page_size": page_size, "has_more": has_more, "next_cursor": next_cursor},
    }


def alert_for(caller: Caller, alert_id: str) -> tuple[AlertItem, PatientItem]:
    """The alert and its patient, if the caller may act on them: 404 `Alert not found` when it is missing,
    in another clinic, or about a patient out of the caller's reach (no oracle of which)."""
    require_staff(caller)
    aid = ids.parse(alert_id)
    alert = alert_store.get_alert(aid) if aid is not None else None
    if alert is None or alert["clinic_id"] != caller.clinic_id:
        raise AlertNotFound
    patient = store.get_patient(int(alert["patient_id"]))
    if patient is None or not may_access(caller, patient, Action.READ_ALERTS):
        raise AlertNotFound
    return alert, patient


def acknowledge(caller: Caller, alert: Mapping[str, Any]) -> dict[str, Any]:
    """Open -> acknowledged; an acknowledged alert is returned unchanged; a resolved one is 409."""
    for attempt in retries.attempts(8):
        if attempt:  # the alert changed since it was read
            alert, _ = alert_for(caller, str(alert["id"]))
        if alert["status"] == "resolved":
            raise AlertResolved
        if alert["status"] == "acknowledged":
            return present(alert)
        at = clock.iso(clock.now())
        try:
            alert_store.acknowledge(alert, caller.user_id, at)
        except store.ConditionFailed:
            continue
        # The write was conditioned on the version read: what it stored is known, no read back.
        changes = {"status": "acknowledged", "acknowledged_at": at, "acknowledged_by": caller.user_id}
        return present({**alert, **changes, "version": int(alert["version"]) + 1})
    raise StorageUnavailable


def resolve(caller: Caller, alert: Mapping[str, Any], patient: Mapping[str, Any], note: str) -> dict[str, Any]:
    """Resolved with the clinician's note: the alert's slot is freed and its inbox entries move to `resolved`."""
    for attempt in retries.attempts(8):
        if attempt:  # the alert, or the patient's care team, changed since they were read
            alert, patient = alert_for(caller, str(alert["id"]))
        if alert["status"] == "resolved":
            raise AlertResolved
        members = [int(uid) for uid in patient.get("care_team") or {}]
        at = clock.iso(clock.now())
        try:
            alert_store.resolve(alert, patient, members, caller.user_id, note, at)
        except store.ConditionFailed:
            continue
        alert_events.publish([alert_store.outbox_item(alert, "alert.resolved", at)])
        # As for acknowledge: written from the version read, so what it stored is known.
        changes = {"status": "resolved", "resolved_at": at, "resolved_by": caller.user_id, "resolution_note": note}
        return present({**alert, **changes, "version": int(alert["version"]) + 1})
    raise StorageUnavailable
