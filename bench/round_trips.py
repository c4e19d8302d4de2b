"""Row 3's round trips: on AWS a request's latency is set by its sequential DynamoDB round trips, not by its
CPU. Handlers call DynamoDB one call at a time, so a request's round trips are its calls (bench/scaling.py
counts them, with their operations). Beside each route, the fewest the design allows for that request:

- the chain of calls that each need the one before, in the order the pipeline imposes: the access guard
  reads the path's patient (404/403 before 422), Powertools' idempotency utility locks the key before
  the handler and saves the answer after it (POSTs, which carry an Idempotency-Key), the handler's own
  calls, then the audit write (it records the ids of the answer);
- reads the handler needs that do not depend on each other count once (one BatchGetItem), the writes of
  one change count once (one transaction), and nothing read before a write is read again after it;
- the first create of a container reserves a block of ids (one ADD, then none for the next
  ID_BLOCK_SIZE creates); the bench measures that first create, so the block counts.
"""

from __future__ import annotations

# label (bench/scaling.py) -> (fewest round trips, the chain)
MINIMUM: dict[str, tuple[int, str]] = {
    "AuthorizerFunction": (2, "token item, then its user (active, role, clinic)"),
    "ListPatientsFunction": (3, "list query, page's patients (BatchGetItem), audit"),
    "ListPatientsFunction search=do": (3, "name query, page's patients (BatchGetItem), audit"),
    "CreatePatientFunction": (5, "lock, id block, transaction, save, audit"),
    "GetPatientFunction": (2, "guard, audit"),
    "UpdatePatientFunction": (3, "guard, conditional update, audit"),
    "GetCareTeamFunction": (3, "guard, members' names (BatchGetItem), audit"),
    "AddCareTeamMemberFunction": (
        7,
        "guard, lock, new and current members (BatchGetItem), the patient's open alert slots (Query: the member's "
        "inbox entries move in the same transaction), transaction, save, audit",
    ),
    "RemoveCareTeamMemberFunction": (
        5,
        "guard, member's role, the patient's open alert slots (Query), transaction, audit",
    ),
    "ListGaugesFunction": (3, "guard, gauge query, audit"),
    "RecordGaugesFunction": (
        8,
        "guard, lock, id block, the clinic's alert rules (Query), latest entries and fired rules' slots "
        "(BatchGetItem), transaction, save, audit",
    ),
    "DeleteGaugeFunction": (
        7,
        "guard, gauge by id (index query), the gauge (its value leaves its day mean), latest entry, the type's "
        "newest 3 (when the entry held it), transaction, audit",
    ),
    "GetLatestGaugesFunction": (3, "guard, latest values (one Query), audit"),
    "ListInstrumentsFunction": (0, "no table"),
    "ListAssessmentsFunction": (3, "guard, assessment query, audit"),
    "GetAssessmentFunction": (4, "guard, assessment by id (index query), the assessment, audit"),
    "RecordAssessmentFunction": (
        8,
        "guard, lock, id blocks (assessment, gauge), latest entry and the built-in rules' slots (one BatchGetItem), "
        "transaction, save, audit",
    ),
    "DeleteAssessmentFunction": (
        7,
        "guard, assessment by id (index query), the assessment, latest entry, the type's newest 3, transaction, audit",
    ),
    "GetGaugeSummaryFunction": (4, "guard, summaries query, job checkpoint, audit"),
    "CreateInvitationFunction": (3, "guard, invitation put, audit"),
    "RedeemInvitationFunction": (4, "invitation (one read, whatever the code), id block, transaction, audit"),
    "GetMeFunction": (1, "the user"),
    "ListAlertsFunction": (
        3,
        "inbox query (the caller's own inbox: the clinic's for an admin), the page's alerts and their patients "
        "(one BatchGetItem: the entries name both), audit",
    ),
    "ListPatientAlertsFunction": (4, "guard, the patient's inbox query, the page's alerts (BatchGetItem), audit"),
    "AcknowledgeAlertFunction": (
        4,
        "alert, its patient (access; the alert names it), conditional update (from the version read: the answer "
        "is known), audit",
    ),
    "ResolveAlertFunction": (
        5,
        "alert, its patient, transaction (alert, slot, inbox moves, outbox), outbox item removed once published, audit",
    ),
    "CreateAlertRuleFunction": (2, "id block, transaction (the rule, and its clinic's counter: the 50-rule cap)"),
    "ListAlertRulesFunction": (1, "the clinic's rules (one Query; no patient data, no audit)"),
    "DeleteAlertRuleFunction": (1, "transaction (the rule, a missing one: 404; its clinic's counter)"),
    "ServeDocsFunction": (0, "no table"),
}
