"""Alerts over HTTP against the local API: clinic rules on local days (across a DST change), one unresolved
alert per patient and rule, the inbox for each role, acknowledge and resolve with the contract's bodies,
care-team changes, and the events (ids and priority only) each opened or resolved alert publishes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ACTION_FORBIDDEN, Client, User, clinic, patient, user

pytestmark = pytest.mark.http

ALERT_KEYS = {
    "id",
    "patient_id",
    "rule",
    "priority",
    "status",
    "trigger",
    "occurrences",
    "opened_at",
    "last_triggered_at",
    "acknowledged_at",
    "acknowledged_by",
    "resolved_at",
    "resolved_by",
    "resolution_note",
}


# A deployed stack publishes to EventBridge, which a test cannot read back.
local_events = pytest.mark.local_only("reads the events the local API appends to its file (LOCAL_EVENTS_FILE)")


@pytest.fixture
def events_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the local gateway (in this process) appends the events it publishes."""
    path = tmp_path / "events.ndjson"
    monkeypatch.setenv("LOCAL_EVENTS_FILE", str(path))
    return path


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class World:
    def __init__(self, url: str) -> None:
        self.client = Client(url)
        self.clinic = clinic("Alert clinic")
        self.admin = user(self.clinic, "admin", "Ada Admin")
        self.supervisor = user(self.clinic, "supervisor", "Sam Supervisor")
        self.provider = user(self.clinic, "provider", "Pia Provider", supervisor=self.supervisor)
        self.other_provider = user(self.clinic, "provider", "Otto Provider")
        self.other_admin = user(clinic("Elsewhere"), "admin", "Bea Admin")

    def call(self, method: str, path: str, who: User, body: Any = ..., **query: Any) -> Any:
        reply = self.client.request(method, path, token=who.token, json_body=body, query=query or None)
        return reply

    def rule(self, **fields: Any) -> dict[str, Any]:
        body = {"gauge_type": "anxiety", "operator": ">=", "threshold": 8, "consecutive_days": 1, "priority": "high"}
        reply = self.call("POST", "/v1/alert_rules", self.admin, {"alert_rule": {**body, **fields}})
        assert reply.status == 201, reply.text
        return reply.body["alert_rule"]

    def gauge(self, pid: int, gauge_type: str, value: float, recorded_at: str | None = None) -> dict[str, Any]:
        gauge: dict[str, Any] = {"gauge_type": gauge_type, "value": value}
        if recorded_at:
            gauge["recorded_at"] = recorded_at
        reply = self.call("POST", f"/v1/patients/{pid}/gauges", self.provider, {"gauge": gauge})
        assert reply.status == 201, reply.text
        return reply.body

    def alerts(self, pid: int, who: User | None = None, **query: Any) -> list[dict[str, Any]]:
        reply = self.call("GET", f"/v1/patients/{pid}/alerts", who or self.provider, **query)
        assert reply.status == 200, reply.text
        return reply.body["alerts"]


@pytest.fixture(scope="module")
def world(http_api: Any) -> Iterator[World]:
    yield World(http_api.url)


def _rules_cleanup(world: World) -> None:
    for rule in world.call("GET", "/v1/alert_rules", world.admin).body["alert_rules"]:
        assert world.call("DELETE", f"/v1/alert_rules/{rule['id']}", world.admin).status == 204


@pytest.fixture
def clean_rules(world: World) -> Iterator[None]:
    _rules_cleanup(world)
    yield
    _rules_cleanup(world)


@local_events
def test_a_clinic_rule_counts_local_days_across_a_dst_change(
    world: World, clean_rules: None, events_file: Path
) -> None:
    """New York moves to daylight time on 2026-03-08. Each day's mean is over that local day: a gauge at
    23:30 on the 8th (03:30 UTC on the 9th) belongs to the 8th, so the rule fires on the 9th's mean, not before."""
    rule = world.rule(consecutive_days=3, threshold=8)
    pid = patient(world.provider, "Dora", "Dst", time_zone="America/New_York")["id"]
    world.gauge(pid, "anxiety", 9, "2026-03-07T12:00:00-05:00")
    world.gauge(pid, "anxiety", 8, "2026-03-08T23:30:00-04:00")
    low = world.gauge(pid, "anxiety", 6, "2026-03-09T00:30:00-04:00")
    assert world.alerts(pid) == []  # the 9th's mean is 6
    world.gauge(pid, "mood", 10, "2026-03-09T12:00:00-04:00")  # another type does not count
    assert world.alerts(pid) == []
    high = world.gauge(pid, "anxiety", 10, "2026-03-09T20:00:00-04:00")  # the 9th's mean is now 8

    (alert,) = world.alerts(pid)
    assert alert.keys() == ALERT_KEYS
    assert alert["rule"] == f"alert_rule:{rule['id']}"
    assert (alert["priority"], alert["status"], alert["occurrences"]) == ("high", "open", 1)
    assert alert["trigger"] == {"type": "gauge", "id": high["id"]}
    assert alert["opened_at"] == alert["last_triggered_at"] == high["created_at"]
    assert low["id"] != high["id"]
    # In UTC the 8th would have no gauge at all: the rule reads the patient's days.
    opened = [e for e in _events(events_file) if e["detail"]["alert_id"] == alert["id"]]
    assert [e["detail-type"] for e in opened] == ["alert.opened"]
    assert set(opened[0]["detail"]) == {"alert_id", "patient_id", "clinic_id", "priority", "at", "event_id"}

    # The same rule again while the alert is unresolved: one more occurrence, not a second alert.
    again = world.gauge(pid, "anxiety", 9, "2026-03-09T21:00:00-04:00")
    (alert,) = world.alerts(pid)
    assert (alert["occurrences"], alert["trigger"]) == (2, {"type": "gauge", "id": again["id"]})


def test_a_rule_below_its_threshold_on_one_day_does_not_fire(world: World, clean_rules: None) -> None:
    world.rule(operator="<=", threshold=2, consecutive_days=2, gauge_type="mood", priority="urgent")
    pid = patient(world.provider, "Lou", "Low", time_zone="Europe/Paris")["id"]
    world.gauge(pid, "mood", 2, "2026-04-01T10:00:00+02:00")
    world.gauge(pid, "mood", 3, "2026-04-02T10:00:00+02:00")  # mean 3 on the 2nd
    assert world.alerts(pid) == []
    world.gauge(pid, "mood", 1, "2026-04-02T11:00:00+02:00")  # mean 2 on the 2nd
    (alert,) = world.alerts(pid)
    assert alert["priority"] == "urgent"


@local_events
def test_acknowledge_then_resolve_and_the_next_trigger_opens_a_new_alert(
    world: World, clean_rules: None, events_file: Path
) -> None:
    world.rule(threshold=5)
    pid = patient(world.provider, "Ana", "Ack")["id"]
    world.gauge(pid, "anxiety", 7)
    (alert,) = world.alerts(pid)

    acked = world.call("POST", f"/v1/alerts/{alert['id']}/acknowledge", world.provider)
    assert acked.status == 200, acked.text
    assert (acked.body["status"], acked.body["acknowledged_by"]) == ("acknowledged", world.provider.id)
    again = world.call("POST", f"/v1/alerts/{alert['id']}/acknowledge", world.supervisor)
    assert (again.status, again.body) == (200, acked.body)  # acknowledging twice changes nothing
    assert [a["id"] for a in world.alerts(pid)] == [alert["id"]]  # still in the open list

    blank = world.call("POST", f"/v1/alerts/{alert['id']}/resolve", world.provider, {"resolution_note": " "})
    assert (blank.status, blank.body) == (422, {"errors": {"resolution_note": ["can't be blank"]}})
    missing = world.call("POST", f"/v1/alerts/{alert['id']}/resolve", world.provider, {})
    assert (missing.status, missing.body) == (422, {"errors": {"resolution_note": ["can't be blank"]}})
    long = world.call("POST", f"/v1/alerts/{alert['id']}/resolve", world.provider, {"resolution_note": "x" * 2001})
    assert long.body == {"errors": {"resolution_note": ["is too long (maximum is 2000 characters)"]}}

    done = world.call("POST", f"/v1/alerts/{alert['id']}/resolve", world.provider, {"resolution_note": "Called."})
    assert done.status == 200, done.text
    assert (done.body["status"], done.body["resolved_by"], done.body["resolution_note"]) == (
        "resolved",
        world.provider.id,
        "Called.",
    )
    for path, body in (("acknowledge", ...), ("resolve", {"resolution_note": "Again."})):
        late = world.call("POST", f"/v1/alerts/{alert['id']}/{path}", world.provider, body)
        assert (late.status, late.body) == (409, {"errors": "Alert is already resolved"})
    assert world.alerts(pid) == []
    assert [a["id"] for a in world.alerts(pid, status="resolved")] == [alert["id"]]

    world.gauge(pid, "anxiety", 9)
    (reopened,) = world.alerts(pid)
    assert reopened["id"] != alert["id"] and reopened["occurrences"] == 1
    assert [a["id"] for a in world.alerts(pid, status="all")] == [alert["id"], reopened["id"]]
    kinds = [(e["detail-type"], e["detail"]["alert_id"]) for e in _events(events_file)]
    assert kinds == [("alert.opened", alert["id"]), ("alert.resolved", alert["id"]), ("alert.opened", reopened["id"])]


def test_the_inbox_of_each_role(world: World, clean_rules: None) -> None:
    world.rule(threshold=5, priority="normal")
    world.rule(threshold=7, priority="urgent")
    mine = patient(world.provider, "Mia", "Mine")["id"]
    theirs = patient(world.other_provider, "Theo", "Theirs")["id"]
    world.gauge(mine, "anxiety", 6)  # normal
    world.call(
        "POST", f"/v1/patients/{theirs}/gauges", world.other_provider, {"gauge": {"gauge_type": "anxiety", "value": 6}}
    )
    world.gauge(mine, "anxiety", 10)  # the day's mean is 8: urgent, and the normal one's second occurrence

    def inbox(who: User, **query: Any) -> list[tuple[int, str]]:
        reply = world.call("GET", "/v1/alerts", who, **query)
        assert reply.status == 200, reply.text
        return [(a["patient_id"], a["priority"]) for a in reply.body["alerts"] if a["patient_id"] in (mine, theirs)]

    assert inbox(world.provider) == [(mine, "urgent"), (mine, "normal")]  # urgent first
    assert inbox(world.supervisor) == [(mine, "urgent"), (mine, "normal")]  # through the provider they supervise
    assert inbox(world.other_provider) == [(theirs, "normal")]
    assert inbox(world.admin) == [(mine, "urgent"), (mine, "normal"), (theirs, "normal")]
    assert inbox(world.admin, priority="normal") == [(mine, "normal"), (theirs, "normal")]
    assert inbox(world.other_admin) == []

    # Pages: one alert each, the cursor continues in the same order.
    seen, cursor = [], None
    while True:
        query = {"page_size": 1, **({"cursor": cursor} if cursor else {})}
        reply = world.call("GET", "/v1/alerts", world.admin, **query)
        assert reply.status == 200, reply.text
        seen += [(a["patient_id"], a["priority"]) for a in reply.body["alerts"]]
        assert set(reply.body["meta"]) == {"page_size", "has_more", "next_cursor"}
        cursor = reply.body["meta"]["next_cursor"]
        if not cursor:
            break
    assert [s for s in seen if s[0] in (mine, theirs)] == [(mine, "urgent"), (mine, "normal"), (theirs, "normal")]

    # Out of reach: 404 with the alert's own body, whoever is asking.
    (alert,) = world.alerts(theirs, world.other_provider)
    for who in (world.provider, world.other_admin):
        reply = world.call("POST", f"/v1/alerts/{alert['id']}/acknowledge", who)
        assert (reply.status, reply.body) == (404, {"errors": "Alert not found"})
    for bad in ("0", "abc", "99999999999"):
        reply = world.call("POST", f"/v1/alerts/{bad}/acknowledge", world.admin)
        assert (reply.status, reply.body) == (404, {"errors": "Alert not found"})


def test_care_team_changes_move_the_members_inbox_entries(world: World, clean_rules: None) -> None:
    world.rule(threshold=5)
    pid = patient(world.admin, "Cara", "Team")["id"]  # an admin's patient: no care team
    world.gauge_by = world.admin
    reply = world.call(
        "POST", f"/v1/patients/{pid}/gauges", world.admin, {"gauge": {"gauge_type": "anxiety", "value": 6}}
    )
    assert reply.status == 201

    def provider_sees() -> bool:
        alerts = world.call("GET", "/v1/alerts", world.other_provider).body["alerts"]
        return any(a["patient_id"] == pid for a in alerts)

    assert not provider_sees()
    added = world.call("POST", f"/v1/patients/{pid}/care_team", world.admin, {"user_id": world.other_provider.id})
    assert added.status == 201, added.text
    assert provider_sees()
    removed = world.call("DELETE", f"/v1/patients/{pid}/care_team/{world.other_provider.id}", world.admin)
    assert removed.status == 204
    assert not provider_sees()


def test_clinic_rules_are_managed_by_admins(world: World, clean_rules: None) -> None:
    body = {
        "alert_rule": {
            "gauge_type": "anxiety",
            "operator": ">=",
            "threshold": 8,
            "consecutive_days": 3,
            "priority": "high",
        }
    }
    for who in (world.provider, world.supervisor):
        reply = world.call("POST", "/v1/alert_rules", who, {"alert_rule": {"operator": "??"}})
        assert (reply.status, reply.body) == (403, ACTION_FORBIDDEN)  # before validation
    created = world.call("POST", "/v1/alert_rules", world.admin, body)
    assert created.status == 201, created.text
    rule = created.body["alert_rule"]
    assert {k: rule[k] for k in body["alert_rule"]} == body["alert_rule"]
    assert set(rule) == {"id", "gauge_type", "operator", "threshold", "consecutive_days", "priority", "created_at"}
    for who in (world.provider, world.supervisor, world.admin):
        listed = world.call("GET", "/v1/alert_rules", who)
        assert (listed.status, listed.body) == (200, {"alert_rules": [rule]})
    assert world.call("GET", "/v1/alert_rules", world.other_admin).body == {"alert_rules": []}

    gone = world.call("DELETE", f"/v1/alert_rules/{rule['id']}", world.other_admin)
    assert (gone.status, gone.body) == (404, {"errors": "Alert rule not found"})
    assert world.call("DELETE", f"/v1/alert_rules/{rule['id']}", world.provider).status == 403
    assert world.call("DELETE", f"/v1/alert_rules/{rule['id']}", world.admin).status == 204
    gone = world.call("DELETE", f"/v1/alert_rules/{rule['id']}", world.admin)
    assert (gone.status, gone.body) == (404, {"errors": "Alert rule not found"})

    bad = world.call(
        "POST",
        "/v1/alert_rules",
        world.admin,
        {
            "alert_rule": {
                "gauge_type": "Bad Type",
                "operator": ">",
                "threshold": "8",
                "consecutive_days": 15,
                "priority": "low",
            }
        },
    )
    assert bad.status == 422
    assert set(bad.body["errors"]) == {
        "alert_rule.gauge_type",
        "alert_rule.operator",
        "alert_rule.threshold",
        "alert_rule.consecutive_days",
        "alert_rule.priority",
    }
    assert world.call("POST", "/v1/alert_rules", world.admin, {}).body == {"errors": {"alert_rule": ["can't be blank"]}}
    # Instrument totals have the built-in rules; a whole number may be written 3.0 (JSON does not tell them apart).
    reserved = {**body["alert_rule"], "gauge_type": "phq9", "consecutive_days": 3.0}
    refused = world.call("POST", "/v1/alert_rules", world.admin, {"alert_rule": reserved})
    assert (refused.status, refused.body) == (
        422,
        {"errors": {"alert_rule.gauge_type": ["is reserved for assessments"]}},
    )
    half = world.call(
        "POST", "/v1/alert_rules", world.admin, {"alert_rule": {**body["alert_rule"], "consecutive_days": 2.5}}
    )
    assert (half.status, half.body) == (422, {"errors": {"alert_rule.consecutive_days": ["must be a number"]}})


# ---- the built-in rules, through POST .../assessments (issue 14's route) ----


def _assess(world: World, pid: int, instrument: str, answers: list[int], completed_at: str | None = None) -> dict:
    body: dict[str, Any] = {"instrument": instrument, "answers": answers}
    if completed_at:
        body["completed_at"] = completed_at
    reply = world.call("POST", f"/v1/patients/{pid}/assessments", world.provider, {"assessment": body})
    assert reply.status == 201, reply.text
    return reply.body


def _rules(world: World, pid: int) -> list[tuple[str, str, dict[str, Any], int]]:
    return [(a["rule"], a["priority"], a["trigger"], a["occurrences"]) for a in world.alerts(pid, status="all")]


PHQ9_ITEM9 = [0, 0, 0, 0, 0, 0, 0, 0]  # items 1-8 at zero: only item 9 varies


@pytest.mark.parametrize(("item9", "fires"), [(0, False), (1, True), (3, True)])
@local_events
def test_self_harm_risk_at_its_edge(world: World, events_file: Path, item9: int, fires: bool) -> None:
    pid = patient(world.provider, "Sia", "Selfharm")["id"]
    recorded = _assess(world, pid, "phq9", [*PHQ9_ITEM9, item9])
    expected = [("self_harm_risk", "urgent", {"type": "assessment", "id": recorded["id"]}, 1)] if fires else []
    assert _rules(world, pid) == expected
    opened = [e["detail"] for e in _events(events_file) if e["detail"]["patient_id"] == pid]
    assert [(e["priority"], e["clinic_id"]) for e in opened] == ([("urgent", world.clinic)] if fires else [])
    if fires:  # the event names ids and priority only: not the rule, not an answer, not the total
        assert set(opened[0]) == {"alert_id", "patient_id", "clinic_id", "priority", "at", "event_id"}
        assert [a["id"] for a in world.alerts(pid)] == [opened[0]["alert_id"]]


@pytest.mark.parametrize(
    ("instrument", "answers", "fires"),
    [
        ("phq9", [3, 3, 3, 3, 3, 3, 1, 0, 0], False),  # 19
        ("phq9", [3, 3, 3, 3, 3, 3, 2, 0, 0], True),  # 20
        ("gad7", [2, 2, 2, 2, 2, 2, 2], False),  # 14
        ("gad7", [3, 2, 2, 2, 2, 2, 2], True),  # 15
    ],
)
def test_severe_score_at_its_edges(world: World, instrument: str, answers: list[int], fires: bool) -> None:
    pid = patient(world.provider, "Seve", "Re")["id"]
    recorded = _assess(world, pid, instrument, answers)
    assert recorded["total"] == sum(answers)
    expected = [("severe_score", "high", {"type": "assessment", "id": recorded["id"]}, 1)] if fires else []
    assert _rules(world, pid) == expected


@pytest.mark.parametrize(
    ("instrument", "first", "second", "fires"),
    [
        ("phq9", [1, 1, 0, 0, 0, 0, 0, 0, 0], [2, 2, 2, 0, 0, 0, 0, 0, 0], False),  # 2 -> 6: 4 points
        ("phq9", [1, 1, 0, 0, 0, 0, 0, 0, 0], [2, 2, 2, 1, 0, 0, 0, 0, 0], True),  # 2 -> 7: 5 points
        ("gad7", [1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0], False),  # 1 -> 4: 3 points
        ("gad7", [1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0], True),  # 1 -> 5: 4 points
    ],
)
def test_worsening_at_its_edges(
    world: World, instrument: str, first: list[int], second: list[int], fires: bool
) -> None:
    pid = patient(world.provider, "Wor", "Sening")["id"]
    _assess(world, pid, instrument, first, "2026-01-05T10:00:00.000Z")
    assert _rules(world, pid) == []  # a first assessment has nothing to worsen from
    recorded = _assess(world, pid, instrument, second, "2026-01-19T10:00:00.000Z")
    expected = [("worsening", "high", {"type": "assessment", "id": recorded["id"]}, 1)] if fires else []
    assert _rules(world, pid) == expected


def test_worsening_compares_a_back_dated_assessment_with_the_one_before_it(world: World) -> None:
    """The previous total is that of the assessment just before the new one in time, not the newest stored."""
    pid = patient(world.provider, "Back", "Dated")["id"]
    _assess(world, pid, "phq9", [1, 1, 0, 0, 0, 0, 0, 0, 0], "2026-02-02T10:00:00.000Z")  # 2
    _assess(world, pid, "phq9", [1, 1, 1, 1, 1, 1, 0, 0, 0], "2026-02-16T10:00:00.000Z")  # 6: +4
    assert _rules(world, pid) == []
    # Back-dated between them: 7 is 5 above the 2 before it (and only 1 above the newest, 6).
    between = _assess(world, pid, "phq9", [1, 1, 1, 1, 1, 1, 1, 0, 0], "2026-02-09T10:00:00.000Z")
    assert _rules(world, pid) == [("worsening", "high", {"type": "assessment", "id": between["id"]}, 1)]
    # Back-dated before all of them: no previous assessment at all.
    other = patient(world.provider, "Back", "First")["id"]
    _assess(world, other, "gad7", [0, 0, 0, 0, 0, 0, 0], "2026-02-16T10:00:00.000Z")
    _assess(world, other, "gad7", [3, 3, 0, 0, 0, 0, 0], "2026-02-02T10:00:00.000Z")
    assert _rules(world, other) == []


def test_one_assessment_fires_several_rules_and_a_second_adds_occurrences(world: World) -> None:
    pid = patient(world.provider, "Many", "Rules")["id"]
    first = _assess(world, pid, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 0], "2026-03-02T10:00:00.000Z")
    assert first["total"] == 0
    second = _assess(world, pid, "phq9", [3, 3, 3, 3, 3, 3, 2, 0, 1], "2026-03-16T10:00:00.000Z")  # 21
    cause = {"type": "assessment", "id": second["id"]}
    assert sorted(_rules(world, pid)) == [
        ("self_harm_risk", "urgent", cause, 1),
        ("severe_score", "high", cause, 1),
        ("worsening", "high", cause, 1),
    ]
    third = _assess(world, pid, "phq9", [3, 3, 3, 3, 3, 3, 2, 0, 1], "2026-03-30T10:00:00.000Z")  # 21 again
    cause = {"type": "assessment", "id": third["id"]}
    # Unresolved alerts count the new trigger; no second alert. 21 is not 5 above 21: worsening stays at 1.
    assert sorted((r, p, t, n) for r, p, t, n in _rules(world, pid)) == [
        ("self_harm_risk", "urgent", cause, 2),
        ("severe_score", "high", cause, 2),
        ("worsening", "high", {"type": "assessment", "id": second["id"]}, 1),
    ]
    # Deleting an assessment leaves its alerts: a clinician resolves them.
    deleted = world.call("DELETE", f"/v1/patients/{pid}/assessments/{third['id']}", world.provider)
    assert deleted.status == 204
    assert len(world.alerts(pid)) == 3


def test_a_deleted_gauge_leaves_its_days_mean_at_once(world: World, clean_rules: None) -> None:
    """The day mean a clinic rule reads drops a deleted gauge in the deletion's own transaction, without
    waiting for the summary job: the next gauge is compared with the gauges that remain."""
    world.rule(threshold=8)
    pid = patient(world.provider, "Del", "Mean")["id"]
    wrong = world.gauge(pid, "anxiety", 2, "2026-05-04T09:00:00.000Z")  # recorded by mistake
    gone = world.call("DELETE", f"/v1/patients/{pid}/gauges/{wrong['id']}", world.provider)
    assert gone.status == 204
    high = world.gauge(pid, "anxiety", 9, "2026-05-04T18:00:00.000Z")  # mean 9 without the deleted 2 (5.5 with)
    assert [(a["rule"].split(":")[0], a["trigger"]) for a in world.alerts(pid)] == [
        ("alert_rule", {"type": "gauge", "id": high["id"]})
    ]
