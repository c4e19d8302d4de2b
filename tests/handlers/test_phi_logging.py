"""PHI never leaves through logs, metrics or other callers' error bodies.

Requests carry a canary in every PHI field (valid values, and invalid ones that fail validation) through
the local gateway over HTTP; everything the functions log (the Powertools logger as CloudWatch gets it,
every other logger at INFO, stdout and stderr including the gateway's access lines and the summary job's
metrics), the audit trail, and the error bodies other callers see are searched for the canaries.
"""

from __future__ import annotations

import io
import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from clinic import accounts, settings
from support import Client, Reply, without_random_ids_and_times

from local import events
from local.gateway import LocalGateway
from local.template import load_template

CANARIES = {
    "first_name": "Zqxfirstcanary",
    "last_name": "Zqxlastcanary",
    "date_of_birth": "1937-04-13",
    "phone": "+1 (555) 013-7931",
    "email": "zqx.canary@example.com",
    "street": "17 Zqxcanary Street",
    "city": "Zqxcanarycity",
    "state": "Zqxcanarystate",
    "zip_code": "ZQX97313",
    "notes": "zqx canary note about the patient",
    "value": 3.14159271,
}
INVALID = {
    "first_name": "Zqxlonginvalid" * 10,
    "date_of_birth": "1937-13-45zqx",
    "phone": "zqx-not-a-phone-8642",
    "email": "zqxbad@@mail",
    "time_zone": "Zqx/Nowhere",
    "gender": "zqxgender",
    "notes": "zqxlongnote " * 200,
    "value": 9999.13571,
    "text_value": "zqx-seven",
    "gauge_type": "Zqx-Type!",
}


# The logging module's own clock and process fields of a record: not content.
RECORD_CLOCK = ("created", "msecs", "relativeCreated", "thread", "process")


def _needles() -> list[str]:
    values = [str(v) for v in CANARIES.values()] + [str(v) for v in INVALID.values()]
    return [*values, "Zqx", "zqx", "013-7931", "5550137931", "1937-04-13", "1937-13-45", "3.14159", "9999.1357"]


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture, service_log: io.StringIO) -> io.StringIO:
    """The Powertools logger's lines as CloudWatch receives them, at INFO and above."""
    caplog.set_level(logging.INFO)
    return service_log


def test_no_canary_in_logs_metrics_audit_or_other_callers_bodies(
    aws: Any,
    captured: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    gateway = LocalGateway(load_template(), authorizer_cache=False, set_environment=False)
    server = gateway.serve("127.0.0.1", 0)
    request.addfinalizer(gateway.shutdown)
    clinic = accounts.create_clinic("Canary")
    other_clinic = accounts.create_clinic("Elsewhere")
    admin = accounts.create_user(clinic["id"], "admin", "Admin")
    provider = accounts.create_user(clinic["id"], "provider", "Provider")
    stranger = accounts.create_user(other_clinic["id"], "admin", "Stranger")
    tokens = {u["id"]: accounts.issue_token(u["id"])["token"] for u in (admin, provider, stranger)}

    client = Client(server.url)  # type: ignore[attr-defined]

    def call(user: dict[str, Any], method: str, path: str, body: Any = None, **headers: str) -> Reply:
        return client.request(
            method,
            path,
            token=tokens[user["id"]],
            json_body=... if body is None or isinstance(body, bytes) else body,
            data=body if isinstance(body, bytes) else None,
            headers={"Content-Type": "application/json", **headers},
        )

    address = {k: CANARIES[k] for k in ("street", "city", "state", "zip_code")}
    patient = {k: CANARIES[k] for k in ("first_name", "last_name", "date_of_birth", "phone", "email")}
    created = call(
        admin, "POST", "/v1/patients", {"patient": {**patient, "address": address}}, **{"Idempotency-Key": "c"}
    )
    assert created.status == 201
    pid = created.body["id"]
    own: list[Reply] = [created]
    own.append(
        call(admin, "POST", "/v1/patients", {"patient": {**patient, "address": address}}, **{"Idempotency-Key": "c"})
    )
    # A clinic rule the canary gauge fires: its alert and its events must hold ids and priority only.
    rule = {"gauge_type": "pain", "operator": ">=", "threshold": 3, "consecutive_days": 1, "priority": "urgent"}
    assert call(admin, "POST", "/v1/alert_rules", {"alert_rule": rule}).status == 201
    gauge = {"gauge_type": "pain", "value": CANARIES["value"], "notes": CANARIES["notes"]}
    recorded = call(admin, "POST", f"/v1/patients/{pid}/gauges", {"gauge": gauge})
    assert recorded.status == 201
    (alert,) = call(admin, "GET", f"/v1/patients/{pid}/alerts").body["alerts"]
    own += [
        call(admin, "GET", "/v1/alerts"),
        call(admin, "POST", f"/v1/alerts/{alert['id']}/acknowledge"),
        call(admin, "POST", f"/v1/alerts/{alert['id']}/resolve", {"resolution_note": INVALID["notes"][:1999]}),
    ]
    assert [r.status for r in own[-3:]] == [200, 200, 200]
    # An assessment with the canary note that fires self_harm_risk: its alert and event hold no note, no answer.
    assessment = {"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 1], "notes": CANARIES["notes"]}
    assert call(admin, "POST", f"/v1/patients/{pid}/assessments", {"assessment": assessment}).status == 201
    (urgent,) = call(admin, "GET", f"/v1/patients/{pid}/alerts").body["alerts"]
    assert urgent["rule"] == "self_harm_risk"
    own += [
        call(admin, "GET", f"/v1/patients/{pid}"),
        call(admin, "GET", f"/v1/patients?search={CANARIES['last_name'][:8]}"),
        call(admin, "GET", f"/v1/patients?search={CANARIES['email']}"),
        call(
            admin, "PUT", f"/v1/patients/{pid}", {"patient": {"phone": CANARIES["phone"], "first_name": "Zqxrenamed"}}
        ),
        call(admin, "GET", f"/v1/patients/{pid}/gauges"),
    ]
    gateway.invoke("SummarizeGaugesFunction", events.scheduled_event("summaries"))  # emits metrics
    own.append(call(admin, "GET", f"/v1/patients/{pid}/gauges/summary"))

    # Invalid values: the caller's own 422 bodies name fields and rules, never the values sent.
    invalid_patient = {k: INVALID[k] for k in ("first_name", "date_of_birth", "phone", "email", "time_zone", "gender")}
    rejected = [
        call(admin, "POST", "/v1/patients", {"patient": {**invalid_patient, "last_name": CANARIES["last_name"]}}),
        call(admin, "PUT", f"/v1/patients/{pid}", {"patient": invalid_patient}),
        call(admin, "POST", f"/v1/patients/{pid}/gauges", {"gauge": {"gauge_type": "pain", "value": INVALID["value"]}}),
        call(
            admin,
            "POST",
            f"/v1/patients/{pid}/gauges",
            {"gauge": {"gauge_type": "mood", "value": INVALID["text_value"]}},
        ),
        call(admin, "POST", f"/v1/patients/{pid}/gauges", {"gauge": {"gauge_type": INVALID["gauge_type"], "value": 1}}),
        call(
            admin,
            "POST",
            f"/v1/patients/{pid}/gauges",
            {"gauge": {"gauge_type": "mood", "value": 5, "notes": INVALID["notes"]}},
        ),
        call(admin, "POST", "/v1/patients", b'{"patient": {"first_name": "Zqxbroken'),  # not JSON
        call(admin, "GET", "/v1/patients?search=" + "Zqxsearch" * 20),
        call(admin, "GET", f"/v1/patients?cursor={CANARIES['first_name']}"),
    ]
    assert all(r.status in (400, 422) for r in rejected), [r.status for r in rejected]

    # Other callers: another clinic's admin, a provider without access, and an unknown token.
    others = [
        call(stranger, "GET", f"/v1/patients/{pid}"),
        call(stranger, "PUT", f"/v1/patients/{pid}", {"patient": {"first_name": "Zqxhijack"}}),
        call(stranger, "GET", f"/v1/patients/{pid}/gauges"),
        call(stranger, "GET", f"/v1/patients?search={CANARIES['email']}"),
        call(
            stranger, "POST", "/v1/patients", {"patient": {**patient, "address": address}}, **{"Idempotency-Key": "c"}
        ),
        call(provider, "GET", f"/v1/patients/{pid}"),
        call(provider, "PUT", f"/v1/patients/{pid}", {"patient": invalid_patient}),
        call(provider, "GET", f"/v1/patients?search={CANARIES['last_name'][:6]}"),
        call(stranger, "GET", "/v1/alerts"),
        call(stranger, "POST", f"/v1/alerts/{alert['id']}/resolve", {"resolution_note": CANARIES["notes"]}),
        client.get(f"/v1/patients/{pid}", token="x" * 40),
    ]
    assert [r.status for r in others] == [404, 404, 404, 200, 201, 403, 403, 200, 200, 404, 401]
    assert others[3].body["patients"] == [] and others[7].body["patients"] == []
    # The stranger's create with the same Idempotency-Key is its own request, not a replay of the admin's.
    assert others[4].body["id"] != pid

    stdio = capsys.readouterr()
    audit_items = [
        i for i in aws.scan(TableName=settings.settings().table_name)["Items"] if i["pk"]["S"].startswith("AUDIT#")
    ]
    assert audit_items  # the trail exists, so searching it means something
    alert_items = [
        i
        for i in aws.scan(TableName=settings.settings().table_name)["Items"]
        if i["pk"]["S"].split("#")[0] in ("ALERT", "OPENALERTS", "INBOX", "OUTBOX", "ALERTRULES")
    ]
    assert any(i["pk"]["S"] == f"ALERT#{alert['id']}" for i in alert_items)
    assert any(i["pk"]["S"] == f"ALERT#{urgent['id']}" for i in alert_items)
    published = Path(os.environ["LOCAL_EVENTS_FILE"]).read_text(encoding="utf-8")
    assert f'"alert_id":{alert["id"]}' in published and f'"alert_id":{urgent["id"]}' in published
    outputs = {
        "powertools log": captured.getvalue(),
        # Every logger of the process but `responses`: moto's HTTP mock, logging this test's own client URLs.
        "log records": "\n".join(
            f"{r.name} {r.getMessage()} { ({k: v for k, v in vars(r).items() if k not in RECORD_CLOCK}) }"
            for r in caplog.records
            if r.name != "responses"
        ),
        "stdout (metrics included)": stdio.out,
        "stderr (gateway access lines)": stdio.err,
        "other callers' bodies": "\n".join(r.text + json.dumps(r.headers) for r in others if r is not others[4]),
        "error bodies": "\n".join(r.text for r in rejected),
        "audit trail": json.dumps(audit_items),
        # The events published (locally: this file), and the alert items (but the clinician's own resolution note,
        # which staff read back): ids, rule, priority, times.
        "alert events": Path(os.environ["LOCAL_EVENTS_FILE"]).read_text(encoding="utf-8"),
        "alert items": json.dumps([{k: v for k, v in i.items() if k != "resolution_note"} for i in alert_items]),
    }
    assert "ChangesRead" in stdio.out and '"message":"unhandled error"' not in captured.getvalue()
    assert "GET /v1/patients 200" in stdio.err
    leaks = {
        where: [n for n in _needles() if n in without_random_ids_and_times(text)] for where, text in outputs.items()
    }
    assert leaks == {where: [] for where in outputs}
    # And the canaries were really sent and stored: the admin sees them.
    assert CANARIES["notes"] in own[-2].text and "Zqxrenamed" in own[-3].text
