"""Alerts: the built-in rules at their edges (pure functions), and clinic rules, the inbox, acknowledge and
resolve, and events through the API Gateway events of the local gateway (in-process). A member's inbox
following care-team changes is in test_care_team.py (test_a_member_s_alert_inbox_follows_the_care_team)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clinic import alert_events, alerts, clock
from clinic.store import alerts as alert_store
from support import Client, User, clinic, frozen, gateway, patient, user

# ---- the built-in rules, pure ----

PHQ9_ZERO = [0] * 9


@pytest.mark.parametrize(("item9", "fires"), [(0, False), (1, True), (3, True)])
def test_self_harm_risk_fires_on_phq9_item_9_of_1_or_more(item9: int, fires: bool) -> None:
    answers = [*PHQ9_ZERO[:8], item9]
    assert alerts.self_harm_risk("phq9", answers) is fires
    assert ("self_harm_risk" in alerts.built_in_rules("phq9", answers, sum(answers), None)) is fires


def test_self_harm_risk_is_phq9_item_9_only() -> None:
    assert not alerts.self_harm_risk("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert not alerts.self_harm_risk("gad7", [0, 0, 0, 0, 0, 0, 3])


@pytest.mark.parametrize(
    ("instrument", "total", "fires"),
    [("phq9", 19, False), ("phq9", 20, True), ("phq9", 27, True), ("gad7", 14, False), ("gad7", 15, True)],
)
def test_severe_score_at_its_edges(instrument: str, total: int, fires: bool) -> None:
    assert alerts.severe_score(instrument, total) is fires


@pytest.mark.parametrize(
    ("instrument", "previous", "total", "fires"),
    [
        ("phq9", 5, 9, False),
        ("phq9", 5, 10, True),
        ("phq9", 10, 5, False),
        ("gad7", 2, 5, False),
        ("gad7", 2, 6, True),
        ("phq9", None, 27, False),
    ],
)
def test_worsening_at_its_edges(instrument: str, previous: int | None, total: int, fires: bool) -> None:
    assert alerts.worsening(instrument, total, previous) is fires


def test_built_in_rules_most_urgent_first() -> None:
    answers = [3, 3, 3, 3, 3, 3, 3, 3, 1]
    assert alerts.built_in_rules("phq9", answers, sum(answers), 0) == ["self_harm_risk", "severe_score", "worsening"]
    assert alerts.built_in_rules("phq9", PHQ9_ZERO, 0, None) == []


@pytest.mark.parametrize(
    ("operator", "threshold", "total", "count", "meets"),
    [
        (">=", 8, 24, 3, True),
        (">=", 8, 23.9, 3, False),
        ("<=", 2, 4, 2, True),
        ("<=", 2, 4.2, 2, False),
        (">=", 0, 0, 0, False),
        (">=", 0.3, 0.6, 2, True),
    ],
)
def test_day_mean_comparison_is_exact(operator: str, threshold: float, total: float, count: int, meets: bool) -> None:
    assert alerts.meets(operator, threshold, total, count) is meets


# ---- events: published after the write, or by the summary job from the outbox ----


@pytest.fixture
def events_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "events.ndjson"
    monkeypatch.setenv("LOCAL_EVENTS_FILE", str(path))
    return path


def _published(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _outbox() -> list[dict[str, Any]]:
    return [e for shard in range(alert_store.OUTBOX_SHARDS) for e in alert_store.pending_events(shard, "9~")]


def test_an_event_that_fails_to_publish_stays_in_the_outbox_until_the_summary_job(
    aws: Any, events_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from local import events
    from local.gateway import LocalGateway
    from local.template import load_template

    admin = user(clinic("Outbox"), "admin")
    client = Client(gateway())
    rule = {"gauge_type": "pain", "operator": ">=", "threshold": 5, "consecutive_days": 1, "priority": "high"}
    assert client.post("/v1/alert_rules", {"alert_rule": rule}, token=admin.token).status == 201
    pid = patient(admin)["id"]

    def unreachable(items: Any) -> None:
        raise ConnectionError("EventBridge unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(alert_events, "_send", unreachable)
        recorded = client.post(
            f"/v1/patients/{pid}/gauges", {"gauge": {"gauge_type": "pain", "value": 7}}, token=admin.token
        )
    assert recorded.status == 201, recorded.text  # the alert exists whatever happened to its event
    (alert,) = client.get(f"/v1/patients/{pid}/alerts", token=admin.token).body["alerts"]
    assert _published(events_file) == []
    (pending,) = _outbox()
    assert (pending["event"], pending["alert_id"], pending["priority"]) == ("alert.opened", alert["id"], "high")

    job = LocalGateway(load_template(), set_environment=False)
    assert (
        job.invoke("SummarizeGaugesFunction", events.scheduled_event("s"))["alert_events_published"] == 0
    )  # too recent
    with frozen(clock.now() + alert_events.SETTLE * 2):
        result = job.invoke("SummarizeGaugesFunction", events.scheduled_event("s"))
    assert result["alert_events_published"] == 1
    assert _outbox() == []
    (event,) = _published(events_file)
    assert event == {
        "source": "patients-api",
        "detail-type": "alert.opened",
        "detail": {
            "alert_id": alert["id"],
            "patient_id": pid,
            "clinic_id": admin.clinic_id,
            "priority": "high",
            "at": alert["opened_at"],
            "event_id": f"alert.opened:{alert['id']}:{alert['opened_at']}",
        },
    }


def test_alert_routes_are_for_staff_only(aws: Any) -> None:
    """A caller whose role is not staff (the patient role of issue 13) is refused every alert route."""
    from clinic.errors import Forbidden

    for role in ("admin", "supervisor", "provider"):
        alerts.require_staff(User(1, 1, role, "S", "t").caller)
    with pytest.raises(Forbidden):
        alerts.require_staff(User(1, 1, "patient", "P", "t").caller)
