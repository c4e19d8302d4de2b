"""Rows 3 and 4 at one table size: DynamoDB calls and items read by one request of every function, and
items read by one run of the summary job after 1,000 new gauges. The measured clinic is seeded the same
way at every size; the size comes from other clinics (bench/bulk.py), so a figure that moves with the
size is a request whose cost grows with the table.

`python -m bench.scaling OUT.json PATIENTS GAUGES` (moto in-process; stdout gets the handlers' logs).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from typing import Any

from bench import bulk, scenario
from bench.calls import CallLog
from bench.warm import _load
from local.events import LambdaContext
from local.template import function_specs, load_template

NEW_GAUGES = 1000
NEW_PATIENTS = 10  # the new gauges belong to 10 patients of the measured clinic


def _variants(world: scenario.World) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, function, event): one request per function, plus a name search."""
    out = []
    for spec in function_specs(load_template()):
        if spec.logical_id == "SummarizeGaugesFunction":
            continue  # row 4
        out.append((spec.logical_id, spec.logical_id, scenario.request(spec.logical_id, world, 0)))
        if spec.logical_id == "ListPatientsFunction":
            search = scenario._api("GET", "/v1/patients", world, query={"search": "do", "page_size": 25})
            out.append(("ListPatientsFunction search=do", spec.logical_id, search))
    return out


def measure(patients: int, gauges: int) -> dict[str, Any]:
    template = load_template()
    with bulk.in_memory_tables(template):
        from clinic import clock, ids, settings, store, summaries

        world = scenario.seed(1)
        seeded_patients = len(world.listed) + len(world.add_pool) + len(world.remove_pool)
        seeded_gauges = scenario.GAUGES + len(world.gauge_pool)

        # Other clinics: ids reserved from the store's counters, so later creates never collide.
        other_patients = max(0, patients - seeded_patients)
        other_gauges = max(0, gauges - seeded_gauges)
        per_clinic = 100
        clinics = max(1, -(-other_patients // per_clinic))
        first_clinic = store.reserve_ids("clinic", clinics) - clinics + 1
        first_patient = store.reserve_ids("patient", max(1, other_patients)) - max(1, other_patients) + 1
        first_gauge = store.reserve_ids("gauge", max(1, other_gauges)) - max(1, other_gauges) + 1
        ids.reset()
        started = time.perf_counter()
        items = 0
        with bulk.fast_moto() as write:
            filler = bulk.other_clinics(first_clinic, first_patient, other_patients, per_clinic)
            for start in range(0, len(filler), 5000):
                items += store.import_patients(filler[start : start + 5000], write=write)
            filler_ids = [p["id"] for p in filler] or [world.patient_id]
            for chunk in bulk.old_gauges(filler_ids, first_gauge, other_gauges):
                store.import_gauges(chunk, write=write)
                items += len(chunk)
        load_s = time.perf_counter() - started
        print(f"scaling {patients}: loaded {items} items in {load_s:.0f} s", file=sys.stderr)

        client = settings.dynamodb()
        handlers: dict[str, Any] = {}
        routes = {}
        for label, function_id, event in _variants(world):
            if function_id not in handlers:
                spec = next(s for s in function_specs(template) if s.logical_id == function_id)
                handlers[function_id] = _load(spec)
            with CallLog(client) as log:
                result = handlers[function_id](event, LambdaContext(function_id, 512, 10))
            scenario.expect_ok(function_id, result)
            routes[label] = {
                "calls": len(log.calls),
                "read": log.read,
                "written": log.written,
                "operations": [call.operation for call in log.calls],
            }

        # Row 4: the checkpoint is now; 1,000 gauges arrive for 10 patients; the job runs 2 minutes later.
        now = clock.now()
        store.put_checkpoint(summaries.JOB, clock.iso(now), (store.get_checkpoint(summaries.JOB) or {}).get("through"))
        created = clock.iso(now + timedelta(seconds=1))
        for n, patient_id in enumerate(world.listed[:NEW_PATIENTS]):
            store.import_gauges(
                [
                    {
                        "id": ids.next_id("gauge"),
                        "patient_id": patient_id,
                        "gauge_type": scenario.GAUGE_TYPES[(n + i) % len(scenario.GAUGE_TYPES)],
                        "value": 1 + i % 9,
                        "scale_min": 1,
                        "scale_max": 10,
                        "recorded_at": clock.iso(now - timedelta(hours=i % 72)),
                        "notes": None,
                        "created_at": created,
                        "created_by": world.users["provider"]["id"],
                    }
                    for i in range(NEW_GAUGES // NEW_PATIENTS)
                ]
            )
        clock.set_clock(lambda: now + timedelta(minutes=2))
        with CallLog(client) as log:
            job = summaries.run_job()
        clock.set_clock(None)
        summary_job = {
            "new_gauges": NEW_GAUGES,
            "old_gauges": gauges,
            "calls": len(log.calls),
            "read": log.read,
            "written": log.written,
            "changes_read": job["changes_read"],
            "gauges_read": job["gauges_read"],
        }
    return {
        "patients": patients,
        "gauges": gauges,
        "items_loaded": items,
        "load_s": load_s,
        "routes": routes,
        "summary_job": summary_job,
    }


if __name__ == "__main__":
    out = measure(int(sys.argv[2]), int(sys.argv[3]))
    with open(sys.argv[1], "w", encoding="utf-8") as handle:
        json.dump(out, handle)
