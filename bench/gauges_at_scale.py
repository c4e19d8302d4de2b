"""The gauge acceptance checks at full size, too slow for `make test` on moto.

- ScannedCount: a week of one type out of 50,000 gauges (the unit test uses 20,000).
- Summary cost: one run after 1,000 new gauges on top of 100,000 old ones (the unit test uses 10,000).

Run: .venv/bin/python -m bench.gauges_at_scale   (GAUGE_SCAN_TOTAL, SUMMARY_COST_OLD_GAUGES change the sizes)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

TESTS = [
    "tests/handlers/test_gauges.py::test_a_week_of_one_type_reads_only_what_it_returns",
    "tests/handlers/test_summaries.py::test_cost_follows_new_gauges_not_history",
]


def main() -> int:
    env = {
        **os.environ,
        "GAUGE_SCAN_TOTAL": os.environ.get("GAUGE_SCAN_TOTAL", "50000"),
        "SUMMARY_COST_OLD_GAUGES": os.environ.get("SUMMARY_COST_OLD_GAUGES", "100000"),
    }
    started = time.monotonic()
    status = subprocess.call(
        [sys.executable, "-m", "pytest", "-s", "-p", "no:warnings", "--durations=0", *TESTS], env=env
    )
    print(f"gauges at scale: {'ok' if status == 0 else 'FAILED'} in {time.monotonic() - started:.0f}s")
    return status


if __name__ == "__main__":
    sys.exit(main())
