"""Every key of the table and of its indexes: one builder per row of docs/data-model.md.

The only place a key format is spelled. Ids are zero-padded to 12 digits inside sort keys, so that string
order is numeric order. A builder whose last part is left out gives the prefix that part's items share (what
a `begins_with` query reads).
"""

from __future__ import annotations

from typing import Any, NamedTuple

PREFIX_MAX = 10  # name prefixes indexed for search; longer terms filter inside the 10-character bucket
SEP = "\x01"  # sorts before every printable character, so "doe" < "doe smith"
CHANGE_SHARDS = 8  # the Changes index spreads each hour's writes over this many partitions
KEY_MIN, KEY_MAX = "0", "9~"  # below and above every ISO time key


class Key(NamedTuple):
    """The primary key of one item."""

    pk: str
    sk: str

    @property
    def partition(self) -> Partition:
        """The table partition the item is in."""
        return Partition(self.pk)


class Partition(NamedTuple):
    """Where a query reads: one partition of the table or of an index, and its sort key."""

    value: str
    key: str = "pk"
    sort_key: str = "sk"
    index_name: str | None = None


def _id12(number: int) -> str:
    return f"{number:012d}"


def _status(active: bool) -> str:
    return "A" if active else "I"


# ---- id counters, clinics, users, tokens ----


def counter(kind: str) -> Key:
    return Key(f"COUNTER#{kind}", "COUNTER")


def clinic(clinic_id: int) -> Key:
    return Key(f"CLINIC#{clinic_id}", "CLINIC")


def user(user_id: int) -> Key:
    """The user item; its partition also holds the user's tokens and, for a supervisor, supervisions."""
    return Key(f"USER#{user_id}", "USER")


def token(token_hash: str) -> Key:
    return Key(f"TOKEN#{token_hash}", "TOKEN")


def user_token(user_id: int, token_hash: str = "") -> Key:
    """A token's entry under its user (without a hash: the prefix of all of them)."""
    return Key(user(user_id).pk, f"TOKEN#{token_hash}")


def token_hash_of(user_token_sk: str) -> str:
    return user_token_sk.removeprefix("TOKEN#")


def supervision(supervisor_id: int, provider_id: int | None = None) -> Key:
    """A provider under its supervisor (without a provider: the prefix of all of them)."""
    return Key(user(supervisor_id).pk, "SUPERVISES#" + (_id12(provider_id) if provider_id is not None else ""))


# ---- patients and their lists ----


def patient(patient_id: int) -> Key:
    return Key(f"PATIENT#{patient_id}", "PATIENT")


def patient_id_of(patient_pk: str) -> int:
    return int(patient_pk.removeprefix("PATIENT#"))


def email(clinic_id: int, address: str | None) -> str | None:
    """The patient's `email_pk` (index ByEmail): case-insensitive, per clinic; None without an email."""
    return f"EMAIL#{clinic_id}#{address.casefold()}" if address else None


def by_email(clinic_id: int, address: str) -> Partition:
    return Partition(email(clinic_id, address) or "", key="email_pk", index_name="ByEmail")


def namekey(last_name: str, first_name: str, patient_id: int) -> str:
    """The sort key of list entries: the contract's order (last name, first name, id)."""
    return f"{last_name.casefold()}{SEP}{first_name.casefold()}{SEP}{_id12(patient_id)}"


def clinic_list(clinic_id: int, active: bool, prefix: str) -> str:
    """Patient list entries: the clinic's list (prefix "") or those whose first or last name starts with prefix."""
    return f"PLIST#{clinic_id}#{_status(active)}#{prefix[:PREFIX_MAX]}"


def is_clinic_list(partition: str) -> bool:
    return partition.startswith("PLIST#")


def member_list(user_id: int, active: bool) -> str:
    """Care-team list entries: the patients on one user's care team (not bucketed by name)."""
    return f"MLIST#{user_id}#{_status(active)}"


# ---- gauges ----


def gauge_partition(patient_id: Any, gauge_type: Any) -> str:
    return f"GAUGE#{patient_id}#{gauge_type}"


def gauge_sk(recorded_at: str, gauge_id: int) -> str:
    """`<time>#<id12>`: the sort key of gauges and of assessments, in time order."""
    return f"{recorded_at}#{_id12(gauge_id)}"


def time_range(
    start: str | None, end: str | None, after: tuple[str, int] | None, newest_first: bool
) -> tuple[str, str]:
    """The [low, high] sort keys (`<time>#<id12>`, as gauges and assessments have) of the items timed in
    [start, end) (ISO times) that come after (time, id) in the listing's order."""
    low, high = start or KEY_MIN, end or KEY_MAX  # `end#...` sorts above `end`, so BETWEEN excludes it
    if after is not None:
        at, item_id = after
        if newest_first:
            high = min(high, gauge_sk(at, item_id - 1))
        else:
            low = max(low, gauge_sk(at, item_id + 1))
    return low, high


def gauge(patient_id: int, gauge_type: str, recorded_at: str, gauge_id: int) -> Key:
    return Key(gauge_partition(patient_id, gauge_type), gauge_sk(recorded_at, gauge_id))


def gauge_of(pk: str, sk: str) -> tuple[int, str, str]:
    """(patient id, gauge type, recorded_at) from a gauge's key."""
    _, patient_id, gauge_type = pk.split("#", 2)
    return int(patient_id), gauge_type, sk.rsplit("#", 1)[0]


def patient_gauges(patient_id: int) -> Partition:
    """Index PatientGauges: all of a patient's gauges, of every type, by time (attribute `all_pk`)."""
    return Partition(f"GAUGES#{patient_id}", key="all_pk", index_name="PatientGauges")


def gauge_by_id(gauge_id: int) -> Partition:
    """Index GaugeById (attribute `id_pk`): the key of a gauge from its id."""
    return Partition(f"GAUGEID#{gauge_id}", key="id_pk", index_name="GaugeById")


def gauge_indexes(patient_id: int, gauge_id: int) -> dict[str, str]:
    """The index attributes a gauge item carries besides its change keys."""
    return {"all_pk": patient_gauges(patient_id).value, "id_pk": gauge_by_id(gauge_id).value}


def change(changed_at: str, item_id: int) -> dict[str, str]:
    """Index Changes: a write or deletion listed under the hour it happened, in one of CHANGE_SHARDS shards."""
    return {
        "change_pk": changes(changed_at[:13], item_id % CHANGE_SHARDS).value,
        "change_sk": f"{changed_at}#{_id12(item_id)}",
    }


def changes(hour: str, shard: int) -> Partition:
    return Partition(f"CHANGES#{hour}#{shard}", key="change_pk", sort_key="change_sk", index_name="Changes")


def deleted_gauge(gauge_id: int) -> Key:
    """A gauge's tombstone: the summary job sees the deletion; gauge cursors keep their place."""
    return Key(f"DELETED#{gauge_id}", "DELETED")


def rezoned(patient_id: int) -> Key:
    """A patient's time zone changed: the summary job recomputes all of the patient's days."""
    return Key(f"REZONED#{patient_id}", "REZONED")


# ---- assessments ----


def assessment_partition(patient_id: int, instrument: str) -> str:
    return f"ASSESSMENT#{patient_id}#{instrument}"


def assessment(patient_id: int, instrument: str, completed_at: str, assessment_id: int) -> Key:
    return Key(assessment_partition(patient_id, instrument), gauge_sk(completed_at, assessment_id))


def is_assessment(pk: str) -> bool:
    return pk.startswith("ASSESSMENT#")


def patient_assessments(patient_id: int) -> Partition:
    """Index PatientGauges: all of a patient's assessments, of every instrument, by time (attribute `all_pk`)."""
    return Partition(f"ASSESSMENTS#{patient_id}", key="all_pk", index_name="PatientGauges")


def assessment_by_id(assessment_id: int) -> Partition:
    """Index GaugeById (attribute `id_pk`): the key of an assessment from its id."""
    return Partition(f"ASSESSMENTID#{assessment_id}", key="id_pk", index_name="GaugeById")


def assessment_indexes(patient_id: int, assessment_id: int) -> dict[str, str]:
    return {"all_pk": patient_assessments(patient_id).value, "id_pk": assessment_by_id(assessment_id).value}


def deleted_assessment(assessment_id: int) -> Key:
    """An assessment's deletion marker: a list cursor whose anchor was deleted keeps its place."""
    return Key(f"ASSESSMENTDELETED#{assessment_id}", "ASSESSMENTDELETED")


# ---- latest values ----


def latest(patient_id: int, gauge_type: str = "") -> Key:
    """A type's latest values (without a type: the patient's partition of them)."""
    return Key(f"LATEST#{patient_id}", gauge_type)


# ---- invitations and patient users ----


def invitation(code_hash: str) -> Key:
    return Key(f"INVITATION#{code_hash}", "INVITATION")


def patient_user(patient_id: int, user_id: int | None = None) -> Key:
    """A patient's user not yet ended (without a user: the patient's partition of them)."""
    return Key(f"PATIENTUSERS#{patient_id}", "USER#" + (_id12(user_id) if user_id is not None else ""))


# ---- summaries and jobs ----


def day_summary(patient_id: int, day: str, gauge_type: str = "") -> Key:
    """One type's summary of one local day (without a type: the prefix of that day's summaries)."""
    return Key(f"SUMMARY#{patient_id}", f"DAY#{day}#{gauge_type}")


def checkpoint(job: str) -> Key:
    return Key(f"JOB#{job}", "CHECKPOINT")


def set_aside(job: str, source: tuple[str, str] | None = None) -> Key:
    """An item a job could not process, keyed by that item's key (without it: the job's partition)."""
    return Key(f"SETASIDE#{job}", f"{source[0]}|{source[1]}" if source else "")


# ---- alerts ----


PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2}  # the inbox's order: urgent first


def alert(alert_id: int) -> Key:
    return Key(f"ALERT#{alert_id}", "ALERT")


def is_alert(key: tuple[str, str]) -> bool:
    return key[1] == "ALERT"


def open_alert(patient_id: int, rule: str = "") -> Key:
    """A patient's slot for one rule's unresolved alert (without a rule: the patient's partition of them)."""
    return Key(f"OPENALERTS#{patient_id}", rule)


def _inbox(owner: str, owner_id: int, state: str) -> str:
    return f"INBOX#{owner}#{owner_id}#{state}"


def clinic_inbox(clinic_id: int, state: str) -> str:
    """Inbox entries of a clinic's alerts; `state` open (open and acknowledged) or resolved."""
    return _inbox("CLINIC", clinic_id, state)


def user_inbox(user_id: int, state: str) -> str:
    """Inbox entries of the alerts of a care-team member's patients."""
    return _inbox("USER", user_id, state)


def patient_inbox(patient_id: int, state: str) -> str:
    """Inbox entries of one patient's alerts."""
    return _inbox("PATIENT", patient_id, state)


def inbox_sk(priority: str, opened_at: str = "", alert_id: int | None = None) -> str:
    """Urgent first, then oldest first, then by id: the inbox's order is the sort key's (with only a priority:
    the prefix of that priority's entries)."""
    rank = f"{PRIORITY_RANK[priority]}#"
    return rank if alert_id is None else f"{rank}{opened_at}#{_id12(alert_id)}"


def alert_rule(clinic_id: int, rule_id: int | None = None) -> Key:
    """A clinic's alert rule (without an id: the clinic's partition of them)."""
    return Key(f"ALERTRULES#{clinic_id}", _id12(rule_id) if rule_id is not None else "")


def alert_rule_count(clinic_id: int) -> Key:
    """The number of a clinic's rules, written in each rule's put or delete transaction (the cap)."""
    return Key(f"ALERTRULECOUNT#{clinic_id}", "ALERTRULECOUNT")


def day_mean(patient_id: int, gauge_type: str, day: str = "") -> Key:
    """A type's sum and count of gauges on one local day (without a day: the type's partition of them)."""
    return Key(f"DAYMEAN#{patient_id}#{gauge_type}", day)


def outbox(shard: int, at: str = "", alert_id: int = 0, event: str = "") -> Key:
    """An alert event not yet published (without a time: the shard's partition)."""
    return Key(f"OUTBOX#{shard}", f"{at}#{_id12(alert_id)}#{event}" if at else "")


# ---- idempotency records and the audit trail ----


def idempotency(record_key: str) -> Key:
    """A Powertools idempotency record: its own partition per (route, user, key), never a hot one."""
    return Key(f"IDEMPOTENCY#{record_key}", "IDEMPOTENCY")


def audit(patient_id: int, at: str = "", request_id: str = "") -> Key:
    """One access to a patient (without a time: the prefix of the patient's trail)."""
    return Key(f"AUDIT#{patient_id}", f"{at}#{request_id}" if at else "")
