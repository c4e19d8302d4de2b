"""`patients-admin`: clinics, users, tokens, invitations, care teams, summaries and audit trails, printed as JSON.

It talks to DynamoDB directly: a deployed stack (`--stack NAME` reads the table from the stack's
outputs, or `TABLE_NAME`), or a running `make run` (`AWS_ENDPOINT_URL_DYNAMODB`, as it prints). Revoking
tokens and deactivating users also flush the API stage's authorizer cache (the stack's outputs, or `API_ID`
and `API_STAGE`; `make run` sets them and points `AWS_ENDPOINT_URL_API_GATEWAY` at its local gateway).

What goes wrong before a command even runs (no region, no credentials, nothing at the endpoint, a stack or a
table that does not exist) is one line on stderr and exit status 1; `--debug` (or DEBUG=1) shows the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from clinic import accounts, authorizer_cache, patient_users, settings, store
from clinic.errors import ApiError, ValidationFailed


def _stack_outputs(stack: str) -> dict[str, str]:
    import boto3

    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    found = {output["OutputKey"]: output["OutputValue"] for output in outputs}
    if "PatientsTableName" not in found:
        raise SystemExit(f"stack {stack} has no PatientsTableName output")
    return found


def _ending_sessions(result: dict[str, Any]) -> dict[str, Any]:
    """A revocation or deactivation, written; then the API stage's authorizer cache flushed so the tokens
    stop at their next request (a failed flush is reported, and the write stands)."""
    stage = None
    if os.environ.get("API_ID") and os.environ.get("API_STAGE"):
        stage = authorizer_cache.Stage(os.environ["API_ID"], os.environ["API_STAGE"])
    return {**result, **authorizer_cache.flush(stage).report()}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="patients-admin", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="deployed stack whose table to use (default: $TABLE_NAME)")
    parser.add_argument("--table", help="DynamoDB table name (default: $TABLE_NAME or PatientsTable)")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error (also DEBUG=1)")
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
    revoke.set_defaults(run=lambda a: _ending_sessions(accounts.revoke_tokens(a.user)))
    deactivate = users.add_parser("deactivate", help="deactivate a user and revoke every token they hold")
    deactivate.add_argument("--user", type=int, required=True)
    deactivate.set_defaults(run=lambda a: _ending_sessions(accounts.set_active(a.user, False)))
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
    try:
        return _run(args)
    except Exception as error:
        if args.debug or os.environ.get("DEBUG", "") not in ("", "0"):
            raise
        print(f"patients-admin: {_explain(error, args)}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.stack:
        outputs = _stack_outputs(args.stack)
        os.environ["TABLE_NAME"] = outputs["PatientsTableName"]
        os.environ["API_ID"], os.environ["API_STAGE"] = outputs.get("ApiId", ""), outputs.get("ApiStage", "")
    elif args.table:
        os.environ["TABLE_NAME"] = args.table
    # A short-lived process should not skip a block of ids per run (hi/lo blocks are per process).
    os.environ.setdefault("ID_BLOCK_SIZE", "1")
    settings.reset()
    run: Callable[[argparse.Namespace], Any] = args.run
    try:
        # stdout is the JSON result alone: what the domain logs or counts meanwhile goes to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            result = run(args)
    except (accounts.AccountError, ApiError) as error:
        # A validation failure names its fields, as the API's 422 does.
        details = {"errors": error.errors} if isinstance(error, ValidationFailed) else {}
        print(json.dumps({"error": str(error), **details}), file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str))
    return 0


LOCAL_HINT = "or `source .local/run.env` (written by make run) to use the local API's DynamoDB"


def _explain(error: Exception, args: argparse.Namespace) -> str:
    """One line for what a newcomer meets first: what happened, and what to do."""
    import boto3
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

    if isinstance(error, store.Unavailable) and isinstance(error.__cause__, Exception):
        error = error.__cause__  # the store's "retry later": what the operator must fix is what caused it
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if isinstance(error, NoRegionError):
        return f"no AWS region: export AWS_DEFAULT_REGION=<your stack's region> (e.g. us-east-1), {LOCAL_HINT}"
    if isinstance(error, NoCredentialsError):
        return f"no AWS credentials: `aws configure` or AWS_PROFILE=<profile>, {LOCAL_HINT}"
    if isinstance(error, EndpointConnectionError):
        if endpoint and args.stack is None:
            return (
                f"nothing answers at AWS_ENDPOINT_URL_DYNAMODB={endpoint}: start make run (it may use another port: "
                "`source .local/run.env` again), or `unset AWS_ENDPOINT_URL_DYNAMODB` to use AWS"
            )
        return f"cannot reach {error.kwargs.get('endpoint_url')}: check the network, AWS_DEFAULT_REGION and AWS_ENDPOINT_URL*"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        region = boto3.session.Session().region_name
        if args.stack and code == "ValidationError" and "does not exist" in message:
            return (
                f"stack {args.stack} does not exist in {region}: check --stack "
                "(samconfig.toml's stack_name) and AWS_DEFAULT_REGION (the region it was deployed to)"
            )
        if code == "ResourceNotFoundException":
            where = f"at {endpoint}" if endpoint else f"in {region}"
            return (
                f"table {settings.settings().table_name} does not exist {where}: name a deployed stack with --stack, "
                f"or the table with --table, {LOCAL_HINT}"
            )
        return f"AWS refused the request: {code}: {message}"
    return f"failed: {type(error).__name__}: {error} (--debug shows the traceback)"


if __name__ == "__main__":
    sys.exit(main())
