"""The 50-rule cap of a clinic (clinic.alert_rules.MAX_RULES) holds under concurrency: a care-team change moves one
inbox entry per rule in one transaction, so the cap is a storage limit, not a courtesy. Each rule is counted in
the transaction that writes it (store.alerts.put_rule, delete_rule); these tests drive the handlers through the
local gateway (in-process, moto) and read the rules and the counter back from the table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError
from clinic import alert_rules, settings
from clinic.models.alert_rules import NewAlertRule
from clinic.store import alerts as alert_store
from clinic.store import keys, table
from support import Client, User, clinic, gateway, user

RULE = {"gauge_type": "anxiety", "operator": ">=", "threshold": 8, "consecutive_days": 1, "priority": "high"}
CAP_REACHED = {"errors": {"alert_rule": [f"cannot be added: a clinic has at most {alert_rules.MAX_RULES} rules"]}}


def _rules(admin: User, count: int) -> list[int]:
    """`count` rules made through the domain, as the demo seed and the bench make theirs."""
    return [int(alert_rules.create(admin.caller, NewAlertRule(**RULE))["id"]) for _ in range(count)]


def _stored(clinic_id: int) -> tuple[int, int | None]:
    """The clinic's rules and its counter, as the table holds them."""
    counter = table.get(keys.alert_rule_count(clinic_id), consistent=True)
    return len(alert_store.clinic_rules(clinic_id)), int(counter["rule_count"]) if counter else None


@contextmanager
def before_rule_write(run: Any) -> Iterator[None]:
    """Calls `run()` once, just before the first request that writes a rule item is sent (whatever its API)."""
    events = settings.dynamodb().meta.events
    pending = [run]

    def hook(params: dict[str, Any], **_: Any) -> None:
        items = [params.get("Item") or {}, *(a.get("Put", {}).get("Item", {}) for a in params.get("TransactItems", []))]
        if pending and any(i.get("pk", {}).get("S", "").startswith("ALERTRULES#") for i in items):
            pending.pop()()

    for operation in ("PutItem", "TransactWriteItems"):
        events.register(f"before-parameter-build.dynamodb.{operation}", hook, unique_id=f"rule-race-{operation}")
    try:
        yield
    finally:
        for operation in ("PutItem", "TransactWriteItems"):
            events.unregister(f"before-parameter-build.dynamodb.{operation}", unique_id=f"rule-race-{operation}")
    assert not pending, "the request wrote no rule"


def test_two_creates_racing_for_the_last_place_leave_the_clinic_at_the_cap(aws: Any) -> None:
    """At 49 rules, a second create lands between the first one's check and its write (the interleaving that let
    two creates both pass a count read before the write, ending at 51): exactly one gets the place."""
    admin = user(clinic("Racing"), "admin")
    _rules(admin, alert_rules.MAX_RULES - 1)
    client = Client(gateway())
    won: list[dict[str, Any]] = []

    with before_rule_write(lambda: won.append(alert_rules.create(admin.caller, NewAlertRule(**RULE)))):
        first = client.post("/v1/alert_rules", {"alert_rule": RULE}, token=admin.token)

    assert len(won) == 1  # the one that got in between
    assert (first.status, first.body) == (422, CAP_REACHED)
    assert _stored(admin.clinic_id) == (alert_rules.MAX_RULES, alert_rules.MAX_RULES)
    listed = client.get("/v1/alert_rules", token=admin.token).body["alert_rules"]
    assert len(listed) == alert_rules.MAX_RULES and listed[-1]["id"] == won[0]["id"]


def test_a_deleted_rule_frees_its_place_and_only_one(aws: Any) -> None:
    admin = user(clinic("Full"), "admin")
    ids = _rules(admin, alert_rules.MAX_RULES)
    client = Client(gateway())
    refused = client.post("/v1/alert_rules", {"alert_rule": RULE}, token=admin.token)
    assert (refused.status, refused.body) == (422, CAP_REACHED)

    assert client.delete(f"/v1/alert_rules/{ids[7]}", token=admin.token).status == 204
    assert _stored(admin.clinic_id) == (alert_rules.MAX_RULES - 1, alert_rules.MAX_RULES - 1)
    again = client.post("/v1/alert_rules", {"alert_rule": RULE}, token=admin.token)
    assert again.status == 201, again.text
    assert {k: again.body["alert_rule"][k] for k in RULE} == RULE
    refused = client.post("/v1/alert_rules", {"alert_rule": RULE}, token=admin.token)
    assert (refused.status, refused.body) == (422, CAP_REACHED)
    assert _stored(admin.clinic_id) == (alert_rules.MAX_RULES, alert_rules.MAX_RULES)


def test_deleting_a_missing_rule_counts_nothing_down(aws: Any) -> None:
    admin = user(clinic("Ours"), "admin")
    other = user(clinic("Theirs"), "admin")
    ours = _rules(admin, 2)
    theirs = _rules(other, 1)
    client = Client(gateway())
    not_found = {"errors": "Alert rule not found"}

    assert client.delete(f"/v1/alert_rules/{ours[0]}", token=admin.token).status == 204
    for rule_id in (ours[0], theirs[0], 999_999):  # already deleted, another clinic's, never existed
        gone = client.delete(f"/v1/alert_rules/{rule_id}", token=admin.token)
        assert (gone.status, gone.body) == (404, not_found)
    assert _stored(admin.clinic_id) == (1, 1)
    assert _stored(other.clinic_id) == (1, 1)


def test_a_clinic_s_first_rule_starts_its_counter(aws: Any) -> None:
    """No counter item yet counts as 0: the first rule's ADD creates it."""
    admin = user(clinic("New"), "admin")
    assert _stored(admin.clinic_id) == (0, None)
    assert Client(gateway()).post("/v1/alert_rules", {"alert_rule": RULE}, token=admin.token).status == 201
    assert _stored(admin.clinic_id) == (1, 1)


def _conflict_once(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The next TransactWriteItems is cancelled as DynamoDB cancels one that meets another transaction on one of
    its items (TransactionConflict, at the counter's position), as two admins' writes at once can be; moto never
    does. Returns the reasons of the cancelled calls."""
    client = settings.dynamodb()
    real = client.transact_write_items
    cancelled: list[list[str]] = []

    def transact_write_items(**kwargs: Any) -> Any:
        if not cancelled:
            codes = ["None" if "Update" not in a else "TransactionConflict" for a in kwargs["TransactItems"]]
            cancelled.append(codes)
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                    "CancellationReasons": [{"Code": c} for c in codes],
                },
                "TransactWriteItems",
            )
        return real(**kwargs)

    monkeypatch.setattr(client, "transact_write_items", transact_write_items)
    return cancelled


def test_a_conflict_on_the_counter_is_retried_not_taken_for_the_cap(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = user(clinic("Busy"), "admin")
    (first,) = _rules(admin, 1)
    client = Client(gateway())

    cancelled = _conflict_once(monkeypatch)
    created = client.post("/v1/alert_rules", {"alert_rule": RULE}, token=admin.token)
    assert created.status == 201, created.text
    assert cancelled == [["None", "TransactionConflict"]]
    assert _stored(admin.clinic_id) == (2, 2)

    cancelled = _conflict_once(monkeypatch)
    assert client.delete(f"/v1/alert_rules/{first}", token=admin.token).status == 204
    assert cancelled == [["None", "TransactionConflict"]]
    assert _stored(admin.clinic_id) == (1, 1)


def test_a_threshold_is_a_number_the_table_can_store(aws: Any) -> None:
    """A threshold closer to 0 than DynamoDB's smallest magnitude (1e-130) was a 500 (schemathesis sent
    -2.2250738585e-313): it is 0, as a gauge value is; beyond the bounds it is 422 like a gauge value."""
    admin = user(clinic("Tiny"), "admin")
    client = Client(gateway())
    tiny = client.post("/v1/alert_rules", {"alert_rule": {**RULE, "threshold": -2.2250738585e-313}}, token=admin.token)
    assert tiny.status == 201 and tiny.body["alert_rule"]["threshold"] == 0
    assert alert_store.clinic_rules(admin.clinic_id)[0]["threshold"] == 0
    huge = client.post("/v1/alert_rules", {"alert_rule": {**RULE, "threshold": 1e13}}, token=admin.token)
    assert (huge.status, huge.body) == (
        422,
        {"errors": {"alert_rule.threshold": ["must be less than or equal to 1000000000000"]}},
    )


@pytest.mark.parametrize(
    ("days", "reply"),
    [
        (2.0, 201),  # JSON does not tell 2 from 2.0: a whole number is accepted either way
        (14, 201),
        (2.5, {"alert_rule.consecutive_days": ["must be a number"]}),
        ("2", {"alert_rule.consecutive_days": ["must be a number"]}),
        (0, {"alert_rule.consecutive_days": ["must be greater than or equal to 1"]}),
        (15.0, {"alert_rule.consecutive_days": ["must be less than or equal to 14"]}),
    ],
)
def test_consecutive_days_is_a_whole_number_of_1_to_14(aws: Any, days: Any, reply: int | dict[str, Any]) -> None:
    admin = user(clinic("Days"), "admin")
    created = Client(gateway()).post(
        "/v1/alert_rules", {"alert_rule": {**RULE, "consecutive_days": days}}, token=admin.token
    )
    if reply == 201:
        assert created.status == 201, created.text
        assert created.body["alert_rule"]["consecutive_days"] == days
        assert [r["consecutive_days"] for r in alert_store.clinic_rules(admin.clinic_id)] == [days]
    else:
        assert (created.status, created.body) == (422, {"errors": reply})
        assert alert_store.clinic_rules(admin.clinic_id) == []
