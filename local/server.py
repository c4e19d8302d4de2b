"""`make run`: the API on http://127.0.0.1:3000 over an embedded DynamoDB, with a seeded demo clinic."""

from __future__ import annotations

import importlib
import os
import socket
import sys
import threading
from typing import Any

from local.dynamodb import create_tables, free_port, start_embedded
from local.gateway import LocalGateway, start_schedules
from local.template import REGION, load_template


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


def _seed() -> dict[str, Any] | None:
    try:
        seed = importlib.import_module("local.seed")
    except ModuleNotFoundError as error:
        if error.name != "local.seed":
            raise
        print("local/seed.py is not there yet: no demo clinic, create one with patients-admin.", file=sys.stderr)
        return None
    return seed.seed_demo()


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
    gateway = LocalGateway(template)  # sets the functions' environment (TABLE_NAME, ...) before seeding
    demo = _seed()
    server = gateway.serve(host, port)
    url = server.url  # type: ignore[attr-defined]

    lines = [
        "",
        f"Patients API (local): {url}   (stage '{gateway.stage}' is not part of local URLs)",
        f"DynamoDB endpoint:    {endpoint}   tables: {', '.join(tables)}",
    ]
    if demo:
        lines.append(f"Demo clinic:          {demo.get('clinic_id')}")
        for role, token in (demo.get("tokens") or {}).items():
            lines.append(f"  {role:<11} X-User-Token: {token}")
    table_name = gateway.functions and next(iter(gateway.functions.values())).environment.get("TABLE_NAME")
    lines += [
        "",
        "Point patients-admin at this server with:",
        f"  export AWS_ENDPOINT_URL_DYNAMODB={endpoint} TABLE_NAME={table_name or tables[0]} "
        f"AWS_DEFAULT_REGION={REGION} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local",
        "",
        f"Try: curl -H 'X-User-Token: <token>' {url}/v1/patients",
        "Ctrl-C to stop.",
        "",
    ]
    print("\n".join(lines), flush=True)

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
