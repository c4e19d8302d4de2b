"""`patients-admin`: clinics, users, tokens (and later care teams and summaries), printed as JSON.

It talks to DynamoDB directly: a deployed stack (`--stack NAME` reads the table from the stack's
outputs, or `TABLE_NAME`), or a running `make run` (`AWS_ENDPOINT_URL_DYNAMODB`, as it prints).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from clinic import accounts, patient_users, settings
from clinic.errors import ApiError, ValidationFailed


def _table_from_stack(stack: str) -> str:
    import boto3

    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    for output in outputs:
        if output["OutputKey"] == "PatientsTableName":
            return output["OutputValue"]
    raise SystemExit(f"stack {stack} has no PatientsTableName output")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patients-admin", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="deployed stack whose table to use (default: $TABLE_NAME)")
    parser.add_argument("--table", help="DynamoDB table name (default: $TABLE_NAME or PatientsTable)")
    groups = parser.add_subparsers(dest="group", required=True)

    clinics = groups.add_parser("clinics").add_subparsers(dest="command", required=True)
    create_clinic = clinics.add_parser("create", help="create a clinic")
    create_clinic.add_argument("--name", default="Clinic")
    create_clinic.set_defaults(run=lambda a: accounts.create_clinic(a.name))

    users = groups.add_parser("users").add_subparsers(dest="command", required=True)
    create_user = users.add_parser("create", help="create a user and print their first token")
    create_user.add_argument("--clinic", type=int, required=True)
    create_user.add_argument("--role", choices=("admin", "supervisor", "provider"), required=True)
    create_user.add_argument("--name", required=True)
    create_user.add_argument("--supervisor", type=int, help="the supervisor of a provider")
    create_user.set_defaults(run=_create_user)

    tokens = groups.add_parser("tokens").add_subparsers(dest="command", required=True)
    issue = tokens.add_parser("issue", help="issue another token for a user")
    issue.add_argument("--user", type=int, required=True)
    issue.add_argument("--expires-in-days", type=int, help=f"1 to {accounts.MAX_TOKEN_DAYS} (default: never expires)")
    issue.set_defaults(run=lambda a: accounts.issue_token(a.user, a.expires_in_days))
    revoke = tokens.add_parser("revoke", help="revoke every token of a user")
    revoke.add_argument("--user", type=int, required=True)
    revoke.set_defaults(run=lambda a: accounts.revoke_tokens(a.user))
    deactivate = users.add_parser("deactivate", help="deactivate a user and revoke every token they hold")
    deactivate.add_argument("--user", type=int, required=True)
    deactivate.set_defaults(run=lambda a: accounts.set_active(a.user, False))
    activate = users.add_parser("activate", help="reactivate a user (issue them a new token)")
    activate.add_argument("--user", type=int, required=True)
    activate.set_defaults(run=lambda a: accounts.set_active(a.user, True))

    invitations = groups.add_parser("invitations").add_subparsers(dest="command", required=True)
    invite = invitations.add_parser("create", help="an invitation code for a patient's app (printed once)")
    invite.add_argument("--patient", type=int, required=True)
    invite.add_argument("--expires-in-hours", type=int, default=72, help="1 to 168 (default 72)")
    invite.set_defaults(run=lambda a: patient_users.invite_as_operator(a.patient, a.expires_in_hours))

    care_team = groups.add_parser("care-team").add_subparsers(dest="command", required=True)
    for command, helptext in (("add", "put a user on a patient's care team"), ("remove", "take a user off it")):
        sub = care_team.add_parser(command, help=helptext)
        sub.add_argument("--patient", type=int, required=True)
        sub.add_argument("--user", type=int, required=True)
        sub.set_defaults(run=lambda a, add=command == "add": accounts.change_care_team(a.patient, a.user, add))

    jobs = groups.add_parser("summaries").add_subparsers(dest="command", required=True)
    run_summaries = jobs.add_parser("run", help="run the gauge summary job once")
    run_summaries.add_argument("--full", action="store_true", help="rebuild every summary (shows progress)")
    run_summaries.set_defaults(run=_run_summaries)
    set_aside = jobs.add_parser("set-aside", help="items the summary job could not process and set aside")
    set_aside.set_defaults(run=_set_aside)
    audit = groups.add_parser("audit", help="a patient's audit trail: who read or changed it, when, from which request")
    audit.add_argument("--patient", type=int, required=True)
    audit.add_argument("--since", help="only events at or after this ISO time (e.g. 2024-01-31T00:00:00.000Z)")
    audit.set_defaults(run=_audit)
    return parser


def _audit(args: argparse.Namespace) -> dict[str, Any]:
    from clinic import audit

    return {"patient_id": args.patient, "events": audit.trail(args.patient, since=args.since)}


def _progress(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} patients", end=end, file=sys.stderr, flush=True)


def _run_summaries(args: argparse.Namespace) -> dict[str, Any]:
    from clinic import summaries

    return summaries.run_job(full=args.full, progress=_progress if args.full else None)


def _set_aside(args: argparse.Namespace) -> dict[str, Any]:
    from clinic import summaries

    return {"job": summaries.JOB, "items": summaries.set_aside_items()}


def _create_user(args: argparse.Namespace) -> dict[str, Any]:
    user = accounts.create_user(args.clinic, args.role, args.name, args.supervisor)
    return {"user": user, "token": accounts.issue_token(user["id"])["token"]}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.stack:
        os.environ["TABLE_NAME"] = _table_from_stack(args.stack)
    elif args.table:
        os.environ["TABLE_NAME"] = args.table
    # A short-lived process should not skip a block of ids per run (hi/lo blocks are per process).
    os.environ.setdefault("ID_BLOCK_SIZE", "1")
    settings.reset()
    run: Callable[[argparse.Namespace], Any] = args.run
    try:
        result = run(args)
    except (accounts.AccountError, ApiError) as error:
        # A validation failure names its fields, as the API's 422 does.
        details = {"errors": error.errors} if isinstance(error, ValidationFailed) else {}
        print(json.dumps({"error": str(error), **details}), file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
