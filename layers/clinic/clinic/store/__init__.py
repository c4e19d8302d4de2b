"""The store: the only package that knows the table, its key formats and its indexes (docs/data-model.md).

`keys` spells every key; `table` encodes items and makes the calls (reads, the one query helper, writes),
classifying DynamoDB's errors (`errors`); `items` types what comes back; one module per entity builds on
them. The domain uses the names below (`store.get_patient`); the later entities (`assessments`, `latest`,
`patient_users`, `alerts`) are used through their modules, which keeps each self-contained.
"""

from clinic.store.audit import audit_events, put_audit_events
from clinic.store.clinics import get_clinic, put_clinic
from clinic.store.counters import reserve_ids
from clinic.store.errors import ConditionFailed, NewKeyTaken, Unavailable, classify, is_storage_failure
from clinic.store.gauges import (
    CHANGE_SHARDS,
    REZONED,
    changes,
    delete_gauge,
    deleted_gauge_key,
    gauge_key,
    gauge_key_of,
    get_gauge,
    import_gauges,
    put_gauges,
    query_gauges,
)
from clinic.store.idempotency import idempotency_key, idempotency_table
from clinic.store.patients import (
    all_patients,
    clinic_partition,
    create_patient,
    get_patient,
    get_patients,
    import_patients,
    list_entries,
    member_partition,
    namekey,
    patient_key,
    patients_with_email,
    set_care_team_member,
    update_patient,
)
from clinic.store.summaries import (
    day_summaries,
    get_checkpoint,
    put_checkpoint,
    put_day_summaries,
    set_aside,
    set_aside_items,
)
from clinic.store.table import batch_write
from clinic.store.tokens import delete_tokens, get_token, put_token
from clinic.store.users import get_user, get_users, put_user, set_user_active, supervised_providers

__all__ = [
    "CHANGE_SHARDS",
    "REZONED",
    "ConditionFailed",
    "NewKeyTaken",
    "Unavailable",
    "all_patients",
    "audit_events",
    "batch_write",
    "changes",
    "classify",
    "clinic_partition",
    "create_patient",
    "day_summaries",
    "delete_gauge",
    "delete_tokens",
    "deleted_gauge_key",
    "gauge_key",
    "gauge_key_of",
    "get_checkpoint",
    "get_clinic",
    "get_gauge",
    "get_patient",
    "get_patients",
    "get_token",
    "get_user",
    "get_users",
    "idempotency_key",
    "idempotency_table",
    "import_gauges",
    "import_patients",
    "is_storage_failure",
    "list_entries",
    "member_partition",
    "namekey",
    "patient_key",
    "patients_with_email",
    "put_audit_events",
    "put_checkpoint",
    "put_clinic",
    "put_day_summaries",
    "put_gauges",
    "put_token",
    "put_user",
    "query_gauges",
    "reserve_ids",
    "set_aside",
    "set_aside_items",
    "set_care_team_member",
    "set_user_active",
    "supervised_providers",
    "update_patient",
]
