"""Row 2: warm cost per request of every route, outside DynamoDB calls, as a ratio to a bare Powertools
resolver with validation doing the same calls (bench/baseline.py). Runs in its own process with moto
in-process (`mock_aws`); time inside DynamoDB calls (botocore before-call .. after-call) is not counted.

`python -m bench.warm OUT.json [ITERATIONS]` (stdout gets the handlers' logs, as in Lambda).
"""

from __future__ import annotations

import importlib.util
import json
import re
import statistics
import sys
import time
from typing import Any

from bench import baseline, bulk, scenario
from bench.calls import CallLog
from local.events import LambdaContext
from local.template import api_routes, function_specs, load_template

GOAL = 1.5


def _load(spec: Any) -> Any:
    name = "_bench_" + re.sub(r"\W", "_", spec.logical_id)
    module_spec = importlib.util.spec_from_file_location(name, spec.module_file)
    module = importlib.util.module_from_spec(module_spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    sys.path.insert(0, str(spec.code_dir))
    try:
        module_spec.loader.exec_module(module)  # type: ignore[union-attr]
    finally:
        sys.path.remove(str(spec.code_dir))
    return getattr(module, spec.handler_function)


def _outside(handler: Any, event: dict[str, Any], log: CallLog, function_id: str) -> float:
    log.clear()
    started = time.thread_time()
    result = handler(event, LambdaContext(function_id, 512, 10))
    total = time.thread_time() - started
    scenario.expect_ok(function_id, result)
    return total - log.seconds


def measure(iterations: int = 30, warmup: int = 5) -> list[dict[str, Any]]:
    template = load_template()
    routed = {route.function_id for route in api_routes(template)}
    specs = [s for s in function_specs(template) if s.logical_id in routed]
    rows = []
    with bulk.in_memory_tables(template):
        from clinic import settings

        runs = iterations + warmup + 1
        started = time.perf_counter()
        world = scenario.seed(runs)
        print(f"warm: seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        client = settings.dynamodb()
        table = settings.settings().table_name
        replica = table + "Replica"
        baseline.copy_table(client, table, replica)
        for spec in specs:
            handler = _load(spec)
            with CallLog(client) as log:
                first = handler(scenario.request(spec.logical_id, world, 0), LambdaContext(spec.logical_id, 512, 10))
                scenario.expect_ok(spec.logical_id, first)
                replay = baseline.Replay(client, table, replica)
                replay.load(log.calls)
                replay()
                calls = len(log.calls) // 2
                bare = baseline.resolver(spec.logical_id, replay, first)

                def bare_handler(event: dict[str, Any], context: Any, app: Any = bare) -> dict[str, Any]:
                    return app.resolve(event, context)

                real, base = [], []
                for i in range(1, runs):
                    event = scenario.request(spec.logical_id, world, i)
                    real_s = _outside(handler, event, log, spec.logical_id)
                    replay.load(log.calls)
                    base_s = _outside(bare_handler, event, log, spec.logical_id)
                    if i > warmup:
                        real.append(real_s)
                        base.append(base_s)
            ratio = statistics.median(real) / statistics.median(base)
            print(f"warm: {spec.logical_id} {ratio:.2f}", file=sys.stderr)
            rows.append(
                {
                    "function": spec.logical_id,
                    "ratio": ratio,
                    "real_ms": 1000 * statistics.median(real),
                    "baseline_ms": 1000 * statistics.median(base),
                    "calls": calls,
                    "ok": ratio <= GOAL,
                }
            )
    return rows


if __name__ == "__main__":
    result = measure(int(sys.argv[2]) if len(sys.argv) > 2 else 30)
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(result, out)
