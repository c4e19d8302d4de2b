"""How long `make run` takes to save and to load back its kept data (.local/dynamodb.json) with 100,000 gauges,
against a start from the demo seed in the same run (issue 17).

`python -m bench.local_data` (part of `make bench`): builds the file in a scratch folder (the demo clinic plus
generated gauges, loaded straight into the embedded DynamoDB), times snapshot.save and snapshot.read + load
in-process, then times two `make run` starts up to their "Ctrl-C to stop." line: with the kept file, and with
FRESH=1 (the demo seed: the baseline). BENCH_LOCAL_GAUGES changes the 100,000.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GAUGES = int(os.environ.get("BENCH_LOCAL_GAUGES", "100000"))


def _build(local_dir: Path) -> dict[str, Any]:
    """The data file of a demo clinic with about GAUGES gauges; returns the in-process timings."""
    from clinic import settings, store
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from local import snapshot
    from local.dynamodb import create_tables, dynamodb_client, start_embedded
    from local.seed import DEMO_PATIENTS, GAUGE_HABITS, seed_demo, seed_gauges
    from local.template import REGION, environment, load_template

    for name in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, REGION if name == "AWS_DEFAULT_REGION" else "local")
    endpoint, stop = start_embedded()
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    template = load_template()
    os.environ.update(environment(template))
    settings.reset()
    tables = create_tables(template, endpoint_url=endpoint)
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]

    def put_directly(requests: list[dict[str, Any]]) -> None:  # no HTTP round trip per 25 items
        for request in requests:
            backend.put_item(settings.settings().table_name, request["PutRequest"]["Item"])

    demo = seed_demo()
    per_day = len(DEMO_PATIENTS) * sum(len(moments) for moments, *_ in GAUGE_HABITS.values()) * 0.88
    patients = [{"id": i, "time_zone": "UTC"} for i in demo["patient_ids"]]
    real_import = store.import_gauges
    store.import_gauges = lambda gauges: real_import(gauges, write=put_directly)  # type: ignore[assignment]
    try:
        gauges = demo["gauges"] + seed_gauges(
            patients, demo["users"]["provider"], days=int((GAUGES - demo["gauges"]) / per_day)
        )
    finally:
        store.import_gauges = real_import  # type: ignore[assignment]
    data_file = local_dir / "dynamodb.json"
    items = sum(len(table) for table in backend.tables.values())

    started, cpu = time.perf_counter(), time.process_time()
    snapshot.save(data_file, REGION, demo)
    saved, saved_cpu = time.perf_counter() - started, time.process_time() - cpu

    client = dynamodb_client(endpoint)
    for name in tables:
        client.delete_table(TableName=name)
    create_tables(template, endpoint_url=endpoint)
    started, cpu = time.perf_counter(), time.process_time()
    snapshot.load(snapshot.read(data_file), REGION)
    loaded, loaded_cpu = time.perf_counter() - started, time.process_time() - cpu
    stop()
    return {
        "items": items,
        "gauges": gauges,
        "bytes": data_file.stat().st_size,
        "save_s": saved,
        "save_cpu_s": saved_cpu,
        "read_and_load_s": loaded,
        "read_and_load_cpu_s": loaded_cpu,
    }


def _start_seconds(local_dir: Path, port: int, **extra: str) -> float:
    """A `make run` up to its "Ctrl-C to stop." line, then stopped (its exit saves nothing: no write)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT_URL", "FRESH"))}
    env.update(LOCAL_DIR=str(local_dir), PORT=str(port), PYTHONUNBUFFERED="1", **extra)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "local.server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("Ctrl-C to stop."):
            break
    elapsed = time.perf_counter() - started
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=120)
    return elapsed


def main() -> dict[str, Any]:
    from local.dynamodb import free_port

    with tempfile.TemporaryDirectory() as scratch:
        local_dir = Path(scratch)
        figures = _build(local_dir)
        port = free_port()
        figures["start_kept_s"] = _start_seconds(local_dir, port)
        figures["start_fresh_s"] = _start_seconds(local_dir, port, FRESH="1")  # the baseline: the demo seed
        figures["load_avg_1min"] = os.getloadavg()[0]  # a shared machine's figures are only comparable in one run
    return figures


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
