"""Patients: create, read, update and list, under the access policy, in the contract's shape."""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from clinic import authorizer_cache, clock, cursors, ids, patient_users, retries, store
from clinic.access import CARE_TEAM_ROLES, Action, Caller, list_scopes, may_access, patient_for
from clinic.errors import BadRequest, PreconditionFailed, ValidationFailed

if TYPE_CHECKING:
    from clinic.store.items import ListEntry, PatientItem

if TYPE_CHECKING:  # GET handlers never load the request models: a faster cold start
    from clinic.models.patients import NewPatient, PatientChanges

ADDRESS_PARTS = ("street", "city", "state", "zip_code")
# What a patient user may change of their own record (API.md); their name, birth date, gender and status
# are the clinic's to change.
PATIENT_EDITABLE = frozenset({"phone", "email", "address", "time_zone"})
NOT_PERMITTED = "is not permitted"
STATUSES = {"active": (True,), "inactive": (False,), "all": (True, False)}


def age(born: str, today: date) -> int:
    birth = date.fromisoformat(born)
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def present(patient: Mapping[str, Any]) -> dict[str, Any]:
    """The contract's patient object; `age` is computed now, never stored."""
    address = patient.get("address")
    return {
        "id": patient["id"],
        "first_name": patient["first_name"],
        "last_name": patient["last_name"],
        "date_of_birth": patient["date_of_birth"],
        "age": age(patient["date_of_birth"], clock.today()),
        "gender": patient.get("gender"),
        "phone": patient.get("phone"),
        "email": patient.get("email"),
        "address": {part: address.get(part) for part in ADDRESS_PARTS} if address else None,
        "time_zone": patient.get("time_zone") or "UTC",
        "active": patient["active"],
        "created_at": patient["created_at"],
        "updated_at": patient["updated_at"],
    }


def etag(patient: Mapping[str, Any]) -> str:
    return f'"v{patient["version"]}"'


# One element of an If-Match list (RFC 9110 section 8.8.3): optional spaces, then an entity-tag (weak or strong) or
# nothing (empty list elements are allowed), then a comma or the end.
_IF_MATCH_ELEMENT = r'[ \t]*(?:(W/)?"([\x21\x23-\x7e\x80-\xff]*)")?[ \t]*(?:,|\Z)'
BAD_IF_MATCH = 'If-Match must be "*" or a list of quoted ETags'
# The same grammar for the OpenAPI document: `*`, or comma-separated elements, each an optional entity-tag.
_TAG = r'(?:(?:W/)?"[\x21\x23-\x7e\x80-\xff]*")?'
IF_MATCH_PATTERN = rf"^(?:[ \t]*\*[ \t]*|[ \t]*{_TAG}[ \t]*(?:,[ \t]*{_TAG}[ \t]*)*)$"


def matching_versions(if_match: str) -> set[int] | None:
    """The versions an If-Match header accepts; None for `*` (any version).

    RFC 9110: If-Match uses the strong comparison, so a weak tag (`W/"v3"`) never matches, and a list matches
    when any of its tags does, and an empty list matches nothing. A tag that names no version of ours (`"v01"`,
    `"v²"`) never matches. A value that is not an entity-tag list at all (an unquoted `v3`) is 400.
    """
    if if_match.strip(" \t") == "*":  # RFC 9110's optional whitespace is spaces and tabs (IF_MATCH_PATTERN)
        return None
    versions: set[int] = set()
    position = 0
    while True:  # each element ends with a comma or the end of the value, so each step moves on
        element = re.compile(_IF_MATCH_ELEMENT).match(if_match, position)
        if element is None:
            raise BadRequest(BAD_IF_MATCH)
        weak, tag = element.groups()
        version = ids.parse(tag[1:]) if tag and tag.startswith("v") else None
        if not weak and version is not None:
            versions.add(version)
        position = element.end()
        if position == len(if_match):
            return versions


def _address(address: Any) -> dict[str, Any] | None:
    if address is None:
        return None
    parts = {part: getattr(address, part) for part in ADDRESS_PARTS}
    return {k: v for k, v in parts.items() if v is not None} or None


def _own_supervisor(caller: Caller) -> int:
    user = store.get_user(caller.user_id) if caller.role == "provider" else None
    return (user.get("supervisor_id") if user else None) or 0


def create(caller: Caller, new: NewPatient) -> PatientItem:
    now = clock.iso(clock.now())
    patient: PatientItem = {
        "id": ids.next_id("patient"),
        "clinic_id": caller.clinic_id,
        "first_name": new.first_name,
        "last_name": new.last_name,
        "date_of_birth": new.date_of_birth,
        "gender": new.gender,
        "phone": new.phone,
        "email": new.email,
        "address": _address(new.address),
        "time_zone": new.time_zone or "UTC",
        "active": True,
        # The creator joins the care team (admins see the whole clinic without one).
        "care_team": {str(caller.user_id): _own_supervisor(caller)} if caller.role in CARE_TEAM_ROLES else {},
        "created_by": caller.user_id,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    store.create_patient(patient)
    return patient


def fields_a_patient_may_not_change(caller: Caller, body: Any) -> dict[str, list[str]]:
    """`is not permitted` on every key of a patient user's PUT beyond PATIENT_EDITABLE (staff: none)."""
    if not caller.is_patient or not isinstance(body, dict) or not isinstance(body.get("patient"), dict):
        return {}
    return {key: [NOT_PERMITTED] for key in body["patient"] if key not in PATIENT_EDITABLE}


def update(
    caller: Caller,
    current: PatientItem,
    changes: PatientChanges,
    if_match: str | None,
    stage: authorizer_cache.Stage | None = None,
) -> PatientItem:
    """Applies the sent keys only. With If-Match, 412 unless the patient is still at that version.

    Setting `active: false` ends the patient's access at once: the access of the patient's own users ends
    (patient_users.end_access) before the patient changes and again after it, so a failure in between leaves
    them locked out, never revived; and after the write, the authorizer cache of `stage` (the API stage that
    served the request) is flushed, so no cached answer outlives it.
    """
    if caller.is_patient and changes.model_fields_set - PATIENT_EDITABLE:
        raise ValidationFailed({key: [NOT_PERMITTED] for key in sorted(changes.model_fields_set - PATIENT_EDITABLE)})
    fields: dict[str, Any] = {}
    for field in changes.model_fields_set:
        value = getattr(changes, field)
        if field == "address":
            value = _address(value)
        elif field == "time_zone" and value is None:
            value = "UTC"  # clearing the zone restores the default
        fields[field] = value
    accepted = matching_versions(if_match) if if_match is not None else None
    if accepted is not None and current["version"] not in accepted:
        raise PreconditionFailed
    # The write is conditioned on the version that matched, in case the patient changes in between.
    expected = current["version"] if accepted is not None else None
    if not fields:
        return current
    deactivating = fields.get("active") is False
    if deactivating:
        patient_users.end_access(current["id"])
    for attempt in retries.attempts(8, first_wait=0.02, longest_wait=2.0):
        if attempt:  # a concurrent change moved the version while this one rewrites list entries: read again
            current = patient_for(caller, current["id"], Action.CHANGE)
        try:
            updated = store.update_patient(
                current, fields, updated_at=clock.iso(clock.now()), expected_version=expected
            )
            if deactivating:
                # A redemption that committed before the patient changed made one more user.
                patient_users.end_access(current["id"])
                # Every time, even if the patient was inactive already: a repeated PUT retries a failed flush.
                authorizer_cache.flush(stage)
            return updated
        except store.ConditionFailed:
            if expected is not None:
                raise PreconditionFailed from None
    raise PreconditionFailed


# ---- listing ----


def _dedupe(entries: Iterator[ListEntry]) -> Iterator[ListEntry]:
    """A patient on several merged care teams appears once (equal keys are adjacent after the merge)."""
    last = None
    for entry in entries:
        if entry["sk"] != last:
            last = entry["sk"]
            yield entry


def _entries(caller: Caller, actives: tuple[bool, ...], term: str, after: str | None, want: int) -> Iterator[ListEntry]:
    """List entries of the caller's scope in contract order, merged across status and care-team partitions."""
    scopes = list_scopes(caller)
    if scopes is None:
        partitions = [store.clinic_partition(caller.clinic_id, active, term) for active in actives]
    else:
        partitions = [store.member_partition(uid, active) for uid in scopes for active in actives]
    streams = [store.list_entries(p, after=after, limit=want, name_prefix=term) for p in partitions]
    if len(streams) == 1:
        return streams[0]
    return _dedupe(heapq.merge(*streams, key=lambda e: e["sk"]))


def _by_email(caller: Caller, actives: tuple[bool, ...], email: str, after: str | None) -> list[ListEntry]:
    found = store.get_patients(store.patients_with_email(caller.clinic_id, email))
    rows: list[ListEntry] = [
        {"sk": store.namekey(p), "patient_id": p["id"]}
        for p in found.values()
        if p["active"] in actives and may_access(caller, p, Action.READ)
    ]
    return sorted((r for r in rows if after is None or r["sk"] > after), key=lambda r: r["sk"])


def list_patients(
    caller: Caller, *, page: int, page_size: int, search: str | None, cursor: str | None, status: str
) -> dict[str, Any]:
    actives = STATUSES[status]
    term = (search or "").strip().casefold()
    query = cursors.digest("patients", status, term)
    after = None
    skip = (page - 1) * page_size
    if cursor:
        previous_page, anchor_id = cursors.decode(cursor, query)
        anchor = store.get_patient(anchor_id) if isinstance(anchor_id, int) else None
        if anchor is None or not may_access(caller, anchor, Action.READ):
            raise cursors.invalid()
        after, page, skip = store.namekey(anchor), previous_page + 1, 0

    want = cursors.window(page_size, skip)
    rows = _by_email(caller, actives, term, after) if "@" in term else _entries(caller, actives, term, after, want)
    page_rows, meta = cursors.page_of(
        rows, page=page, page_size=page_size, skip=skip, anchor=lambda r: r["patient_id"], query_digest=query
    )
    found = store.get_patients([r["patient_id"] for r in page_rows])
    return {
        "patients": [present(found[r["patient_id"]]) for r in page_rows if r["patient_id"] in found],
        "meta": meta,
    }
