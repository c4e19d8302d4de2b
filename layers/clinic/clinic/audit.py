"""The audit trail: who read or changed which patient, when, and from which request; never PHI.

clinic.middleware.AuditTrail records every successful patient-scoped request (and every patient a list or a create
returned) after the handler ran: one PutItem, or one BatchWriteItem per 25 patients of a listed page.
Items expire after AUDIT_RETENTION_DAYS (a template parameter). Queried per patient by
`patients-admin audit --patient ID`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from clinic import clock, store
from clinic.access import Caller
from clinic.logger import logger
from clinic.settings import settings

if TYPE_CHECKING:
    from clinic.store.items import AuditEvent


def record(
    caller: Caller,
    *,
    action: str,
    method: str,
    route: str,
    status: int,
    request_id: str,
    patient_ids: Iterable[int],
) -> int:
    """Writes one event per patient (route is the resource template, never the query string); returns how many."""
    at = clock.iso(clock.now())
    # TTL runs on the real wall clock, whatever clock the service is given.
    expires_at = int(time.time()) + settings().audit_retention_days * 24 * 3600
    events: list[AuditEvent] = [
        {
            "patient_id": int(patient_id),
            "at": at,
            "request_id": request_id,
            "user_id": caller.user_id,
            "role": caller.role,
            "clinic_id": caller.clinic_id,
            "action": action,
            "method": method,
            "route": route,
            "status": status,
        }
        for patient_id in dict.fromkeys(patient_ids)
    ]
    store.put_audit_events(events, expires_at)
    return len(events)


def log_failed_write(error: Exception, caller: Caller, *, action: str, route: str, patient_ids: list[int]) -> None:
    """The error line of an audit write that failed after a change was made: it carries the audit event
    itself (ids only), so the function's log group holds it."""
    logger.error(
        "audit write failed",
        extra={
            "error_type": type(error).__name__,
            "audit": {
                "user_id": caller.user_id,
                "role": caller.role,
                "action": action,
                "route": route,
                "patient_ids": patient_ids,
            },
        },
    )


def trail(patient_id: int, *, since: str | None = None) -> list[AuditEvent]:
    """A patient's audit events, oldest first."""
    return list(store.audit_events(patient_id, since=since))
