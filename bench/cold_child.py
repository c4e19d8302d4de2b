"""One cold start, run by bench/coldstart.py as `python -S -I bench/cold_child.py SPEC_JSON` in a fresh process.

Like Lambda, only the function's code directory, the layers and the third-party packages are on sys.path
(no site processing, no editable installs). `baseline` creates a boto3 DynamoDB client and does one
GetItem; `function` imports the handler module and answers one event. Prints one JSON line of timings.
"""

import json
import os
import sys
import time

started = time.perf_counter()
started_cpu = time.process_time()
spec = json.loads(sys.argv[1])
sys.path[:0] = spec["path"]


class Context:
    """Enough of the Lambda context for Powertools."""

    function_name = spec["name"]
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{spec['name']}"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = f"/aws/lambda/{spec['name']}"
    log_stream_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


if spec["mode"] == "baseline":
    import boto3

    imported = time.perf_counter()
    imported_cpu = time.process_time()
    client = boto3.client("dynamodb")
    answer = client.get_item(TableName=spec["table"], Key=spec["key"])
    ok = "Item" in answer
else:
    import importlib

    record = spec.get("record")
    if record:
        # bench/coldstart.py's route floor replays this request's DynamoDB calls: each is pickled as it is asked
        # for (a TransactWriteItems gets its ClientRequestToken after this). The recording counts against the
        # function, not the floor.
        import pickle

        import boto3

        calls = []
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register(
            "provide-client-params.dynamodb",
            lambda params, model, **_: calls.append((model.name, pickle.dumps(params))),
        )
    module_name, _, function_name = spec["handler"].rpartition(".")
    module = importlib.import_module(module_name)
    imported = time.perf_counter()
    imported_cpu = time.process_time()
    result = getattr(module, function_name)(spec["event"], Context())
    ok = result
done = time.perf_counter()
done_cpu = time.process_time()
sys.stdout.flush()
print(
    "BENCH_RESULT "
    + json.dumps(
        {
            "import_s": imported - started,
            "answer_s": done - imported,
            "total_s": done - started,
            "import_cpu_s": imported_cpu - started_cpu,
            "answer_cpu_s": done_cpu - imported_cpu,
            "ok": ok,
        }
    ),
    flush=True,
)
if spec["mode"] == "function" and record:
    with open(record, "wb") as out:
        pickle.dump(calls, out)
# Lambda never tears an interpreter down within a cold start; tearing down boto3, pydantic and Powertools costs
# 150-400 ms of CPU here, varying from process to process, which only added noise to row 1's CPU ratios.
os._exit(0)
