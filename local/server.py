"""`make run`: the API and the web app on http://127.0.0.1:3000 over an embedded DynamoDB, with a seeded demo
clinic."""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path

from local.dynamodb import create_tables, free_port, start_embedded
from local.gateway import start_schedules
from local.seed import seed_demo
from local.template import REGION, load_template
from local.webapp import AppGateway

ENV_FILE = Path(".local/run.env")


def _dynamodb_port(host: str, api_port: int) -> int:
    """DYNAMODB_PORT, else PORT+1 when free, else any free port: fixed so the admin CLI can reach it."""
    if os.environ.get("DYNAMODB_PORT"):
        return int(os.environ["DYNAMODB_PORT"])
    with socket.socket() as sock:
        try:
            sock.bind((host, api_port + 1))
            return api_port + 1
        except OSError:
            return free_port(host)


def _write_env(path: Path, values: dict[str, str]) -> None:
    """Shell variables for a second terminal (`source .local/run.env`): the URL and the demo tokens."""
    path.parent.mkdir(exist_ok=True)
    path.write_text("".join(f"export {k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)  # tokens


def main() -> None:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "3000"))
    # Dummy credentials: boto3 refuses to sign without some, and nothing here talks to AWS.
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")

    stop_db = None
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if not endpoint:
        endpoint, stop_db = start_embedded(host, _dynamodb_port(host, port))
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint

    template = load_template()
    tables = create_tables(template, endpoint_url=endpoint)
    gateway = AppGateway(template)  # sets the functions' environment (TABLE_NAME, ...) before seeding
    demo = seed_demo()
    server = gateway.serve(host, port)
    url = server.url  # type: ignore[attr-defined]

    lines = [
        "",
        f"Patients API (local): {url}   (stage '{gateway.stage}' is not part of local URLs)",
        f"Web app:              {url}/" if gateway.web.built else "Web app:              not built (make build)",
        f"DynamoDB endpoint:    {endpoint}   tables: {', '.join(tables)}",
    ]
    lines.append(f"Demo clinic:          {demo['clinic_id']}")
    lines += [f"  {role:<11} X-User-Token: {token}" for role, token in demo["tokens"].items()]
    table_name = gateway.functions and next(iter(gateway.functions.values())).environment.get("TABLE_NAME")
    lines += [
        "",
        "Point patients-admin at this server with:",
        f"  export AWS_ENDPOINT_URL_DYNAMODB={endpoint} TABLE_NAME={table_name or tables[0]} "
        f"AWS_DEFAULT_REGION={REGION} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local",
        "",
        "The patient token belongs to a patient user of the first demo patient (PATIENT_ID): it reaches that",
        "record only.",
        f"The same, and the demo tokens as ADMIN_TOKEN, SUPERVISOR_TOKEN, PROVIDER_TOKEN, PATIENT_TOKEN: source {ENV_FILE}",
        f'Try: curl -H "X-User-Token: $ADMIN_TOKEN" {url}/v1/patients',
        "Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)
    _write_env(
        ENV_FILE,
        {
            "API": url,
            **{f"{role.upper()}_TOKEN": token for role, token in demo["tokens"].items()},
            "PATIENT_ID": str(demo["patient_ids"][0]),
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "TABLE_NAME": str(table_name or tables[0]),
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        },
    )

    stop_schedules = start_schedules(gateway)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopping", file=sys.stderr)
    finally:
        stop_schedules()
        gateway.shutdown()
        if stop_db:
            stop_db()


if __name__ == "__main__":
    main()
