"""Patients, their list entries (the clinic's list, name search, each care-team member's list) and their
care teams. A patient and its list entries change in one transaction, so a list never shows half a patient
(docs/data-model.md, "Listing and searching patients")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from clinic.store import counters, keys, table
from clinic.store.errors import ConditionFailed
from clinic.store.gauges import REZONED

if TYPE_CHECKING:
    from clinic.store.items import ListEntry, PatientItem

LISTED_FIELDS = frozenset({"first_name", "last_name", "active"})
_PATIENT_META = ("pk", "sk", "email_pk")  # alert_epoch stays: the care-team write conditions on it


def namekey(patient: Mapping[str, Any]) -> str:
    return keys.namekey(patient["last_name"], patient["first_name"], patient["id"])


def _name_prefixes(patient: Mapping[str, Any]) -> set[str]:
    """ "" (the whole list) and every prefix of up to PREFIX_MAX characters of the first and last name."""
    prefixes = {""}
    for name in (patient["first_name"].casefold(), patient["last_name"].casefold()):
        prefixes.update(name[:n] for n in range(1, min(len(name), keys.PREFIX_MAX) + 1))
    return prefixes


def _list_entries(patient: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The clinic's list and search entries, and one list entry per care-team member."""
    active = patient["active"]
    entry = {
        "sk": namekey(patient),
        "patient_id": patient["id"],
        "first_lc": patient["first_name"].casefold(),
        "last_lc": patient["last_name"].casefold(),
    }
    entries = [
        {**entry, "pk": keys.clinic_list(patient["clinic_id"], active, prefix)}
        for prefix in sorted(_name_prefixes(patient))
    ]
    entries += [{**entry, "pk": keys.member_list(int(uid), active)} for uid in sorted(patient.get("care_team") or {})]
    return entries


def _entry_writes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Deletes and puts that turn the list entries of `before` into those of `after`."""
    old = {(e["pk"], e["sk"]) for e in _list_entries(before)} if before else set()
    new = _list_entries(after)
    writes = [table.delete_action(keys.Key(pk, sk)) for pk, sk in old - {(e["pk"], e["sk"]) for e in new}]
    writes += [table.put_action(e) for e in new if (e["pk"], e["sk"]) not in old]
    return writes


def _patient_item(patient: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **patient,
        **keys.patient(patient["id"])._asdict(),
        "email_pk": keys.email(patient["clinic_id"], patient.get("email")),
    }


def create_patient(patient: PatientItem) -> None:
    """The patient and its list entries in one transaction: a list never shows half a patient."""
    writes = [table.put_action(_patient_item(patient), condition="attribute_not_exists(pk)")]
    try:
        table.transact(writes + _entry_writes(None, patient))
    except ConditionFailed:
        if not table.landed(keys.patient(patient["id"]), patient["created_at"]):
            raise


def import_patients(patients: Sequence[Mapping[str, Any]], write: Any = None) -> int:
    """Bulk load (benchmarks) in create_patient's item format: BatchWriteItem, not all or nothing.

    Never for requests: a request goes through create_patient. `write` (default batch_write) receives the
    PutRequests. Returns how many items were written.
    """
    writes = []
    for patient in patients:
        writes.append(table.put_request(_patient_item(patient)))
        writes += [table.put_request(e) for e in _list_entries(patient)]
    (write or table.batch_write)(writes)
    return len(writes)


def patient_from(item: dict[str, Any]) -> PatientItem:
    """A patient as the domain reads it: the item read, its keys and index attribute dropped."""
    for attribute in _PATIENT_META:
        item.pop(attribute, None)
    return cast("PatientItem", item)


def patient_key(patient_id: int) -> tuple[str, str]:
    return keys.patient(patient_id)


def get_patient(patient_id: int) -> PatientItem | None:
    item = table.get(keys.patient(patient_id), consistent=True)
    return patient_from(item) if item is not None else None


def get_patients(patient_ids: Sequence[int]) -> dict[int, PatientItem]:
    items = table.batch_get([keys.patient(pid) for pid in dict.fromkeys(patient_ids)])
    return {p["id"]: p for p in map(patient_from, items)}


def update_patient(
    current: PatientItem,
    changes: Mapping[str, Any],
    *,
    updated_at: str,
    expected_version: int | None,
) -> PatientItem:
    """Applies only the changed fields (None removes one) and bumps the version.

    Without an expected version, fields that do not move the patient in lists are written with a
    per-field UpdateExpression, so concurrent updates of different fields all persist. A change of
    name or status also rewrites the list entries, in one transaction conditioned on the version that
    was read; the caller retries on ConditionFailed.
    """
    names: dict[str, str] = {"#version": "version", "#updated_at": "updated_at"}
    values: dict[str, Any] = {":one": 1, ":updated_at": updated_at}
    sets = ["#updated_at = :updated_at"]
    removes = []
    for i, (field, value) in enumerate(changes.items()):
        names[f"#f{i}"] = field
        if value is None:
            removes.append(f"#f{i}")
        else:
            values[f":v{i}"] = value
            sets.append(f"#f{i} = :v{i}")
    if "email" in changes:
        names["#email_pk"] = "email_pk"
        email_pk = keys.email(current["clinic_id"], changes["email"])
        if email_pk:
            values[":email_pk"] = email_pk
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
        values[":expected"] = expected_version if expected_version is not None else current["version"]
    key = keys.patient(current["id"])
    rezoned = "time_zone" in changes and changes["time_zone"] != (current.get("time_zone") or "UTC")
    if not relisted and not rezoned:
        updated = table.update(key, expression, condition=condition, names=names, values=values, returning="ALL_NEW")
        return patient_from(updated)

    writes = [
        table.update_action(key, expression, condition=condition, names=names, values=values),
        *_entry_writes(current, {**current, **changes}),
    ]
    if rezoned:
        # The patient's calendar days moved: tell the summary job to recompute all of them.
        marker = {
            **keys.rezoned(current["id"])._asdict(),
            "patient_id": current["id"],
            "gauge_type": REZONED,
            "recorded_at": updated_at,
            **keys.change(updated_at, current["id"]),
        }
        writes.append(table.put_action(marker))
    table.transact(writes)
    return get_patient(current["id"]) or patient_from({**current, **changes})


def set_care_team_member(
    current: PatientItem,
    user_id: int,
    supervisor_id: int | None,
    present: bool,
    extra: Sequence[dict[str, Any]] = (),
) -> PatientItem:
    """Adds or removes one member (map key: user id, value: the member's supervisor or 0); returns the
    patient as written.

    Conditioned on the version that was read, because the member's list entry is derived from the
    name and status of that version, and on the `alert_epoch` that was read, because `extra` (the member's
    inbox entries of the patient's unresolved alerts, store.alerts) is derived from the alerts open then;
    the caller retries on ConditionFailed. Those conditions are also why the patient written is `current`
    with the new team and the next version, with no read after the write (a transaction returns no item).
    """
    team = dict(current.get("care_team") or {})
    values: dict[str, Any] = {":one": 1, ":expected": current["version"]}
    if present:
        team[str(user_id)] = supervisor_id or 0
        expression = "SET care_team.#member = :supervisor ADD #version :one"
        values[":supervisor"] = supervisor_id or 0
    else:
        team.pop(str(user_id), None)
        expression = "REMOVE care_team.#member ADD #version :one"
    epoch = current.get("alert_epoch")
    if epoch is not None:
        values[":epoch"] = epoch
    update = table.update_action(
        keys.patient(current["id"]),
        expression,
        condition="#version = :expected AND "
        + ("#epoch = :epoch" if epoch is not None else "attribute_not_exists(#epoch)"),
        names={"#member": str(user_id), "#version": "version", "#epoch": "alert_epoch"},
        values=values,
    )
    written: PatientItem = {**current, "care_team": team, "version": current["version"] + 1}
    table.transact([update, *_entry_writes(current, written), *extra])
    return written


def clinic_partition(clinic_id: int, active: bool, prefix: str) -> str:
    """The clinic's list (prefix "") or the entries whose first or last name starts with `prefix`."""
    return keys.clinic_list(clinic_id, active, prefix)


def member_partition(user_id: int, active: bool) -> str:
    """The patients on one user's care team (not bucketed by name: searches filter inside it)."""
    return keys.member_list(user_id, active)


def list_entries(
    partition: str, *, after: str | None, limit: int, name_prefix: str | None = None
) -> Iterator[ListEntry]:
    """List entries of one partition in contract order, after a NAMEKEY, filtered by a name prefix if needed."""
    kwargs: dict[str, Any] = {}
    exact = keys.is_clinic_list(partition) and len(name_prefix or "") <= keys.PREFIX_MAX
    if name_prefix and not exact:
        kwargs = {
            "filter_expression": "begins_with(first_lc, :term) OR begins_with(last_lc, :term)",
            "filter_values": {":term": name_prefix},
        }
    items = table.query(keys.Partition(partition), after=after, limit=limit, projection=["sk", "patient_id"], **kwargs)
    return cast("Iterator[ListEntry]", items)


def patients_with_email(clinic_id: int, email: str) -> list[int]:
    return [keys.patient_id_of(i["pk"]) for i in table.query(keys.by_email(clinic_id, email))]


def all_patients() -> Iterator[PatientItem]:
    """Every patient, clinic by clinic (ids come from a counter), through the clinic lists: no Scan.

    Only for the summary job's full rebuild, never a request.
    """
    for clinic_id in range(1, counters.last_id("clinic") + 1):
        for active in (True, False):
            entries = keys.Partition(keys.clinic_list(clinic_id, active, ""))
            ids = [e["patient_id"] for e in table.query(entries, projection=["patient_id"])]
            for start in range(0, len(ids), 100):
                yield from get_patients(ids[start : start + 100]).values()
