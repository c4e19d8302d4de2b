"""The audit trail: pk `AUDIT#<patient id>`, sk `<ISO time>#<request id>`: who (user id, role, clinic), what
(action, method, route), when, status and request id of every access to a patient. Never PHI: no names,
bodies or query strings. Removed by TTL through `expires_at` after the retention the template sets."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from clinic.store import keys, table

if TYPE_CHECKING:
    from clinic.store.items import AuditEvent

_AUDIT_META = ("pk", "sk", "expires_at")


def put_audit_events(events: Sequence[AuditEvent], expires_at: int) -> None:
    """One PutItem for one patient; BatchWriteItem (retrying unprocessed items) for a listed page."""
    items: list[dict[str, Any]] = [
        {**e, **keys.audit(e["patient_id"], e["at"], e["request_id"])._asdict(), "expires_at": expires_at}
        for e in events
    ]
    if len(items) == 1:
        table.put(items[0])
    elif items:
        table.batch_write([table.put_request(i) for i in items])


def audit_events(patient_id: int, *, since: str | None = None, newest_first: bool = False) -> Iterator[AuditEvent]:
    """A patient's audit events in time order (from `since`, an ISO time, when given)."""
    after = since if not newest_first else None
    trail = keys.audit(patient_id).partition
    for item in table.query(trail, after=after, forward=not newest_first, consistent=True):
        for attribute in _AUDIT_META:
            item.pop(attribute, None)
        yield cast("AuditEvent", item)
