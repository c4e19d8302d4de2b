"""Clinic rules on gauges: an admin's threshold on a gauge type's day mean over consecutive local days, and
their evaluation inside the request that records gauges.

A rule fires when each of the last `consecutive_days` calendar days (the patient's time zone, through the day
of the new gauge) has gauges of its type whose day mean meets `operator threshold`. Day means are kept per
(patient, type, local day) as a sum and a count (`DAYMEAN#`), added to in the gauges' own transaction and
re-derived by the summary job, so evaluating a rule reads at most `consecutive_days` day items, never the raw
history. The clinic's rules are one Query per gauge request.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfoNotFoundError

from clinic import alerts, care_teams, clock, gauges, ids, latest, retries, store
from clinic.access import Caller
from clinic.errors import AlertRuleNotFound, Forbidden, StorageUnavailable, ValidationFailed
from clinic.store import alerts as alert_store

if TYPE_CHECKING:
    from clinic.models.alert_rules import NewAlertRule
    from clinic.store.items import AlertRuleItem, GaugeItem

MAX_RULES = 50  # per clinic: a care-team change moves one inbox entry per rule and built-in rule in one transaction
ATTEMPTS = 8  # a rule change retried while another one of its clinic holds the counter (admins: rarely more than 2)


def present(rule: Mapping[str, Any]) -> dict[str, Any]:
    threshold = float(rule["threshold"])
    return {
        "id": int(rule["id"]),
        "gauge_type": rule["gauge_type"],
        "operator": rule["operator"],
        "threshold": int(threshold) if threshold.is_integer() else threshold,
        "consecutive_days": int(rule["consecutive_days"]),
        "priority": rule["priority"],
        "created_at": rule["created_at"],
    }


def rule_name(rule: Mapping[str, Any]) -> str:
    return f"alert_rule:{int(rule['id'])}"


def require_admin(caller: Caller, _path_value: str = "") -> None:
    """Clinic rules are managed by admins (a route guard: 403 before any validation)."""
    if caller.role != "admin":
        raise Forbidden


def create(caller: Caller, new: NewAlertRule) -> AlertRuleItem:
    """Adds a rule, counted against MAX_RULES in the rule's own write (two racing creates cannot both take the
    last place); retried while another rule change of the clinic holds its counter."""
    require_admin(caller)
    rule: AlertRuleItem = {
        "id": ids.next_id("alert_rule"),
        "clinic_id": caller.clinic_id,
        "gauge_type": new.gauge_type,
        "operator": new.operator,
        "threshold": new.threshold,
        "consecutive_days": new.consecutive_days,
        "priority": new.priority,
        "created_by": caller.user_id,
        "created_at": clock.iso(clock.now()),
    }
    for _ in retries.attempts(ATTEMPTS):
        with contextlib.suppress(store.ConditionFailed):
            if not alert_store.put_rule(rule, MAX_RULES):
                raise ValidationFailed({"alert_rule": [f"cannot be added: a clinic has at most {MAX_RULES} rules"]})
            return rule
    raise StorageUnavailable


def list_rules(caller: Caller) -> dict[str, Any]:
    alerts.require_staff(caller)
    return {"alert_rules": [present(r) for r in alert_store.clinic_rules(caller.clinic_id)]}


def delete(caller: Caller, rule_id: str) -> None:
    """Removes a rule (its open alerts stay); another clinic's rule is simply not found."""
    require_admin(caller)
    rid = ids.parse(rule_id)
    if rid is None:
        raise AlertRuleNotFound
    for _ in retries.attempts(ATTEMPTS):
        with contextlib.suppress(store.ConditionFailed):
            if not alert_store.delete_rule(caller.clinic_id, rid):
                raise AlertRuleNotFound
            return
    raise StorageUnavailable


# ---- evaluation on recorded gauges ----


def day_sums(patient: Mapping[str, Any], new: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], tuple[float, int]]:
    """(type, local day) -> (sum, count) of new gauges: what their transaction adds to the day means."""
    tz = gauges.zone(patient)
    sums: dict[tuple[str, str], tuple[float, int]] = {}
    for gauge in new:
        key = (gauge["gauge_type"], gauges.local_day(gauge["recorded_at"], tz).isoformat())
        total, count = sums.get(key, (0.0, 0))
        sums[key] = (total + float(gauge["value"]), count + 1)
    return sums


def day_mean_changes(patient: Mapping[str, Any], changed: Sequence[Mapping[str, Any]], sign: int = 1) -> list[dict]:
    """The transaction items that add gauges to their day means (`sign` -1: take deleted ones out of them)."""
    if sign < 0:
        # A stored gauge no day can be computed for (corrupt data the summary job sets aside) was never in a day
        # mean: deleting it must still work, and takes nothing out.
        changed = [g for g in changed if _placeable(patient, g)]
    sums = day_sums(patient, changed)
    return alert_store.day_mean_items(patient["id"], {k: (sign * t, sign * c) for k, (t, c) in sums.items()})


def _placeable(patient: Mapping[str, Any], gauge: Mapping[str, Any]) -> bool:
    try:
        gauges.local_day(gauge["recorded_at"], gauges.zone(patient))
        float(gauge["value"])
    except (KeyError, TypeError, ValueError, OverflowError, ZoneInfoNotFoundError):
        return False
    return True


def triggers(
    patient: Mapping[str, Any], recorded: Sequence[Mapping[str, Any]], rules: Sequence[Mapping[str, Any]]
) -> list[alerts.Trigger]:
    """The clinic rules the new gauges fire, each once (triggered by its newest qualifying gauge).

    Reads, per gauge type some rule watches, the stored day means of the days the rules look back over (one
    Query); the new gauges are not stored yet, so their sums are added here.
    """
    new = day_sums(patient, recorded)
    tz = gauges.zone(patient)
    local_day = gauges.local_day
    by_type: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for rule in rules:
        by_type[rule["gauge_type"]].append(rule)
    fired: list[alerts.Trigger] = []
    for gauge_type, watching in sorted(by_type.items()):
        typed = [g for g in recorded if g["gauge_type"] == gauge_type]
        if not typed:
            continue
        days = sorted({local_day(g["recorded_at"], tz) for g in typed})
        span = max(int(r["consecutive_days"]) for r in watching)
        stored = alert_store.day_means(
            patient["id"], gauge_type, (days[0] - timedelta(days=span - 1)).isoformat(), days[-1].isoformat()
        )
        for rule in sorted(watching, key=lambda r: int(r["id"])):
            need = int(rule["consecutive_days"])
            for day in reversed(days):
                window = [(day - timedelta(days=back)).isoformat() for back in range(need)]
                if all(_meets(rule, stored, new, gauge_type, d) for d in window):
                    newest = max(
                        (g for g in typed if local_day(g["recorded_at"], tz) == day),
                        key=lambda g: (g["recorded_at"], g["id"]),
                    )
                    fired.append(alerts.Trigger(rule_name(rule), rule["priority"], "gauge", int(newest["id"])))
                    break
    return fired


def _meets(
    rule: Mapping[str, Any],
    stored: Mapping[str, tuple[float, int]],
    new: Mapping[tuple[str, str], tuple[float, int]],
    gauge_type: str,
    day: str,
) -> bool:
    total, count = stored.get(day, (0.0, 0))
    added_total, added_count = new.get((gauge_type, day), (0.0, 0))
    return alerts.meets(rule["operator"], float(rule["threshold"]), total + added_total, count + added_count)


def rules_for(clinic_id: int, gauge_types: set[str]) -> list[AlertRuleItem]:
    """The clinic's rules on these gauge types (one Query of the clinic's few rules)."""
    return [r for r in alert_store.clinic_rules(clinic_id) if r["gauge_type"] in gauge_types]


def alert_items_bound(triggers: int) -> int:
    """The most transaction items `triggers` new alerts can take: each its slot, alert, clinic and patient inbox
    entries, outbox event and one entry per care-team member (at most MAX_MEMBERS), plus the patient's epoch."""
    return triggers * (alert_store.ITEMS_PER_NEW_ALERT + care_teams.MAX_MEMBERS) + (1 if triggers else 0)


def store_gauges(patient: Mapping[str, Any], recorded: Sequence[GaugeItem]) -> None:
    """Stores new gauges with their latest entries, day means and the alerts of the clinic rules they fire.

    One transaction when it fits in DynamoDB's 100 actions (always for a single gauge), retried as a whole by
    clinic.latest.record: a 201 then means the gauges, their latest entries, day means and alerts all exist. A
    batch too large for that (100 gauges fill a transaction on their own) writes the gauges (and their latest
    entries, as clinic.latest does for a full batch), then the day means (the summary job re-derives them, so a
    crash in between is repaired within one schedule), then each alert in a transaction of its own, all before
    the response.
    """
    rules = rules_for(patient["clinic_id"], {g["gauge_type"] for g in recorded})
    fired = triggers(patient, recorded, rules) if rules else []
    means = day_mean_changes(patient, recorded)
    at = recorded[0]["created_at"]
    types = {g["gauge_type"] for g in recorded}
    if len(recorded) + len(types) + len(means) + alert_items_bound(len(fired)) <= alerts.MAX_TRANSACTION:
        alerting = alerts.AlertWrite(patient, at, [t.rule for t in fired], lambda _entries: fired)
        latest.record(patient["id"], recorded, lambda also: store.put_gauges(recorded, [*means, *also]), alerting)
        alerting.published()
        return
    latest.record(patient["id"], recorded, lambda also: store.put_gauges(recorded, also))
    for start in range(0, len(means), alerts.MAX_TRANSACTION):
        alert_store.transact(means[start : start + alerts.MAX_TRANSACTION])
    for trigger in fired:
        alerts.write_alone(alerts.AlertWrite(patient, at, [trigger.rule], _always(trigger)))


def _always(trigger: alerts.Trigger) -> alerts.TriggersOf:
    """A trigger that does not depend on what its write reads (a clinic rule's, decided from day means)."""
    return lambda _entries: [trigger]
