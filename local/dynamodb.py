"""An embedded DynamoDB-compatible endpoint (moto server) and table creation from template.yaml."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3

from local.template import REGION, table_specs, table_ttls


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start_embedded(
    host: str = "127.0.0.1", port: int = 0, *, in_process: bool = True
) -> tuple[str, Callable[[], None]]:
    """Start a moto server and return (endpoint_url, stop).

    In-process (the default) is what `make run` uses. Tests pass `in_process=False`: moto keeps its
    data in process-wide globals that `mock_aws()` resets on entry and exit, so an in-process server
    would be wiped by any unit test running in the same pytest process.
    """
    if in_process:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        from local.moto_server import atomic_writes, faster_transactions

        # werkzeug would log every DynamoDB call on stderr, drowning the gateway's one line per request.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        faster_transactions().start()  # for the life of the process, as the server lives that long
        atomic_writes()
        # moto's ThreadedMotoServer binds in its thread, so a port in use would leave start() waiting forever;
        # binding here raises OSError (EADDRINUSE) to the caller instead.
        server = make_server(
            host, port, DomainDispatcherApplication(create_backend_app), True, request_handler=MotoRequestHandler
        )
        thread = threading.Thread(target=server.serve_forever, name="dynamodb", daemon=True)
        thread.start()

        def stop_in_process() -> None:
            server.shutdown()
            thread.join()

        bound_host, bound_port = server.server_address[:2]
        return f"http://{bound_host}:{bound_port}", stop_in_process

    port = port or free_port(host)
    process = subprocess.Popen(
        [sys.executable, "-m", "local.moto_server", "-H", host, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://{host}:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto server did not start on {endpoint}") from None
            time.sleep(0.05)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()

    return endpoint, stop


def dynamodb_client(endpoint_url: str | None = None) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=os.environ.get("AWS_DEFAULT_REGION", REGION),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )


def create_tables(
    template: dict[str, Any],
    endpoint_url: str | None = None,
    client: Any = None,
    overrides: dict[str, Any] | None = None,
) -> list[str]:
    """Create every table of the template (skipping existing ones); returns all their names."""
    client = client or dynamodb_client(endpoint_url)
    existing = set(client.list_tables()["TableNames"])
    ttls = table_ttls(template, overrides)
    names = []
    for name, kwargs in table_specs(template, overrides):
        names.append(name)
        if name in existing:
            continue
        client.create_table(**kwargs)
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
        if name in ttls:
            client.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttls[name]}
            )
    return names
